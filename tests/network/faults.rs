//! OTLP against collectors that misbehave, served here on 127.0.0.1 by threads of the
//! test: one that trickles its answer a byte at a time (the export's timeout must bound
//! the whole request), one that hangs up on every connection (the backoff must hold while
//! new lines keep arriving).

use super::*;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn otlp_to(port: u16, extra: &[(&str, &str)]) -> std::process::Output {
    let mut vars = vec![("RUST_LOG", "info")];
    vars.extend_from_slice(extra);
    super::otlp::otlp_child(port, &vars).output().unwrap()
}

fn stats(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find(|l| l.starts_with("STATS otlp"))
        .unwrap_or_else(|| {
            panic!(
                "no stats: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_owned()
}

fn number(stats: &str, key: &str) -> u64 {
    stats
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{key} in {stats}"))
}

pub(crate) fn otlp_timeout_bounds_a_trickling_answer() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Each connection: read the request, then answer one byte every 200 ms. A whole answer
    // takes 8 s; the client's timeout is 600 ms.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
                let _ = stream.read(&mut buf);
                for b in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" {
                    if stream.write_all(&[*b]).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            });
        }
    });
    let out = otlp_to(
        port,
        &[
            ("N", "3"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "600"),
            ("PRODLOG_SHUTDOWN_MS", "3000"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let stats = stats(&out);
    assert_eq!(number(&stats, "sent"), 0, "{stats}");
    assert!(
        number(&stats, "failed") >= 1,
        "a cut request is a counted failure: {stats}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("timeout") || stderr.contains("timed out"),
        "{stderr}"
    );
}

pub(crate) fn otlp_backoff_holds_while_lines_arrive() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            count.fetch_add(1, Ordering::Relaxed);
            drop(stream); // hang up at once: the collector is not really there
        }
    });
    // 400 lines over about 4 s, each waking the sender.
    let out = otlp_to(
        port,
        &[
            ("N", "400"),
            ("PAUSE_MS", "10"),
            ("PRODLOG_SHUTDOWN_MS", "1000"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let attempts = accepted.load(Ordering::Relaxed);
    // Backoff 0.1, 0.2, 0.4 … 5 s: about 8 attempts in 4 s, a few more at flush and
    // shutdown. Woken by each line, the sender made 27 (measured before the fix).
    assert!(
        attempts <= 15,
        "{attempts} connection attempts in about 4 s"
    );
    let stats = stats(&out);
    assert!(number(&stats, "failed") >= 1, "{stats}");
    println!("  ({attempts} connection attempts while 400 lines arrived)");
}
