//! `prodlog::init()` and two events: console, JSON file, error file, redaction, levels.
fn main() {
    let _guard = prodlog::init();
    tracing::info!(user = "ann", "service started");
    tracing::warn!(password = "hunter2", "login failed");
}
