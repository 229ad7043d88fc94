//! One JSON log line, read for people: prodlog's own keys, the aggregator schemas prodlog
//! writes (ECS, Cloud Logging, OpenTelemetry) and the common names other loggers use.

use serde_json::{Map, Value};

/// The parts every command needs.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// Microseconds since the Unix epoch (`None`: no readable time).
    pub(crate) micros: Option<i64>,
    /// The time as written.
    pub(crate) time: String,
    /// Upper case: `TRACE` … `ERROR`, `CRITICAL`.
    pub(crate) level: String,
    pub(crate) target: String,
    pub(crate) message: String,
    /// The innermost span's name.
    pub(crate) span: Option<String>,
    /// Every other member (the `Attributes` of an OTel line flattened in).
    pub(crate) fields: Map<String, Value>,
}

const TIME_KEYS: &[&str] = &["timestamp", "@timestamp", "time", "ts", "Timestamp", "t"];
const LEVEL_KEYS: &[&str] = &["level", "log.level", "severity", "SeverityText", "lvl"];
const MESSAGE_KEYS: &[&str] = &["message", "msg", "Body", "event"];
const TARGET_KEYS: &[&str] = &["target", "log.logger", "logger", "logger_name", "module"];
const SPAN_KEYS: &[&str] = &["span", "span.name"];
/// Field names of a request or trace id.
const ID_KEYS: &[&str] = &[
    "request_id",
    "requestId",
    "request.id",
    "req_id",
    "x_request_id",
    "correlation_id",
    "correlationId",
    "trace_id",
    "traceId",
    "trace.id",
    "TraceId",
    "logging.googleapis.com/trace",
];

fn take(map: &mut Map<String, Value>, keys: &[&str]) -> Option<Value> {
    keys.iter().find_map(|k| map.remove(*k))
}

fn text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

impl Record {
    /// Reads a JSON object line; `None` for anything else.
    pub(crate) fn parse(line: &str) -> Option<Record> {
        if !line.trim_start().starts_with('{') {
            return None;
        }
        let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(line) else {
            return None;
        };
        if let Some(Value::Object(attrs)) = map.remove("Attributes") {
            for (k, v) in attrs {
                map.entry(k).or_insert(v);
            }
        }
        let time_value = take(&mut map, TIME_KEYS);
        let micros = time_value.as_ref().and_then(parse_time);
        let time = time_value.map(text).unwrap_or_default();
        let level = take(&mut map, LEVEL_KEYS)
            .map(text)
            .map(|l| normalize_level(&l))
            .unwrap_or_else(|| "INFO".to_owned());
        let mut message = take(&mut map, MESSAGE_KEYS).map(text).unwrap_or_default();
        // tracing-subscriber's JSON without `flatten_event`: the message is in `fields`.
        if message.is_empty() {
            if let Some(Value::Object(fields)) = map.get_mut("fields") {
                message = fields.remove("message").map(text).unwrap_or_default();
            }
        }
        let mut target = take(&mut map, TARGET_KEYS).map(text).unwrap_or_default();
        if target.is_empty() {
            if let Some(Value::Object(mut scope)) = map.remove("InstrumentationScope") {
                target = scope.remove("Name").map(text).unwrap_or_default();
            }
            if let Some(Value::Object(mut labels)) = map.remove("logging.googleapis.com/labels") {
                target = labels.remove("target").map(text).unwrap_or_default();
            }
        }
        let span = take(&mut map, SPAN_KEYS).map(text);
        for k in ["ecs.version", "SeverityNumber"] {
            map.remove(k);
        }
        Some(Record {
            micros,
            time,
            level,
            target,
            message,
            span,
            fields: map,
        })
    }

