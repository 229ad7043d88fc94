//! The set of keys already written on one line: event fields win over span fields, inner
//! spans over outer ones, and no JSON object ever carries a key twice.

/// Keys the JSON line writes itself. A field with one of these names is written under
/// `fields.<name>` so it can neither clash with nor overwrite them.
#[inline]
pub(crate) fn json_key(name: &'static str, is_event: bool) -> &'static str {
    if !matches!(name.as_bytes().first(), Some(b'm' | b't' | b'l' | b's')) {
        return name;
    }
    match name {
        "message" if is_event => "message",
        "message" => "fields.message",
        "timestamp" => "fields.timestamp",
        "level" => "fields.level",
        "target" => "fields.target",
        "span" => "fields.span",
        _ => name,
    }
}

/// `<name>_chain` for an error field, as a `&'static str` (interned once per distinct
/// field name: field names are themselves static, so the set is bounded by the program).
pub(crate) fn chain_key(name: &'static str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, PoisonError};
    if name == "error" {
        return "error_chain";
    }
    static KEYS: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let mut keys = KEYS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    keys.entry(name)
        .or_insert_with(|| Box::leak(format!("{name}_chain").into_boxed_str()))
}

const INLINE: usize = 32;

/// A small set of `&'static str` keys: inline for the common case, spilling to the heap only
/// for events with more than 32 distinct keys. A 64-bit mask of key hashes answers "new key"
/// without a scan for almost every insert.
pub(crate) struct KeySet {
    mask: u64,
    /// An event's own keys, known from its callsite's plan (never inserted one by one).
    fixed: &'static [&'static str],
    keys: smallvec::SmallVec<[&'static str; INLINE]>,
}

impl KeySet {
    pub(crate) fn new() -> Self {
        KeySet {
            mask: 0,
            fixed: &[],
            keys: smallvec::SmallVec::new(),
        }
    }

    /// A set holding a callsite's keys already (see [`Plan`]).
    pub(crate) fn with_plan(plan: &'static Plan) -> Self {
        KeySet {
            mask: plan.mask,
            fixed: &plan.keys,
            keys: smallvec::SmallVec::new(),
        }
    }

    /// Adds `key`; false when it was already there.
    #[inline]
    pub(crate) fn insert(&mut self, key: &'static str) -> bool {
        let bit = hash_bit(key);
        let maybe_seen = self.mask & bit != 0;
        self.mask |= bit;
        if maybe_seen && self.contains(key) {
            return false;
        }
        self.keys.push(key);
        true
    }

    /// False when no key with one of these hash bits is in the set (so none is).
    #[inline]
    pub(crate) fn may_hold_any(&self, mask: u64) -> bool {
        self.mask & mask != 0
    }

    /// Adds keys known to be absent (their bits were not in the set), with their bits.
    pub(crate) fn add_new(&mut self, mask: u64, keys: impl Iterator<Item = &'static str>) {
        self.mask |= mask;
        for k in keys {
            self.keys.push(k);
        }
    }

    fn contains(&self, key: &str) -> bool {
        let seen = |k: &&'static str| std::ptr::eq(*k, key) || *k == key;
        self.fixed.iter().any(seen) || self.keys.iter().any(seen)
    }
}

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
                    crate::json::schema_rest(&mut h, meta, level.as_str(), schema);
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

/// One of 64 bits chosen from a key's length and first and last bytes.
#[inline]
pub(crate) fn hash_bit(key: &str) -> u64 {
    let b = key.as_bytes();
    let (first, last) = (
        b.first().copied().unwrap_or(0),
        b.last().copied().unwrap_or(0),
    );
    let mid = b.get(b.len() / 2).copied().unwrap_or(0);
    let h = (b.len() as u64) ^ u64::from(first) << 8 ^ u64::from(mid) << 16 ^ u64::from(last) << 24;
    1u64 << (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedupes_past_inline_capacity() {
        let names: Vec<&'static str> = (0..40)
            .map(|i| &*Box::leak(format!("k{i}").into_boxed_str()))
            .collect();
        let mut set = KeySet::new();
        for n in &names {
            assert!(set.insert(n));
        }
        for n in &names {
            assert!(!set.insert(n));
        }
        assert!(!set.insert(json_key("level", false)) || set.insert("x"));
    }
}
