//! A small simulated service logging through `prodlog::init()`.
//!
//! ```text
//! cargo run --example quickstart                          # human lines on a terminal
//! PRODLOG_DIR=./logs cargo run --example quickstart       # + logs/quickstart.log, logs/quickstart.error.log
//! RUST_LOG=debug,quickstart::db=trace cargo run --example quickstart
//! ```

use std::fmt;

use tracing::{debug, error, info, info_span, warn};

#[derive(Debug)]
struct DbError {
    source: std::io::Error,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("query failed")
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

mod db {
    use super::*;

    pub fn query(table: &str, id: u64) -> Result<u64, DbError> {
        let _span = info_span!("query", db_table = table).entered();
        debug!(id, "running query");
        if id % 4 == 3 {
            return Err(DbError {
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connection reset by peer",
                ),
            });
        }
        info!(rows = 1, "query done"); // carries db_table and the request's fields
        Ok(id * 100)
    }
}

fn handle(request_id: &str, user: u64) {
    let span = info_span!(
        "request",
        request_id,
        method = "POST",
        path = "/pay",
        user_id = tracing::field::Empty
    );
    let _entered = span.enter();
    info!("request received");
    // Known only once the caller is authenticated: recorded late, present on every later line.
    span.record("user_id", user);
    match db::query("payments", user) {
        Ok(cents) if cents > 500 => warn!(cents, limit = 500, "amount above the review limit"),
        Ok(cents) => info!(cents, approved = true, ratio = 0.25, "payment processed"),
        Err(err) => error!(error = &err as &dyn std::error::Error, "payment failed"),
    }
}

fn main() {
    let _guard = prodlog::init();
    info!(version = env!("CARGO_PKG_VERSION"), "service starting");
    // Secrets never reach an output: by field name, and by value anywhere.
    info!(
        db_password = "hunter2",
        dsn = "postgres://billing:s3cr3t@db.internal:5432/orders",
        "connecting with token ghp_0123456789abcdefghijABCDEFGHIJ012345"
    );
    for (i, user) in [1u64, 7, 3, 2].into_iter().enumerate() {
        handle(&format!("req-{i:04}"), user);
    }
    // A hostile value can neither forge a line nor drive the terminal.
    warn!(
        user_agent = "evil\n{\"level\":\"ERROR\"}\u{1b}[2J",
        "odd client"
    );
    info!("service stopping");
}
