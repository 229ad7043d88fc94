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
    /// Reads a line; a line that is not a JSON object becomes an INFO record whose message
    /// is the line.
    pub(crate) fn parse(line: &[u8]) -> Record {
        let line = trim_newline(line);
        let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(line) else {
            return Record {
                level: "INFO".to_owned(),
                message: String::from_utf8_lossy(line).into_owned(),
                ..Record::default()
            };
        };
        // The lines come in prodlog's schema or in ECS (which carries the source location).
        let ecs = map.contains_key("@timestamp");
        let (file, line) = if ecs {
            map.remove("ecs.version");
            (
                map.remove("log.origin.file.name")
                    .map(|v| value_text(&v).into_owned()),
                map.remove("log.origin.file.line").and_then(|v| v.as_u64()),
            )
        } else {
            (None, None)
        };
        let mut take_str = |k: &str| match map.remove(k) {
            Some(Value::String(s)) => Some(s),
            Some(other) => Some(other.to_string()),
            None => None,
        };
        let key =
            |prodlog: &'static str, ecs_key: &'static str| if ecs { ecs_key } else { prodlog };
        let time_ns = take_str(key("timestamp", "@timestamp"))
            .as_deref()
            .and_then(parse_rfc3339)
            .unwrap_or(0);
        let level = take_str(key("level", "log.level"))
            .map_or_else(|| "INFO".to_owned(), |l| l.to_ascii_uppercase());
        let target = take_str(key("target", "log.logger")).unwrap_or_default();
        let message = take_str("message").unwrap_or_default();
        let span = take_str(key("span", "span.name"));
        let trace_id = take_str(key("trace_id", "trace.id"));
        let span_id = take_str(key("span_id", "span.id"));
        Record {
            time_ns,
            level,
            target,
            message,
            span,
            trace_id,
            span_id,
            file,
            line,
            fields: map,
        }
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
        match self.level.as_str() {
            "TRACE" => 1,
            "DEBUG" => 5,
            "INFO" => 9,
            "WARN" => 13,
            "ERROR" => 17,
            "CRITICAL" => 21,
            _ => 0,
        }
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

/// `2026-11-25T01:34:45.123456Z` (or with an offset) as nanoseconds since the epoch.
pub(crate) fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos = 0u64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i.min(start + 9)];
        if !digits.is_empty() {
            nanos = digits.parse::<u64>().ok()? * 10u64.pow(9 - digits.len() as u32);
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh: i64 = s.get(i + 1..i + 3)?.parse().ok()?;
            let om: i64 = s.get(i + 4..i + 6)?.parse().ok()?;
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
    u64::try_from(secs).ok().map(|s| s * 1_000_000_000 + nanos)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// RFC 3339 in UTC with microseconds.
pub(crate) fn rfc3339(secs: u64, micros: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
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
}
