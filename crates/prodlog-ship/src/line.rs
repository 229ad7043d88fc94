//! One prodlog JSON line, read back on the sending thread.
//!
//! The destinations here get the same bytes as the files — redacted, with the request
//! context — and translate them on their own thread, off the caller's path.

use serde_json::{Map, Value};

/// The parts of a line every protocol needs.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// Nanoseconds since the Unix epoch (0: unknown).
    pub(crate) time_ns: u64,
    /// `TRACE` … `ERROR`, or `CRITICAL`.
    pub(crate) level: String,
    pub(crate) target: String,
    pub(crate) message: String,
    pub(crate) span: Option<String>,
    pub(crate) trace_id: Option<String>,
    pub(crate) span_id: Option<String>,
    /// Source file and line, from an ECS line.
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u64>,
    /// Every other member, in line order (the event's fields, then the spans').
    pub(crate) fields: Map<String, Value>,
}

impl Record {
    /// Reads one queued entry: its source-location header, then a JSON line in any of
    /// prodlog's schemas. A line that is not a JSON object becomes an INFO record whose
    /// message is the line.
    pub(crate) fn parse(entry: &[u8]) -> Record {
        let (source, line) = split_header(trim_newline(entry));
        let mut record = match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(map)) => Record::from_map(map),
            _ => Record {
                level: "INFO".to_owned(),
                message: String::from_utf8_lossy(line).into_owned(),
                ..Record::default()
            },
        };
        if let Some((file, at)) = source {
            record.file.get_or_insert(file);
            record.line.get_or_insert(at);
        }
        record
    }

    fn from_map(mut map: Map<String, Value>) -> Record {
        fn text(v: Value) -> String {
            match v {
                Value::String(s) => s,
                other => other.to_string(),
            }
        }
        let take = |map: &mut Map<String, Value>, k: &str| map.remove(k).map(text);
        let mut r = Record::default();
        if map.contains_key("@timestamp") {
            // Elastic Common Schema.
            r.time_ns = take(&mut map, "@timestamp")
                .as_deref()
                .and_then(parse_rfc3339)
                .unwrap_or(0);
            r.level = take(&mut map, "log.level")
                .unwrap_or_default()
                .to_ascii_uppercase();
            r.target = take(&mut map, "log.logger").unwrap_or_default();
            r.span = take(&mut map, "span.name");
            r.trace_id = take(&mut map, "trace.id");
            r.span_id = take(&mut map, "span.id");
            r.file = take(&mut map, "log.origin.file.name");
            r.line = map.remove("log.origin.file.line").and_then(|v| v.as_u64());
            map.remove("ecs.version");
        } else if map.contains_key("severity") && map.contains_key("time") {
            // Google Cloud Logging.
            r.time_ns = take(&mut map, "time")
                .as_deref()
                .and_then(parse_rfc3339)
                .unwrap_or(0);
            r.level = match take(&mut map, "severity").unwrap_or_default().as_str() {
                "WARNING" => "WARN".to_owned(),
                other => other.to_owned(),
            };
            r.span = take(&mut map, "span");
            r.trace_id = take(&mut map, "logging.googleapis.com/trace");
            r.span_id = take(&mut map, "logging.googleapis.com/spanId");
            if let Some(Value::Object(mut labels)) = map.remove("logging.googleapis.com/labels") {
                r.target = labels.remove("target").map(text).unwrap_or_default();
            }
            if let Some(Value::Object(mut loc)) =
                map.remove("logging.googleapis.com/sourceLocation")
            {
                r.file = loc.remove("file").map(text);
                r.line = loc.remove("line").map(text).and_then(|l| l.parse().ok());
            }
        } else if map.contains_key("SeverityText") {
            // The OpenTelemetry log data model: fields in `Attributes`.
            r.time_ns = take(&mut map, "Timestamp")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            r.level = take(&mut map, "SeverityText").unwrap_or_default();
            r.trace_id = take(&mut map, "TraceId");
            r.span_id = take(&mut map, "SpanId");
            if let Some(Value::Object(mut scope)) = map.remove("InstrumentationScope") {
                r.target = scope.remove("Name").map(text).unwrap_or_default();
            }
            let body = take(&mut map, "Body");
            map.remove("SeverityNumber");
            if let Some(Value::Object(attrs)) = map.remove("Attributes") {
                map.extend(attrs);
            }
            r.message = body.unwrap_or_default();
            r.span = take(&mut map, "span");
            if r.trace_id.is_none() {
                r.trace_id = take(&mut map, "trace_id");
            }
            if r.span_id.is_none() {
                r.span_id = take(&mut map, "span_id");
            }
            r.file = take(&mut map, "code.file.path");
            r.line = take(&mut map, "code.line.number").and_then(|l| l.parse().ok());
            r.fields = map;
            if r.level.is_empty() {
                r.level = "INFO".to_owned();
            }
            return r;
        } else {
            r.time_ns = take(&mut map, "timestamp")
                .as_deref()
                .and_then(parse_rfc3339)
                .unwrap_or(0);
            r.level = take(&mut map, "level").unwrap_or_default();
            r.target = take(&mut map, "target").unwrap_or_default();
            r.span = take(&mut map, "span");
            r.trace_id = take(&mut map, "trace_id");
            r.span_id = take(&mut map, "span_id");
        }
        r.message = take(&mut map, "message").unwrap_or_default();
        if r.level.is_empty() {
            r.level = "INFO".to_owned();
        }
        r.fields = map;
        r
    }

    /// The syslog / journald severity (RFC 5424 numbering).
    pub(crate) fn syslog_severity(&self) -> u8 {
        match self.level.as_str() {
            "CRITICAL" => 2,
            "ERROR" => 3,
            "WARN" => 4,
            "INFO" => 6,
            _ => 7,
        }
    }

    /// The OpenTelemetry severity number.
    pub(crate) fn otel_severity(&self) -> u64 {
        u64::from(prodlog_format::severity_number(&self.level))
    }
}

