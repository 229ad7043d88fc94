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
    let mut walk = Walk {
        redactor,
        name: None,
        kinds: &mut kinds,
        names: &mut *names,
    };
    if flat(line, |key, value| match value {
        Flat::Str(v) => {
            walk.name = Some(key);
            walk.string(v);
        }
        Flat::U64(v) => {
            walk.name = Some(key);
            walk.big(v);
        }
    })
    .is_some()
    {
        return Some(kinds);
    }
    names.cursor = 0;
    kinds.clear();
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

    /// Integers this large may be card numbers (the formatters redact them too).
    fn big(&mut self, v: u64) {
        if v >= 1_000_000_000_000 {
            self.string(itoa::Buffer::new().format(v));
        }
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
        self.big(v);
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

/// A value of a flat line, as the walk sees it.
enum Flat<'a> {
    Str(&'a str),
    U64(u64),
}

/// The common case of a prodlog line, read without serde: one flat object whose keys and
/// string values have no escapes, and whose other values are numbers, booleans or null.
/// Calls `value` for each member the walk would look at (prodlog's own top-level keys are
/// skipped, as in [`Walk`]); `None` for anything else — nesting, an escape, a control
/// character, or a line that is not valid JSON — which the serde walk then reads (after
/// `value` may have been called for some members: the caller starts over).
///
/// Profiled: serde's deserializer was a quarter of `audit`'s time.
fn flat<'a>(text: &'a str, mut value: impl FnMut(&'a str, Flat<'a>)) -> Option<()> {
    let line = text.as_bytes();
    let ws = |i: &mut usize| {
        while line
            .get(*i)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            *i += 1;
        }
    };
    // A string starting after its opening quote, up to the closing one; `None` at an
    // escape or a control character. One pass, no UTF-8 check: the line is a `str` and
    // the quotes are ASCII.
    let string = |i: &mut usize| -> Option<&'a str> {
        let start = *i;
        let mut end = start;
        loop {
            match *line.get(end)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => end += 1,
            }
        }
        *i = end + 1;
        text.get(start..end)
    };
    let mut i = 0;
    ws(&mut i);
    if line.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    ws(&mut i);
    if line.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            if line.get(i) != Some(&b'"') {
                return None;
            }
            i += 1;
            let key = string(&mut i)?;
            ws(&mut i);
            if line.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            ws(&mut i);
            let skip = matches!(key, "timestamp" | "level" | "target" | "span");
            match *line.get(i)? {
                b'"' => {
                    i += 1;
                    let v = string(&mut i)?;
                    if !skip {
                        value(key, Flat::Str(v));
                    }
                }
                b't' if line[i..].starts_with(b"true") => i += 4,
                b'f' if line[i..].starts_with(b"false") => i += 5,
                b'n' if line[i..].starts_with(b"null") => i += 4,
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    i = number(line, i)?;
                    let digits = &text[start..i];
                    // What serde_json hands the walk as a u64: a non-negative integer that fits.
                    if !skip && digits.bytes().all(|b| b.is_ascii_digit()) {
                        if let Ok(v) = digits.parse::<u64>() {
                            value(key, Flat::U64(v));
                        }
                    }
                }
                _ => return None,
            }
            ws(&mut i);
            match line.get(i)? {
                b',' => {
                    i += 1;
                    ws(&mut i);
                }
                b'}' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    ws(&mut i);
    (i == line.len()).then_some(())
}

/// The end of the JSON number starting at `i`, when it is one
/// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => {
            digits(&mut i);
        }
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the serde walk reports, for comparison.
    fn by_serde(line: &str) -> Option<Vec<String>> {
        let r = Redactor::default();
        let mut names = Names::default();
        let mut kinds = Vec::new();
        let mut de = serde_json::Deserializer::from_str(line);
        Walk {
            redactor: &r,
            name: None,
            kinds: &mut kinds,
            names: &mut names,
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        Some(kinds.into_iter().map(str::to_owned).collect())
    }

    #[test]
    fn the_flat_reader_agrees_with_serde_on_every_line_it_takes() {
        let r = Redactor::default();
        let lines = [
            r#"{"timestamp":"2026-11-30T10:00:00.000001Z","level":"INFO","target":"app","message":"ok","n":1,"f":-1.5e3,"b":true,"z":null}"#,
            r#"{"message":"key ghp_R2d2C3poBb8Yoda1Luke2Leia3Han4Chewie5","password":"hunter2"}"#,
            r#"{"password":"[REDACTED]","card":4111111111111111,"small":4111}"#,
            r#"  { "a" : "b" , "c" : 12 }  "#,
            r#"{}"#,
            r#"{"target":"x","span":"ghp_R2d2C3poBb8Yoda1Luke2Leia3Han4Chewie5"}"#,
            r#"{"huge":123456789012345678901234567890}"#,
            r#"{"esc":"a"b ghp_R2d2C3poBb8Yoda1Luke2Leia3Han4Chewie5"}"#,
            r#"{"nested":{"password":"x"}}"#,
            r#"{"arr":["ghp_R2d2C3poBb8Yoda1Luke2Leia3Han4Chewie5"]}"#,
            r#"{"bad":01}"#,
            r#"{"bad":1.}"#,
            r#"{"a":"b",}"#,
            r#"{"a":"b"} trailing"#,
            r#"{"a":tru}"#,
            r#"{"u":"\u0067hp_R2d2C3poBb8Yoda1Luke2Leia3Han4Chewie5"}"#,
        ];
        for line in lines {
            let mut names = Names::default();
            let fast = leaks(&r, line, &mut names)
                .map(|k| k.into_iter().map(str::to_owned).collect::<Vec<_>>());
            assert_eq!(fast, by_serde(line), "{line}");
        }
        // The flat reader itself takes the flat lines and leaves the rest to serde.
        assert!(flat(lines[0], |_, _| {}).is_some());
        assert!(flat(lines[3], |_, _| {}).is_some());
        for line in &lines[7..] {
            assert!(flat(line, |_, _| {}).is_none(), "{line}");
        }
    }
}
