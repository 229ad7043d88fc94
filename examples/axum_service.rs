//! A tiny axum service with prodlog: every request gets a `request` span with its id (the
//! caller's `x-request-id` when sane, a fresh UUIDv7 otherwise), echoed in the response,
//! and one completion event with `status` and `duration_ms`.
//!
//! ```sh
//! PRODLOG_CONSOLE=human cargo run --example axum_service --features web
//! curl -i -H 'x-request-id: demo-1' 'http://127.0.0.1:3000/orders/7'
//! ```
//!
//! Set `DEMO_EXIT_AFTER_MS=500` to stop by itself (the README's demo does not need it).

use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;

async fn order(Path(id): Path<u64>) -> Result<String, StatusCode> {
    tracing::info!(order = id, "loading order");
    // Context learned mid-request reaches every later event of the request.
    prodlog::context::add("customer_id", id * 10);
    let total = prodlog::context::spawn(async move {
        tracing::info!(order = id, "pricing in a background task");
        id * 1299
    })
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    if id == 0 {
        tracing::warn!("no such order");
        return Err(StatusCode::NOT_FOUND);
    }
    tracing::info!(total, "order loaded");
    Ok(format!("order {id}: {total}\n"))
}

#[tokio::main]
async fn main() {
    let _guard = prodlog::init();
    let app = axum::Router::new()
        .route("/orders/{id}", get(order))
        .layer(prodlog::context::tower::RequestContextLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
        .await
        .expect("bind 127.0.0.1:3000");
    tracing::info!(addr = %listener.local_addr().expect("an address"), "listening");
    let stop = async {
        match std::env::var("DEMO_EXIT_AFTER_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .expect("serve");
    tracing::info!("stopped");
}