    /// A top-level field as text (strings as they are, other values as JSON).
    pub(crate) fn field(&self, key: &str) -> Option<String> {
        self.fields.get(key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// Whether this line belongs to request `id`: a request or trace id field equal to it,
    /// under any of the names loggers use, at the top level or nested (tracing-subscriber's
    /// JSON puts span fields under `span` and `spans`); a Cloud Logging trace
    /// `projects/P/traces/ID` counts too.
    pub(crate) fn belongs_to(&self, id: &str) -> bool {
        fn matches(v: &Value, id: &str) -> bool {
            match v {
                Value::String(s) => {
                    s == id || s.strip_suffix(id).is_some_and(|p| p.ends_with("/traces/"))
                }
                Value::Number(n) => n.to_string() == id,
                _ => false,
            }
        }
        fn walk(map: &Map<String, Value>, id: &str, depth: u32) -> bool {
            map.iter().any(|(k, v)| {
                (ID_KEYS.contains(&k.as_str()) && matches(v, id))
                    || (depth < 4
                        && match v {
                            Value::Object(m) => walk(m, id, depth + 1),
                            Value::Array(items) => items.iter().any(|i| match i {
                                Value::Object(m) => walk(m, id, depth + 1),
                                _ => false,
                            }),
                            _ => false,
                        })
            })
        }
        walk(&self.fields, id, 0)
    }
}

/// `WARNING` → `WARN`, `info` → `INFO`, OTel's `Info2` → `INFO`.
pub(crate) fn normalize_level(l: &str) -> String {
    let up = l.trim().to_ascii_uppercase();
    let base = up.trim_end_matches(|c: char| c.is_ascii_digit());
    match base {
        "WARNING" => "WARN".to_owned(),
        "FATAL" | "EMERGENCY" | "ALERT" => "CRITICAL".to_owned(),
        "ERR" => "ERROR".to_owned(),
        "DBG" => "DEBUG".to_owned(),
        "TRC" => "TRACE".to_owned(),
        "" => "INFO".to_owned(),
        other => other.to_owned(),
    }
}

/// The rank of a level, most verbose lowest.
pub(crate) fn level_rank(l: &str) -> u8 {
    match l {
        "TRACE" => 0,
        "DEBUG" => 1,
        "INFO" | "NOTICE" => 2,
        "WARN" => 3,
        "ERROR" => 4,
        "CRITICAL" => 5,
        _ => 2,
    }
}

/// An RFC 3339 time, or epoch seconds / milliseconds / nanoseconds as a number or a
/// digit string, as microseconds since the epoch.
/// [`parse_time`] of a string.
pub(crate) fn parse_time_str(s: &str) -> Option<i64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<f64>().ok().map(epoch_to_micros);
    }
    parse_rfc3339(s)
}

pub(crate) fn parse_time(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().map(epoch_to_micros),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<f64>().ok().map(epoch_to_micros)
        }
        Value::String(s) => parse_rfc3339(s),
        _ => None,
    }
}

/// Epoch seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude.
fn epoch_to_micros(x: f64) -> i64 {
    let micros = if x > 1e17 {
        x / 1e3
    } else if x > 1e14 {
        x
    } else if x > 1e11 {
        x * 1e3
    } else {
        x * 1e6
    };
    micros as i64
}

/// An RFC 3339 time as microseconds since the epoch.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    prodlog::format::parse_rfc3339(s).and_then(|n| i64::try_from(n.div_euclid(1000)).ok())
}

/// `2026-11-30T10:00:00.123Z`, a relative `15m` / `2h` / `1d` / `30s` before `now`, or
/// epoch seconds: microseconds since the epoch.
pub(crate) fn parse_when(s: &str, now_micros: i64) -> Result<i64, String> {
    let s = s.trim();
    if let Some(t) = parse_rfc3339(s) {
        return Ok(t);
    }
    let unit = s.chars().last().unwrap_or(' ');
    let n = s[..s.len() - unit.len_utf8()].trim();
    let scale = match unit {
        's' => 1_000_000,
        'm' => 60_000_000,
        'h' => 3_600_000_000,
        'd' => 86_400_000_000,
        _ => {
            return s.parse::<f64>().map(epoch_to_micros).map_err(|_| {
                format!(
                "{s:?}: expected a time like 2026-11-30T10:00:00Z or a duration like 15m, 2h, 1d"
            )
            })
        }
    };
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?}: expected a number before {unit:?}"))?;
    Ok(now_micros - n.saturating_mul(scale))
}

/// Now, in microseconds since the epoch.
pub(crate) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The parts of a JSON line that template mining needs — its message, level and time —
/// read without building the whole object (the other members are skipped, not parsed into
/// values): `patterns` reads about twice as many lines a second as through [`Record::parse`].
/// `None` when the line has no top-level message (the full parse then looks further).
pub(crate) struct Head<'a> {
    pub(crate) message: std::borrow::Cow<'a, str>,
    pub(crate) level: Option<std::borrow::Cow<'a, str>>,
    pub(crate) time: Option<std::borrow::Cow<'a, str>>,
}

