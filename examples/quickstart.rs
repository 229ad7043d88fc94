//! A small simulated service logging through `prodlog::init()`: every capability at a
//! glance, and where the files went.
//!
//! ```text
//! cargo run --example quickstart                          # human lines on a terminal, files in a temp dir
//! PRODLOG_DIR=./logs cargo run --example quickstart       # logs/quickstart.log, logs/quickstart.error.log
//! RUST_LOG=warn cargo run --example quickstart            # errors keep their request context
//! RUST_LOG=debug,quickstart::db=trace cargo run --example quickstart
//! ```
//!
//! The HTTP middleware (request ids per request, completion lines with status and
//! duration) is in `examples/axum_service.rs` (`cargo run --example axum_service --features web`).

use std::fmt;
use std::time::Duration;

use prodlog::LogErr;
use tracing::{debug, info, info_span, warn};

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
        if id == 5 {
            // Over the 20 ms threshold set in main: one WARN line with `slow=true`.
            std::thread::sleep(Duration::from_millis(30));
        }
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

fn handle(n: usize, user: u64) {
    let request = prodlog::context::request_with_id(Some(&format!("req-{n:04}")));
    let _entered = request.enter();
    info!(method = "POST", path = "/pay", "request received");
    // Known only once the caller is authenticated: every later line of the request has it.
    prodlog::context::add("user_id", user);
    match db::query("payments", user).log_err() {
        Ok(cents) if cents > 500 => warn!(cents, limit = 500, "amount above the review limit"),
        Ok(cents) => info!(cents, approved = true, ratio = 0.25, "payment processed"),
        Err(_) => {} // logged by log_err, with its cause chain
    }
}

fn main() {
    // Files go to a temporary directory unless PRODLOG_DIR says otherwise.
    let dir = std::env::var_os("PRODLOG_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("prodlog-quickstart-{}", std::process::id()))
        });
    let guard = prodlog::builder()
        .log_dir(&dir)
        .app_name("quickstart")
        .slow("query=20ms")
        .init();

    info!(version = env!("CARGO_PKG_VERSION"), "service starting");
    // Secrets never reach an output: by field name, and by value anywhere.
    info!(
        db_password = "hunter2",
        dsn = "postgres://billing:s3cr3t@db.internal:5432/orders",
        "connecting with token ghp_0123456789abcdefghijABCDEFGHIJ012345"
    );
    for (n, user) in [1u64, 9, 3, 5].into_iter().enumerate() {
        handle(n, user);
    }
    // A hostile value can neither forge a line nor drive the terminal.
    warn!(
        user_agent = "evil\n{\"level\":\"ERROR\"}\u{1b}[2J\u{202e}",
        "odd client"
    );
    prodlog::critical!(replicas = 0, "no database replica left: shutting down");
    info!("service stopping");
    drop(guard); // flushes the files

    println!("\nlog files in {}:", dir.display());
    for name in ["quickstart.log", "quickstart.error.log"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        println!("  {name}: {} lines", text.lines().count());
    }
    println!("\nquickstart.error.log (errors only, for alerting):");
    for line in std::fs::read_to_string(dir.join("quickstart.error.log"))
        .unwrap_or_default()
        .lines()
    {
        println!("  {line}");
    }
    println!(
        "\nread them back: cargo run -q -p prodlog-cli -- trace req-0002 {d}   (or view, patterns, audit)",
        d = dir.display()
    );
}
