//! The `Visit` implementation that drives an [`Encode`] over the fields of an event or a
//! span: each key written once, each value through the redactor.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use tracing_core::field::{Field, Visit};

use prodlog_redact::{Redactor, Replacement};

use crate::buf::with_scratch;
use crate::encode::Encode;
use crate::keys::KeySet;
use crate::verdict;

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
pub(crate) enum Write {
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
    pub(crate) fn start(&mut self, field: &Field) -> Write {
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
        match (self.start(field), self.redactor) {
            (Write::Skip, _) => {}
            (Write::Secret, _) => self.secret(&value),
            // A card number stored in a float (a JSON number parsed into `f64`): a whole
            // number of card size goes through the redactor as its digits.
            (Write::Value, Some(r))
                if value.fract() == 0.0
                    && (REDACT_INTEGERS_FROM as f64..1e20).contains(&value.abs()) =>
            {
                with_scratch(|s| {
                    let _ = write!(s, "{}", value as i128);
                    match r.redact_text(s) {
                        Cow::Borrowed(_) => E::f64(self.buf, value),
                        Cow::Owned(red) => E::str(self.buf, &red),
                    }
                })
            }
            (Write::Value, _) => E::f64(self.buf, value),
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
