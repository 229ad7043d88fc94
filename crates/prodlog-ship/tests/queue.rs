//! The queue in front of a destination, against a real HTTP server on 127.0.0.1 that
//! fails and recovers: nothing blocks, every line is sent or counted, the count is sent
//! in-band, a refused batch is not retried forever.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prodlog_format::LineSink;
use prodlog_ship::Otlp;

type Bodies = Arc<Mutex<Vec<Vec<u8>>>>;

/// An HTTP server answering `status(n)` to the n-th request and keeping the bodies it
/// answered 200 to.
fn server(status: impl Fn(usize) -> u16 + Send + Sync + 'static) -> (u16, Bodies) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies: Bodies = Arc::default();
    let kept = bodies.clone();
    let count = Arc::new(AtomicUsize::new(0));
    let status = Arc::new(status);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (kept, count, status) = (kept.clone(), count.clone(), status.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn);
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    let mut ended = false;
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            break;
                        }
                        if line == "\r\n" {
                            ended = true;
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap();
                        }
                    }
                    if !ended {
                        return;
                    }
                    let mut body = vec![0; len];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let code = status(count.fetch_add(1, Ordering::SeqCst));
                    if code == 200 {
                        kept.lock().unwrap().push(body);
                    }
                    let answer = format!("HTTP/1.1 {code} X\r\nContent-Length: 2\r\n\r\nok");
                    if reader.get_mut().write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, bodies)
}

fn line(n: usize) -> Vec<u8> {
    format!(
        "{{\"timestamp\":\"2026-11-30T10:00:00.000001Z\",\"level\":\"INFO\",\"target\":\"t\",\"message\":\"line-{n:06}\",\"pad\":\"{}\"}}\n",
        "p".repeat(200)
    )
    .into_bytes()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The numbers of the `line-NNNNNN` messages in the bodies, in order.
fn numbers(bodies: &[Vec<u8>]) -> Vec<usize> {
    let mut out = Vec::new();
    for b in bodies {
        let mut i = 0;
        while let Some(pos) = find(&b[i..], b"line-") {
            let at = i + pos + 5;
            let digits = std::str::from_utf8(&b[at..at + 6]).unwrap();
            out.push(digits.parse().unwrap());
            i = at;
        }
    }
    out
}

#[test]
fn a_failing_collector_holds_lines_and_a_full_queue_drops_and_counts() {
    // The first 3 requests fail with 503, then the collector recovers.
    let (port, bodies) = server(|n| if n < 3 { 503 } else { 200 });
    let shipper = Otlp::new(format!("http://127.0.0.1:{port}"))
        .queue_bytes(64 * 1024)
        .build()
        .unwrap();
    let started = Instant::now();
    let total = 2_000;
    for n in 0..total {
        shipper.write_line(&line(n)).unwrap();
    }
    // 2,000 lines of ~300 bytes into a 64 KiB queue while the collector fails: callers
    // never waited for it (a bound on a hang, not a benchmark).
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "saw {:?}",
        &started
    );
    assert!(
        shipper.flush(Duration::from_secs(30)),
        "{:?}",
        shipper.stats()
    );
    let stats = shipper.stats();
    let bodies = bodies.lock().unwrap();
    let got = numbers(&bodies);
    assert!(stats.dropped > 0, "{stats:?}");
    assert!(stats.failed_sends >= 1, "{stats:?}");
    // Every line was sent or counted as dropped; the in-band report adds one record.
    assert_eq!(got.len() as u64, total as u64 - stats.dropped, "{stats:?}");
    assert_eq!(stats.sent, got.len() as u64 + 1, "{stats:?}");
    let all: Vec<u8> = bodies.concat();
    let report = format!("prodlog dropped {} lines", stats.dropped);
    assert!(
        find(&all, report.as_bytes()).is_some(),
        "in-band report missing"
    );
    // Nothing sent twice, and in order.
    assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    assert!(
        shipper.shutdown(Duration::from_secs(5)),
        "shutdown did not finish in 5 s: {:?}",
        shipper.stats()
    );
}

#[test]
fn a_collector_that_refuses_the_data_is_not_retried_forever() {
    let (port, bodies) = server(|_| 400);
    let shipper = Otlp::new(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    for n in 0..10 {
        shipper.write_line(&line(n)).unwrap();
    }
    assert!(
        shipper.flush(Duration::from_secs(10)),
        "flush did not finish in 10 s: {:?}",
        shipper.stats()
    );
    let stats = shipper.stats();
    assert_eq!(stats.rejected, 10, "{stats:?}");
    assert!(bodies.lock().unwrap().is_empty(), "saw {:?}", &bodies);
}

#[test]
fn after_shutdown_lines_are_counted_not_sent_and_nothing_blocks() {
    let (port, _bodies) = server(|_| 200);
    let shipper = Otlp::new(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    shipper.write_line(&line(1)).unwrap();
    assert!(
        shipper.shutdown(Duration::from_secs(5)),
        "shutdown did not finish in 5 s: {:?}",
        shipper.stats()
    );
    assert_eq!(shipper.stats().sent, 1);
    shipper.write_line(&line(2)).unwrap();
    assert_eq!(shipper.stats().dropped, 1);
}

/// A collector that takes each request and never answers: at shutdown every line is sent,
/// dropped or rejected — counted exactly once — and the shutdown ends on time.
#[test]
fn lines_unsent_at_shutdown_are_counted_exactly() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 65536];
            let _ = conn.set_read_timeout(Some(Duration::from_millis(50)));
            let _ = conn.read(&mut buf);
            held.push(conn); // kept open, never answered
        }
    });
    let shipper = Otlp::new(format!("http://127.0.0.1:{port}"))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let total = 5_000u64;
    for n in 0..total as usize {
        shipper.write_line(&line(n)).unwrap();
    }
    let started = Instant::now();
    assert!(
        !shipper.shutdown(Duration::from_millis(500)),
        "shutdown should have run out of time: {:?}",
        shipper.stats()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a bound on a hang"
    );
    let stats = shipper.stats();
    assert_eq!(
        stats.sent + stats.dropped + stats.rejected,
        total,
        "every line in exactly one count: {stats:?}"
    );
    assert!(stats.dropped > 0, "{stats:?}");
}
