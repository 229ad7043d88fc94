//! The JSON line format, as a layer and as a `tracing_subscriber::fmt` event formatter.

use std::fmt;
use std::sync::Arc;

use prodlog_redact::Redactor;
use tracing_core::{Event, LevelFilter, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::{format::Writer, FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, Scope};

use crate::buf::with_buf;
use crate::chain::{Chain, Frames, Syntax, Taken};
use crate::encode::Json;
use crate::escape::{json_escape_into, json_str};
use crate::keys::KeySet;
use crate::schema::JsonSchema;
use crate::sink::{Destination, LineSink, MakeWriterSink, WriteFailures};
use crate::span_fields::SpanFields;
use crate::time::{event_time, write_rfc3339};
use crate::visitor::FieldVisitor;

/// Appends one JSON object for `event`, followed by `\n`, with `schema`'s key names.
///
/// Layout (prodlog's schema): `timestamp`, `level`, `target`, `message`, the event's
/// fields, the fields of the enclosing spans (innermost first, a key already written is
/// skipped) and `span` (the innermost span's name). One function for every schema, so
/// the span walk (`Scope::next`) exists once and stays inlined: with a second copy of the
/// loop the compiler outlined it, and an event cost ~110 more instructions (callgrind).
#[inline(always)]
pub(crate) fn format_json<'a, S>(
    buf: &mut String,
    event: &Event<'_>,
    chain: Option<&Chain>,
    scope: impl FnOnce() -> Option<Scope<'a, S>>,
    redactor: Option<&Redactor>,
    dispatch: Option<&tracing::Dispatch>,
    schema: JsonSchema,
) where
    S: for<'l> LookupSpan<'l> + 'a,
{
    let normalized = event.normalized_metadata();
    let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
    let plan = crate::callsite::plan(event.metadata(), schema);
    let mut keys = KeySet::with_plan(plan);
    // Where the OpenTelemetry `Attributes` object opens (its first member has no comma).
    let mut attributes_at = None;
    if schema == JsonSchema::Prodlog {
        buf.push_str("{\"timestamp\":\"");
        write_rfc3339(buf, event_time(event));
        // A `log` record's level and target come from the record, not its callsite.
        match plan.head.filter(|_| normalized.is_none()) {
            Some(head) => buf.push_str(head),
            None => {
                buf.push_str("\",\"level\":\"");
                buf.push_str(crate::callsite::level_label(event, meta));
                buf.push_str("\",\"target\":\"");
                json_escape_into(
                    buf,
                    &crate::callsite::shown_target(meta.target(), normalized.is_some(), redactor),
                );
                buf.push('"');
            }
        }
    } else {
        attributes_at = write_schema_head(
            buf,
            event,
            meta,
            redactor,
            schema,
            &mut keys,
            (plan, normalized.is_none()),
        );
    }
    let mut visitor = FieldVisitor::<Json>::new(buf, &mut keys, true).with_redactor(redactor);
    visitor.sensitive =
        redactor.map(|r| crate::callsite::sensitive_fields(r, event.metadata().fields()));
    visitor.plan = Some(plan);
    visitor.schema = schema;
    visitor.skip_log_fields = normalized.is_some();
    visitor.skip_message = schema == JsonSchema::Otel;
    event.record(&mut visitor);
    if plan.error_report && schema != JsonSchema::Prodlog {
        crate::schema::write_error_report(buf, &mut keys, event, meta, redactor, schema);
    }
    let mut innermost = None;
    #[cfg(feature = "opentelemetry")]
    let mut innermost_id = None;
    match chain {
        // The spans' members rendered once (see `crate::chain`), when the event has none
        // of their keys.
        Some(chain) if !keys.may_hold_any(chain.mask) => {
            buf.push_str(&chain.text);
            keys.add_new(chain.mask, chain.keys.iter().copied());
            innermost = Some(chain.name);
            #[cfg(feature = "opentelemetry")]
            {
                innermost_id = Some(chain.id.clone());
            }
        }
        _ => {
            for span in scope().into_iter().flatten() {
                if innermost.is_none() {
                    innermost = Some(span.name());
                    #[cfg(feature = "opentelemetry")]
                    {
                        innermost_id = Some(span.id());
                    }
                }
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    fields.write_json_schema(buf, &mut keys, schema);
                }
            }
        }
    }
    if schema == JsonSchema::Prodlog {
        #[cfg(feature = "opentelemetry")]
        if let (Some(id), Some(dispatch)) = (&innermost_id, dispatch) {
            write_otel_ids(buf, &mut keys, id, dispatch);
        }
        if let Some(name) = innermost {
            buf.push_str(",\"span\":");
            json_str(buf, name);
        }
    } else {
        #[cfg(feature = "opentelemetry")]
        let ids = innermost_id.as_ref().zip(dispatch);
        #[cfg(not(feature = "opentelemetry"))]
        let ids = None;
        write_schema_tail(buf, &mut keys, innermost, attributes_at, schema, ids);
    }
    #[cfg(not(feature = "opentelemetry"))]
    let _ = dispatch;
    buf.push_str("}\n");
}