impl<'a> Head<'a> {
    pub(crate) fn parse(line: &'a str) -> Option<Head<'a>> {
        use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
        use std::borrow::Cow;
        struct V;
        type Parts<'a> = (
            Option<Cow<'a, str>>,
            Option<Cow<'a, str>>,
            Option<Cow<'a, str>>,
        );
        impl<'de> Visitor<'de> for V {
            type Value = Parts<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parts<'de>, A::Error> {
                let (mut message, mut level, mut time) = (None, None, None);
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let slot = if MESSAGE_KEYS.contains(&key.as_ref()) && message.is_none() {
                        &mut message
                    } else if LEVEL_KEYS.contains(&key.as_ref()) && level.is_none() {
                        &mut level
                    } else if TIME_KEYS.contains(&key.as_ref()) && time.is_none() {
                        &mut time
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    // A string, or anything else skipped (a number time, an object body).
                    if let serde_json::Value::String(s) = map.next_value::<serde_json::Value>()? {
                        *slot = Some(Cow::Owned(s));
                    }
                }
                Ok((message, level, time))
            }
        }
        if !line.trim_start().starts_with('{') {
            return None;
        }
        let mut de = serde_json::Deserializer::from_str(line);
        let (message, level, time) = (&mut de).deserialize_map(V).ok()?;
        Some(Head {
            message: message?,
            level,
            time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_reads_the_same() {
        for line in [
            r#"{"timestamp":"2026-11-25T01:34:45.123456Z","level":"WARN","target":"app","message":"m","request_id":"r","span":"req"}"#,
            r#"{"@timestamp":"2026-11-25T01:34:45.123456Z","log.level":"warn","ecs.version":"1.6.0","log.logger":"app","message":"m","request_id":"r","span.name":"req"}"#,
            r#"{"time":"2026-11-25T01:34:45.123456Z","severity":"WARNING","logging.googleapis.com/labels":{"target":"app"},"message":"m","request_id":"r","span":"req"}"#,
            r#"{"Timestamp":"1795570485123456000","SeverityText":"WARN","SeverityNumber":13,"Body":"m","InstrumentationScope":{"Name":"app"},"Attributes":{"request_id":"r","span":"req"}}"#,
        ] {
            let r = Record::parse(line).unwrap();
            assert_eq!(r.micros, Some(1_795_570_485_123_456), "{line}");
            assert_eq!(
                (r.level.as_str(), r.target.as_str(), r.message.as_str()),
                ("WARN", "app", "m"),
                "{line}"
            );
            assert_eq!(r.span.as_deref(), Some("req"), "{line}");
            assert!(r.belongs_to("r") && !r.belongs_to("r2"), "{line}");
        }
        // tracing-subscriber's JSON: span fields nested under `span` and `spans`.
        let fmt = Record::parse(r#"{"timestamp":"2026-11-25T01:34:45.123456Z","level":"INFO","fields":{"message":"m"},"target":"app","span":{"request_id":"q-1","name":"request"},"spans":[{"request_id":"q-1","name":"request"}]}"#).unwrap();
        assert!(fmt.belongs_to("q-1") && !fmt.belongs_to("q"));
        assert_eq!(fmt.message, "m");
        let gcp = Record::parse(r#"{"time":"2026-11-25T01:34:45Z","severity":"INFO","message":"m","logging.googleapis.com/trace":"projects/p/traces/abc"}"#).unwrap();
        assert!(gcp.belongs_to("abc") && !gcp.belongs_to("bc"));
        assert!(Record::parse("plain").is_none());
        assert!(Record::parse("{not json").is_none());
    }

    #[test]
    fn times_and_relative_times() {
        let now = parse_rfc3339("2026-11-30T12:00:00Z").unwrap();
        assert_eq!(parse_when("15m", now).unwrap(), now - 15 * 60_000_000);
        assert_eq!(
            parse_when("2026-11-30T11:00:00Z", now).unwrap(),
            now - 3_600_000_000
        );
        assert!(parse_when("yesterday", now)
            .unwrap_err()
            .contains("expected"));
        assert!(parse_when("xm", now).is_err());
        assert_eq!(parse_rfc3339("2026-11-30T13:00:00+01:00"), Some(now));
    }
}
