//! Resolving a target to its level: user directives, then the quiet table, then the default.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// rustc's FxHash: one rotate, xor and multiply per 8 bytes. The keys are short targets
/// looked up when a callsite registers; SipHash's DoS resistance buys nothing there (the
/// keys are the operator's directives). A few lines of our own instead of the
/// `rustc-hash` crate: one dependency fewer for every service.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
use tracing_core::LevelFilter;

use crate::directive::Directive;

/// Dependencies that log a lot at INFO/DEBUG about their own internals, set to WARN unless
/// the user writes a directive for them (or a parent module). An entry ending in `*` covers
/// every target starting with the rest.
pub const NOISY_TARGETS: &[&str] = &[
    "hyper",
    "hyper_util",
    "hyper_rustls",
    "h2",
    "h3",
    "tower",
    "tower_http",
    "reqwest",
    "rustls",
    "tokio_rustls",
    "tokio_util",
    "mio",
    "want",
    "tungstenite",
    "tokio_tungstenite",
    "sqlx",
    "tokio_postgres",
    "postgres",
    "aws_config",
    "aws_smithy_*",
    "aws_sigv4",
    "tonic",
    "quinn",
    "hickory_*",
    "trust_dns_*",
    "tracing",
    "tracing_subscriber",
    "tracing_appender",
];

/// Does `prefix` cover `target`? Module boundaries count: `my_app` covers `my_app` and
/// `my_app::db` but not `my_app_extra` (unlike `EnvFilter`'s plain string prefix). The
/// reference the lookup tables are tested against.
#[cfg(test)]
fn covers(prefix: &str, target: &str) -> bool {
    if let Some(raw) = prefix.strip_suffix('*') {
        return target.starts_with(raw);
    }
    target.starts_with(prefix)
        && (target.len() == prefix.len() || target[prefix.len()..].starts_with("::"))
}

/// Targets and their levels, split for lookup: exact module paths in a hash map (looked up
/// once per `::` prefix of the target, longest first) and the few `*` patterns scanned.
#[derive(Debug, Clone)]
struct Table<V> {
    exact: FxHashMap<Box<str>, V>,
    /// `(prefix without the *, value)`, longest first.
    wild: Vec<(Box<str>, V)>,
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Table {
            exact: FxHashMap::default(),
            wild: Vec::new(),
        }
    }
}

impl<V: Copy> Table<V> {
    fn insert(&mut self, target: &str, value: V) {
        match target.strip_suffix('*') {
            Some(raw) => {
                self.wild.retain(|(w, _)| &**w != raw);
                self.wild.push((raw.into(), value));
                self.wild.sort_by_key(|w| std::cmp::Reverse(w.0.len()));
            }
            None => {
                self.exact.insert(target.into(), value);
            }
        }
    }

    /// The value of the longest entry covering `target`.
    fn get(&self, target: &str) -> Option<V> {
        let mut found = None;
        let mut end = target.len();
        loop {
            let prefix = &target[..end];
            if let Some(v) = self.exact.get(prefix) {
                found = Some((end, *v));
                break;
            }
            match prefix.rfind("::") {
                Some(i) => end = i,
                None => break,
            }
        }
        if let Some((raw, v)) = self.wild.iter().find(|(raw, _)| target.starts_with(&**raw)) {
            if found.is_none_or(|(len, _)| raw.len() > len) {
                return Some(*v);
            }
        }
        found.map(|(_, v)| v)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.exact.len() + self.wild.len()
    }
}

/// Everything needed to answer "which level for this target", immutable once built.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    /// The user's target directives.
    user: Table<LevelFilter>,
    /// The quiet table, each at WARN.
    quiet: Table<()>,
    default: LevelFilter,
    max: LevelFilter,
    /// The directives as text (`info,app::db=debug`), for the line a reload writes.
    pub(crate) spec: String,
}

impl Rules {
    pub(crate) fn new(
        directives: &[Directive],
        quiet: impl IntoIterator<Item = String>,
        default: LevelFilter,
    ) -> Self {
        let mut default = default;
        let mut user = Table::default();
        let spec = directives
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        for d in directives {
            match &d.target {
                None => default = d.level,
                // The last directive for the same target wins, as in EnvFilter.
                Some(t) => user.insert(t, d.level),
            }
        }
        let mut table = Table::default();
        for q in quiet {
            table.insert(&q, ());
        }
        let max = user
            .exact
            .values()
            .chain(user.wild.iter().map(|w| &w.1))
            .copied()
            .fold(default, LevelFilter::max);
        Rules {
            user,
            quiet: table,
            default,
            max,
            spec,
        }
    }