/// The span name, the end of `Attributes` and the trace ids of an aggregator schema.
#[inline(never)]
fn write_schema_tail(
    buf: &mut String,
    keys: &mut KeySet,
    innermost: Option<&'static str>,
    attributes_at: Option<usize>,
    schema: JsonSchema,
    ids: Option<(&tracing_core::span::Id, &tracing::Dispatch)>,
) {
    if let Some(name) = innermost {
        buf.push_str(match schema {
            JsonSchema::Ecs => ",\"span.name\":",
            _ => ",\"span\":",
        });
        json_str(buf, name);
    }
    if let Some(at) = attributes_at {
        if buf.as_bytes().get(at) == Some(&b',') {
            buf.remove(at);
        }
        buf.push('}');
    }
    #[cfg(feature = "opentelemetry")]
    if let Some((id, dispatch)) = ids {
        let (trace_key, span_key) = match schema {
            JsonSchema::Ecs => ("trace.id", "span.id"),
            JsonSchema::Gcp => (
                "logging.googleapis.com/trace",
                "logging.googleapis.com/spanId",
            ),
            _ => ("TraceId", "SpanId"),
        };
        write_otel_ids_as(buf, keys, id, dispatch, trace_key, span_key);
    }
    #[cfg(not(feature = "opentelemetry"))]
    let _ = (ids, keys);
}