/// `@<len>:<file>:<line> ` or `- ` before the line (see `Shared::push`).
fn split_header(entry: &[u8]) -> (Option<(String, u64)>, &[u8]) {
    if let Some(rest) = entry.strip_prefix(b"- ") {
        return (None, rest);
    }
    let parsed = (|| {
        let rest = entry.strip_prefix(b"@")?;
        let colon = rest.iter().position(|&b| b == b':')?;
        let len: usize = std::str::from_utf8(&rest[..colon]).ok()?.parse().ok()?;
        let rest = &rest[colon + 1..];
        let file = std::str::from_utf8(rest.get(..len)?).ok()?;
        let rest = rest.get(len..)?.strip_prefix(b":")?;
        let space = rest.iter().position(|&b| b == b' ')?;
        let at: u64 = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
        Some(((file.to_owned(), at), &rest[space + 1..]))
    })();
    match parsed {
        Some((source, line)) => (Some(source), line),
        None => (None, entry),
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A field's value as text: strings as they are, anything else as JSON.
pub(crate) fn value_text(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::String(s) => s.as_str().into(),
        other => other.to_string().into(),
    }
}

/// An RFC 3339 time as nanoseconds since the epoch (0 before it).
pub(crate) fn parse_rfc3339(s: &str) -> Option<u64> {
    prodlog_format::parse_rfc3339(s).and_then(|n| u64::try_from(n).ok())
}

/// RFC 3339 in UTC with microseconds, as prodlog writes it.
pub(crate) fn rfc3339(secs: u64, micros: u32) -> String {
    prodlog_format::format_rfc3339(
        std::time::UNIX_EPOCH
            + std::time::Duration::from_secs(secs)
            + std::time::Duration::from_micros(micros.into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let ns = parse_rfc3339("2026-11-25T01:34:45.123456Z").unwrap();
        assert_eq!(ns, 1_795_570_485_123_456_000);
        assert_eq!(
            rfc3339(ns / 1_000_000_000, 123_456),
            "2026-11-25T01:34:45.123456Z"
        );
        assert_eq!(
            parse_rfc3339("2026-11-25T02:34:45+01:00"),
            Some(1_795_570_485_000_000_000)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(
            parse_rfc3339("2026-11-25T01:34:45.Z"),
            Some(1_795_570_485_000_000_000)
        );
    }

    #[test]
    fn a_line_that_is_not_json_is_kept_as_the_message() {
        let r = Record::parse(b"plain text\n");
        assert_eq!(
            (r.level.as_str(), r.message.as_str()),
            ("INFO", "plain text")
        );
        let r = Record::parse(
            br#"{"timestamp":"2026-11-25T01:34:45.123456Z","level":"WARN","target":"app","message":"m","n":1,"request_id":"r","span":"req","trace_id":"t"}"#,
        );
        assert_eq!(r.level, "WARN");
        assert_eq!(r.trace_id.as_deref(), Some("t"));
        assert_eq!(r.fields.keys().collect::<Vec<_>>(), ["n", "request_id"]);
    }

    #[test]
    fn every_schema_reads_back_the_same() {
        for line in [
            r#"- {"@timestamp":"2026-11-25T01:34:45.123456Z","log.level":"warn","ecs.version":"1.6.0","log.logger":"app","log.origin.file.name":"src/a.rs","log.origin.file.line":12,"message":"m","request_id":"r","trace.id":"t","span.name":"req"}"#,
            r#"- {"time":"2026-11-25T01:34:45.123456Z","severity":"WARNING","logging.googleapis.com/sourceLocation":{"file":"src/a.rs","line":"12","function":"app"},"logging.googleapis.com/labels":{"target":"app"},"message":"m","request_id":"r","logging.googleapis.com/trace":"t","span":"req"}"#,
            r#"- {"Timestamp":"1795570485123456000","SeverityText":"WARN","SeverityNumber":13,"Body":"m","InstrumentationScope":{"Name":"app"},"Attributes":{"code.file.path":"src/a.rs","code.line.number":12,"request_id":"r","span":"req","trace_id":"t"}}"#,
        ] {
            let r = Record::parse(line.as_bytes());
            assert_eq!(r.time_ns, 1_795_570_485_123_456_000, "{line}");
            assert_eq!(
                (r.level.as_str(), r.target.as_str(), r.message.as_str()),
                ("WARN", "app", "m"),
                "{line}"
            );
            assert_eq!(
                (r.file.as_deref(), r.line),
                (Some("src/a.rs"), Some(12)),
                "{line}"
            );
            assert_eq!(r.span.as_deref(), Some("req"), "{line}");
            assert_eq!(r.trace_id.as_deref(), Some("t"), "{line}");
            assert_eq!(
                r.fields.keys().collect::<Vec<_>>(),
                ["request_id"],
                "{line}"
            );
        }
    }
}
