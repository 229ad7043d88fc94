//! A span's fields, rendered once for both outputs.

use std::ops::Range;

use prodlog_redact::Redactor;
use tracing_core::field::Visit;
use tracing_core::span::{Attributes, Record};

use crate::encode::{Console, Encode, Json};
use crate::keys::KeySet;
use crate::visitor::FieldVisitor;

/// A value added to a span's context after its creation (see [`SpanFields::insert`]).
///
/// Made from strings (borrowed or owned), integers, floats and booleans, and from any
/// `Display` or `Debug` value through tracing's wrappers:
/// `tracing::field::display(&uuid)`, `tracing::field::debug(&status)`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ContextValue<'a> {
    /// A string (redacted like any value).
    Str(&'a str),
    /// An owned string, or the text of a `Display`/`Debug` value (redacted like any value).
    Owned(String),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

impl<'a> From<&'a str> for ContextValue<'a> {
    fn from(v: &'a str) -> Self {
        ContextValue::Str(v)
    }
}

impl<'a> From<&'a String> for ContextValue<'a> {
    fn from(v: &'a String) -> Self {
        ContextValue::Str(v)
    }
}

impl From<String> for ContextValue<'_> {
    fn from(v: String) -> Self {
        ContextValue::Owned(v)
    }
}

impl<T: std::fmt::Display> From<tracing_core::field::DisplayValue<T>> for ContextValue<'_> {
    fn from(v: tracing_core::field::DisplayValue<T>) -> Self {
        // DisplayValue's Debug is its Display.
        ContextValue::Owned(format!("{v:?}"))
    }
}

impl<T: std::fmt::Debug> From<tracing_core::field::DebugValue<T>> for ContextValue<'_> {
    fn from(v: tracing_core::field::DebugValue<T>) -> Self {
        ContextValue::Owned(format!("{v:?}"))
    }
}

macro_rules! context_from {
    ($($t:ty => $variant:ident as $as:ty),*) => {$(
        impl From<$t> for ContextValue<'_> {
            fn from(v: $t) -> Self {
                ContextValue::$variant(<$as>::from(v))
            }
        }
    )*};
}

context_from!(
    i64 => I64 as i64, i32 => I64 as i64, i16 => I64 as i64, i8 => I64 as i64,
    u64 => U64 as u64, u32 => U64 as u64, u16 => U64 as u64, u8 => U64 as u64,
    f64 => F64 as f64, f32 => F64 as f64, bool => Bool as bool
);

impl From<usize> for ContextValue<'_> {
    fn from(v: usize) -> Self {
        ContextValue::U64(v as u64)
    }
}

impl From<isize> for ContextValue<'_> {
    fn from(v: isize) -> Self {
        ContextValue::I64(v as i64)
    }
}

/// The fields of one span, pre-rendered as JSON members (`"key":value`) and console pairs
/// (`key=value`), kept in the span's extensions.
///
/// Built when the span is created and updated when a field is recorded later
/// (`Span::record`), so an event copies each field with one `push_str` and never re-parses
/// or re-formats it. `prodlog_context::ContextLayer` maintains it; the formatters of this
/// crate read it.
#[derive(Debug, Default, Clone)]
pub struct SpanFields {
    /// `,"key":value` for every field, in order (each entry's range skips its comma), so
    /// the whole span is one `push_str` when none of its keys is on the line yet.
    json: String,
    console: String,
    entries: Vec<Entry>,
    /// The key set's hash bits of every key.
    mask: u64,
    /// A bit per schema (`JsonSchema as u8`) whose key names are the stored ones for every
    /// field: under it the span is written as stored.
    same_keys: u8,
    /// Raised when the fields change, for the chains rendered from them (`crate::chain`).
    version: crate::chain::Version,
}

#[derive(Debug, Clone)]
struct Entry {
    /// The key as written in JSON (reserved names are prefixed).
    json_key: &'static str,
    /// The field's own name, as written on the console.
    name: &'static str,
    /// Where the value starts in the JSON fragment (after `"key":`).
    value_at: usize,
    json: Range<usize>,
    console: Range<usize>,
}

impl SpanFields {
    /// Renders the fields a span was created with, each value passing `redactor` (when
    /// given) on its way in.
    pub fn new(attrs: &Attributes<'_>, redactor: Option<&Redactor>) -> Self {
        let mut fields = SpanFields::default();
        fields.render(|v| attrs.record(v), redactor);
        fields
    }

