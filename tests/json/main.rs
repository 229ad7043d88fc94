//! The JSON contract, read back from the real files `prodlog` writes.

#[path = "../support/mod.rs"]
mod support;

mod chains;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::{files_only, is_rfc3339_micros, read_json_lines};
use tracing::field::Empty;
use tracing_subscriber::prelude::*;

/// Runs `f` with prodlog writing files into a fresh directory, then drops the guard and
/// returns the directory and the paths of the main and error-only files.
fn with_files(directives: &str, f: impl FnOnce()) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = files_only(dir.path())
        .directives(directives)
        .into_layer()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
    drop(guard);
    let main = dir.path().join("t.log");
    let errors = dir.path().join("t.error.log");
    (dir, main, errors)
}

fn lines(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    read_json_lines(path)
}

#[test]
fn fields_keep_their_types_and_order() {
    let (_d, main, _) = with_files("info", || {
        tracing::info!(
            name = "alice",
            count = 42u64,
            delta = -7i64,
            ratio = 0.5f64,
            ok = true,
            big = u128::MAX,
            shown = %"display",
            dbg = ?vec![1, 2],
            "payment {} processed", 7
        );
    });
    let raw = std::fs::read_to_string(&main).unwrap();
    assert!(
        raw.starts_with("{\"timestamp\":\"") && raw.contains("\",\"level\":\"INFO\",\"target\":\"json\",\"message\":\"payment 7 processed\",\"name\""),
        "key order: {raw}"
    );
    let l = &lines(&main)[0];
    assert!(is_rfc3339_micros(l["timestamp"].as_str().unwrap()), "{l:?}");
    assert_eq!(l["level"], "INFO");
    assert_eq!(l["target"], "json");
    assert_eq!(l["message"], "payment 7 processed");
    assert_eq!(l["name"], "alice");
    assert_eq!(l["count"], json!(42));
    assert_eq!(l["delta"], json!(-7));
    assert_eq!(l["ratio"], json!(0.5));
    assert_eq!(l["ok"], json!(true));
    assert!(l["big"].is_number(), "saw {:?}", &l["big"]);
    assert!(
        raw.contains(&format!("\"big\":{}", u128::MAX)),
        "u128 written exactly: {raw}"
    );
    assert_eq!(l["shown"], "display");
    assert_eq!(l["dbg"], "[1, 2]");
    assert!(!l.contains_key("span"), "no span outside spans");
}

#[test]
fn span_fields_flatten_innermost_and_event_win_late_records_show() {
    let (_d, main, _) = with_files("info", || {
        let outer = tracing::info_span!(
            "request",
            request_id = "r-1",
            user_id = Empty,
            shared = "outer"
        );
        let _o = outer.enter();
        tracing::info!("before auth");
        outer.record("user_id", 42);
        let inner = tracing::info_span!("query", db_table = "payments", shared = "inner");
        let _i = inner.enter();
        tracing::info!(db_table = "override", "inside");
        outer.record("request_id", "r-1b"); // re-recorded: the new value replaces the old
        tracing::info!("after re-record");
    });
    let ls = lines(&main);
    assert_eq!(ls.len(), 3);
    assert_eq!(ls[0]["request_id"], "r-1");
    assert!(
        !ls[0].contains_key("user_id"),
        "an empty field is absent until recorded"
    );
    assert_eq!(ls[0]["span"], "request");

    assert_eq!(
        ls[1]["user_id"],
        json!(42),
        "late-recorded field on later events"
    );
    assert_eq!(ls[1]["shared"], "inner", "innermost span wins");
    assert_eq!(
        ls[1]["db_table"], "override",
        "event field wins over span field"
    );
    assert_eq!(ls[1]["span"], "query");

    assert_eq!(ls[2]["request_id"], "r-1b");
    assert_eq!(ls[2]["db_table"], "payments");
}

