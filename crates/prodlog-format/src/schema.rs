//! The key names of a JSON line: prodlog's own, or an aggregator's native ones.
//!
//! Every key is a `&'static str` chosen by a `match` on the schema, so a schema costs one
//! branch per key, not a lookup or a copy: the four schemas format at the same speed (see
//! `docs/benchmarks.md`).

use std::fmt;
use std::str::FromStr;

use crate::escape::{json_escape_into, json_str};

/// The field names a JSON line uses.
///
/// | | prodlog | `ecs` | `gcp` | `otel` |
/// |---|---|---|---|---|
/// | time | `timestamp` (RFC 3339) | `@timestamp` | `time` | `Timestamp` (ns since the epoch, a string) |
/// | level | `level` (`INFO`) | `log.level` (`info`) | `severity` (`INFO`, `WARNING`) | `SeverityText` + `SeverityNumber` |
/// | message | `message` | `message` | `message` | `Body` |
/// | target | `target` | `log.logger` | `logging.googleapis.com/labels.target` | `InstrumentationScope.Name` |
/// | source | — | `log.origin.file.name`/`.line` | `logging.googleapis.com/sourceLocation` | `code.file.path`/`code.line.number` attributes |
/// | trace ids | `trace_id`, `span_id` | `trace.id`, `span.id` | `logging.googleapis.com/trace`, `…/spanId` | `TraceId`, `SpanId` |
/// | fields | top level | top level | top level | in `Attributes` |
/// | span name | `span` | `span.name` | `span` | `Attributes.span` |
///
/// A field named like a key the schema writes itself is written as `fields.<name>`, so
/// the line never has a key twice. Fields named `trace_id` and `span_id` (from a
/// `traceparent` header, say) take the schema's trace keys.
///
/// `ecs` follows the ecs-logging specification (`@timestamp`, `log.level`, `message` and
/// `ecs.version` always present); `gcp` the structured-logging fields Google Cloud
/// Logging's agents read from JSON lines; `otel` the OpenTelemetry log data model's field
/// names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum JsonSchema {
    /// prodlog's own keys (the default).
    #[default]
    Prodlog = 0,
    /// Elastic Common Schema, as ecs-logging libraries write it.
    Ecs = 1,
    /// Google Cloud Logging structured logs.
    Gcp = 2,
    /// The OpenTelemetry log data model.
    Otel = 3,
}

/// The `ecs.version` written on every ECS line.
pub const ECS_VERSION: &str = "1.6.0";

impl JsonSchema {
    /// The schema's name, as `PRODLOG_JSON_SCHEMA` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            JsonSchema::Prodlog => "prodlog",
            JsonSchema::Ecs => "ecs",
            JsonSchema::Gcp => "gcp",
            JsonSchema::Otel => "otel",
        }
    }

    pub(crate) fn from_index(i: u8) -> Self {
        match i {
            1 => JsonSchema::Ecs,
            2 => JsonSchema::Gcp,
            3 => JsonSchema::Otel,
            _ => JsonSchema::Prodlog,
        }
    }

    /// The key an event (`is_event`) or span field named `name` is written under.
    #[inline]
    pub(crate) fn field_key(self, name: &'static str, is_event: bool) -> &'static str {
        match self {
            JsonSchema::Prodlog => crate::keys::json_key(name, is_event),
            JsonSchema::Ecs => match name {
                "message" if is_event => "message",
                "message" => "fields.message",
                "@timestamp" => "fields.@timestamp",
                "log.level" => "fields.log.level",
                "log.logger" => "fields.log.logger",
                "ecs.version" => "fields.ecs.version",
                "trace_id" => "trace.id",
                "span_id" => "span.id",
                // ECS's `error` and `span` are objects: a plain value there would clash.
                "error" => "error.message",
                // What `log_err` and the panic hook write: ECS's error fields.
                "error_type" if is_event => "error.type",
                "backtrace" if is_event => "error.stack_trace",
                "span" => "fields.span",
                _ => name,
            },
            JsonSchema::Gcp => match name {
                "message" if is_event => "message",
                "message" => "fields.message",
                "time" => "fields.time",
                "severity" => "fields.severity",
                "span" => "fields.span",
                "trace_id" => "logging.googleapis.com/trace",
                "span_id" => "logging.googleapis.com/spanId",
                _ if name.starts_with("logging.googleapis.com/") => "fields.logging.googleapis.com",
                // Error Reporting reads a stack trace from `stack_trace`.
                "backtrace" if is_event => "stack_trace",
                _ => name,
            },
            // Fields live in `Attributes`, apart from the top-level keys; the message is
            // the `Body`, written in a pass of its own.
            JsonSchema::Otel => match name {
                "message" if is_event => "Body",
                "span" => "fields.span",
                // The semantic conventions' exception attributes.
                "error_type" if is_event => "exception.type",
                "backtrace" if is_event => "exception.stacktrace",
                _ => name,
            },
        }
    }

    /// The level's text in this schema.
    pub(crate) fn level_text(self, label: &'static str) -> &'static str {
        match self {
            JsonSchema::Prodlog | JsonSchema::Otel => label,
            JsonSchema::Ecs => match label {
                "TRACE" => "trace",
                "DEBUG" => "debug",
                "INFO" => "info",
                "WARN" => "warn",
                "ERROR" => "error",
                "CRITICAL" => "critical",
                other => other,
            },
            JsonSchema::Gcp => match label {
                "TRACE" | "DEBUG" => "DEBUG",
                "WARN" => "WARNING",
                other => other,
            },
        }
    }
}

/// The OpenTelemetry log data model's `SeverityNumber` of a level as prodlog writes it
/// (`TRACE` 1, `DEBUG` 5, `INFO` 9, `WARN` 13, `ERROR` 17, `CRITICAL` 21; anything else 0).
pub fn severity_number(label: &str) -> u8 {
    match label {
        "TRACE" => 1,
        "DEBUG" => 5,
        "INFO" => 9,
        "WARN" => 13,
        "ERROR" => 17,
        "CRITICAL" => 21,
        _ => 0,
    }
}

impl fmt::Display for JsonSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown schema name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSchema(pub String);

impl fmt::Display for UnknownSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown JSON schema {:?} (expected prodlog, ecs, gcp or otel)",
            self.0
        )
    }
}

