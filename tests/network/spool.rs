//! The log file as the spool, end to end: a burst logged at full speed through
//! `prodlog::init()` with a 64 KiB memory queue while the collector (Rotel, behind a relay
//! that sees what it acknowledges) is not there; once it starts, every line arrives,
//! exactly once and in order, and the caller never waited for it.

use std::io::BufRead as _;

use super::rotel::start_rotel;
use super::tlsd::{serve, Answer, Server};
use super::*;

/// The `burst-NNNNNNN-end` numbers in the bodies the collector acknowledged, in order.
fn numbers(relay: &Server) -> Vec<u64> {
    let requests = relay.requests.lock().unwrap();
    let mut out = Vec::new();
    for r in requests.iter().filter(|r| r.ok) {
        let body = &r.body;
        let mut i = 0;
        while let Some(p) = body[i..].windows(6).position(|w| w == b"burst-") {
            let at = i + p + 6;
            if let Some(n) = body
                .get(at..at + 7)
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|d| d.parse().ok())
            {
                out.push(n);
            }
            i = at;
        }
    }
    out
}

/// The burst child, exporting through `relay_port`, its files in `logs`.
fn burst(relay_port: u16, logs: &Path, n: u64, from: u64) -> Child {
    child_command("burst")
        .env("PRODLOG_OTLP", "on")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{relay_port}"),
        )
        .env("PRODLOG_OTLP_QUEUE_BYTES", "64k")
        .env("PRODLOG_DIR", logs)
        .env("PRODLOG_APP", "burst")
        .env("PRODLOG_CONSOLE", "off")
        .env("PRODLOG_SHUTDOWN_MS", "240000")
        .env("RUST_LOG", "info")
        .env("N", n.to_string())
        .env("SEQ_FROM", from.to_string())
        .env_remove("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads the child's `LOGGED <ms>` line.
fn logged(child: &mut Child) -> u64 {
    let mut stdout = std::io::BufReader::new(child.stdout.as_mut().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    line.strip_prefix("LOGGED ")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("child said {line:?}"))
}

/// Tells the child to end (its guard's drop), and returns its stderr.
fn stop(mut child: Child) -> String {
    use std::io::{Read as _, Write as _};
    let _ = writeln!(child.stdin.take().unwrap(), "stop");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{stderr}");
    stderr
}

/// A first run logs while the collector is away and stops (SIGTERM's path: the guard's
/// drop) with its lines unsent; a second run, the collector back but slow, is killed
/// (SIGKILL) in the middle of catching up; a third run finishes. Every line arrives; at
/// most the batch that was on its way at the kill arrives twice.
pub(crate) fn otlp_restart_mid_catch_up_resumes_from_the_checkpoint() {
    let name = "otlp_restart_mid_catch_up_resumes_from_the_checkpoint";
    let dir = tempfile::tempdir().unwrap();
    let rotel_port = free_port();
    let slow = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let slowly = slow.clone();
    let relay = serve(None, move |_, _| {
        if slowly.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
        }
        Answer::Relay(rotel_port)
    });
    let logs = dir.path().join("logs");
    let mut first = burst(relay.port, &logs, 20_000, 0);
    logged(&mut first);
    let stderr = stop(first);
    assert!(stderr.contains("the next start sends them"), "{stderr}");
    let _rotel = match start_rotel(dir.path(), rotel_port) {
        Ok(r) => r,
        Err(why) => return skip(name, &why),
    };
    // Second run: catching up at about 5,000 lines a second, killed after some of it.
    let mut second = burst(relay.port, &logs, 1_000, 20_000);
    logged(&mut second);
    let deadline = Instant::now() + Duration::from_secs(60);
    while numbers(&relay).len() < 5_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill")
        .arg("-9")
        .arg(second.id().to_string())
        .status();
    let _ = second.wait();
    let at_kill = numbers(&relay).len();
    assert!(at_kill < 21_000, "killed mid catch-up ({at_kill} sent)");
    slow.store(false, std::sync::atomic::Ordering::SeqCst);
    // Third run: the rest, then its own.
    let mut third = burst(relay.port, &logs, 1_000, 21_000);
    logged(&mut third);
    let deadline = Instant::now() + Duration::from_secs(120);
    let want: std::collections::BTreeSet<u64> = (0..22_000).collect();
    loop {
        let got: std::collections::BTreeSet<u64> = numbers(&relay).into_iter().collect();
        if want.is_subset(&got) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let stderr = stop(third);
    let got = numbers(&relay);
    let distinct: std::collections::BTreeSet<u64> = got.iter().copied().collect();
    // The second run's own lines too: they were in the file after the checkpoint.
    let missing: Vec<u64> = want.difference(&distinct).copied().take(5).collect();
    assert!(missing.is_empty(), "missing {missing:?}\n{stderr}");
    let mut last = 0;
    for &n in &got {
        // In order, but for the repeated batch.
        assert!(n + 512 >= last, "{n} after {last}");
        last = last.max(n);
    }
    let twice = got.len() - distinct.len();
    assert!(
        twice <= 512,
        "{twice} lines sent twice: more than the batch on its way"
    );
    println!(
        "  {} lines, {twice} sent twice (the batch on its way at the kill), killed at {at_kill}",
        got.len()
    );
}

pub(crate) fn otlp_collector_away_during_a_burst_loses_nothing() {
    let name = "otlp_collector_away_during_a_burst_loses_nothing";
    if let Err(why) = super::rotel::rotel_agent() {
        return skip(name, &why);
    }
    let dir = tempfile::tempdir().unwrap();
    let rotel_port = free_port();
    let relay = serve(None, move |_, _| Answer::Relay(rotel_port));
    let total: u64 = std::env::var("PRODLOG_TEST_BURST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let away = Duration::from_secs(
        std::env::var("PRODLOG_TEST_AWAY_S")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30),
    );
    let logs = dir.path().join("logs");
    let started = Instant::now();
    let mut child = burst(relay.port, &logs, total, 0);
    let logged_ms = logged(&mut child);
    // The caller never waited for the collector: the whole burst was logged while it
    // was away (a bound on a hang, not a benchmark).
    assert!(
        Duration::from_millis(logged_ms) < away,
        "logging {total} lines took {logged_ms} ms"
    );
    std::thread::sleep(away.saturating_sub(started.elapsed()));
    assert!(
        numbers(&relay).is_empty(),
        "nothing acknowledged while the collector was away"
    );
    let rotel = match start_rotel(dir.path(), rotel_port) {
        Ok(r) => r,
        Err(why) => {
            let _ = child.kill();
            let _ = child.wait();
            return skip(name, &why);
        }
    };
    // Every line arrives while the service runs on.
    let deadline = Instant::now() + Duration::from_secs(180);
    while (numbers(&relay).len() as u64) < total && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let caught_up = started.elapsed();
    let stderr = stop(child);
    drop(rotel);
    let got = numbers(&relay);
    let mut sorted = got.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        got.len(),
        "{} sent twice\n{stderr}",
        got.len() - sorted.len()
    );
    assert_eq!(
        got.len() as u64,
        total,
        "first missing: {:?}\n{stderr}",
        (0..total).find(|n| sorted.binary_search(n).is_err())
    );
    assert!(got.windows(2).all(|w| w[0] < w[1]), "in order");
    assert!(!stderr.contains("dropped"), "{stderr}");
    println!(
        "  {total} lines logged in {logged_ms} ms with the collector away for {away:?}; all arrived once, in order, {:?} after the collector came back; {}",
        caught_up.saturating_sub(away),
        stderr.trim()
    );
}
