//! Field encoders: how one `key` and one value are written, as JSON or as console text, and
//! the `Visit` implementation that drives them for events and spans alike.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use tracing_core::field::{Field, Visit};

use prodlog_redact::{Redactor, Replacement};

use crate::buf::with_scratch;
use crate::escape::{
    console_escape_into, console_needs_quotes, json_bytes, json_escape_into, json_str,
    ConsoleEscaper, JsonEscaper,
};
use crate::keys::{json_key, KeySet};
use crate::verdict;

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

/// Integers this large may be card numbers: they go through the redactor as text.
const REDACT_INTEGERS_FROM: u128 = 1_000_000_000_000;

/// Drives an [`Encode`] over the fields of an event or a span, writing each new key once,
/// with every value passing the redactor (when there is one) on its way in.
pub(crate) struct FieldVisitor<'a, E> {
    pub(crate) buf: &'a mut String,
    pub(crate) keys: &'a mut KeySet,
    pub(crate) is_event: bool,
    /// Console lines print the message before the fields, in a pass of their own.
    pub(crate) skip_message: bool,
    /// The OpenTelemetry schema writes the message (its `Body`) in a pass of its own.
    pub(crate) only_message: bool,
    /// The key names (JSON only).
    pub(crate) schema: crate::schema::JsonSchema,
    /// A `log` record bridged by `tracing-log`: its `log.target`, `log.module_path`,
    /// `log.file` and `log.line` fields are already in the normalized metadata.
    pub(crate) skip_log_fields: bool,
    pub(crate) redactor: Option<&'a Redactor>,
    /// Which of the callsite's first 64 fields have a sensitive name (see
    /// [`sensitive_fields`]); `None`: ask the redactor per name.
    pub(crate) sensitive: Option<u64>,
    /// The callsite's keys, worked out once (JSON events only; see [`crate::callsite::Plan`]).
    pub(crate) plan: Option<&'static crate::callsite::Plan>,
    /// Where the console puts lines that follow the event's line (an error's causes).
    pub(crate) tail: Option<&'a mut String>,
    pub(crate) _enc: std::marker::PhantomData<E>,
}

/// What to do with a field's value.
enum Write {
    Skip,
    /// Write it, redacting secrets inside.
    Value,
    /// The name is sensitive: write the replacement only.
    Secret,
}

impl<'a, E: Encode> FieldVisitor<'a, E> {
    pub(crate) fn new(buf: &'a mut String, keys: &'a mut KeySet, is_event: bool) -> Self {
        FieldVisitor {
            buf,
            keys,
            is_event,
            skip_message: false,
            only_message: false,
            schema: crate::schema::JsonSchema::Prodlog,
            skip_log_fields: false,
            redactor: None,
            sensitive: None,
            plan: None,
            tail: None,
            _enc: std::marker::PhantomData,
        }
    }

    pub(crate) fn with_redactor(mut self, redactor: Option<&'a Redactor>) -> Self {
        self.redactor = redactor;
        self
    }

    /// Writes the key when it is new and says how to write the value.
    #[inline]
    fn start(&mut self, field: &Field) -> Write {
        if (self.skip_message | self.only_message | self.skip_log_fields)
            && self.skipped(field.name())
        {
            return Write::Skip;
        }
        let i = field.index();
        match self.plan.and_then(|p| Some((p, *p.fields.get(i)?))) {
            Some((plan, (key, encoded))) => {
                // The keys are in the set already; a callsite with a key twice writes it once.
                if !plan.distinct && plan.fields[..i].iter().any(|f| f.0 == key) {
                    return Write::Skip;
                }
                self.buf.push_str(encoded);
            }
            None => {
                let name = field.name();
                let key = if self.schema == crate::schema::JsonSchema::Prodlog {
                    E::key_for(name, self.is_event)
                } else {
                    self.schema.field_key(name, self.is_event)
                };
                if !self.keys.insert(key) {
                    return Write::Skip;
                }
                E::key(self.buf, key);
            }
        }
        let Some(r) = self.redactor else {
            return Write::Value;
        };
        let sensitive = match self.sensitive {
            Some(mask) if i < 64 => mask >> i & 1 != 0,
            _ => r.is_sensitive_name_static(field.name()),
        };
        if sensitive {
            Write::Secret
        } else {
            Write::Value
        }
    }

    #[cold]
    fn skipped(&self, name: &str) -> bool {
        (self.skip_message && name == "message")
            || (self.only_message && name != "message")
            || (self.skip_log_fields && name.starts_with("log."))
    }

    /// The replacement for a value under a sensitive name; the value is formatted only when
    /// the replacement depends on it (a keyed hash).
    fn secret(&mut self, value: &dyn fmt::Display) {
        let Some(r) = self.redactor else { return };
        if r.replacement() == Replacement::Redacted {
            E::str(self.buf, &r.replacement_for(""));
            return;
        }
        with_scratch(|s| {
            let _ = write!(s, "{value}");
            E::str(self.buf, &r.replacement_for(s));
        });
    }

