//! The values of one JSON line, walked without building a `serde_json::Value`: strings are
//! borrowed from the line unless they hold escapes, so a clean line allocates (almost)
//! nothing, and each value reaches the detectors as the formatters saw it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use prodlog_redact::Redactor;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Which keys are sensitive, remembered: the same keys come on every line, mostly in the
/// same order, so the key expected at this position is compared first (one `memcmp`)
/// before a hash lookup (profiled: SipHash of every key was 5% of `audit`).
#[derive(Default)]
pub(crate) struct Names {
    order: Vec<(String, bool)>,
    cursor: usize,
    known: HashMap<String, bool>,
}

impl Names {
    fn sensitive(&mut self, redactor: &Redactor, name: &str) -> bool {
        let at = self.cursor;
        self.cursor += 1;
        if let Some((k, v)) = self.order.get(at) {
            if k == name {
                return *v;
            }
        }
        let sensitive = match self.known.get(name) {
            Some(&v) => v,
            None => {
                let v = redactor.is_sensitive_name(name);
                if self.known.len() < 4096 {
                    self.known.insert(name.to_owned(), v);
                }
                v
            }
        };
        if at < self.order.len() {
            self.order[at] = (name.to_owned(), sensitive);
        } else if at < 256 {
            self.order.push((name.to_owned(), sensitive));
        }
        sensitive
    }
}

/// The leaks in one JSON line: each value on its own (decoded), and every value under a
/// sensitive name (`"password": "x"`) unless already redacted. `None`: not JSON.
pub(crate) fn leaks<'r>(
    redactor: &'r Redactor,
    line: &str,
    names: &mut Names,
) -> Option<Vec<&'r str>> {
    names.cursor = 0;
    let mut kinds = Vec::new();
    let mut de = serde_json::Deserializer::from_str(line);
    Walk {
        redactor,
        name: None,
        kinds: &mut kinds,
        names,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    Some(kinds)
}

struct Walk<'a, 'r> {
    redactor: &'r Redactor,
    name: Option<&'a str>,
    kinds: &'a mut Vec<&'r str>,
    names: &'a mut Names,
}

impl<'r> Walk<'_, 'r> {
    fn add(&mut self, k: &'r str) {
        if !self.kinds.contains(&k) {
            self.kinds.push(k);
        }
    }

    fn sensitive(&mut self) -> bool {
        let Some(name) = self.name else { return false };
        self.names.sensitive(self.redactor, name)
    }

    fn string(&mut self, s: &str) {
        if !s.starts_with("[REDACTED") && self.sensitive() {
            self.add("key_value");
        }
        for k in self.redactor.find(s) {
            self.add(k);
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A key, borrowed when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(mut self, v: &'de str) -> Result<(), E> {
        self.string(v);
        Ok(())
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        self.string(v);
        Ok(())
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<(), E> {
        // Integers this large may be card numbers (the formatters redact them too).
        if v >= 1_000_000_000_000 {
            self.string(itoa::Buffer::new().format(v));
        }
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Walk {
                redactor: self.redactor,
                name: self.name,
                kinds: &mut *self.kinds,
                names: &mut *self.names,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let top = self.name.is_none();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            // The keys prodlog itself writes at the top of a line hold no user data (a user's
            // field of that name is written `fields.<name>`): their values are skipped.
            if top && matches!(&*key, "timestamp" | "level" | "target" | "span") {
                map.next_value::<de::IgnoredAny>()?;
                continue;
            }
            map.next_value_seed(Walk {
                redactor: self.redactor,
                name: Some(&key),
                kinds: &mut *self.kinds,
                names: &mut *self.names,
            })?;
        }
        Ok(())
    }
}
