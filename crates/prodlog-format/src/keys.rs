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

    /// A set holding a callsite's keys already (see [`crate::callsite::Plan`]).
    pub(crate) fn with_plan(plan: &'static crate::callsite::Plan) -> Self {
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

    /// The hash bits and the keys inserted one by one (a set made with [`KeySet::new`]).
    pub(crate) fn into_parts(self) -> (u64, Vec<&'static str>) {
        (self.mask, self.keys.into_vec())
    }

    fn contains(&self, key: &str) -> bool {
        let seen = |k: &&'static str| std::ptr::eq(*k, key) || *k == key;
        self.fixed.iter().any(seen) || self.keys.iter().any(seen)
    }
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
