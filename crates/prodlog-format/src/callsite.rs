//! What depends only on an event's callsite, worked out once and cached per thread: its
//! keys and their encoded form, its head, which of its fields are sensitive, its level.

use std::fmt;

use prodlog_redact::Redactor;
use tracing_core::field::{Field, Visit};

use crate::keys::hash_bit;

/// What depends only on an event's callsite and the JSON schema, worked out once: the key
/// of each field and its encoded form `,"key":`, whether the keys are distinct, and the
/// set's hash mask. One per callsite and schema for the life of the program (a program has
/// finitely many callsites), found through a per-thread cache by the callsite's address.
/// Callgrind on the bench event: the keys' escaping and insertion were ~1,000 of its
/// ~5,250 instructions.
pub(crate) struct Plan {
    /// The key of each field, by field index.
    pub(crate) keys: Box<[&'static str]>,
    /// Each field's key and its `,"key":`, escaped, by field index.
    pub(crate) fields: Box<[(&'static str, &'static str)]>,
    /// No key twice: the fields need no insertion into the key set.
    pub(crate) distinct: bool,
    pub(crate) mask: u64,
    /// prodlog's schema: `","level":"INFO","target":"app"` after the timestamp, escaped
    /// once (`None` where the level is decided per event: an ERROR callsite with a
    /// `severity` field may be `CRITICAL`).
    pub(crate) head: Option<&'static str>,
    /// An error report (`log_err`, a panic: the callsite has an `error_type` field): the
    /// aggregator schemas add their error-view members.
    pub(crate) error_report: bool,
}

/// The plan of `meta`'s fields under `schema`.
pub(crate) fn plan(
    meta: &'static tracing_core::Metadata<'static>,
    schema: crate::schema::JsonSchema,
) -> &'static Plan {
    use std::cell::Cell;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, PoisonError};
    const SLOTS: usize = 128;
    type Slot = Cell<(usize, u8, Option<&'static Plan>)>;
    thread_local! {
        static CACHE: [Slot; SLOTS] = const { [const { Cell::new((0, 0, None)) }; SLOTS] };
    }
    let addr = std::ptr::from_ref(meta) as usize;
    let tag = schema as u8;
    let slot = ((addr as u64 ^ u64::from(tag)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 57) as usize;
    let build = || -> &'static Plan {
        static ALL: OnceLock<Mutex<HashMap<(usize, u8), &'static Plan>>> = OnceLock::new();
        let mut all = ALL
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        all.entry((addr, tag)).or_insert_with(|| {
            let keys: Box<[&'static str]> = meta
                .fields()
                .iter()
                .map(|f| schema.field_key(f.name(), true))
                .collect();
            let fields = keys
                .iter()
                .map(|k| {
                    let mut e = String::from(",\"");
                    crate::escape::json_escape_into(&mut e, k);
                    e.push_str("\":");
                    (*k, &*Box::leak(e.into_boxed_str()))
                })
                .collect();
            let mut mask = 0;
            let mut distinct = true;
            for (i, k) in keys.iter().enumerate() {
                mask |= hash_bit(k);
                distinct &= !keys[..i].contains(k);
            }
            use crate::schema::JsonSchema;
            let level = *meta.level();
            let fixed_level =
                !(level == tracing_core::Level::ERROR && meta.fields().field("severity").is_some());
            let head = match schema {
                JsonSchema::Prodlog if fixed_level => {
                    let mut h = String::from("\",\"level\":\"");
                    h.push_str(level.as_str());
                    h.push_str("\",\"target\":\"");
                    crate::escape::json_escape_into(&mut h, meta.target());
                    h.push('"');
                    Some(&*Box::leak(h.into_boxed_str()))
                }
                JsonSchema::Ecs | JsonSchema::Gcp if fixed_level => {
                    let mut h = String::new();
                    crate::schema::schema_rest(&mut h, meta, meta.target(), level.as_str(), schema);
                    Some(&*Box::leak(h.into_boxed_str()))
                }
                _ => None,
            };
            Box::leak(Box::new(Plan {
                keys,
                fields,
                distinct,
                mask,
                head,
                error_report: meta.fields().field("error_type").is_some(),
            }))
        })
    };
    CACHE
        .try_with(|cache| {
            let (a, t, p) = cache[slot].get();
            if let (true, Some(p)) = (a == addr && t == tag, p) {
                return p;
            }
            let p = build();
            cache[slot].set((addr, tag, Some(p)));
            p
        })
        .unwrap_or_else(|_| build())
}

/// Which fields of a callsite have a sensitive name, as a bit set (bit `i` for the field at
/// index `i`, the first 64): decided once per callsite and redactor, then answered from a
/// small per-thread cache keyed by the callsite's field set — one lookup per event
/// instead of one per field (callgrind: ~150 fewer instructions for a 5-field event).
pub(crate) fn sensitive_fields(
    redactor: &Redactor,
    fields: &'static tracing_core::field::FieldSet,
) -> u64 {
    use std::cell::Cell;
    const SLOTS: usize = 64;
    thread_local! {
        static CACHE: [Cell<(usize, u64, u64)>; SLOTS] =
            const { [const { Cell::new((0, 0, 0)) }; SLOTS] };
    }
    let addr = std::ptr::from_ref(fields) as usize;
    let id = redactor.id();
    // Keyed by the redactor too: a console and a file with different redactors on the
    // same callsite take two slots rather than evicting each other on every event.
    let slot = (((addr as u64) ^ id.wrapping_mul(0xD6E8_FEB8_6659_FD93))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        >> 58) as usize;
    let compute = || {
        fields
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, f)| redactor.is_sensitive_name(f.name()))
            .fold(0u64, |m, (i, _)| m | 1 << i)
    };
    CACHE
        .try_with(|cache| {
            let (a, i, mask) = cache[slot].get();
            if a == addr && i == id {
                return mask;
            }
            let mask = compute();
            cache[slot].set((addr, id, mask));
            mask
        })
        .unwrap_or_else(|_| compute())
}

/// The level a line shows: `CRITICAL` for an ERROR event carrying `severity = "CRITICAL"`
/// (`prodlog::critical!`), otherwise the event's level. Only an ERROR callsite that has a
/// `severity` field pays for a look at the value.
pub(crate) fn level_label(
    event: &tracing_core::Event<'_>,
    meta: &tracing_core::Metadata<'_>,
) -> &'static str {
    struct Critical(bool);
    impl Visit for Critical {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "severity" {
                self.0 = value.eq_ignore_ascii_case("critical");
            }
        }
        fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
    }
    let level = meta.level();
    if *level == tracing_core::Level::ERROR && meta.fields().field("severity").is_some() {
        let mut c = Critical(false);
        event.record(&mut c);
        if c.0 {
            return "CRITICAL";
        }
    }
    level.as_str()
}

/// The target as written. A `log` record's target is whatever text its caller chose
/// (`log::info!(target: &url, …)`), so it passes the redactor like a value; a `tracing`
/// callsite's is a constant of the program (a module path) and is written as it is.
pub(crate) fn shown_target<'t>(
    target: &'t str,
    from_log: bool,
    redactor: Option<&prodlog_redact::Redactor>,
) -> std::borrow::Cow<'t, str> {
    match redactor {
        Some(r) if from_log => r.redact_text(target),
        _ => std::borrow::Cow::Borrowed(target),
    }
}
