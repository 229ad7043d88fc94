//! Testing the logging configuration: capture what the preset would write, as parsed JSON
//! events, and assert on it — what was logged, that nothing verbose gets through the
//! production levels, that no secret leaked (with the redaction layer's own detectors).
//!
//! Enabled by the `testing` cargo feature (a dev-dependency feature):
//!
//! ```toml
//! [dev-dependencies]
//! prodlog = { version = "0.1", features = ["testing"] }
//! ```
//!
//! ```
//! use prodlog::testing::capture;
//! use serde_json::json;
//!
//! let config = prodlog::builder().from_env(false).directives("info");
//! let (_, logs) = capture(config, || {
//!     tracing::debug!("noise");
//!     tracing::info!(order = 7, password = "hunter2", "order paid");
//! });
//! logs.assert_logged("order paid", &[("order", json!(7))]);
//! logs.assert_nothing_below(tracing::Level::INFO); // the production level holds
//! logs.assert_no_secrets(); // the password was redacted
//! ```

use serde_json::{Map, Value};
use tracing::Level;
use tracing_core::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

use crate::{Builder, ConsoleMode};

/// What a configuration wrote while a test ran.
#[derive(Debug, Clone)]
pub struct Captured {
    lines: Vec<String>,
    events: Vec<Map<String, Value>>,
}

/// Runs `f` with `config`'s layers (console and files off, its levels, redaction and
/// formatting as configured) on this thread, and returns what it wrote, parsed.
///
/// # Panics
///
/// When the configuration is invalid (use [`Builder::try_init`] to test that) or a line is
/// not a JSON object (a formatter bug).
pub fn capture<R>(config: Builder, f: impl FnOnce() -> R) -> (R, Captured) {
    let sink = prodlog_format::MemorySink::default();
    let (layer, guard) = config
        .console(ConsoleMode::Off)
        .without_files()
        .json_sink(LevelFilter::TRACE, sink.clone())
        .into_layer()
        .unwrap_or_else(|e| panic!("prodlog::testing::capture: invalid configuration: {e}"));
    let subscriber = tracing_subscriber::registry().with(layer);
    let out = tracing::subscriber::with_default(subscriber, f);
    drop(guard);
    let lines = sink.lines();
    let events = lines
        .iter()
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(m)) => m,
            _ => panic!("prodlog::testing::capture: not a JSON object: {l}"),
        })
        .collect();
    (out, Captured { lines, events })
}

fn rank(level: &str) -> u8 {
    match level {
        "TRACE" => 0,
        "DEBUG" => 1,
        "INFO" => 2,
        "WARN" => 3,
        _ => 4,
    }
}

impl Captured {
    /// The events, in order.
    pub fn events(&self) -> &[Map<String, Value>] {
        &self.events
    }

    /// The raw JSON lines, in order.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The first event whose message is `message` and whose fields include `fields`
    /// (top-level keys, span context included), or a panic listing what was logged.
    #[track_caller]
    pub fn assert_logged(&self, message: &str, fields: &[(&str, Value)]) -> &Map<String, Value> {
        self.events
            .iter()
            .find(|e| {
                e.get("message").and_then(Value::as_str) == Some(message)
                    && fields.iter().all(|(k, v)| e.get(*k) == Some(v))
            })
            .unwrap_or_else(|| {
                panic!(
                    "no event {message:?} with {fields:?}; logged:\n{}",
                    self.lines.join("\n")
                )
            })
    }

    /// Panics when an event more verbose than `level` was written: "nothing at DEBUG in the
    /// production configuration" is `assert_nothing_below(Level::INFO)`.
    #[track_caller]
    pub fn assert_nothing_below(&self, level: Level) {
        let floor = rank(level.as_str());
        let verbose: Vec<&String> = self
            .events
            .iter()
            .zip(&self.lines)
            .filter(|(e, _)| {
                rank(e.get("level").and_then(Value::as_str).unwrap_or("ERROR")) < floor
            })
            .map(|(_, l)| l)
            .collect();
        assert!(
            verbose.is_empty(),
            "events below {level}:\n{}",
            verbose
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// Panics when a line holds something the redaction layer's detectors (the default
    /// [`Redactor`](crate::redact::Redactor)) would have removed — by value, or a sensitive
    /// key whose value is not redacted — naming the line, never the secret.
    #[track_caller]
    pub fn assert_no_secrets(&self) {
        let redactor = crate::redact::Redactor::default();
        let leaks: Vec<String> = self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let kinds = redactor.find(l);
                (!kinds.is_empty()).then(|| format!("line {}: {}", i + 1, kinds.join(", ")))
            })
            .collect();
        assert!(
            leaks.is_empty(),
            "secrets in the captured logs:\n{}",
            leaks.join("\n")
        );
    }
}
