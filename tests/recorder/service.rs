//! An axum service under load (1,000 requests from 4 client threads, 2% failing in each
//! way: an ERROR event, a panic in a spawned task, a 500 answer, a slow query), through
//! `prodlog::init()` with `RUST_LOG=info`, files and OTLP export: the DEBUG lines of every
//! failed request — and only those — are in the file and at the collector, in order, with
//! the request's context; the counts add up.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;

#[path = "../../crates/prodlog-ship/tests/support/tlsd.rs"]
#[allow(clippy::duplicate_mod)]
mod tlsd;

/// Four DEBUG lines per request (two from a spawned task), numbered.
async fn steps(n: u64) {
    tracing::debug!(n, seq = 1, "step one of {n}");
    prodlog::context::add("customer", format!("c-{}", n % 7));
    prodlog::context::spawn(async move {
        tracing::debug!(n, seq = 2, "task step of {n}");
        tracing::debug!(n, seq = 3, "task step of {n}");
    })
    .await
    .unwrap();
    tracing::debug!(n, seq = 4, "step four of {n}");
}

async fn handle(Path((kind, n)): Path<(String, u64)>) -> StatusCode {
    steps(n).await;
    match kind.as_str() {
        "error" => {
            tracing::error!(n, "payment failed for {n}");
            StatusCode::OK
        }
        "panic" => {
            let task = prodlog::context::spawn(async move {
                panic!("task blew up for {n}");
            });
            match task.await {
                Ok(()) => StatusCode::OK,
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }
        "fail" => StatusCode::INTERNAL_SERVER_ERROR,
        "slow" => {
            use tracing::Instrument as _;
            async { tokio::time::sleep(Duration::from_millis(60)).await }
                .instrument(tracing::info_span!("query"))
                .await;
            StatusCode::OK
        }
        _ => StatusCode::OK,
    }
}

pub(crate) fn child() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let guard = prodlog::init();
        let app = axum::Router::new()
            .route("/{kind}/{n}", get(handle))
            .layer(prodlog::context::tower::RequestContextLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        let stop = async {
            let mut line = String::new();
            let _ =
                tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
            .unwrap();
        let s = guard.recorder().unwrap();
        println!(
            "RECORD recorded={} written={} discarded={} dropped={} refused={}",
            s.recorded, s.written, s.discarded, s.dropped, s.refused
        );
        drop(guard);
    });
}

/// The kind of request `n`: 2% fail, in four ways.
fn kind(n: u64) -> &'static str {
    match n % 200 {
        7 => "error",
        57 => "panic",
        107 => "fail",
        157 => "slow",
        _ => "ok",
    }
}

fn get_request(port: u16, n: u64) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    write!(
        s,
        "GET /{}/{n} HTTP/1.1\r\nHost: x\r\nx-request-id: load-{n:04}\r\nConnection: close\r\n\r\n",
        kind(n)
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0)
}

pub(crate) fn a_service_under_load_writes_exactly_the_failed_requests() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let collector = tlsd::serve(None, |_, _| tlsd::Answer::Status(200, ""));
    let mut child = super::child_command("service")
        .env("PRODLOG_DIR", dir.path())
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "off")
        .env("RUST_LOG", "info")
        .env("PRODLOG_SLOW", "query=30ms")
        .env("PRODLOG_OTLP", "on")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", collector.port),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port: u16 = line.trim().strip_prefix("PORT ").unwrap().parse().unwrap();
    let total = 1000u64;
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            std::thread::spawn(move || {
                (0..total)
                    .filter(|n| n % 4 == t)
                    .map(|n| (n, get_request(port, n)))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let answers: Vec<(u64, u16)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    for (n, code) in &answers {
        let want = if matches!(kind(*n), "panic" | "fail") {
            500
        } else {
            200
        };
        assert_eq!(*code, want, "request {n}");
    }
    writeln!(child.stdin.take().unwrap(), "stop").unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{rest}\n{stderr}");

    let lines = super::lines(dir.path(), "svc");
    let failed: Vec<u64> = (0..total).filter(|n| kind(*n) != "ok").collect();
    for n in 0..total {
        let id = format!("load-{n:04}");
        let recorded: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|l| l["request_id"] == id.as_str() && l.get("recorded").is_some())
            .collect();
        if kind(n) == "ok" {
            assert!(recorded.is_empty(), "request {n} succeeded: {recorded:?}");
            continue;
        }
        let seqs: Vec<u64> = recorded
            .iter()
            .map(|l| l["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(
            seqs,
            [1, 2, 3, 4],
            "request {n} ({}): {recorded:?}",
            kind(n)
        );
        for l in &recorded {
            assert_eq!(l["level"], "DEBUG");
            assert_eq!(l["n"], n);
            if l["seq"] != 1 {
                assert_eq!(l["customer"], format!("c-{}", n % 7), "{l}");
            }
        }
    }
    // No DEBUG line but the recorded ones.
    assert!(lines
        .iter()
        .filter(|l| l["level"] == "DEBUG")
        .all(|l| l.get("recorded").is_some()));
    // At the collector too: each failed request's four lines.
    let bodies: Vec<u8> = collector
        .requests
        .lock()
        .unwrap()
        .iter()
        .flat_map(|r| r.decoded())
        .collect();
    let text = String::from_utf8_lossy(&bodies);
    for n in &failed {
        for msg in [format!("step one of {n}"), format!("step four of {n}")] {
            assert!(text.contains(&msg), "{msg} not exported");
        }
    }
    let c = super::counts(&rest);
    let [recorded, written, discarded, dropped, _] = c[0];
    assert_eq!(written, failed.len() as u64 * 4, "{rest}");
    assert_eq!(recorded, total * 4, "{rest}");
    assert_eq!(recorded, written + discarded + dropped, "{rest}");
    println!(
        "  1,000 requests, {} failed: {written} recorded lines written, {discarded} discarded",
        failed.len()
    );
}
