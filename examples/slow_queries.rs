//! Slow operations flagged in a running program.
//!
//! ```sh
//! PRODLOG_SLOW="query=20ms,export=50ms" PRODLOG_CONSOLE=human cargo run --example slow_queries
//! ```
//!
//! Each `query` span over its threshold logs one WARN event with `slow=true`, its
//! `duration_ms`, `busy_ms`, `idle_ms` and `threshold_ms`, the query's own fields and the
//! request's context. At shutdown the latency percentiles of every span name are logged.

use std::time::Duration;

use tracing::{info, info_span, Instrument};

/// A pretend database: most queries are fast, every fourth one is not.
async fn query(table: &'static str, n: u64) -> u64 {
    let cost = if n % 4 == 3 { 35 } else { 3 };
    // Time inside the span (busy) ...
    std::thread::sleep(Duration::from_millis(cost / 2));
    // ... and time waiting between polls (idle), as an await on I/O would.
    yield_now().await;
    std::thread::sleep(Duration::from_millis(cost / 2));
    info!(table, rows = n * 10, "query done");
    n * 10
}

/// Returns `Pending` once, like a future waiting for I/O.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

/// A minimal executor: polls one future until it is ready (enough for an example).
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn main() {
    let _guard = prodlog::builder()
        .slow("query=20ms,export=50ms")
        .log_latencies_every(Some(Duration::from_secs(60)))
        .init();
    for i in 0..8u64 {
        let request = info_span!("request", request_id = %format!("req-{i:04}"));
        let _entered = request.enter();
        let table = if i % 2 == 0 { "orders" } else { "users" };
        let rows = block_on(query(table, i).instrument(info_span!("query", table)));
        info!(rows, "request handled");
    }
    // Something that is not a span: a timer.
    prodlog::timing::timed("export", || std::thread::sleep(Duration::from_millis(60)));
}
