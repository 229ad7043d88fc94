//! The set of keys already written on one line: event fields win over span fields, inner
//! spans over outer ones, and no JSON object ever carries a key twice.

/// Keys the JSON line writes itself. A field with one of these names is written under
/// `fields.<name>` so it can neither clash with nor overwrite them.
pub(crate) fn json_key(name: &'static str, is_event: bool) -> &'static str {
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

const INLINE: usize = 32;

/// A small set of `&'static str` keys: inline for the common case, spilling to the heap only
/// for events with more than 32 distinct keys.
pub(crate) struct KeySet {
    inline: [&'static str; INLINE],
    len: usize,
    spill: Vec<&'static str>,
}

impl KeySet {
    pub(crate) fn new() -> Self {
        KeySet {
            inline: [""; INLINE],
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Adds `key`; false when it was already there.
    pub(crate) fn insert(&mut self, key: &'static str) -> bool {
        let seen = |k: &&'static str| std::ptr::eq(*k, key) || *k == key;
        if self.inline[..self.len].iter().any(seen) || self.spill.iter().any(seen) {
            return false;
        }
        if self.len < INLINE {
            self.inline[self.len] = key;
            self.len += 1;
        } else {
            self.spill.push(key);
        }
        true
    }
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