    /// Applies fields recorded after creation: a new value replaces the old one in place
    /// of it, so later events see only the newest value.
    pub fn record(&mut self, values: &Record<'_>, redactor: Option<&Redactor>) {
        let mut fresh = SpanFields::default();
        fresh.render(|v| values.record(v), redactor);
        if fresh.entries.is_empty() {
            return;
        }
        self.version.bump();
        if self
            .entries
            .iter()
            .all(|e| !fresh.entries.iter().any(|f| f.name == e.name))
        {
            // Only new names: append (the common case for late-recorded ids).
            self.append(&fresh);
            return;
        }
        let mut merged = SpanFields::default();
        for e in &self.entries {
            if !fresh.entries.iter().any(|f| f.name == e.name) {
                merged.push(e, &self.json, &self.console);
            }
        }
        merged.append(&fresh);
        *self = merged;
    }

    /// Adds (or replaces) a field that was not declared on the span — request context added
    /// from deep inside a call stack (`prodlog_context::add`).
    pub fn insert(
        &mut self,
        name: &'static str,
        value: ContextValue<'_>,
        redactor: Option<&Redactor>,
    ) {
        use crate::encode::Encode;
        self.version.bump();
        let mut fresh = SpanFields::default();
        let secret = redactor.is_some_and(|r| r.is_sensitive_name(name));
        let json_key = Json::key_for(name, false);
        let text = |v: &str| -> String {
            match redactor {
                Some(r) if secret => r.replacement_for(v).into_owned(),
                Some(r) => r.redact_text(v).into_owned(),
                None => v.to_owned(),
            }
        };
        Json::key(&mut fresh.json, json_key);
        Console::key(&mut fresh.console, name);
        match value {
            ContextValue::Str(v) => {
                let v = text(v);
                Json::str(&mut fresh.json, &v);
                Console::str(&mut fresh.console, &v);
            }
            ContextValue::Owned(v) => {
                let v = text(&v);
                Json::str(&mut fresh.json, &v);
                Console::str(&mut fresh.console, &v);
            }
            _ if secret => {
                let v = text("");
                Json::str(&mut fresh.json, &v);
                Console::str(&mut fresh.console, &v);
            }
            ContextValue::I64(v) => {
                Json::i64(&mut fresh.json, v);
                Console::i64(&mut fresh.console, v);
            }
            ContextValue::U64(v) => {
                Json::u64(&mut fresh.json, v);
                Console::u64(&mut fresh.console, v);
            }
            ContextValue::F64(v) => {
                Json::f64(&mut fresh.json, v);
                Console::f64(&mut fresh.console, v);
            }
            ContextValue::Bool(v) => {
                Json::bool(&mut fresh.json, v);
                Console::bool(&mut fresh.console, v);
            }
        }
        fresh.entries.push(Entry {
            json_key,
            name,
            value_at: value_at(json_key),
            json: 1..fresh.json.len(),
            console: 1..fresh.console.len(),
        });
        let mut merged = SpanFields::default();
        for e in &self.entries {
            if e.name != name {
                merged.push(e, &self.json, &self.console);
            }
        }
        merged.append(&fresh);
        *self = merged;
    }

    /// The flag raised when these fields change.
    pub(crate) fn version_flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.version.flag()
    }

    /// True when the span has no fields to show.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn append(&mut self, other: &SpanFields) {
        for e in &other.entries {
            self.push(e, &other.json, &other.console);
        }
    }

    fn push(&mut self, e: &Entry, json: &str, console: &str) {
        self.json.push(',');
        let j = self.json.len();
        self.json.push_str(&json[e.json.clone()]);
        self.mask |= crate::keys::hash_bit(e.json_key);
        self.same_keys = if self.entries.is_empty() {
            same_key_bits(e)
        } else {
            self.same_keys & same_key_bits(e)
        };
        let c = self.console.len();
        self.console.push_str(&console[e.console.clone()]);
        self.entries.push(Entry {
            json_key: e.json_key,
            name: e.name,
            value_at: e.value_at,
            json: j..self.json.len(),
            console: c..self.console.len(),
        });
    }

    fn render(&mut self, record: impl Fn(&mut dyn Visit), redactor: Option<&Redactor>) {
        // Each encoder writes a leading separator; the stored ranges start after it.
        let mut recorder = Recorder {
            redactor,
            json: String::new(),
            console: String::new(),
            entries: Vec::new(),
        };
        record(&mut recorder);
        self.json = recorder.json;
        self.console = recorder.console;
        self.entries = recorder.entries;
        self.mask = self
            .entries
            .iter()
            .fold(0, |m, e| m | crate::keys::hash_bit(e.json_key));
        self.same_keys = self
            .entries
            .iter()
            .fold(SAME_ALL, |bits, e| bits & same_key_bits(e));
    }

    /// Appends `,"key":value` for every field whose key is not in `keys` yet.
    pub(crate) fn write_json(&self, buf: &mut String, keys: &mut KeySet) {
        // No key of this span can be on the line yet, and its own keys have distinct bits
        // (so no key twice): all of it at once.
        if !keys.may_hold_any(self.mask) && self.mask.count_ones() as usize == self.entries.len() {
            buf.push_str(&self.json);
            keys.add_new(self.mask, self.entries.iter().map(|e| e.json_key));
            return;
        }
        for e in &self.entries {
            if keys.insert(e.json_key) {
                buf.push(',');
                buf.push_str(&self.json[e.json.clone()]);
            }
        }
    }

    /// [`write_json`](Self::write_json) with `schema`'s key names.
    pub(crate) fn write_json_schema(
        &self,
        buf: &mut String,
        keys: &mut KeySet,
        schema: crate::schema::JsonSchema,
    ) {
        if schema == crate::schema::JsonSchema::Prodlog || self.same_keys & (1 << schema as u8) != 0
        {
            return self.write_json(buf, keys);
        }
        for e in &self.entries {
            let key = schema.field_key(e.name, false);
            if !keys.insert(key) {
                continue;
            }
            let fragment = &self.json[e.json.clone()];
            if key == e.json_key {
                buf.push(',');
                buf.push_str(fragment);
            } else {
                buf.push_str(",\"");
                crate::escape::json_escape_into(buf, key);
                buf.push_str("\":");
                buf.push_str(fragment.get(e.value_at..).unwrap_or("null"));
            }
        }
    }

    /// Appends ` key=value` for every field whose name is not in `keys` yet.
    pub(crate) fn write_console(&self, buf: &mut String, keys: &mut KeySet) {
        for e in &self.entries {
            if keys.insert(e.name) {
                buf.push(' ');
                buf.push_str(&self.console[e.console.clone()]);
            }
        }
    }
}

