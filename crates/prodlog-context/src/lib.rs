//! Request context for prodlog's formatters: the fields of every enclosing span on every
//! event, request ids, context added mid-request, and its propagation.
//!
//! [`ContextLayer`] renders the fields of every span once — when the span is created, and
//! again for just the new values when a field is recorded later with `Span::record` — and
//! keeps them in the span's extensions as a [`SpanFields`]. Every event inside the span then
//! carries them (JSON at the top level, `key=value` on the console), across `.await`s and
//! into any task or thread the span is entered in, without being formatted again.
//!
//! # Example
//!
//! ```
//! use prodlog_context::ContextLayer;
//! use prodlog_format::{JsonLayer, StdoutSink};
//! use tracing_subscriber::prelude::*;
//!
//! let subscriber = tracing_subscriber::registry()
//!     .with(ContextLayer::new())
//!     .with(JsonLayer::new(StdoutSink));
//! tracing::subscriber::with_default(subscriber, || {
//!     let request = tracing::info_span!("request", request_id = "r-1", user_id = tracing::field::Empty);
//!     let _entered = request.enter();
//!     request.record("user_id", 42); // known only after authentication
//!     tracing::info!("authorized"); // ... "request_id":"r-1","user_id":42,"span":"request"}
//! });
//! ```
//!
//! # Request context
//!
//! - [`request()`] opens a `request` span with a fresh [`RequestId`] (UUIDv7: unique,
//!   sortable by time); [`request_with_id`] keeps a caller's id when it is sane (1–64
//!   characters of letters, digits, `- _ . : /`) — a hostile header cannot forge or bloat
//!   a line.
//! - [`add`] puts a field into the current request's context from anywhere inside it
//!   (`add("user_id", 42)` once the user is authenticated), without declaring it on the
//!   span first; `Span::record` works too for declared fields.
//! - Context follows the span: across `.await`s (instrumented futures), nested calls, and
//!   into threads and tasks started with [`spawn_thread`] and `spawn` (feature `tokio`).
//!   **The pitfall:** `tokio::spawn(fut)` and `std::thread::spawn` start outside every span,
//!   so their events lose the request id — use the helpers or
//!   `fut.instrument(tracing::Span::current())`.
//! - `tower::RequestContextLayer` (feature `tower`) does all of this per HTTP request for
//!   axum, tonic and hyper services: id from `x-request-id` or generated, echoed in the
//!   response, one completion event with `status` and `duration_ms`.
//! - With `prodlog-format`'s `opentelemetry` feature and `tracing-opentelemetry`'s layer in
//!   the subscriber, every JSON line also carries the W3C `trace_id` and `span_id`.
//!
//! # Why a layer of its own
//!
//! Span fields are needed by every formatter (console, JSON to a file, JSON to stdout).
//! Keeping them in one place means one rendering per span however many outputs there are;
//! tracing-subscriber's `fmt` layers each keep their own copy, and its JSON formatter
//! re-parses that copy for every event.

pub use prodlog_format::{ContextValue, SpanFields};

#[cfg(feature = "tower")]
mod http_meta;
mod request_id;
#[cfg(feature = "tower")]
pub mod tower;

pub use request_id::{RequestId, MAX_LEN as MAX_REQUEST_ID_LEN};

use std::io::Write as _;
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::Subscriber;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The [`Layer`] that keeps each span's fields for the formatters (see the crate docs).
///
/// Span fields are redacted once, when they are rendered, by the default
/// [`Redactor`](prodlog_redact::Redactor) unless told otherwise: request context is where
/// tokens and e-mail addresses like to hide.
#[derive(Debug, Clone)]
pub struct ContextLayer {
    redactor: Option<prodlog_redact::Redactor>,
}

impl Default for ContextLayer {
    fn default() -> Self {
        ContextLayer {
            redactor: Some(prodlog_redact::Redactor::default()),
        }
    }
}

impl ContextLayer {
    /// A context layer redacting with the default rules.
    pub fn new() -> Self {
        ContextLayer::default()
    }

    /// Redacts span fields with `redactor`.
    pub fn with_redactor(mut self, redactor: prodlog_redact::Redactor) -> Self {
        self.redactor = Some(redactor);
        self
    }

    /// The redactor span fields go through.
    pub fn redactor(&self) -> Option<&prodlog_redact::Redactor> {
        self.redactor.as_ref()
    }

    /// Keeps span fields as they are (for a subscriber that redacts elsewhere).
    pub fn without_redaction(mut self) -> Self {
        self.redactor = None;
        self
    }
}

impl<S> Layer<S> for ContextLayer
where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let fields = SpanFields::new(attrs, self.redactor.as_ref());
            let mut ext = span.extensions_mut();
            if ext.get_mut::<SpanFields>().is_none() {
                ext.insert(fields);
            }
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            match ext.get_mut::<SpanFields>() {
                Some(fields) => fields.record(values, self.redactor.as_ref()),
                None => {
                    let mut fields = SpanFields::default();
                    fields.record(values, self.redactor.as_ref());
                    ext.insert(fields);
                }
            }
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        // Only ERROR events pay: the request they belong to remembers that it logged one.
        if *event.metadata().level() != tracing::Level::ERROR {
            return;
        }
        if let Some(request) = ctx
            .event_scope(event)
            .and_then(|mut scope| scope.find(|s| s.name() == "request"))
        {
            request.extensions_mut().replace(ErrorLogged);
        }
    }
}