#[test]
fn reserved_names_never_duplicate_keys() {
    let (_d, main, _) = with_files("info", || {
        let s = tracing::info_span!(
            "s",
            level = "span-level",
            message = "span-msg",
            timestamp = 1,
            span = "x"
        );
        let _e = s.enter();
        tracing::info!(level = 5, target = "t", "real message");
    });
    let l = &lines(&main)[0]; // `parse` rejects duplicate keys
    assert_eq!(l["level"], "INFO");
    assert_eq!(l["message"], "real message");
    assert_eq!(
        l["fields.level"],
        json!(5),
        "event wins the renamed key too"
    );
    assert_eq!(l["fields.target"], "t");
    assert_eq!(l["fields.message"], "span-msg");
    assert_eq!(l["fields.timestamp"], json!(1));
    assert_eq!(l["fields.span"], "x");
    assert_eq!(l["span"], "s");
}

#[test]
fn hostile_values_stay_one_valid_line() {
    let hostile = "q\"uote \\ back\nnew\rline\u{1b}[31mred\u{0}\u{1f}\u{7f} sep\u{2028}par\u{2029} \"}{\"level\":\"ERROR\"";
    let (_d, main, _) = with_files("info", || {
        let s = tracing::info_span!("s", span_value = hostile);
        let _e = s.enter();
        tracing::warn!(value = hostile, dbg = ?hostile, bytes = &b"ok\xff\xfe"[..], nan = f64::NAN, "{hostile}");
    });
    let raw = std::fs::read_to_string(&main).unwrap();
    assert_eq!(raw.lines().count(), 1, "{raw}");
    assert!(
        !raw.contains('\u{2028}') && !raw.contains('\u{1b}') && !raw.contains('\r'),
        "saw {:?}",
        &raw
    );
    let l = &lines(&main)[0];
    assert_eq!(l["value"], hostile);
    assert_eq!(l["message"], hostile);
    assert_eq!(l["span_value"], hostile);
    assert_eq!(l["dbg"], format!("{hostile:?}"));
    assert_eq!(
        l["bytes"], "ok\u{FFFD}\u{FFFD}",
        "invalid UTF-8 decoded lossily"
    );
    assert_eq!(l["nan"], "NaN");
    assert_eq!(l["level"], "WARN");
}

#[test]
fn error_file_holds_only_errors_and_filter_applies() {
    let (_d, main, errors) = with_files("warn,json::chatty=debug", || {
        tracing::info!("dropped: below warn");
        tracing::warn!("kept");
        tracing::error!(code = 500, "failed");
        tracing::debug!(target: "json::chatty", "kept: target at debug");
        tracing::trace!(target: "json::chatty", "dropped: below debug");
    });
    let all: Vec<_> = lines(&main).iter().map(|l| l["message"].clone()).collect();
    assert_eq!(
        all,
        [
            json!("kept"),
            json!("failed"),
            json!("kept: target at debug")
        ]
    );
    let errs = lines(&errors);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["level"], "ERROR");
    assert_eq!(errs[0]["code"], json!(500));
}

#[test]
fn nothing_lost_from_many_threads_after_the_guard_drops() {
    const THREADS: usize = 8;
    const PER: usize = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = files_only(dir.path()).into_layer().unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let dispatch = dispatch.clone();
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let span = tracing::info_span!("worker", thread = t);
                    let _e = span.enter();
                    for i in 0..PER {
                        tracing::info!(i, "line");
                    }
                })
            });
        }
    });
    drop(guard);
    let ls = lines(&dir.path().join("t.log"));
    assert_eq!(ls.len(), THREADS * PER);
    let mut seen = std::collections::HashSet::new();
    for l in &ls {
        assert!(
            seen.insert((l["thread"].as_u64().unwrap(), l["i"].as_u64().unwrap())),
            "a line twice: {l:?}"
        );
    }
}

#[test]
fn json_format_works_inside_tracing_subscriber_fmt() {
    let capture = support::Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .event_format(prodlog::format::JsonFormat::new())
        .with_writer(move || Writer(writer.clone()))
        .finish()
        .with(prodlog::context::ContextLayer::new());
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!("req", request_id = "abc").entered();
        tracing::info!(n = 1, "via fmt");
    });
    let l = support::parse(&capture.lines()[0]);
    assert_eq!(l["message"], "via fmt");
    assert_eq!(l["request_id"], "abc");
    assert_eq!(l["n"], json!(1));
}

struct Writer(support::Capture);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        prodlog::format::LineSink::write_line(&self.0, buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
