//! The peer of `../prodlog`: what a service assembles from tracing-subscriber and
//! tracing-appender for a console, a JSON file and RUST_LOG levels.
use tracing_subscriber::prelude::*;

fn main() {
    let file = tracing_appender::rolling::daily("logs", "app.log");
    let (file, _guard) = tracing_appender::non_blocking(file);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info".into()),
        )
        .with(tracing_subscriber::fmt::layer())
        .with(tracing_subscriber::fmt::layer().json().with_writer(file))
        .init();
    tracing::info!(user = "ann", "service started");
    tracing::warn!(password = "hunter2", "login failed");
}
