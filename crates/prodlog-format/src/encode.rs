//! Field encoders: how one `key` and one value are written, as JSON or as console text, and
//! the `Visit` implementation that drives them for events and spans alike.

use std::fmt::{self, Write};

use tracing_core::field::{Field, Visit};

use crate::escape::{
    console_escape_into, console_needs_quotes, json_bytes, json_escape_into, json_str,
    ConsoleEscaper, JsonEscaper,
};
use crate::keys::{json_key, KeySet};

/// One output syntax. Every method appends to `buf`.
pub(crate) trait Encode {
    /// The key a field named `name` is written under.
    fn key_for(name: &'static str, is_event: bool) -> &'static str;
    /// Writes the separator and the key.
    fn key(buf: &mut String, key: &str);
    fn str(buf: &mut String, v: &str);
    fn debug(buf: &mut String, v: &dyn fmt::Debug);
    fn bytes(buf: &mut String, v: &[u8]);
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
    fn bool(buf: &mut String, v: bool) {
        buf.push_str(if v { "true" } else { "false" });
    }
}

/// One JSON object member per field: `,"key":value` with JSON types kept.
pub(crate) struct Json;

impl Encode for Json {
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
    fn f64(buf: &mut String, v: f64) {
        let _ = write!(buf, "{v}");
    }
}

/// Drives an [`Encode`] over the fields of an event or a span, writing each new key once.
pub(crate) struct FieldVisitor<'a, E> {
    pub(crate) buf: &'a mut String,
    pub(crate) keys: &'a mut KeySet,
    pub(crate) is_event: bool,
    /// Console lines print the message before the fields, in a pass of their own.
    pub(crate) skip_message: bool,
    /// A `log` record bridged by `tracing-log`: its `log.target`, `log.module_path`,
    /// `log.file` and `log.line` fields are already in the normalized metadata.
    pub(crate) skip_log_fields: bool,
    pub(crate) _enc: std::marker::PhantomData<E>,
}

impl<'a, E: Encode> FieldVisitor<'a, E> {
    pub(crate) fn new(buf: &'a mut String, keys: &'a mut KeySet, is_event: bool) -> Self {
        FieldVisitor {
            buf,
            keys,
            is_event,
            skip_message: false,
            skip_log_fields: false,
            _enc: std::marker::PhantomData,
        }
    }

    /// Writes the key when it is new; false when the field must be skipped.
    #[inline]
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.skip_message && name == "message" {
            return false;
        }
        if self.skip_log_fields && name.starts_with("log.") {
            return false;
        }
        let key = E::key_for(name, self.is_event);
        if !self.keys.insert(key) {
            return false;
        }
        E::key(self.buf, key);
        true
    }
}

impl<E: Encode> Visit for FieldVisitor<'_, E> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.start(field) {
            E::f64(self.buf, value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.start(field) {
            E::i64(self.buf, value);
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field) {
            E::u64(self.buf, value);
        }
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        if self.start(field) {
            E::i128(self.buf, value);
        }
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        if self.start(field) {
            E::u128(self.buf, value);
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.start(field) {
            E::bool(self.buf, value);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.start(field) {
            E::str(self.buf, value);
        }
    }
    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        if self.start(field) {
            E::bytes(self.buf, value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field) {
            E::debug(self.buf, value);
        }
    }
}

/// Finds the message of an event and writes it console-escaped.
pub(crate) struct ConsoleMessage<'a>(pub(crate) &'a mut String);

impl Visit for ConsoleMessage<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            console_escape_into(self.0, value, false);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(ConsoleEscaper(self.0), "{value:?}");
        }
    }
}
