//! Request context on every written line, whatever the levels: an INFO request span under
//! `RUST_LOG=warn`, `PRODLOG_FILE_LEVEL=error` with the console off, a directives file
//! saying `warn`, and slow spans under `warn`. Each scenario runs in a child process.
//! Run with `cargo test --test context_levels`.

#[path = "../support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{Map, Value};

fn child(scenario: &str) {
    match scenario {
        "service" => {
            let _guard = prodlog::init();
            for n in 0..3 {
                let request = prodlog::context::request_with_id(Some(&format!("req-{n}")));
                let _entered = request.enter();
                prodlog::context::add("user_id", 40 + n);
                {
                    let _query = tracing::info_span!("query", table = "orders").entered();
                    std::thread::sleep(Duration::from_millis(5));
                    tracing::error!(code = 502, "upstream failed inside the query");
                }
                let _handler = tracing::debug_span!("handler", step = "render").entered();
                tracing::info!("info inside");
                tracing::warn!("warn inside");
                tracing::error!("error inside");
            }
            tracing::error!("error outside any request");
        }
        "stamps" => {
            let _guard = prodlog::init();
            for seq in 0..300 {
                tracing::info!(seq, "stamped");
            }
        }
        "add" => {
            let _guard = prodlog::init();
            let _request = prodlog::context::request_with_id(Some("req-add")).entered();
            assert!(
                prodlog::context::add("tenant", String::from("acme")),
                "context::add refused the field (no request span?)"
            );
            assert!(
                prodlog::context::add("items", 3usize),
                "context::add refused the field (no request span?)"
            );
            assert!(
                prodlog::context::add(
                    "peer",
                    tracing::field::display(std::net::Ipv4Addr::new(10, 0, 0, 7))
                ),
                "context::add refused the field (no request span?)"
            );
            assert!(
                prodlog::context::add("plan", tracing::field::debug(Some("pro"))),
                "context::add refused the field (no request span?)"
            );
            assert!(
                prodlog::context::add("api_key", String::from("sk_live_abcdefghijklmnop")),
                "context::add refused the field (no request span?)"
            );
            tracing::error!("with everything added");
        }
        "add_without_layer" => {
            let subscriber = tracing_subscriber::registry();
            tracing::subscriber::with_default(subscriber, || {
                let _span = tracing::info_span!("request").entered();
                assert!(
                    !prodlog::context::add("user_id", 1),
                    "context::add took a field it should refuse"
                );
                assert!(
                    !prodlog::context::add("user_id", 2),
                    "context::add took a field it should refuse"
                );
            });
        }
        other => panic!("unknown scenario {other}"),
    }
}

fn main() {
    support::test_main(
        child,
        &[
            ("rust_log_warn_keeps_the_request_context", rust_log_warn),
            (
                "file_level_error_with_the_console_off_keeps_the_context",
                file_level_error,
            ),
            (
                "a_directives_file_saying_warn_keeps_the_context",
                directives_file_warn,
            ),
            (
                "slow_spans_are_flagged_under_rust_log_warn",
                slow_under_warn,
            ),
            (
                "one_timestamp_across_console_and_file",
                one_timestamp_across_console_and_file,
            ),
            ("context_add_takes_any_value", context_add_takes_any_value),
        ],
    );
}

fn run(dir: &Path, vars: &[(&str, &str)]) -> Output {
    run_scenario("service", dir, vars)
}

fn run_scenario(scenario: &str, dir: &Path, vars: &[(&str, &str)]) -> Output {
    support::run_preset(scenario, dir, vars)
}

/// Every line inside a request carries that request's id and user, and no line is below
/// `min` severity.
fn check(lines: &[Map<String, Value>], allowed: &[&str]) {
    assert!(!lines.is_empty(), "saw {:?}", &lines);
    let mut errors_inside = 0;
    for l in lines {
        let level = l["level"].as_str().unwrap();
        assert!(allowed.contains(&level), "a {level} line: {l:?}");
        let message = l["message"].as_str().unwrap();
        if message == "error outside any request" {
            assert!(!l.contains_key("request_id"), "saw {:?}", &l);
            continue;
        }
        let id = l["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no request_id: {l:?}"));
        let n: i64 = id.strip_prefix("req-").unwrap().parse().unwrap();
        assert_eq!(l["user_id"], 40 + n, "{l:?}");
        if level == "ERROR" {
            errors_inside += 1;
        }
        if message == "upstream failed inside the query" {
            assert_eq!(l["table"], "orders", "the inner INFO span's fields too");
        }
    }
    assert_eq!(errors_inside, 6, "two ERROR lines per request");
}