/// Every schema's bit.
const SAME_ALL: u8 = 0b1111;

/// The schemas under which `e` keeps its stored key.
fn same_key_bits(e: &Entry) -> u8 {
    use crate::schema::JsonSchema;
    [
        JsonSchema::Prodlog,
        JsonSchema::Ecs,
        JsonSchema::Gcp,
        JsonSchema::Otel,
    ]
    .into_iter()
    .filter(|s| s.field_key(e.name, false) == e.json_key)
    .fold(0, |bits, s| bits | 1 << s as u8)
}

/// The length of `"key":` for `key` in a stored JSON fragment.
fn value_at(json_key: &str) -> usize {
    let mut escaped = String::new();
    crate::escape::json_escape_into(&mut escaped, json_key);
    escaped.len() + 3
}

/// Renders each field twice, once per output, remembering where each one lies.
struct Recorder<'r> {
    redactor: Option<&'r Redactor>,
    json: String,
    console: String,
    entries: Vec<Entry>,
}

macro_rules! record_both {
    ($self:ident, $field:ident, $method:ident, $value:expr) => {{
        let name = $field.name();
        // A span records each field once per call; dedupe only within this call.
        let (j, c) = ($self.json.len(), $self.console.len());
        let mut keys = KeySet::new();
        let mut jv = FieldVisitor::<Json>::new(&mut $self.json, &mut keys, false)
            .with_redactor($self.redactor);
        jv.$method($field, $value);
        let mut keys = KeySet::new();
        let mut cv = FieldVisitor::<Console>::new(&mut $self.console, &mut keys, false)
            .with_redactor($self.redactor);
        cv.$method($field, $value);
        $self.entries.push(Entry {
            json_key: Json::key_for(name, false),
            name,
            value_at: value_at(Json::key_for(name, false)),
            json: j + 1..$self.json.len(),
            console: c + 1..$self.console.len(),
        });
    }};
}

impl Visit for Recorder<'_> {
    fn record_f64(&mut self, field: &tracing_core::Field, value: f64) {
        record_both!(self, field, record_f64, value)
    }
    fn record_i64(&mut self, field: &tracing_core::Field, value: i64) {
        record_both!(self, field, record_i64, value)
    }
    fn record_u64(&mut self, field: &tracing_core::Field, value: u64) {
        record_both!(self, field, record_u64, value)
    }
    fn record_i128(&mut self, field: &tracing_core::Field, value: i128) {
        record_both!(self, field, record_i128, value)
    }
    fn record_u128(&mut self, field: &tracing_core::Field, value: u128) {
        record_both!(self, field, record_u128, value)
    }
    fn record_bool(&mut self, field: &tracing_core::Field, value: bool) {
        record_both!(self, field, record_bool, value)
    }
    fn record_str(&mut self, field: &tracing_core::Field, value: &str) {
        record_both!(self, field, record_str, value)
    }
    fn record_bytes(&mut self, field: &tracing_core::Field, value: &[u8]) {
        record_both!(self, field, record_bytes, value)
    }
    fn record_debug(&mut self, field: &tracing_core::Field, value: &dyn std::fmt::Debug) {
        record_both!(self, field, record_debug, value)
    }
}
