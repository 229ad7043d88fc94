//! Helpers shared by the integration tests.
#![allow(dead_code)]

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;

/// prodlog writing only files (app `t`) into `dir`, whatever the environment says.
pub fn files_only(dir: &std::path::Path) -> prodlog::Builder {
    prodlog::builder()
        .from_env(false)
        .console(prodlog::ConsoleMode::Off)
        .app_name("t")
        .log_dir(dir)
}

/// A small deterministic generator (xorshift), so a failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A random credential: 14 to 23 letters, then two digits.
    pub fn secret(&mut self) -> String {
        const CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
        let mut s: String = (0..14 + self.below(10))
            .map(|_| char::from(CHARS[self.below(CHARS.len())]))
            .collect();
        s.push_str(&(10 + self.below(89)).to_string());
        s
    }
}

/// A sink that keeps every line in memory.
pub type Capture = prodlog::format::MemorySink;

/// The test binary itself as a child process running `scenario` (read back with
/// `PRODLOG_TEST_CHILD`), with none of the parent's prodlog, `RUST_LOG` or backtrace
/// settings: each scenario states its whole environment.
pub fn child_command(scenario: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("own path"));
    for (k, _) in std::env::vars() {
        if k.starts_with("PRODLOG_")
            || k.starts_with("OTEL_")
            || k == "RUST_LOG"
            || k.ends_with("BACKTRACE")
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("PRODLOG_TEST_CHILD", scenario);
    cmd
}

/// Runs `scenario` as a child writing app `svc`'s files into `dir`, with `vars` set, and
/// returns its output after checking it succeeded.
pub fn run_preset(
    scenario: &str,
    dir: &std::path::Path,
    vars: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = child_command(scenario);
    cmd.env("PRODLOG_DIR", dir).env("PRODLOG_APP", "svc");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    out
}

/// The `main` of a test binary whose scenarios need a process each (a global subscriber
/// is set once per process): as a child, runs its scenario; as the parent, runs the tests
/// whose names contain the first non-flag argument (all of them without one).
pub fn test_main(child: fn(&str), tests: &[(&str, fn())]) {
    if let Ok(scenario) = std::env::var("PRODLOG_TEST_CHILD") {
        child(&scenario);
        return;
    }
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for (name, test) in tests {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        test();
        println!("test {name} ... ok");
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
