//! The flight recorder through `prodlog::init()`: the DEBUG lines of the requests that
//! failed (an ERROR, a slow span, `keep()`), in order, with their context, and none of the
//! others; its bounds (per request, the budget, a leaked span) and counts. Each scenario
//! runs in a child process.

#[path = "../support/mod.rs"]
mod support;

mod service;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::{child_command, test_main};

fn stats_line(guard: &prodlog::Guard) {
    let s = guard.recorder().unwrap_or_default();
    println!(
        "RECORD recorded={} written={} discarded={} dropped={} refused={}",
        s.recorded, s.written, s.discarded, s.dropped, s.refused
    );
}

fn child(scenario: &str) {
    match scenario {
        "kinds" => {
            let guard = prodlog::init();
            tracing::debug!("outside any request");
            {
                let _r = prodlog::context::request_with_id(Some("req-ok")).entered();
                tracing::debug!(step = 1, "ok-debug-1");
                tracing::info!("ok-info");
                tracing::debug!(step = 2, "ok-debug-2");
            }
            {
                let _r = prodlog::context::request_with_id(Some("req-error")).entered();
                prodlog::context::add("customer", "acme");
                tracing::debug!(step = 1, cost = 2.5, flag = true, "error-debug-1");
                let _q = tracing::info_span!("query", table = "orders").entered();
                tracing::debug!(
                    step = 2,
                    sql = "select 1",
                    "error-debug-2 password=hunter2-Secret99"
                );
                tracing::error!("error-happened");
            }
            {
                let _r = prodlog::context::request_with_id(Some("req-keep")).entered();
                tracing::debug!("keep-debug");
                println!("KEPT {}", prodlog::context::keep());
            }
            {
                let _r = prodlog::context::request_with_id(Some("req-slow")).entered();
                tracing::debug!("slow-debug");
                let _q = tracing::info_span!("query").entered();
                std::thread::sleep(Duration::from_millis(30));
            }
            {
                let r = prodlog::context::request_with_id(Some("req-thread")).entered();
                prodlog::context::spawn_thread(|| tracing::debug!("thread-debug"))
                    .join()
                    .unwrap();
                tracing::trace!("trace is below the recorder");
                tracing::error!("thread-request-failed");
                drop(r);
            }
            stats_line(&guard);
        }
        "bounds" => {
            let guard = prodlog::init();
            {
                let _r = prodlog::context::request_with_id(Some("req-many")).entered();
                for i in 0..100 {
                    tracing::debug!(i, "many-{i:03}");
                }
                tracing::error!("many-failed");
            }
            // Requests left open (leaked): past the budget, new ones do not record.
            let mut open = Vec::new();
            for n in 0..200 {
                let span = prodlog::context::request_with_id(Some(&format!("req-open-{n}")));
                {
                    let _e = span.enter();
                    for i in 0..20 {
                        tracing::debug!(i, pad = "x".repeat(100).as_str(), "open-{n}");
                    }
                }
                open.push(span);
            }
            stats_line(&guard);
            // Past their age, their events are dropped.
            std::thread::sleep(Duration::from_millis(2100));
            {
                let _e = open[0].enter();
                tracing::debug!("after the age");
            }
            stats_line(&guard);
            drop(open);
            stats_line(&guard);
        }
        "service" => service::child(),
        other => panic!("unknown scenario {other}"),
    }
}

fn lines(dir: &Path, app: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(format!("{app}.log")))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn counts(stdout: &str) -> Vec<[u64; 5]> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RECORD "))
        .map(|l| {
            let mut out = [0u64; 5];
            for (i, part) in l.split(' ').enumerate() {
                out[i] = part.split('=').nth(1).unwrap().parse().unwrap();
            }
            out
        })
        .collect()
}