/// The members an aggregator schema writes before the fields; for `otel`, the
/// `Attributes` object is left open and where it opened is returned.
#[inline(never)]
fn write_schema_head(
    buf: &mut String,
    event: &Event<'_>,
    meta: &tracing_core::Metadata<'_>,
    redactor: Option<&Redactor>,
    schema: JsonSchema,
    keys: &mut KeySet,
    // The callsite's plan, and whether its head holds for this event.
    (plan, cacheable): (&'static crate::callsite::Plan, bool),
) -> Option<usize> {
    let label = crate::callsite::level_label(event, meta);
    let time = event_time(event);
    match schema {
        JsonSchema::Ecs | JsonSchema::Gcp => {
            buf.push_str(if schema == JsonSchema::Ecs {
                "{\"@timestamp\":\""
            } else {
                "{\"time\":\""
            });
            write_rfc3339(buf, time);
            // A callsite constant: from the plan, unless the level or target vary per event.
            match plan.head.filter(|_| cacheable) {
                Some(rest) => buf.push_str(rest),
                None => crate::schema::schema_rest(
                    buf,
                    meta,
                    &crate::callsite::shown_target(meta.target(), !cacheable, redactor),
                    label,
                    schema,
                ),
            }
            if schema == JsonSchema::Ecs {
                if meta.file().is_some() {
                    keys.insert("log.origin.file.name");
                }
                if meta.line().is_some() {
                    keys.insert("log.origin.file.line");
                }
            }
            None
        }
        _ => {
            buf.push_str("{\"Timestamp\":\"");
            let nanos = time
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            buf.push_str(itoa::Buffer::new().format(nanos));
            buf.push_str("\",\"SeverityText\":\"");
            buf.push_str(label);
            buf.push_str("\",\"SeverityNumber\":");
            buf.push_str(itoa::Buffer::new().format(crate::schema::severity_number(label)));
            let mut body = FieldVisitor::<Json>::new(buf, keys, true).with_redactor(redactor);
            body.schema = schema;
            body.plan = Some(plan);
            body.only_message = true;
            event.record(&mut body);
            buf.push_str(",\"InstrumentationScope\":{\"Name\":");
            json_str(
                buf,
                &crate::callsite::shown_target(meta.target(), !cacheable, redactor),
            );
            buf.push_str("},\"Attributes\":{");
            let at = buf.len();
            if let Some(file) = meta.file() {
                buf.push_str(",\"code.file.path\":");
                json_str(buf, file);
            }
            if let Some(line) = meta.line() {
                buf.push_str(",\"code.line.number\":");
                buf.push_str(itoa::Buffer::new().format(line));
            }
            Some(at)
        }
    }
}

/// `trace_id` and `span_id` of the OpenTelemetry span behind the event's innermost span
/// (when `tracing-opentelemetry`'s layer is in the subscriber), in W3C hex form.
#[cfg(feature = "opentelemetry")]
fn write_otel_ids(
    buf: &mut String,
    keys: &mut KeySet,
    id: &tracing_core::span::Id,
    dispatch: &tracing::Dispatch,
) {
    write_otel_ids_as(buf, keys, id, dispatch, "trace_id", "span_id");
}

#[cfg(feature = "opentelemetry")]
fn write_otel_ids_as(
    buf: &mut String,
    keys: &mut KeySet,
    id: &tracing_core::span::Id,
    dispatch: &tracing::Dispatch,
    trace_key: &'static str,
    span_key: &'static str,
) {
    use opentelemetry::trace::TraceContextExt;
    use std::fmt::Write as _;
    let ids = tracing_opentelemetry::get_otel_context(id, dispatch).and_then(|cx| {
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| (sc.trace_id(), sc.span_id()))
    });
    if let Some((trace_id, span_id)) = ids {
        if keys.insert(trace_key) {
            let _ = write!(buf, ",\"{trace_key}\":\"{trace_id}\"");
        }
        if keys.insert(span_key) {
            let _ = write!(buf, ",\"{span_key}\":\"{span_id}\"");
        }
    }
}

/// A [`Layer`] writing each event as one JSON line to one or more destinations.
///
/// The line is formatted once, into a reused thread-local buffer, and the same bytes go to
/// every destination whose level admits the event: a file with everything and an error-only
/// file cost one formatting, not two. Span fields come from [`SpanFields`], so add
/// `prodlog_context::ContextLayer` to the same subscriber.
///
/// ```
/// use prodlog_format::{JsonLayer, StdoutSink};
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry()
///     .with(prodlog_context::ContextLayer::new())
///     .with(JsonLayer::new(StdoutSink));
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("request", request_id = "r-1").entered();
///     tracing::info!(amount = 12, "payment processed");
/// });
/// ```
pub struct JsonLayer {
    pub(crate) destinations: Vec<Destination>,
    /// The key names of destinations added without a schema of their own.
    pub(crate) schema: JsonSchema,
    /// Some destination has a schema of its own that differs from `schema`.
    pub(crate) mixed: bool,
    pub(crate) max_level: LevelFilter,
    pub(crate) redactor: Option<Redactor>,
    /// The subscriber this layer is part of (a dispatcher cannot be looked up while it is
    /// dispatching an event): for the OpenTelemetry ids.
    pub(crate) dispatch: std::sync::OnceLock<tracing::dispatcher::WeakDispatch>,
    /// The spans entered on each thread, with their rendered chains (`crate::chain`).
    pub(crate) frames: Frames,
    /// The flight recorder (`crate::record`), when on.
    pub(crate) recorder: Option<Arc<crate::record::Recorder>>,
}

