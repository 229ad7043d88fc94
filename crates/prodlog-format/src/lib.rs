//! Event formatters for `tracing`: one JSON object per line for machines, one escaped line
//! per event for people.
//!
//! # Example
//!
//! ```
//! use prodlog_format::{ConsoleLayer, JsonLayer, StdoutSink};
//! use tracing_subscriber::prelude::*;
//!
//! let subscriber = tracing_subscriber::registry()
//!     .with(prodlog_context::ContextLayer::new()) // keeps span fields for both formatters
//!     .with(JsonLayer::new(StdoutSink))
//!     .with(ConsoleLayer::stdout());
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("request", request_id = "r-42", user_id = tracing::field::Empty);
//!     let _g = span.enter();
//!     span.record("user_id", 7);
//!     tracing::info!(amount = 12, ok = true, "payment processed");
//! });
//! ```
//!
//! # The JSON contract
//!
//! ```text
//! {"timestamp":"2026-11-25T01:34:45.123456Z","level":"INFO","target":"app","message":"payment processed","amount":12,"ok":true,"request_id":"r-42","user_id":7,"span":"request"}
//! ```
//!
//! - `timestamp` is RFC 3339 in UTC with microseconds; `level` is upper case.
//! - Event fields keep their JSON types (integers, floats, bools; `Debug`/`Display` values
//!   become strings). Non-finite floats become the strings `"NaN"`, `"inf"`, `"-inf"`.
//! - The fields of every enclosing span follow at the top level. An event field wins over
//!   a span field of the same name, an inner span over an outer one: no object ever has a
//!   key twice. A field named like a key the line writes itself (`timestamp`, `level`,
//!   `target`, `span`, or `message` on a span) is written as `fields.<name>`.
//! - `span` is the innermost span's name (absent outside spans).
//! - Strings escape `"`, `\`, every control character and U+2028/U+2029; invalid UTF-8 from
//!   `record_bytes` is decoded lossily. Whatever a value holds, the line is one valid JSON
//!   object.
//!
//! # Design
//!
//! - **No re-parsing.** tracing-subscriber's JSON formatter stores span fields as a JSON
//!   string and parses it back with `serde_json` for every event. Here a span's fields are
//!   rendered once ([`SpanFields`], kept by `prodlog_context::ContextLayer`) and each event
//!   copies them with one `push_str` per field.
//! - **No allocation per event.** Fields are visited straight into a reused thread-local
//!   buffer; the keys already written are tracked in an inline `SmallVec` behind a 64-bit
//!   hash mask, so a new key is usually known new without a scan.
//! - **Span context rendered once per span, not per event.** [`JsonLayer`] and
//!   [`ConsoleLayer`] keep, per thread, the spans entered through them (a mirror of the
//!   registry's span stack) and, for the innermost, its *chain*: the members of every
//!   enclosing span, innermost first, each key once, one `push_str`. The registry walk it
//!   replaces (the current span, then each parent: a slab lookup, a reference count and an
//!   extensions lock each) was 29% of an event in two spans under `perf`; without it the
//!   sink event went from 280 to 170 ns. A chain watches a flag of each of its spans'
//!   [`SpanFields`], raised when a field is recorded or added, and is rebuilt then; an
//!   event with an explicit parent, or with a key one of the spans also has, walks the
//!   registry as before. `DESIGN.md` had the walk per event; this keeps its "span fragments
//!   rendered once" and extends it to the chain. A test checks every line against the walk
//!   under random span traffic on several threads.
//! - **Each value scanned once.** When the console and the JSON line both show an event,
//!   the console reuses the JSON formatter's verdict on each value it found clean (same
//!   redactor, equal text), instead of scanning it again.
//! - **Format once, write many.** [`JsonLayer`] hands the same bytes to every destination
//!   whose level admits the event.
//! - **Primitives are formatted on the caller's thread.** Moving integer and float
//!   formatting to the writer thread was weighed and left out: under `perf` they are 7-8%
//!   of the sink event (`zmij` 5.9%, `itoa` 2.4%), about 13 ns, and capturing them into the
//!   queue instead would cost a tagged copy per value there and a second pass on the writer
//!   thread, which shares the machine's two cores with the caller.
//! - Timestamps are written by hand (a per-thread cache of the calendar second) rather than
//!   through `time`/`chrono`, which cost more than the rest of the line.
//!
//! - **Redaction where bytes are made.** Every value, the message and every `Debug` output
//!   passes a [`prodlog_redact::Redactor`] on its way into the line (on by default,
//!   `without_redaction()` to turn off); span fields are redacted once, when rendered. A layer
//!   cannot change an event for its siblings, so a "cleaning" layer could not do this.
//!
//! # Dependencies
//!
//! `tracing-core`/`tracing-subscriber` (the `Layer`, `FormatEvent` and `MakeWriter` seams),
//! `smallvec` (the inline key set, no heap for up to 32 keys; already in tracing-subscriber's tree),
//! `thread_local` (the per-thread span stacks of a layer instance, as the registry keeps its
//! own; already in tracing-subscriber's tree),
//! `itoa` and `zmij` (exact integer and shortest round-trip float printing: the ones
//! `serde_json` itself uses; `zmij` is dtolnay's faster successor to `ryu`), `prodlog-redact`
//! (the redactor) and `tracing-log` (its `NormalizeEvent`, so `log` records show their own
//! target and level, not the bridge's callsite).

/// `with_redactor` and `without_redaction` for a formatter with a `redactor: Option<Redactor>`
/// field (every formatter of this crate redacts with the default rules unless told otherwise).
macro_rules! redaction_setters {
    () => {
        /// Redacts event fields, messages and `Debug` output with `redactor` (the default
        /// rules otherwise).
        pub fn with_redactor(mut self, redactor: prodlog_redact::Redactor) -> Self {
            self.redactor = Some(redactor);
            self
        }

        /// Writes values as they are, unredacted.
        pub fn without_redaction(mut self) -> Self {
            self.redactor = None;
            self
        }
    };
}
pub(crate) use redaction_setters;

mod adapters;
mod buf;
mod callsite;
mod chain;
mod console;
mod encode;
mod escape;
mod json;
mod keys;
mod record;
mod record_layer;
mod schema;
mod sink;
mod span_fields;
mod time;
mod verdict;
mod visitor;

pub use adapters::{RedactingFields, RedactingMakeWriter, RedactingWriter};
pub use console::{stdout_wants_ansi, ConsoleFormat, ConsoleLayer};
pub use json::{JsonFormat, JsonLayer};
pub use record::{RecordSettings, RecordStats};
pub use record_layer::{keep, write_failed_requests, FlightRecorder, RecordFilter};
pub use schema::{severity_number, JsonSchema, UnknownSchema, ECS_VERSION};
pub use sink::{LineSink, MakeWriterSink, MemorySink, StderrSink, StdoutSink, WriteFailures};
pub use span_fields::{ContextValue, SpanFields};
pub use time::{format_rfc3339, parse_rfc3339, TimestampLayer};