fn run(scenario: &str, dir: &Path, vars: &[(&str, &str)]) -> String {
    let mut cmd = child_command(scenario);
    cmd.env("PRODLOG_DIR", dir)
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "off")
        .env("RUST_LOG", "info");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn messages(lines: &[Value], recorded: bool) -> Vec<(String, String)> {
    lines
        .iter()
        .filter(|l| l.get("recorded").is_some() == recorded)
        .map(|l| {
            (
                l["request_id"].as_str().unwrap_or("").to_owned(),
                l["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn failed_requests_are_written_with_their_debug_lines() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run("kinds", dir.path(), &[("PRODLOG_SLOW", "query=10ms")]);
    let all = lines(dir.path(), "svc");
    let recorded = messages(&all, true);
    let want: Vec<(String, String)> = [
        ("req-error", "error-debug-1"),
        ("req-error", "error-debug-2 password=[REDACTED]"),
        ("req-keep", "keep-debug"),
        ("req-slow", "slow-debug"),
        ("req-thread", "thread-debug"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(recorded, want, "{all:#?}");
    // The context and the values as they were, with their own time and level.
    let e1 = all
        .iter()
        .find(|l| l["message"] == "error-debug-1")
        .unwrap();
    assert_eq!(e1["level"], "DEBUG");
    assert_eq!(e1["customer"], "acme");
    assert_eq!(e1["step"], 1);
    assert_eq!(e1["cost"], 2.5);
    assert_eq!(e1["flag"], true);
    let e2 = all
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("error-debug-2")
        })
        .unwrap();
    assert_eq!(e2["table"], "orders");
    assert_eq!(e2["span"], "query");
    assert_eq!(e2["sql"], "select 1");
    let failed = all
        .iter()
        .find(|l| l["message"] == "error-happened")
        .unwrap();
    assert!(
        e1["timestamp"].as_str() < failed["timestamp"].as_str(),
        "recorded lines keep their own time"
    );
    // Written after the failure (when the request closed), and before nothing else.
    let at = |m: &str| all.iter().position(|l| l["message"] == m).unwrap();
    assert!(at("error-happened") < at("error-debug-1"));
    // Nothing of the request that succeeded, nothing outside a request, no TRACE.
    let text = std::fs::read_to_string(dir.path().join("svc.log")).unwrap();
    for absent in ["ok-debug", "outside any request", "trace is below"] {
        assert!(!text.contains(absent), "{absent}: {text}");
    }
    assert!(text.contains("ok-info"));
    // The error-only file gets no recorded line.
    let errors = std::fs::read_to_string(dir.path().join("svc.error.log")).unwrap();
    assert!(!errors.contains("\"recorded\""), "{errors}");
    let c = counts(&stdout);
    let [recorded_n, written, discarded, dropped, _] = c[0];
    assert_eq!(
        (recorded_n, written, discarded, dropped),
        (7, 5, 2, 0),
        "{stdout}"
    );
    assert!(stdout.contains("KEPT true"), "{stdout}");
}

/// Under directives quieter than INFO (`RUST_LOG=warn`) the recorder is off — the file
/// holds WARN and ERROR lines only — unless `PRODLOG_RECORD` names its level.
fn quiet_directives_keep_the_recorder_off_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run("kinds", dir.path(), &[("RUST_LOG", "warn")]);
    let all = lines(dir.path(), "svc");
    assert!(
        all.iter()
            .all(|l| l["level"] == "WARN" || l["level"] == "ERROR"),
        "{all:#?}"
    );
    assert!(stdout.contains("KEPT false"), "{stdout}");
    let dir = tempfile::tempdir().unwrap();
    let stdout = run(
        "kinds",
        dir.path(),
        &[("RUST_LOG", "warn"), ("PRODLOG_RECORD", "debug")],
    );
    let all = lines(dir.path(), "svc");
    let recorded = messages(&all, true);
    assert!(
        recorded
            .iter()
            .any(|(id, m)| id == "req-error" && m == "error-debug-1"),
        "{recorded:?}"
    );
    assert!(stdout.contains("KEPT true"), "{stdout}");
}

fn bounds_hold_and_counts_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run(
        "bounds",
        dir.path(),
        &[
            ("PRODLOG_RECORD_EVENTS", "40"),
            ("PRODLOG_RECORD_BUDGET", "64k"),
            ("PRODLOG_RECORD_MAX_AGE_S", "2"),
        ],
    );
    let all = lines(dir.path(), "svc");
    let many: Vec<&str> = all
        .iter()
        .filter(|l| l.get("recorded").is_some())
        .filter_map(|l| l["message"].as_str())
        .collect();
    // The newest kept, the oldest dropped and said so.
    assert!(many.iter().any(|m| m.contains("dropped the")), "{many:?}");
    assert!(many.contains(&"many-099"));
    assert!(!many.contains(&"many-000"));
    let kept = many.iter().filter(|m| m.starts_with("many-")).count();
    assert!((30..=40).contains(&kept), "{kept}");
    let c = counts(&stdout);
    let [recorded, written, discarded, dropped, refused] = c[0];
    assert_eq!(written, kept as u64);
    assert!(refused > 0, "the budget refused some requests: {stdout}");
    // The open requests hold at most the budget (each event ~150 bytes of values).
    let held = recorded - written - discarded - dropped;
    assert!(
        held * 100 <= 64 * 1024 + 4096,
        "{held} events held: {stdout}"
    );
    // Past the age, a leaked request's events are dropped, and it records no more.
    let [recorded2, _, _, dropped2, _] = c[1];
    assert_eq!(recorded2, recorded, "{stdout}");
    assert!(dropped2 >= dropped + 20, "{stdout}");
    // Closed at last: every recorded event in exactly one count.
    let [r, w, d, x, _] = c[2];
    assert_eq!(r, w + d + x, "{stdout}");
}

fn main() {
    test_main(
        child,
        &[
            (
                "failed_requests_are_written_with_their_debug_lines",
                failed_requests_are_written_with_their_debug_lines,
            ),
            (
                "bounds_hold_and_counts_add_up",
                bounds_hold_and_counts_add_up,
            ),
            (
                "quiet_directives_keep_the_recorder_off_unless_asked",
                quiet_directives_keep_the_recorder_off_unless_asked,
            ),
            (
                "a_service_under_load_writes_exactly_the_failed_requests",
                service::a_service_under_load_writes_exactly_the_failed_requests,
            ),
        ],
    );
}