/// A layer with no destination yet: add them with [`JsonLayer::with_sink`].
impl Default for JsonLayer {
    fn default() -> Self {
        JsonLayer {
            destinations: Vec::new(),
            schema: JsonSchema::Prodlog,
            mixed: false,
            max_level: LevelFilter::OFF,
            redactor: Some(Redactor::default()),
            dispatch: std::sync::OnceLock::new(),
            frames: Frames::default(),
            recorder: None,
        }
    }
}

impl JsonLayer {
    /// A layer writing every event it sees to `sink`.
    pub fn new(sink: impl LineSink) -> Self {
        JsonLayer::default().with_sink(LevelFilter::TRACE, sink)
    }

    /// A layer writing every event it sees to a `tracing_subscriber` [`MakeWriter`].
    pub fn with_make_writer<M>(make_writer: M) -> Self
    where
        M: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        Self::new(MakeWriterSink(make_writer))
    }

    /// Adds a destination that receives the events at `max_level` and more severe ones
    /// (`LevelFilter::ERROR` for an error-only file).
    pub fn with_sink(mut self, max_level: LevelFilter, sink: impl LineSink) -> Self {
        self.destinations
            .push(Destination::new(max_level, Arc::new(sink)));
        self.max_level = self.max_level.max(max_level);
        self
    }

    /// Adds a destination that gets its lines with `schema`'s key names, whatever the
    /// layer's [`schema`](Self::schema): a collector shipper that reads prodlog's keys next
    /// to a file written for Elasticsearch. An event is formatted once per schema in use.
    pub fn with_sink_schema(
        mut self,
        max_level: LevelFilter,
        schema: JsonSchema,
        sink: impl LineSink,
    ) -> Self {
        let mut d = Destination::new(max_level, Arc::new(sink));
        d.schema = Some(schema);
        self.destinations.push(d);
        self.mixed = self.is_mixed();
        self.max_level = self.max_level.max(max_level);
        self
    }

    /// The key names of the lines ([`JsonSchema::Prodlog`] unless set): `ecs`, `gcp` or
    /// `otel` for an aggregator that reads its own names.
    pub fn schema(mut self, schema: JsonSchema) -> Self {
        self.schema = schema;
        self.mixed = self.is_mixed();
        self
    }

    fn is_mixed(&self) -> bool {
        self.destinations
            .iter()
            .any(|d| d.schema.is_some_and(|s| s != self.schema))
    }

    crate::redaction_setters!();

    /// The failure counters of the destinations, in the order they were added.
    pub fn failures(&self) -> Vec<Arc<WriteFailures>> {
        self.destinations
            .iter()
            .map(|d| d.failures.clone())
            .collect()
    }
}

impl fmt::Debug for JsonLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLayer")
            .field("destinations", &self.destinations.len())
            .field("max_level", &self.max_level)
            .finish()
    }
}