    fn integer<T: fmt::Display + Copy>(
        &mut self,
        field: &Field,
        value: T,
        magnitude: u128,
        write: fn(&mut String, T),
    ) {
        match (self.start(field), self.redactor) {
            (Write::Skip, _) => {}
            (Write::Secret, _) => self.secret(&value),
            (Write::Value, Some(r)) if magnitude >= REDACT_INTEGERS_FROM => with_scratch(|s| {
                let _ = write!(s, "{value}");
                match r.redact_text(s) {
                    Cow::Borrowed(_) => write(self.buf, value),
                    Cow::Owned(red) => E::str(self.buf, &red),
                }
            }),
            (Write::Value, _) => write(self.buf, value),
        }
    }

    fn text(&mut self, field: &Field, value: &str) {
        match self.start(field) {
            Write::Skip => {}
            Write::Secret => self.secret(&value),
            Write::Value => match self.redactor {
                Some(r) if self.is_event && !E::REMEMBERS => {
                    if verdict::known_clean(field.index(), value, r) {
                        E::str(self.buf, value);
                    } else {
                        E::str(self.buf, &r.redact_text(value));
                    }
                }
                Some(r) => match r.redact_text(value) {
                    Cow::Borrowed(clean) => {
                        if self.is_event {
                            verdict::remember(field.index(), clean, r);
                        }
                        E::str(self.buf, clean);
                    }
                    Cow::Owned(redacted) => E::str(self.buf, &redacted),
                },
                None => E::str(self.buf, value),
            },
        }
    }
}

impl<E: Encode> FieldVisitor<'_, E> {
    /// An error and its source chain, each redacted: `name` holds the error's message and
    /// `<name>_chain` its causes (none: no chain). A field named `error_chain` holds the
    /// whole chain of the error given (what `log_error` uses, its message being the event's).
    fn error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let name = field.name();
        let whole_chain = name == "error_chain";
        let secret = if whole_chain {
            false // its key is written with the chain, by `Encode::whole_chain`
        } else {
            match self.start(field) {
                Write::Skip => return,
                Write::Secret => true,
                Write::Value => false,
            }
        };
        let mut messages = Vec::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(value);
        // A cycle in a hand-written `source()` must not hang the logger.
        while let Some(e) = next.filter(|_| messages.len() < 64) {
            let text = e.to_string();
            let text = match (secret, self.redactor) {
                (true, Some(r)) => r.replacement_for(&text).into_owned(),
                (false, Some(r)) => r.redact_text(&text).into_owned(),
                (_, None) => text,
            };
            messages.push(text);
            next = e.source();
        }
        if whole_chain {
            E::whole_chain(self, field, &messages);
            return;
        }
        E::str(self.buf, messages.first().map_or("", String::as_str));
        if messages.len() > 1 {
            E::chain(self, crate::keys::chain_key(name), &messages[1..]);
        }
    }

    /// A `backtrace` field: frames, one per line of its text.
    fn backtrace(&mut self, field: &Field, text: &str) {
        match self.start(field) {
            Write::Skip => {}
            Write::Secret => self.secret(&text),
            Write::Value => E::frames(self, text),
        }
    }
}

impl<E: Encode> Visit for FieldVisitor<'_, E> {
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.error(field, value);
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        match self.start(field) {
            Write::Skip => {}
            Write::Secret => self.secret(&value),
            Write::Value => E::f64(self.buf, value),
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.integer(field, value, u128::from(value.unsigned_abs()), E::i64);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.integer(field, value, u128::from(value), E::u64);
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.integer(field, value, value.unsigned_abs(), E::i128);
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.integer(field, value, value, E::u128);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        match self.start(field) {
            Write::Skip => {}
            Write::Secret => self.secret(&value),
            Write::Value => E::bool(self.buf, value),
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "backtrace" {
            return self.backtrace(field, value);
        }
        self.text(field, value);
    }
    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        if self.redactor.is_none() {
            if let Write::Value = self.start(field) {
                E::bytes(self.buf, value);
            }
            return;
        }
        with_scratch(|s| {
            for chunk in value.utf8_chunks() {
                s.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    s.push('\u{FFFD}');
                }
            }
            self.text(field, s);
        });
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "backtrace" {
            return with_scratch(|s| {
                let _ = write!(s, "{value:?}");
                self.backtrace(field, s);
            });
        }
        match (self.start(field), self.redactor) {
            (Write::Skip, _) => {}
            (Write::Secret, _) => self.secret(&DebugAsDisplay(value)),
            (Write::Value, None) => E::debug(self.buf, value),
            (Write::Value, Some(r)) => {
                let field = self.is_event.then(|| field.index());
                E::debug_redacted(self.buf, value, r, field);
            }
        }
    }
}

struct DebugAsDisplay<'a>(&'a dyn fmt::Debug);

impl fmt::Display for DebugAsDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
