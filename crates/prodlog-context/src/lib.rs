//! Span context for prodlog's formatters.
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
//! # Why a layer of its own
//!
//! Span fields are needed by every formatter (console, JSON to a file, JSON to stdout).
//! Keeping them in one place means one rendering per span however many outputs there are;
//! tracing-subscriber's `fmt` layers each keep their own copy, and its JSON formatter
//! re-parses that copy for every event.

pub use prodlog_format::SpanFields;

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
}
