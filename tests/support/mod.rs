//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};

use prodlog::format::LineSink;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

/// A sink that keeps every line in memory.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl LineSink for Capture {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        self.0.lock().unwrap().extend_from_slice(line);
        Ok(())
    }
}

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("output is UTF-8")
    }
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }
}

/// Fails on an object with a key twice (serde_json alone keeps the last silently).
struct UniqueKeys;

impl<'de> de::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
                let mut seen = HashSet::new();
                while let Some(k) = map.next_key::<String>()? {
                    if !seen.insert(k.clone()) {
                        return Err(de::Error::custom(format!("duplicate key {k:?}")));
                    }
                    map.next_value::<IgnoredAny>()?;
                }
                Ok(UniqueKeys)
            }
        }
        d.deserialize_map(V)
    }
}

/// Parses one line as a JSON object, asserting it is one line, valid, with unique keys.
pub fn parse(line: &str) -> Map<String, Value> {
    assert!(!line.contains('\n'), "a line holds a newline: {line:?}");
    serde_json::from_str::<UniqueKeys>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => m,
        other => panic!("not a JSON object ({other:?}): {line}"),
    }
}

/// Every line of a file, parsed.
pub fn read_json_lines(path: &std::path::Path) -> Vec<Map<String, Value>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .lines()
        .map(parse)
        .collect()
}

/// Is this `YYYY-MM-DDTHH:MM:SS.ffffffZ`?
pub fn is_rfc3339_micros(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 27
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            26 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}
