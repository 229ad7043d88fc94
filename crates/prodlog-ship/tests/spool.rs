//! The file is the spool: a collector that is away while lines are logged faster than a
//! 64 KiB queue holds gets every line once it is back, exactly once and in order, read
//! back from the log file; a restart resumes from the checkpoint.

#[path = "support/tlsd.rs"]
mod tlsd;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prodlog_format::LineSink;
use prodlog_ship::{Otlp, Spooled};
use prodlog_writer::Writer;
use tlsd::{serve, Answer, Server};
use tracing_core::LevelFilter;

fn line(n: usize) -> Vec<u8> {
    format!(
        "{{\"timestamp\":\"2026-12-08T10:00:00.000001Z\",\"level\":\"INFO\",\"target\":\"t\",\"message\":\"seq-{n:07}-end\",\"pad\":\"{}\"}}\n",
        "p".repeat(n % 150)
    )
    .into_bytes()
}

/// The `seq-NNNNNNN-end` numbers in the bodies the server took, in order.
fn numbers(server: &Server) -> Vec<usize> {
    let requests = server.requests.lock().unwrap();
    let mut out = Vec::new();
    for r in requests.iter().filter(|r| r.ok) {
        let body = r.decoded();
        let mut i = 0;
        while let Some(p) = body[i..].windows(4).position(|w| w == b"seq-") {
            let at = i + p + 4;
            if let Ok(n) = std::str::from_utf8(&body[at..at + 7])
                .unwrap_or("x")
                .parse()
            {
                out.push(n);
            }
            i = at;
        }
    }
    out
}

fn collector(down: Arc<AtomicBool>) -> Server {
    serve(None, move |_, _| {
        if down.load(Ordering::SeqCst) {
            Answer::Status(503, "")
        } else {
            Answer::Status(200, "")
        }
    })
}

fn exactly_once_in_order(got: &[usize], total: usize) {
    let mut sorted = got.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        got.len(),
        "{} duplicates",
        got.len() - sorted.len()
    );
    assert_eq!(
        got.len(),
        total,
        "missing: {:?}",
        (0..total)
            .filter(|n| sorted.binary_search(n).is_err())
            .take(10)
            .collect::<Vec<_>>()
    );
    assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order");
}

#[test]
fn a_collector_away_during_a_burst_gets_every_line_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let down = Arc::new(AtomicBool::new(true));
    let server = collector(down.clone());
    let writer = Writer::builder(dir.path().join("app.log"))
        .max_bytes(Some(1 << 20))
        .max_backups(100)
        .compress(true)
        .spool(true)
        .build()
        .unwrap();
    let otlp = Otlp::new(format!("http://127.0.0.1:{}", server.port))
        .queue_bytes(64 * 1024)
        .spool(writer.spool().unwrap(), LevelFilter::TRACE)
        .build()
        .unwrap();
    let sink = Spooled::new(
        writer.clone(),
        LevelFilter::TRACE,
        otlp.clone(),
        LevelFilter::TRACE,
    );
    let total = 50_000;
    let started = Instant::now();
    for n in 0..total {
        sink.write_line(&line(n)).unwrap();
        if n % 1000 == 999 {
            std::thread::sleep(Duration::from_millis(20));
        }
        if n == total / 2 {
            // Half-way through it comes back — once it has refused at least once (on a
            // loaded machine the first attempt may come later than half a second).
            let deadline = Instant::now() + Duration::from_secs(30);
            while otlp.stats().failed_sends == 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(otlp.stats().failed_sends > 0, "{:?}", otlp.stats());
            down.store(false, Ordering::SeqCst);
        }
    }
    let logging = started.elapsed();
    assert!(writer.flush(Duration::from_secs(30)));
    assert!(
        otlp.flush(Duration::from_secs(120)),
        "{:?} {:?}",
        otlp.stats(),
        otlp.last_error()
    );
    let stats = otlp.stats();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    exactly_once_in_order(&numbers(&server), total);
    assert!(otlp.shutdown(Duration::from_secs(10)));
    writer.shutdown(Duration::from_secs(10)).unwrap();
    println!("  logged {total} lines in {logging:?}; {stats:?}");
}

#[test]
fn a_restart_resumes_from_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let down = Arc::new(AtomicBool::new(true));
    let server = collector(down.clone());
    let open = || {
        let writer = Writer::builder(dir.path().join("app.log"))
            .max_bytes(Some(256 * 1024))
            .max_backups(50)
            .spool(true)
            .build()
            .unwrap();
        let otlp = Otlp::new(format!("http://127.0.0.1:{}", server.port))
            .queue_bytes(64 * 1024)
            .spool(writer.spool().unwrap(), LevelFilter::TRACE)
            .build()
            .unwrap();
        (writer, otlp)
    };
    // First run: a collector that never answers 200; the run ends with its lines unsent.
    let (writer, otlp) = open();
    let sink = Spooled::new(
        writer.clone(),
        LevelFilter::TRACE,
        otlp.clone(),
        LevelFilter::TRACE,
    );
    for n in 0..5_000 {
        sink.write_line(&line(n)).unwrap();
    }
    // Some reach the collector before it goes away, the rest wait in the file.
    down.store(false, Ordering::SeqCst);
    for n in 5_000..6_000 {
        sink.write_line(&line(n)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    down.store(true, Ordering::SeqCst);
    for n in 6_000..20_000 {
        sink.write_line(&line(n)).unwrap();
    }
    assert!(writer.flush(Duration::from_secs(10)));
    let _ = otlp.shutdown(Duration::from_millis(200));
    writer.shutdown(Duration::from_secs(10)).unwrap();
    drop((sink, otlp, writer));
    let before = numbers(&server);
    // Second run: the collector is back; the earlier run's lines go first, then its own.
    down.store(false, Ordering::SeqCst);
    let (writer, otlp) = open();
    let sink = Spooled::new(
        writer.clone(),
        LevelFilter::TRACE,
        otlp.clone(),
        LevelFilter::TRACE,
    );
    for n in 20_000..25_000 {
        sink.write_line(&line(n)).unwrap();
    }
    assert!(writer.flush(Duration::from_secs(10)));
    assert!(
        otlp.flush(Duration::from_secs(60)),
        "{:?} {:?}",
        otlp.stats(),
        otlp.last_error()
    );
    let all = numbers(&server);
    println!(
        "  {} lines before the restart, {} in all",
        before.len(),
        all.len()
    );
    exactly_once_in_order(&all, 25_000);
    assert!(otlp.shutdown(Duration::from_secs(10)));
    writer.shutdown(Duration::from_secs(10)).unwrap();
}