impl std::error::Error for UnknownSchema {}

impl FromStr for JsonSchema {
    type Err = UnknownSchema;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "prodlog" | "default" => Ok(JsonSchema::Prodlog),
            "ecs" | "elastic" => Ok(JsonSchema::Ecs),
            "gcp" | "google" | "stackdriver" => Ok(JsonSchema::Gcp),
            "otel" | "opentelemetry" => Ok(JsonSchema::Otel),
            _ => Err(UnknownSchema(s.to_owned())),
        }
    }
}

/// What ECS and Cloud Logging write after the time: all of it fixed by the callsite (the
/// plan keeps it) but for a `log` record's or a `CRITICAL` event's.
pub(crate) fn schema_rest(
    buf: &mut String,
    meta: &tracing_core::Metadata<'_>,
    target: &str,
    label: &'static str,
    schema: JsonSchema,
) {
    if schema == JsonSchema::Ecs {
        buf.push_str("\",\"log.level\":\"");
        buf.push_str(schema.level_text(label));
        buf.push_str("\",\"ecs.version\":\"");
        buf.push_str(crate::schema::ECS_VERSION);
        buf.push_str("\",\"log.logger\":\"");
        json_escape_into(buf, target);
        buf.push('"');
        if let Some(file) = meta.file() {
            buf.push_str(",\"log.origin.file.name\":");
            json_str(buf, file);
        }
        if let Some(line) = meta.line() {
            buf.push_str(",\"log.origin.file.line\":");
            buf.push_str(itoa::Buffer::new().format(line));
        }
        return;
    }
    buf.push_str("\",\"severity\":\"");
    buf.push_str(schema.level_text(label));
    buf.push('"');
    if let Some(file) = meta.file() {
        buf.push_str(",\"logging.googleapis.com/sourceLocation\":{\"file\":");
        json_str(buf, file);
        if let Some(line) = meta.line() {
            // The LogEntrySourceLocation message: `line` is an int64, a string in JSON.
            buf.push_str(",\"line\":\"");
            buf.push_str(itoa::Buffer::new().format(line));
            buf.push('"');
        }
        if let Some(module) = meta.module_path() {
            buf.push_str(",\"function\":");
            json_str(buf, module);
        }
        buf.push('}');
    }
    buf.push_str(",\"logging.googleapis.com/labels\":{\"target\":");
    json_str(buf, target);
    buf.push('}');
}

/// What the aggregators' error views read besides the type and the stack trace (mapped
/// from `error_type` and `backtrace` by the schema's keys): ECS `error.message`, OTel
/// `exception.message`, and for Cloud Logging the `@type` that makes Error Reporting take
/// the line with its `context.reportLocation`.
#[cold]
#[inline(never)]
pub(crate) fn write_error_report(
    buf: &mut String,
    keys: &mut crate::keys::KeySet,
    event: &tracing_core::Event<'_>,
    meta: &tracing_core::Metadata<'_>,
    redactor: Option<&prodlog_redact::Redactor>,
    schema: JsonSchema,
) {
    use std::fmt::Write as _;
    struct Message(String);
    impl tracing_core::field::Visit for Message {
        fn record_str(&mut self, field: &tracing_core::Field, value: &str) {
            if field.name() == "message" {
                self.0.push_str(value);
            }
        }
        fn record_debug(&mut self, field: &tracing_core::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                let _ = write!(self.0, "{value:?}");
            }
        }
    }
    let key = match schema {
        JsonSchema::Ecs => "error.message",
        JsonSchema::Otel => "exception.message",
        _ => {
            const TYPE: &str =
                "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent";
            if keys.insert("@type") {
                buf.push_str(",\"@type\":");
                json_str(buf, TYPE);
            }
            if let (Some(file), true) = (meta.file(), keys.insert("context")) {
                buf.push_str(",\"context\":{\"reportLocation\":{\"filePath\":");
                json_str(buf, file);
                buf.push_str(",\"lineNumber\":");
                buf.push_str(itoa::Buffer::new().format(meta.line().unwrap_or(0)));
                buf.push_str(",\"functionName\":");
                json_str(buf, meta.module_path().unwrap_or(meta.target()));
                buf.push_str("}}");
            }
            return;
        }
    };
    if !keys.insert(key) {
        return;
    }
    let mut message = Message(String::new());
    event.record(&mut message);
    buf.push_str(",\"");
    buf.push_str(key);
    buf.push_str("\":");
    match redactor {
        Some(r) => json_str(buf, &r.redact_text(&message.0)),
        None => json_str(buf, &message.0),
    }
}
