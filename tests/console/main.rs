//! The human console: one line per event, whatever the values hold.

#[path = "../support/mod.rs"]
mod support;

use prodlog::format::ConsoleLayer;
use support::Capture;
use tracing_subscriber::prelude::*;

fn capture(ansi: bool, f: impl FnOnce()) -> Vec<String> {
    let out = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(prodlog::context::ContextLayer::new())
        .with(ConsoleLayer::new(out.clone()).with_ansi(ansi));
    tracing::subscriber::with_default(subscriber, f);
    out.lines()
}

#[test]
fn layout_fields_and_span_context() {
    let lines = capture(false, || {
        let s = tracing::info_span!(
            "request",
            request_id = "r-9",
            user_id = tracing::field::Empty
        );
        let _e = s.enter();
        s.record("user_id", 7);
        tracing::warn!(amount = 12, note = "two words", empty = "", "over limit");
    });
    assert_eq!(lines.len(), 1);
    let l = &lines[0];
    let (ts, rest) = l.split_once(' ').unwrap();
    assert!(support::is_rfc3339_micros(ts), "{l}");
    assert_eq!(
        rest,
        " WARN console: over limit amount=12 note=\"two words\" empty=\"\" request_id=r-9 user_id=7"
    );
}

#[test]
fn control_characters_and_escape_sequences_are_shown_not_obeyed() {
    let hostile = "evil\n2026-01-01T00:00:00.000000Z ERROR forged: line\r\u{1b}[2J\u{1b}]0;title\u{7}\u{9b}31m\u{202e}rtl\u{2028}";
    let lines = capture(false, || {
        let s = tracing::info_span!("s", from_span = hostile);
        let _e = s.enter();
        tracing::info!(value = hostile, dbg = ?hostile, "msg {hostile}");
    });
    assert_eq!(lines.len(), 1, "a value forged a second line: {lines:?}");
    let l = &lines[0];
    for bad in [
        '\n', '\r', '\u{1b}', '\u{7}', '\u{9b}', '\u{202e}', '\u{2028}',
    ] {
        assert!(!l.contains(bad), "raw {bad:?} in {l:?}");
    }
    assert!(l.contains("msg evil\\n2026-01-01"), "{l}");
    assert!(
        l.contains("\\x1b[2J") && l.contains("\\u{9b}") && l.contains("\\u{202e}"),
        "{l}"
    );
    assert!(l.contains("from_span=\"evil\\n"), "{l}");
}

#[test]
fn colours_only_when_asked_and_only_prodlogs_own() {
    let plain = capture(false, || tracing::error!(v = "\u{1b}[31m", "x"));
    assert!(!plain[0].contains('\u{1b}'), "{plain:?}");
    let coloured = capture(true, || tracing::error!(v = "\u{1b}[31m", "x"));
    assert!(
        coloured[0].contains("\u{1b}[31mERROR\u{1b}[0m"),
        "{coloured:?}"
    );
    assert!(
        coloured[0].contains("v=\"\\x1b[31m\""),
        "the value's ESC stays escaped: {coloured:?}"
    );
}

/// The console reuses the JSON line's verdict on a value (same redactor), so a secret must
/// still be caught when the same field held a clean value in the event before, in the
/// message, in a `Display`/`Debug` value and in a plain string, from one callsite.
#[test]
fn with_the_json_line_each_value_is_scanned_once_and_no_secret_slips_through() {
    use prodlog::format::{JsonLayer, MemorySink};
    let json = MemorySink::default();
    let console = Capture::default();
    let redactor = prodlog::redact::Redactor::default();
    let subscriber = tracing_subscriber::registry()
        .with(prodlog::context::ContextLayer::new())
        .with(JsonLayer::new(json.clone()).with_redactor(redactor.clone()))
        .with(ConsoleLayer::new(console.clone()).with_redactor(redactor));
    let secret = "ghp_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7C";
    let values = ["clean-1", secret, "clean-1", "clean-2", secret, secret];
    tracing::subscriber::with_default(subscriber, || {
        for v in values {
            tracing::info!(plain = v, shown = %v, dbg = ?v, "token {}", v);
        }
    });
    let (json, console) = (json.lines(), console.lines());
    assert_eq!((json.len(), console.len()), (values.len(), values.len()));
    for (i, v) in values.iter().enumerate() {
        for line in [&json[i], &console[i]] {
            assert!(!line.contains("ghp_"), "a token got through: {line}");
            if v.starts_with("clean") {
                assert_eq!(line.matches(v).count(), 4, "clean values kept: {line}");
            } else {
                assert_eq!(line.matches("[REDACTED]").count(), 4, "{line}");
            }
        }
    }
}
