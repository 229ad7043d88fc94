//! The few protobuf messages of an OTLP logs export, encoded by hand.
//!
//! `opentelemetry-proto` + `prost` would generate these types, at the cost of two more
//! crates (and their build) for seven messages whose encoding is varints and
//! length-prefixed bytes. Field numbers are those of `opentelemetry/proto/logs/v1/logs.proto`,
//! `common/v1/common.proto` and `resource/v1/resource.proto`; the tests against a real
//! collector (Rotel) check them.

use serde_json::Value;

use crate::line::Record;

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn tag(buf: &mut Vec<u8>, field: u32, wire: u8) {
    varint(buf, (u64::from(field) << 3) | u64::from(wire));
}

fn bytes_field(buf: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    tag(buf, field, 2);
    varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

fn string_field(buf: &mut Vec<u8>, field: u32, s: &str) {
    bytes_field(buf, field, s.as_bytes());
}

fn varint_field(buf: &mut Vec<u8>, field: u32, v: u64) {
    tag(buf, field, 0);
    varint(buf, v);
}

fn fixed64_field(buf: &mut Vec<u8>, field: u32, v: u64) {
    tag(buf, field, 1);
    buf.extend_from_slice(&v.to_le_bytes());
}

/// A nested message: encoded into a scratch buffer, then length-prefixed.
fn message_field(buf: &mut Vec<u8>, field: u32, encode: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    encode(&mut inner);
    bytes_field(buf, field, &inner);
}

/// `AnyValue` for a JSON value (depth-limited: deeper values become their JSON text).
fn any_value(buf: &mut Vec<u8>, v: &Value, depth: u32) {
    match v {
        Value::String(s) => string_field(buf, 1, s),
        Value::Bool(b) => varint_field(buf, 2, u64::from(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                varint_field(buf, 3, i as u64);
            } else if let Some(f) = n.as_f64() {
                fixed64_field(buf, 4, f.to_bits());
            }
        }
        Value::Array(items) if depth < 8 => message_field(buf, 5, |b| {
            for item in items {
                message_field(b, 1, |b| any_value(b, item, depth + 1));
            }
        }),
        Value::Object(map) if depth < 8 => message_field(buf, 6, |b| {
            for (k, v) in map {
                message_field(b, 1, |b| key_value(b, k, v, depth + 1));
            }
        }),
        Value::Null => {}
        other => string_field(buf, 1, &other.to_string()),
    }
}

fn key_value(buf: &mut Vec<u8>, key: &str, v: &Value, depth: u32) {
    string_field(buf, 1, key);
    message_field(buf, 2, |b| any_value(b, v, depth));
}

fn string_attr(buf: &mut Vec<u8>, field: u32, key: &str, value: &str) {
    message_field(buf, field, |b| {
        string_field(b, 1, key);
        message_field(b, 2, |b| string_field(b, 1, value));
    });
}

/// Hex ids to bytes, when `s` is exactly `2 * N` hex digits and not all zero.
fn hex_id<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in s.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    (out != [0u8; N]).then_some(out)
}

