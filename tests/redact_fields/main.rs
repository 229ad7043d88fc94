//! Redaction of every kind of value, through the preset's layer: event fields of every type,
//! the message, `Debug` output, errors, span fields (also recorded late), the error-only file
//! and the console.

#[path = "../support/mod.rs"]
mod support;

use std::fmt;

use prodlog::Sensitive;
use serde_json::Value;
use support::read_json_lines;
use tracing_subscriber::prelude::*;

const TOKEN: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

#[derive(Debug)]
#[allow(dead_code)] // read through Debug
struct DbConfig {
    host: &'static str,
    password: &'static str,
    api_key: Option<&'static str>,
}

#[derive(Debug)]
struct UpstreamError(String);

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "upstream refused {}", self.0)
    }
}

impl std::error::Error for UpstreamError {}

fn run(
    f: impl FnOnce(),
) -> (
    tempfile::TempDir,
    Vec<serde_json::Map<String, Value>>,
    String,
) {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = support::files_only(dir.path()).into_layer().unwrap();
    let capture = support::Capture::default();
    let console = prodlog::format::ConsoleLayer::new(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer).with(console), f);
    drop(guard);
    let lines = read_json_lines(&dir.path().join("t.log"));
    (dir, lines, capture.text())
}

#[test]
fn every_kind_of_value_is_redacted_in_every_output() {
    let (dir, lines, console) = run(|| {
        let request = tracing::info_span!(
            "request",
            request_id = "r-1",
            authorization = "Bearer abc",
            user_token = tracing::field::Empty,
            note = tracing::field::Empty
        );
        let _entered = request.enter();
        request.record("user_token", "late-secret-value");
        request.record("note", format!("callback with {TOKEN}").as_str());
        let config = DbConfig {
            host: "db.internal",
            password: "hunter2-db",
            api_key: Some("key-from-config"),
        };
        let err = UpstreamError(format!("token {TOKEN}"));
        tracing::info!(
            customer = "alice",
            "X-Api-Key" = "abcdef-123456",
            card = 4111111111111111u64,
            order = 1234567890123456u64,
            otp = %Sensitive::new(884213),
            config = ?config,
            dsn = "postgres://app:pg-pass-9@db.internal:5432/orders",
            "login for {} with password=letmein1",
            "alice"
        );
        tracing::error!(error = &err as &dyn std::error::Error, "call failed");
    });
    let everything = format!(
        "{}\n{}\n{}",
        std::fs::read_to_string(dir.path().join("t.log")).unwrap(),
        std::fs::read_to_string(dir.path().join("t.error.log")).unwrap(),
        console
    );
    for secret in [
        TOKEN,
        "Bearer abc",
        "late-secret-value",
        "abcdef-123456",
        "4111111111111111",
        "884213",
        "hunter2-db",
        "key-from-config",
        "pg-pass-9",
        "letmein1",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked:\n{everything}"
        );
    }
    let info = &lines[0];
    assert_eq!(info["customer"], "alice");
    assert_eq!(info["X-Api-Key"], "[REDACTED]");
    assert_eq!(
        info["card"], "[REDACTED]",
        "a card number logged as an integer"
    );
    assert_eq!(
        info["order"], 1234567890123456u64,
        "an ordinary big integer stays a number"
    );
    assert_eq!(info["otp"], "[REDACTED]");
    assert_eq!(
        info["config"],
        "DbConfig { host: \"db.internal\", password: \"[REDACTED]\", api_key: Some(\"[REDACTED]\") }"
    );
    assert_eq!(
        info["dsn"],
        "postgres://app:[REDACTED]@db.internal:5432/orders"
    );
    assert_eq!(info["message"], "login for alice with password=[REDACTED]");
    assert_eq!(info["request_id"], "r-1");
    assert_eq!(info["authorization"], "[REDACTED]");
    assert_eq!(info["user_token"], "[REDACTED]");
    assert_eq!(info["note"], "callback with [REDACTED]");
    let error = &lines[1];
    assert_eq!(error["error"], "upstream refused token [REDACTED]");
    assert!(console.contains("X-Api-Key=[REDACTED]"), "{console}");
}

#[test]
fn a_custom_redactor_reaches_every_output() {
    let redactor = prodlog::redact::Redactor::builder()
        .field_name("member_code")
        .rule("ticket", r"TCK-[0-9]{6}")
        .replacement(prodlog::redact::Replacement::KeyedHash)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = support::files_only(dir.path())
        .redactor(redactor)
        .into_layer()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _s = tracing::info_span!("s", memberCode = "M-1").entered();
        tracing::info!(member_code = "M-1", "ticket TCK-123456");
        tracing::info!(member_code = "M-1", "ticket TCK-123456");
    });
    drop(guard);
    let lines = read_json_lines(&dir.path().join("t.log"));
    let tag = lines[0]["member_code"].as_str().unwrap();
    assert!(tag.starts_with("[REDACTED:"), "{tag}");
    assert_eq!(lines[1]["member_code"], tag, "same secret, same tag");
    assert_eq!(
        lines[0]["memberCode"], tag,
        "span fields use the same redactor"
    );
    assert!(
        !lines[0]["message"].as_str().unwrap().contains("TCK-123456"),
        "saw {:?}",
        &lines[0]["message"]
    );
}

/// A shared buffer that `fmt` can write to.
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Shared {
    type Writer = Shared;
    fn make_writer(&'a self) -> Shared {
        self.clone()
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn emit_for_fmt() {
    let _s = tracing::info_span!("request", session_id = "sess-abcdef").entered();
    tracing::info!(password = "hunter2", user = "ada", "token {TOKEN} used");
}

#[test]
fn fmt_users_get_redaction_through_the_adapters() {
    let out = Shared::default();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(prodlog::format::RedactingFields::new())
        .with_ansi(false)
        .with_writer(out.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, emit_for_fmt);
    let text = out.text();
    for secret in ["hunter2", TOKEN, "sess-abcdef"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(
        text.contains("token [REDACTED] used password=[REDACTED] user=ada"),
        "{text}"
    );

    let out = Shared::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(prodlog::format::RedactingMakeWriter::new(out.clone()))
        .finish();
    tracing::subscriber::with_default(subscriber, emit_for_fmt);
    let text = out.text();
    for secret in ["hunter2", TOKEN, "sess-abcdef"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let line: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(line["fields"]["user"], "ada");
    assert_eq!(line["fields"]["password"], "[REDACTED]");
}
