//! Field encoders: how one `key` and one value are written, as JSON or as console text
//! (`crate::visitor` drives them over the fields of events and spans alike).

use std::fmt::{self, Write as _};

use tracing_core::field::Field;

use prodlog_redact::Redactor;

use crate::buf::with_scratch;
use crate::escape::{
    console_escape_into, console_needs_quotes, json_bytes, json_escape_into, json_str,
    ConsoleEscaper, JsonEscaper,
};
use crate::keys::json_key;
use crate::verdict;
use crate::visitor::{FieldVisitor, Write};

/// One output syntax. Every method appends to `buf`.
pub(crate) trait Encode {
    /// The key a field named `name` is written under.
    fn key_for(name: &'static str, is_event: bool) -> &'static str;
    /// Writes the separator and the key.
    fn key(buf: &mut String, key: &str);
    fn str(buf: &mut String, v: &str);
    fn debug(buf: &mut String, v: &dyn fmt::Debug);
    /// Text that came from a `Debug` value (already formatted, then redacted).
    fn debug_text(buf: &mut String, v: &str);
    fn bytes(buf: &mut String, v: &[u8]);
    /// Whether this syntax remembers the values it found clean (JSON) or looks them up
    /// (the console): see `crate::verdict`.
    const REMEMBERS: bool;
    /// A `Debug` value, redacted; `field` is the event field it is the value of (`None` for
    /// a span's), for the verdict of another formatter on the same text.
    fn debug_redacted(
        buf: &mut String,
        v: &dyn fmt::Debug,
        redactor: &Redactor,
        field: Option<usize>,
    ) {
        with_scratch(|s| {
            let _ = write!(s, "{v:?}");
            if field.is_some_and(|i| verdict::known_clean(i, s, redactor)) {
                Self::debug_text(buf, s);
            } else {
                Self::debug_text(buf, &redactor.redact_text(s));
            }
        });
    }
    fn i64(buf: &mut String, v: i64) {
        buf.push_str(itoa::Buffer::new().format(v));
    }
    fn u64(buf: &mut String, v: u64) {
        buf.push_str(itoa::Buffer::new().format(v));
    }
    fn i128(buf: &mut String, v: i128) {
        buf.push_str(itoa::Buffer::new().format(v));
    }
    fn u128(buf: &mut String, v: u128) {
        buf.push_str(itoa::Buffer::new().format(v));
    }
    fn f64(buf: &mut String, v: f64);
    /// The messages of an error's sources under `key` (an array in JSON, `caused by:`
    /// lines on the console).
    fn chain(visitor: &mut FieldVisitor<'_, Self>, key: &'static str, messages: &[String])
    where
        Self: Sized;
    /// A field named `error_chain` holding a whole chain (what `log_error` records): its
    /// key is the field's own, written like any field's.
    fn whole_chain(visitor: &mut FieldVisitor<'_, Self>, field: &Field, messages: &[String])
    where
        Self: Sized;
    /// A backtrace, one frame per line of `frames` (an array in JSON, a few indented lines
    /// on the console).
    fn frames(visitor: &mut FieldVisitor<'_, Self>, frames: &str)
    where
        Self: Sized;
    fn bool(buf: &mut String, v: bool) {
        buf.push_str(if v { "true" } else { "false" });
    }
}

/// One JSON object member per field: `,"key":value` with JSON types kept.
pub(crate) struct Json;

impl Encode for Json {
    const REMEMBERS: bool = true;
    fn key_for(name: &'static str, is_event: bool) -> &'static str {
        json_key(name, is_event)
    }
    fn key(buf: &mut String, key: &str) {
        buf.push_str(",\"");
        json_escape_into(buf, key);
        buf.push_str("\":");
    }
    fn str(buf: &mut String, v: &str) {
        json_str(buf, v);
    }
    fn debug(buf: &mut String, v: &dyn fmt::Debug) {
        buf.push('"');
        let _ = write!(JsonEscaper(buf), "{v:?}");
        buf.push('"');
    }
    fn debug_text(buf: &mut String, v: &str) {
        json_str(buf, v);
    }
    /// Formatted straight into the line, escaped, as without redaction; the redactor then
    /// looks at the escaped text (escaping only adds characters, so a clean verdict holds
    /// for the text itself). Only a text that is not plainly clean pays for a copy, and
    /// only one with escapes is formatted again (callgrind: ~110 fewer instructions for a
    /// clean message).
    fn debug_redacted(
        buf: &mut String,
        v: &dyn fmt::Debug,
        redactor: &Redactor,
        field: Option<usize>,
    ) {
        let start = buf.len();
        buf.push('"');
        let _ = write!(JsonEscaper(buf), "{v:?}");
        let body = &buf[start + 1..];
        if redactor.quick_clean(body) {
            if let Some(i) = field.filter(|_| !body.contains('\\')) {
                verdict::remember(i, body, redactor);
            }
            buf.push('"');
            return;
        }
        if !body.contains('\\') {
            // Nothing was escaped: the escaped text is the text.
            return with_scratch(|s| {
                s.push_str(&buf[start + 1..]);
                buf.truncate(start);
                json_str(buf, &redactor.redact_text(s));
            });
        }
        buf.truncate(start);
        with_scratch(|s| {
            let _ = write!(s, "{v:?}");
            json_str(buf, &redactor.redact_text(s));
        });
    }
    fn chain(visitor: &mut FieldVisitor<'_, Self>, key: &'static str, messages: &[String]) {
        if !visitor.keys.insert(key) {
            return;
        }
        Json::key(visitor.buf, key);
        json_array(visitor.buf, messages);
    }
    fn whole_chain(visitor: &mut FieldVisitor<'_, Self>, field: &Field, messages: &[String]) {
        // Its messages are already redacted (or replaced, under a sensitive name).
        if !matches!(visitor.start(field), Write::Skip) {
            json_array(visitor.buf, messages);
        }
    }
    fn frames(visitor: &mut FieldVisitor<'_, Self>, frames: &str) {
        // The aggregators' error keys (ECS `error.stack_trace`, OTel
        // `exception.stacktrace`, Error Reporting's `stack_trace`) hold one string.
        if visitor.schema != crate::schema::JsonSchema::Prodlog {
            let text = match visitor.redactor {
                Some(r) => r.redact_text(frames),
                None => std::borrow::Cow::Borrowed(frames),
            };
            json_str(visitor.buf, text.trim_end());
            return;
        }
        visitor.buf.push('[');
        for (i, frame) in backtrace_frames(frames).enumerate() {
            if i > 0 {
                visitor.buf.push(',');
            }
            match visitor.redactor {
                Some(r) => json_str(visitor.buf, &r.redact_text(frame)),
                None => json_str(visitor.buf, frame),
            }
        }
        visitor.buf.push(']');
    }
    fn bytes(buf: &mut String, v: &[u8]) {
        json_bytes(buf, v);
    }
    fn f64(buf: &mut String, v: f64) {
        if v.is_finite() {
            buf.push_str(zmij::Buffer::new().format_finite(v));
        } else {
            // JSON has no NaN/Infinity: keep the information as a string.
            buf.push_str(if v.is_nan() {
                "\"NaN\""
            } else if v > 0.0 {
                "\"inf\""
            } else {
                "\"-inf\""
            });
        }
    }
}

/// ` key=value` for people; strings quoted only when they would not read as one token.
pub(crate) struct Console;

impl Encode for Console {
    const REMEMBERS: bool = false;
    fn key_for(name: &'static str, _is_event: bool) -> &'static str {
        name
    }
    fn key(buf: &mut String, key: &str) {
        buf.push(' ');
        console_escape_into(buf, key, false);
        buf.push('=');
    }
    fn str(buf: &mut String, v: &str) {
        if console_needs_quotes(v) {
            buf.push('"');
            console_escape_into(buf, v, true);
            buf.push('"');
        } else {
            buf.push_str(v);
        }
    }
    fn debug(buf: &mut String, v: &dyn fmt::Debug) {
        let _ = write!(ConsoleEscaper(buf), "{v:?}");
    }
    fn debug_text(buf: &mut String, v: &str) {
        console_escape_into(buf, v, false);
    }
    fn whole_chain(visitor: &mut FieldVisitor<'_, Self>, _field: &Field, messages: &[String]) {
        // The console shows the chain as causes, without a key of its own.
        Self::chain(visitor, "", messages);
    }
    fn chain(visitor: &mut FieldVisitor<'_, Self>, _key: &'static str, messages: &[String]) {
        // The causes go on lines of their own after the event's line (indented, so a reader
        // tells them from events); without a place for them, they stay on the line.
        for m in messages {
            match visitor.tail.as_deref_mut() {
                Some(tail) => {
                    tail.push_str("\n    caused by: ");
                    console_escape_into(tail, m, false);
                }
                None => {
                    visitor.buf.push_str(" caused_by=");
                    Console::str(visitor.buf, m);
                }
            }
        }
    }
    fn frames(visitor: &mut FieldVisitor<'_, Self>, frames: &str) {
        // A few frames under the line, where the application's own code usually is; the
        // JSON file has them all.
        let total = backtrace_frames(frames).count();
        visitor.buf.push('"');
        visitor.buf.push_str(itoa::Buffer::new().format(total));
        visitor.buf.push_str(" frames\"");
        let Some(tail) = visitor.tail.as_deref_mut() else {
            return;
        };
        for frame in backtrace_frames(frames).take(CONSOLE_FRAMES) {
            tail.push_str("\n    at ");
            match visitor.redactor {
                Some(r) => console_escape_into(tail, &r.redact_text(frame), false),
                None => console_escape_into(tail, frame, false),
            }
        }
        if total > CONSOLE_FRAMES {
            tail.push_str("\n    … ");
            tail.push_str(itoa::Buffer::new().format(total - CONSOLE_FRAMES));
            tail.push_str(" more frames in the JSON log");
        }
    }
    fn bytes(buf: &mut String, v: &[u8]) {
        buf.push('"');
        for chunk in v.utf8_chunks() {
            console_escape_into(buf, chunk.valid(), true);
            if !chunk.invalid().is_empty() {
                buf.push('\u{FFFD}');
            }
        }
        buf.push('"');
    }
    /// Shortest round-trip digits, as in the JSON line (`zmij`: a tenth of `Display`'s cost,
    /// and `1e300` rather than 301 digits); `NaN`, `inf` and `-inf` as `Display` has them.
    fn f64(buf: &mut String, v: f64) {
        if v.is_finite() {
            buf.push_str(zmij::Buffer::new().format_finite(v));
        } else {
            let _ = write!(buf, "{v}");
        }
    }
}

/// Frames of a backtrace shown under a console line.
const CONSOLE_FRAMES: usize = 5;

/// The frames of a `backtrace` field's text: its non-blank lines, trimmed.
fn backtrace_frames(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// `["a","b"]`.
fn json_array(buf: &mut String, items: &[String]) {
    buf.push('[');
    for (i, m) in items.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        json_str(buf, m);
    }
    buf.push(']');
}