    /// The most verbose level enabled for `target`.
    pub(crate) fn level_for(&self, target: &str) -> LevelFilter {
        if let Some(level) = self.user.get(target) {
            return level;
        }
        if self.quiet.get(target).is_some() {
            return self.default.min(LevelFilter::WARN);
        }
        self.default
    }

    /// The most verbose level any target can have.
    pub(crate) fn max_level(&self) -> LevelFilter {
        self.max
    }

    /// How many quiet targets (repeats counted once).
    #[cfg(test)]
    fn quiet_len(&self) -> usize {
        self.quiet.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directive::parse_directives;

    fn rules(spec: &str) -> Rules {
        let (d, e) = parse_directives(spec);
        assert!(e.is_empty(), "{e:?}");
        Rules::new(
            &d,
            NOISY_TARGETS.iter().map(|s| s.to_string()),
            LevelFilter::INFO,
        )
    }

    #[test]
    fn user_intent_wins_over_quiet_table_in_any_order() {
        let r = rules("debug");
        assert_eq!(r.level_for("my_app"), LevelFilter::DEBUG);
        assert_eq!(
            r.level_for("hyper::proto::h1"),
            LevelFilter::WARN,
            "quiet by default"
        );
        assert_eq!(r.level_for("aws_smithy_runtime::client"), LevelFilter::WARN);
        assert_eq!(
            rules("hyper=trace,debug").level_for("hyper::client"),
            LevelFilter::TRACE
        );
        assert_eq!(
            rules("debug,hyper=trace").level_for("hyper::client"),
            LevelFilter::TRACE
        );
        assert_eq!(
            rules("error").level_for("hyper"),
            LevelFilter::ERROR,
            "never louder than the default"
        );
        assert_eq!(
            rules("hyper::proto=debug").level_for("hyper::client"),
            LevelFilter::WARN
        );
    }

    #[test]
    fn quiet_table_repeats_are_removed_even_when_not_adjacent() {
        let quiet = ["ab", "cd", "ab", "x", "cd", "w*", "w*"].map(String::from);
        let r = Rules::new(&[], quiet, LevelFilter::INFO);
        assert_eq!(r.quiet_len(), 4);
    }

    /// The hash-map lookup agrees with a plain scan of every entry, longest match first.
    #[test]
    fn lookup_agrees_with_a_scan() {
        let entries = [
            "a",
            "a::b",
            "a::b::c",
            "ab",
            "a_*",
            "a::b*",
            "x::y",
            "aws_smithy_*",
            "aws_smithy_rt",
        ];
        let mut table = Table::default();
        for (i, e) in entries.iter().enumerate() {
            table.insert(e, i);
        }
        let targets = [
            "a",
            "a::b",
            "a::bc",
            "a::b::c::d",
            "ab",
            "abc",
            "a_x",
            "a::c",
            "x",
            "x::y::z",
            "x::yz",
            "aws_smithy_rt",
            "aws_smithy_rt::x",
            "aws_smithy_types",
            "",
            "::",
            "a::",
        ];
        for t in targets {
            let scan = entries
                .iter()
                .enumerate()
                .filter(|(_, e)| covers(e, t))
                // Longest match; on a tie the exact target beats the `*` pattern.
                .max_by_key(|(_, e)| (e.trim_end_matches('*').len(), !e.ends_with('*')))
                .map(|(i, _)| i);
            assert_eq!(table.get(t), scan, "{t:?}");
        }
    }

    #[test]
    fn most_specific_target_wins_at_module_boundaries() {
        let r = rules("warn,my_app=info,my_app::db=trace,my_app::db=debug");
        assert_eq!(
            r.level_for("my_app::db::pool"),
            LevelFilter::DEBUG,
            "last for a target wins"
        );
        assert_eq!(r.level_for("my_app::http"), LevelFilter::INFO);
        assert_eq!(r.level_for("my_app_extra"), LevelFilter::WARN);
        assert_eq!(r.level_for("other"), LevelFilter::WARN);
        assert_eq!(r.max_level(), LevelFilter::DEBUG);
    }
}