/// One `LogRecord`.
fn log_record(buf: &mut Vec<u8>, r: &Record, observed_ns: u64) {
    if r.time_ns != 0 {
        fixed64_field(buf, 1, r.time_ns);
    }
    varint_field(buf, 2, r.otel_severity());
    string_field(buf, 3, &r.level);
    message_field(buf, 5, |b| string_field(b, 1, &r.message));
    let error_report = r.fields.contains_key("error_type");
    for (k, v) in &r.fields {
        // `log_err` and the panic hook: the semantic conventions' exception attributes.
        match (k.as_str(), v) {
            ("error_type", Value::String(t)) => string_attr(buf, 6, "exception.type", t),
            ("backtrace", Value::Array(frames)) if error_report => {
                let text: Vec<&str> = frames.iter().filter_map(Value::as_str).collect();
                string_attr(buf, 6, "exception.stacktrace", &text.join("\n"));
            }
            _ => message_field(buf, 6, |b| key_value(b, k, v, 0)),
        }
    }
    if error_report {
        string_attr(buf, 6, "exception.message", &r.message);
    }
    if let Some(span) = &r.span {
        string_attr(buf, 6, "span", span);
    }
    // The semantic conventions' source location.
    if let Some(file) = &r.file {
        string_attr(buf, 6, "code.file.path", file);
    }
    if let Some(line) = r.line {
        message_field(buf, 6, |b| {
            string_field(b, 1, "code.line.number");
            message_field(b, 2, |b| varint_field(b, 3, line));
        });
    }
    let trace = r.trace_id.as_deref().and_then(hex_id::<16>);
    let span_id = r.span_id.as_deref().and_then(hex_id::<8>);
    // An id that is not W3C-shaped (a request's own trace id) stays an attribute.
    if trace.is_none() {
        if let Some(t) = &r.trace_id {
            string_attr(buf, 6, "trace_id", t);
        }
    }
    if span_id.is_none() {
        if let Some(s) = &r.span_id {
            string_attr(buf, 6, "span_id", s);
        }
    }
    if let Some(t) = trace {
        bytes_field(buf, 9, &t);
    }
    if let Some(s) = span_id {
        bytes_field(buf, 10, &s);
    }
    fixed64_field(buf, 11, observed_ns);
}

/// An `ExportLogsServiceRequest` with one `ResourceLogs` and one `ScopeLogs` per target.
pub(crate) fn export_request(
    resource: &[(String, String)],
    records: &[Record],
    observed_ns: u64,
) -> Vec<u8> {
    let mut out = Vec::new();
    message_field(&mut out, 1, |rl| {
        message_field(rl, 1, |res| {
            for (k, v) in resource {
                string_attr(res, 1, k, v);
            }
        });
        let mut targets: Vec<&str> = Vec::new();
        for r in records {
            if !targets.contains(&r.target.as_str()) {
                targets.push(&r.target);
            }
        }
        for target in targets {
            message_field(rl, 2, |sl| {
                message_field(sl, 1, |scope| string_field(scope, 1, target));
                for r in records.iter().filter(|r| r.target == target) {
                    message_field(sl, 2, |b| log_record(b, r, observed_ns));
                }
            });
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_ids() {
        let mut b = Vec::new();
        varint(&mut b, 300);
        assert_eq!(b, [0xAC, 0x02]);
        assert_eq!(hex_id::<2>("0aff"), Some([0x0a, 0xff]));
        assert_eq!(hex_id::<2>("0000"), None);
        assert_eq!(hex_id::<2>("0g00"), None);
        assert_eq!(hex_id::<2>("0a"), None);
    }

    /// A `log_err` line becomes a record with the semantic conventions' exception
    /// attributes: its type, its message, its frames as one string.
    #[test]
    fn errors_carry_exception_attributes() {
        let line = br#"{"timestamp":"2026-12-07T21:33:56.820991Z","level":"ERROR","target":"app::db","message":"connection reset","error_type":"std::io::error::Error","error_chain":["peer gone"],"backtrace":["app::db::query (src/db.rs:9:5)","app::main (src/main.rs:3:5)"]}"#;
        let record = Record::parse(line);
        let mut buf = Vec::new();
        log_record(&mut buf, &record, 0);
        let has = |s: &str| buf.windows(s.len()).any(|w| w == s.as_bytes());
        for key in [
            "exception.type",
            "std::io::error::Error",
            "exception.message",
            "exception.stacktrace",
            "app::db::query (src/db.rs:9:5)\napp::main (src/main.rs:3:5)",
            "error_chain",
        ] {
            assert!(
                has(key),
                "{key:?} missing from {:?}",
                String::from_utf8_lossy(&buf)
            );
        }
        assert!(!has("error_type"), "{:?}", String::from_utf8_lossy(&buf));

        // An ordinary event has none of them.
        let record = Record::parse(br#"{"level":"INFO","message":"ok","backtrace":["x"]}"#);
        let mut buf = Vec::new();
        log_record(&mut buf, &record, 0);
        let has = |s: &str| buf.windows(s.len()).any(|w| w == s.as_bytes());
        assert!(!has("exception."), "{:?}", String::from_utf8_lossy(&buf));
    }
}