impl<S> Layer<S> for JsonLayer
where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        if cfg!(feature = "opentelemetry") {
            let _ = self.dispatch.set(subscriber.downgrade());
        }
    }

    fn on_enter(&self, id: &tracing_core::span::Id, _ctx: Context<'_, S>) {
        if !self.mixed {
            self.frames.enter(id);
        }
        if self.recorder.is_some() {
            crate::record_layer::entered(id);
        }
    }

    fn on_exit(&self, id: &tracing_core::span::Id, _ctx: Context<'_, S>) {
        if !self.mixed {
            self.frames.exit(id);
        }
        if self.recorder.is_some() {
            crate::record_layer::exited(id);
        }
    }

    fn on_new_span(
        &self,
        attrs: &tracing_core::span::Attributes<'_>,
        id: &tracing_core::span::Id,
        ctx: Context<'_, S>,
    ) {
        if let Some(recorder) = &self.recorder {
            crate::record_layer::new_span(recorder, attrs, id, &ctx);
        }
    }

    fn on_close(&self, id: tracing_core::span::Id, ctx: Context<'_, S>) {
        if self.recorder.is_some() {
            self.record_close(&id, &ctx);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let level = event.metadata().level();
        if self.recorder.is_some()
            && (self.max_level < *level || crate::record_layer::record_only(event.metadata()))
        {
            // Below every output: kept for the request.
            self.record_event(event, &ctx);
            return;
        }
        if self.max_level < *level {
            return;
        }
        if self.recorder.is_some() && *level <= tracing_core::Level::WARN {
            self.mark_failed(event, &ctx);
        }
        let dispatch = self.dispatch.get().and_then(|d| d.upgrade());
        if !self.mixed {
            // One schema for every destination (the usual case): one formatting.
            let chain = self.frames.take(event, &ctx, Syntax::Json(self.schema));
            with_buf(|buf| {
                format_json(
                    buf,
                    event,
                    chain.as_ref().and_then(Taken::chain),
                    || ctx.event_scope(event),
                    self.redactor.as_ref(),
                    dispatch.as_ref(),
                    self.schema,
                );
                let meta = event.metadata();
                for d in &self.destinations {
                    d.write(level, buf.as_bytes(), meta);
                }
            });
            return;
        }
        let schema_of = |d: &Destination| d.schema.unwrap_or(self.schema);
        // The schemas some destination admitting this level wants: usually just one.
        let mut wanted = 0u8;
        for d in &self.destinations {
            if d.max_level >= *level {
                wanted |= 1 << schema_of(d) as u8;
            }
        }
        while wanted != 0 {
            let schema = JsonSchema::from_index(wanted.trailing_zeros() as u8);
            wanted &= wanted - 1;
            with_buf(|buf| {
                format_json(
                    buf,
                    event,
                    None,
                    || ctx.event_scope(event),
                    self.redactor.as_ref(),
                    dispatch.as_ref(),
                    schema,
                );
                for d in &self.destinations {
                    if schema_of(d) == schema {
                        d.write(level, buf.as_bytes(), event.metadata());
                    }
                }
            });
        }
    }
}

/// The same JSON lines as [`JsonLayer`], as an event formatter for `tracing_subscriber::fmt`:
/// `tracing_subscriber::fmt().event_format(JsonFormat::new())`. Add
/// `prodlog_context::ContextLayer` for span fields. Redacts with the default rules unless
/// told otherwise.
#[derive(Debug, Clone)]
pub struct JsonFormat {
    redactor: Option<Redactor>,
    schema: JsonSchema,
}

impl Default for JsonFormat {
    fn default() -> Self {
        JsonFormat {
            redactor: Some(Redactor::default()),
            schema: JsonSchema::Prodlog,
        }
    }
}

impl JsonFormat {
    /// The JSON format, redacting with the default rules.
    pub fn new() -> Self {
        JsonFormat::default()
    }

    /// The key names of the lines ([`JsonSchema::Prodlog`] unless set).
    pub fn schema(mut self, schema: JsonSchema) -> Self {
        self.schema = schema;
        self
    }

    crate::redaction_setters!();
}

impl<S, N> FormatEvent<S, N> for JsonFormat
where
    S: Subscriber + for<'l> LookupSpan<'l>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        with_buf(|buf| {
            format_json(
                buf,
                event,
                None,
                || ctx.event_scope(),
                self.redactor.as_ref(),
                None,
                self.schema,
            );
            // `fmt` adds no newline of its own after the event formatter.
            writer.write_str(buf)
        })
    }
}