/// Marks a `request` span inside which an ERROR event was logged.
#[derive(Debug, Clone, Copy)]
struct ErrorLogged;

/// Whether an ERROR event was logged inside `span` (a `request` span) so far: the tower
/// middleware logs a 5xx completion at WARN instead of ERROR when the handler already
/// logged the error, so one failed request puts one line into the error-only file.
pub fn error_logged(span: &tracing::Span) -> bool {
    span.with_subscriber(|(id, dispatch)| {
        dispatch
            .downcast_ref::<tracing_subscriber::Registry>()
            .and_then(|registry| registry.span(id))
            .is_some_and(|s| s.extensions().get::<ErrorLogged>().is_some())
    })
    .unwrap_or(false)
}

/// Marks the current request to be written by the flight recorder when it closes, with
/// the DEBUG events kept for it, even though nothing failed (a request worth a look).
/// False when there is no recorded request here (the recorder is off, or no `request`
/// span is open). See `prodlog_format::RecordSettings`.
///
/// ```
/// let _request = prodlog_context::request().entered();
/// prodlog_context::keep();
/// ```
pub fn keep() -> bool {
    prodlog_format::keep()
}

/// A span for one request, named `request`, with a fresh [`RequestId`] in `request_id`.
/// Enter it (or `.instrument()` the request's future with it) and every event inside
/// carries the id.
///
/// ```
/// let _request = prodlog_context::request().entered();
/// tracing::info!("handling"); // ... "request_id":"0192…"
/// ```
pub fn request() -> tracing::Span {
    request_with_id(None)
}

/// Like [`request`], keeping the caller's id when it is sane (see [`RequestId::accept`]) and
/// generating one otherwise.
pub fn request_with_id(incoming: Option<&str>) -> tracing::Span {
    let id = incoming
        .and_then(RequestId::accept)
        .unwrap_or_else(RequestId::generate);
    tracing::info_span!("request", request_id = %id)
}

/// Adds `name = value` to the current request's context — the innermost enclosing span
/// named `request` (else the current span) — from anywhere inside it, so every later event
/// of the request carries it (`prodlog_context::add("user_id", 42)` once the user is
/// known). Unlike `Span::record`, the field need not be declared when the span is created.
///
/// Any string (borrowed or owned), integer, float or boolean, and any `Display` or `Debug`
/// value through tracing's wrappers:
///
/// ```
/// use tracing::field::{debug, display};
///
/// let _guard = prodlog_context::request().entered();
/// prodlog_context::add("user_id", 42usize);
/// prodlog_context::add("tenant", String::from("acme"));
/// prodlog_context::add("order", display(std::net::Ipv4Addr::LOCALHOST));
/// prodlog_context::add("plan", debug(Some("pro")));
/// ```
///
/// Returns `false` when there is no current span or no prodlog context layer; the missing
/// layer (a subscriber without [`ContextLayer`], where nothing can keep the value) is also
/// said once on stderr.
pub fn add<'a>(name: &'static str, value: impl Into<ContextValue<'a>>) -> bool {
    let mut value = Some(value.into());
    let Some(id) = tracing::Span::current().id() else {
        return false;
    };
    tracing::dispatcher::get_default(|d| {
        let (Some(registry), Some(layer)) = (
            d.downcast_ref::<tracing_subscriber::Registry>(),
            d.downcast_ref::<ContextLayer>(),
        ) else {
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let _ = writeln!(std::io::stderr(),
                    "prodlog: context::add({name:?}) found no prodlog ContextLayer in the subscriber, \
                     so the value is not logged (use prodlog::init(), or add \
                     prodlog_context::ContextLayer to a tracing_subscriber::Registry)"
                );
            });
            return false;
        };
        let Some(current) = registry.span(&id) else {
            return false;
        };
        let target = current
            .scope()
            .find(|s| s.name() == "request")
            .unwrap_or(current);
        let Some(value) = value.take() else {
            return false;
        };
        let mut ext = target.extensions_mut();
        match ext.get_mut::<SpanFields>() {
            Some(fields) => fields.insert(name, value, layer.redactor()),
            None => {
                let mut fields = SpanFields::default();
                fields.insert(name, value, layer.redactor());
                ext.insert(fields);
            }
        }
        true
    })
}

/// Spawns a thread that runs `f` inside the current span and with the current subscriber,
/// so its events keep the request context. (A plain `std::thread::spawn` starts outside
/// every span, and outside a subscriber set with `with_default`.)
pub fn spawn_thread<F, T>(f: F) -> std::thread::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    std::thread::spawn(move || tracing::dispatcher::with_default(&dispatch, || span.in_scope(f)))
}

/// Spawns a tokio task that runs inside the current span (feature `tokio`).
///
/// The pitfall this avoids: `tokio::spawn(fut)` starts `fut` outside every span, so the
/// task's events lose the request id. Either use this, or write
/// `tokio::spawn(fut.instrument(Span::current()).with_current_subscriber())`. The
/// subscriber goes along too, so a task spawned inside `prodlog::testing::capture_async`
/// (or any scoped subscriber) is seen by it.
#[cfg(feature = "tokio")]
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    use tracing::instrument::{Instrument, WithSubscriber};
    tokio::spawn(
        fut.instrument(tracing::Span::current())
            .with_current_subscriber(),
    )
}