fn stdout_lines(out: &Output) -> Vec<Map<String, Value>> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(support::parse)
        .collect()
}

fn rust_log_warn() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[("RUST_LOG", "warn"), ("PRODLOG_CONSOLE", "json")],
    );
    check(&stdout_lines(&out), &["WARN", "ERROR"]);
    check(
        &support::read_json_lines(&dir.path().join("svc.log")),
        &["WARN", "ERROR"],
    );
    check(
        &support::read_json_lines(&dir.path().join("svc.error.log")),
        &["ERROR"],
    );
    // And at `error`, the strictest useful level.
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[("RUST_LOG", "error"), ("PRODLOG_CONSOLE", "off")],
    );
    check(
        &support::read_json_lines(&dir.path().join("svc.log")),
        &["ERROR"],
    );
}

fn file_level_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[("PRODLOG_FILE_LEVEL", "error"), ("PRODLOG_CONSOLE", "off")],
    );
    assert!(out.stdout.is_empty(), "saw {:?}", &out);
    check(
        &support::read_json_lines(&dir.path().join("svc.log")),
        &["ERROR"],
    );
}

fn directives_file_warn() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("levels");
    std::fs::write(&file, "warn\n").unwrap();
    run(
        dir.path(),
        &[
            ("PRODLOG_DIRECTIVES_FILE", file.to_str().unwrap()),
            ("PRODLOG_CONSOLE", "off"),
        ],
    );
    check(
        &support::read_json_lines(&dir.path().join("svc.log")),
        &["WARN", "ERROR"],
    );
}

fn slow_under_warn() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            ("RUST_LOG", "warn"),
            ("PRODLOG_SLOW", "query=1ms"),
            ("PRODLOG_CONSOLE", "off"),
        ],
    );
    let lines = support::read_json_lines(&dir.path().join("svc.log"));
    let slow: Vec<_> = lines
        .iter()
        .filter(|l| l.get("slow") == Some(&Value::Bool(true)))
        .collect();
    assert_eq!(slow.len(), 3, "one slow query per request: {lines:?}");
    for (n, l) in slow.iter().enumerate() {
        assert_eq!(l["level"], "WARN");
        assert_eq!(l["request_id"], format!("req-{n}"));
        assert_eq!(l["table"], "orders");
        assert!(l["duration_ms"].as_f64().unwrap() >= 5.0, "{l:?}");
    }
}

fn one_timestamp_across_console_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_scenario(
        "stamps",
        dir.path(),
        &[("PRODLOG_CONSOLE", "human"), ("PRODLOG_COLOR", "never")],
    );
    let console = String::from_utf8(out.stdout).unwrap();
    let file = support::read_json_lines(&dir.path().join("svc.log"));
    assert_eq!(file.len(), 300);
    let console_stamps: Vec<&str> = console
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(console_stamps.len(), 300);
    for (line, stamp) in file.iter().zip(&console_stamps) {
        assert_eq!(line["timestamp"], *stamp, "one event, one timestamp");
    }
}

fn context_add_takes_any_value() {
    let dir = tempfile::tempdir().unwrap();
    run_scenario("add", dir.path(), &[("PRODLOG_CONSOLE", "off")]);
    let lines = support::read_json_lines(&dir.path().join("svc.log"));
    let l = &lines[0];
    assert_eq!(l["request_id"], "req-add");
    assert_eq!(l["tenant"], "acme");
    assert_eq!(l["items"], 3);
    assert_eq!(l["peer"], "10.0.0.7");
    assert_eq!(l["plan"], "Some(\"pro\")");
    assert_eq!(l["api_key"], "[REDACTED]");

    let out = support::child_command("add_without_layer")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("found no prodlog ContextLayer").count(),
        1,
        "said once: {err}"
    );
}
