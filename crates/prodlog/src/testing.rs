//! Testing the logging configuration: capture what the preset would write, as parsed JSON
//! events, and assert on it — what was logged, that nothing verbose gets through the
//! production levels, that no secret leaked (with the redaction layer's own detectors).
//!
//! Enabled by the `testing` cargo feature (a dev-dependency feature):
//!
//! ```toml
//! [dev-dependencies]
//! prodlog = { git = "https://github.com/prodlog/prodlog", features = ["testing"] }
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
    let (dispatch, sink, guard) = capturing(config);
    let out = tracing::dispatcher::with_default(&dispatch, f);
    drop(guard);
    (out, Captured::from_sink(&sink))
}

/// [`capture`] for async code: runs `fut` with `config`'s layers as its subscriber and
/// returns its output and what it wrote. Inside `#[tokio::test]`, around an axum router
/// (called in the test's task, as axum's own testing guide does with `oneshot`):
///
/// ```ignore
/// use tower::ServiceExt; // oneshot
///
/// #[tokio::test]
/// async fn orders_are_logged_with_their_request() {
///     let app = axum::Router::new()
///         .route("/orders/{id}", axum::routing::get(get_order))
///         .layer(prodlog::context::tower::RequestContextLayer::new());
///     let config = prodlog::builder().from_env(false);
///     let request = axum::http::Request::get("/orders/7").body(axum::body::Body::empty())?;
///     let (response, logs) = prodlog::testing::capture_async(config, app.oneshot(request)).await;
///     assert_eq!(response?.status(), 200);
///     logs.assert_logged("request completed", &[("status", serde_json::json!(200))]);
///     logs.assert_no_secrets();
/// }
/// ```
///
/// The subscriber follows `fut` wherever it is polled (whatever thread), and so do tasks
/// started with [`prodlog::context::spawn`](crate::context::spawn) (feature `tokio`) and
/// threads started with [`prodlog::context::spawn_thread`](crate::context::spawn_thread).
/// A bare `tokio::spawn` runs outside it unless given the subscriber too:
/// `tokio::spawn(task.with_current_subscriber())` (`tracing::instrument::WithSubscriber`).
///
/// As in production, `log` records and panics are seen too: the first capture routes the
/// `log` crate through `tracing-log` (unless another `log` logger is set) and adds a panic
/// hook that logs the panic to the current subscriber before the hook that was there.
///
/// # Panics
///
/// As [`capture`].
pub async fn capture_async<F: std::future::Future>(
    config: Builder,
    fut: F,
) -> (F::Output, Captured) {
    use tracing::instrument::WithSubscriber;
    let (dispatch, sink, guard) = capturing(config);
    let out = fut.with_subscriber(dispatch).await;
    drop(guard);
    (out, Captured::from_sink(&sink))
}

/// What production routes through the subscriber, routed to whichever is current (so to a
/// capture's while it runs), once per process: `log` records (through `tracing-log`, as
/// `init()` does) and panics (a hook that logs them as the preset's does, then runs the
/// hook that was there, so the test harness still reports the panic).
fn bridge_log_and_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if tracing_log::LogTracer::init().is_ok() {
            crate::guard::LOG_TRACER_INSTALLED.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            crate::errors::log_panic_once(info, || previous(info));
        }));
    });
}

/// The subscriber of a capture: the configuration's layers writing into a memory sink.
fn capturing(config: Builder) -> (tracing::Dispatch, prodlog_format::MemorySink, crate::Guard) {
    bridge_log_and_panics();
    let sink = prodlog_format::MemorySink::default();
    let (layer, guard) = config
        .console(ConsoleMode::Off)
        .without_files()
        .json_sink(LevelFilter::TRACE, sink.clone())
        .into_layer()
        .unwrap_or_else(|e| panic!("prodlog::testing::capture: invalid configuration: {e}"));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    (dispatch, sink, guard)
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
    fn from_sink(sink: &prodlog_format::MemorySink) -> Captured {
        let lines = sink.lines();
        let events = lines
            .iter()
            .map(|l| match serde_json::from_str::<Value>(l) {
                Ok(Value::Object(m)) => m,
                _ => panic!("prodlog::testing::capture: not a JSON object: {l}"),
            })
            .collect();
        Captured { lines, events }
    }

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
    /// production configuration" is `assert_nothing_below(Level::INFO)`. The flight
    /// recorder's lines (`"recorded":true`: the DEBUG lines of a request that failed,
    /// written on purpose) are not counted.
    #[track_caller]
    pub fn assert_nothing_below(&self, level: Level) {
        let floor = rank(level.as_str());
        let verbose: Vec<&String> = self
            .events
            .iter()
            .zip(&self.lines)
            .filter(|(e, _)| e.get("recorded").is_none())
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
