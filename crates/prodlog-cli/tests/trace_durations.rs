//! `prodlog trace` reports what prodlog measured: a request whose completion line says
//! `duration_ms=301.262` lasted 301 ms, not the 0.4 ms between its first and last lines,
//! and a span closed by a timing event is drawn inside the request that holds its measured
//! range.

use std::process::Command;

fn line(t: &str, span: &str, target: &str, message: &str, extra: &str) -> String {
    format!("{{\"timestamp\":\"2026-12-08T10:00:{t}Z\",\"level\":\"INFO\",\"target\":\"{target}\",\"message\":\"{message}\",\"request_id\":\"req-9\"{extra},\"span\":\"{span}\"}}\n")
}

#[test]
fn durations_come_from_what_was_measured() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    text.push_str(&line("00.300000", "request", "svc", "request started", ""));
    text.push_str(&line("00.300100", "query", "svc::db", "query sent", ""));
    // The query's close event: 250 ms, ending here.
    text.push_str(&line(
        "00.300200",
        "query",
        "prodlog_timing",
        "span closed",
        ",\"duration_ms\":250.0",
    ));
    // The request's completion line: 301.262 ms.
    text.push_str(&line(
        "00.300400",
        "request",
        "svc",
        "request completed",
        ",\"duration_ms\":301.262,\"status\":200",
    ));
    let path = dir.path().join("svc.log");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prodlog"))
        .args(["trace", "req-9", "--color", "never"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    let summary = text.lines().next().unwrap();
    assert!(summary.contains("301.3 ms (measured)"), "{text}");
    assert!(
        !summary.contains("0.4 ms"),
        "not the spread of the lines: {text}"
    );
    // The request span is drawn first, the query under it (one level deeper).
    let request = text
        .lines()
        .find(|l| l.contains("└ request"))
        .expect("request span");
    let query = text
        .lines()
        .find(|l| l.contains("└ query"))
        .expect("query span");
    let indent = |l: &str| l.len() - l.trim_start().len();
    assert!(indent(query) > indent(request), "{text}");
    assert!(
        request.contains("301.3 ms") && query.contains("250.0 ms"),
        "{text}"
    );
}
