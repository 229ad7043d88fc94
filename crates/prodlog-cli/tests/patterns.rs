//! `prodlog patterns`: templates, counts and flags on a known mix, and on logs written by
//! prodlog.

mod common;

use std::path::{Path, PathBuf};

use common::{prodlog, two_services};
use serde_json::Value;

/// Lines in prodlog's format at chosen times (a baseline hour and a window with a new
/// error and a spike): `patterns` compares rates over minutes, which a test cannot wait for.
fn synthetic(dir: &Path) -> PathBuf {
    let path = dir.join("app.log");
    let mut out = String::new();
    let mut push = |minute: u32, sec: u32, level: &str, msg: String| {
        out.push_str(&format!(
            "{{\"timestamp\":\"2026-11-30T{:02}:{:02}:{sec:02}.000000Z\",\"level\":\"{level}\",\"target\":\"app\",\"message\":{}}}\n",
            10 + minute / 60,
            minute % 60,
            serde_json::to_string(&msg).unwrap()
        ));
    };
    for m in 0..60 {
        push(
            m,
            1,
            "INFO",
            format!("user {} logged in from 10.0.{}.{}", m * 7, m % 5, m % 200),
        );
        push(m, 2, "INFO", format!("cache miss for \"orders:{m}\""));
        push(
            m,
            3,
            "WARN",
            format!(
                "payment 0190d3e2-1c4a-7abc-8def-0123456789{:02} slow: {} ms",
                m,
                100 + m
            ),
        );
        if m % 10 == 0 {
            push(m, 4, "ERROR", "db connection reset".to_owned());
        }
    }
    // The window: from 11:00. The cache template spikes; a new error appears; minute 11:05
    // is full of errors.
    for m in 60..70 {
        push(
            m,
            1,
            "INFO",
            format!("user {} logged in from 10.0.0.{}", m * 7, m),
        );
        for s in 0..12 {
            push(m, 10 + s, "INFO", format!("cache miss for \"orders:{s}\""));
        }
        if m == 65 {
            for s in 0..20 {
                push(
                    m,
                    30 + s,
                    "ERROR",
                    format!("checkout failed: card {} declined", 4000 + s),
                );
            }
        }
    }
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn patterns_group_known_templates_and_flag_the_new_error_and_the_spike() {
    let dir = tempfile::tempdir().unwrap();
    let log = synthetic(dir.path());
    let out = prodlog(&[
        "patterns",
        "--json",
        "--since",
        "2026-11-30T11:00:00Z",
        log.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let templates = report["templates"].as_array().unwrap();
    let find = |t: &str| {
        templates
            .iter()
            .find(|x| x["template"] == t)
            .unwrap_or_else(|| panic!("{t} not in {report}"))
    };
    assert_eq!(templates.len(), 5, "{report}");
    assert_eq!(find("user <*> logged in from <*>")["count"], 70);
    assert_eq!(find("cache miss for <*>")["count"], 180);
    assert_eq!(find("payment <*> slow: <*> ms")["count"], 60);
    assert_eq!(find("db connection reset")["count"], 6);
    assert_eq!(find("checkout failed: card <*> declined")["flag"], "NEW");
    assert_eq!(find("cache miss for <*>")["flag"], "RATE UP");
    assert!(
        find("user <*> logged in from <*>")["flag"].is_null(),
        "saw {:?}",
        find("user <*> logged in from <*>")
    );
    let spikes = report["error_spikes"].as_array().unwrap();
    assert_eq!(spikes.len(), 1, "{report}");
    assert_eq!(spikes[0]["minute"], "11:05");
    // The human table: counts, levels, a sparkline, the flags.
    let out = prodlog(&[
        "patterns",
        "--since",
        "2026-11-30T11:00:00Z",
        log.to_str().unwrap(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("[NEW]")
            && text.contains("[RATE UP]")
            && text.contains("error spike at 11:05"),
        "{text}"
    );
    assert!(text.contains('▁') || text.contains('█'), "{text}");
}

#[test]
fn patterns_over_prodlog_written_logs() {
    let root = tempfile::tempdir().unwrap();
    let (api, _) = two_services(root.path());
    let out = prodlog(&["patterns", "--json", api.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = report["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["template"].as_str().unwrap())
        .collect();
    for t in [
        "request started",
        "query done in <*> ms",
        "previous was <*>",
        "request completed",
        "request failed: upstream timeout",
    ] {
        assert!(names.contains(&t), "{t} not in {names:?}");
    }
}
