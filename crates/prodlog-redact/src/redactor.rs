//! The [`Redactor`]: compiled once, shared by reference count, asked per field and per text.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::hash::RandomState;
use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
use regex::Regex;

use crate::builder::RedactorBuilder;
use crate::markers::{already_redacted, replace};
use crate::names::{builtin_sensitive, ends_with_words};
use crate::normalize;
use crate::rules::Check;
use crate::shape::Shape;

pub(crate) const REDACTED: &str = "[REDACTED]";

/// What replaces a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Replacement {
    /// `[REDACTED]`.
    #[default]
    Redacted,
    /// `[REDACTED:3fa9c1d2]`: a keyed hash of the secret (the key is random per process),
    /// so the same secret gets the same tag within a process and can be correlated
    /// across lines without being shown.
    KeyedHash,
    /// `[REDACTED:last4=1234]`: a partial mask keeping the last `n` characters (for card
    /// numbers, the last `n` digits), as receipts show them. Meant for one rule
    /// ([`RedactorBuilder::rule_with`], [`CardMask::Last4`]), not as the default.
    KeepLast(u8),
}

/// How a payment card number is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CardMask {
    /// Like every other secret (see [`Replacement`]).
    #[default]
    Full,
    /// `[REDACTED:last4=1111]`: the last four digits, as receipts show them.
    Last4,
}

pub(crate) struct Rule {
    pub(crate) name: String,
    pub(crate) regex: Regex,
    /// Capture groups holding the secret (the first that matched is replaced).
    pub(crate) groups: Vec<usize>,
    pub(crate) check: Check,
    /// This rule's own replacement, instead of the redactor's.
    pub(crate) replacement: Option<Replacement>,
}

pub(crate) struct Inner {
    pub(crate) id: u64,
    pub(crate) rules: Vec<Rule>,
    pub(crate) prefilter: AhoCorasick,
    /// For each prefilter pattern, the rules it lets run.
    pub(crate) pattern_rules: Vec<u64>,
    /// Rules that always run (user rules).
    pub(crate) always: u64,
    /// (rule, the digits it needs).
    pub(crate) digit_rules: Vec<(usize, crate::rules::Digits)>,
    /// The fewest digits any of `digit_rules` needs.
    pub(crate) min_digits: usize,
    /// Rules worth running on a text with a long run of token characters.
    pub(crate) run_rules: u64,
    /// The rule of machine-issued tokens by shape (`issued.rs`).
    pub(crate) issued_rule: Option<usize>,
    pub(crate) key_value: Option<usize>,
    /// The rule that tries the vendor table at its prefixes' hits.
    pub(crate) vendor_rule: Option<usize>,
    /// Each vendor format's anchored regex, compiled the first time its prefix is seen
    /// (`None`: it does not compile, which a unit test rules out).
    pub(crate) vendors: Vec<OnceLock<Option<Regex>>>,
    /// For each prefilter pattern, the vendor formats whose prefix it is.
    pub(crate) pattern_vendors: Vec<Vec<u16>>,
    /// For each prefilter pattern, the rules-file rules whose keyword it is.
    pub(crate) pattern_files: Vec<Vec<u32>>,
    /// Rules-file rules without keywords (they run on every text that could hold one).
    pub(crate) always_files: Vec<u32>,
    pub(crate) file_rules: Vec<crate::rules_file::FileRule>,
    /// The rules files' global allowlists.
    pub(crate) file_allow: Vec<crate::rules_file::Allow>,
    /// Rules-file rules (or allowlists) skipped, and why.
    pub(crate) skipped: Vec<(String, String)>,
    /// Rules that cannot match without a `:` or `=` in the text.
    pub(crate) need_separator: u64,
    pub(crate) emails: bool,
    /// The user's sensitive names, as lower-case words.
    pub(crate) names: Vec<Vec<String>>,
    pub(crate) replacement: Replacement,
    pub(crate) hasher: RandomState,
}

/// Decides what a field or a text may show. Cheap to clone (one reference count) and to
/// share across threads. See the [crate docs](crate) for what it catches.
#[derive(Clone)]
pub struct Redactor {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules: Vec<&str> = self.inner.rules.iter().map(|r| r.name.as_str()).collect();
        f.debug_struct("Redactor")
            .field("rules", &rules)
            .field("replacement", &self.inner.replacement)
            .finish_non_exhaustive()
    }
}

/// The built-in rules with the default replacement, compiled once per process.
impl Default for Redactor {
    fn default() -> Self {
        static DEFAULT: OnceLock<Redactor> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                Redactor::builder()
                    .build()
                    .expect("the built-in rules compile")
            })
            .clone()
    }
}

/// Where the prefilter saw a secret noun (for the pairs rule) or a vendor prefix (its
/// position and prefilter pattern): inline for the usual few, so a clean value that merely
/// mentions `key` next to a `:` allocates nothing.
#[derive(Default)]
pub(crate) struct Hits {
    pub(crate) keys: smallvec::SmallVec<[usize; 16]>,
    pub(crate) vendors: smallvec::SmallVec<[(usize, usize); 8]>,
    /// Rules-file rules whose keyword is in the text (may repeat).
    pub(crate) files: smallvec::SmallVec<[u32; 8]>,
}

/// The longest text [`Redactor::redact_text`] scans: 1 MiB. A longer one is replaced
/// whole by `[REDACTED: N bytes, too long to scan]` (and [`Redactor::find`] reports it as
/// `too_long`). The scan is linear, 2 to 60 ns a byte whatever the shape (prodlog-bench's
/// adversarial table), so this bounds one value's cost to tens of milliseconds; a value
/// this long in a log line is a payload dump, which is no loss to the line.
pub const MAX_SCAN_BYTES: usize = 1 << 20;

/// What [`Redactor::find`] names a text over [`MAX_SCAN_BYTES`].
const TOO_LONG: &str = "too_long";

fn too_long(text: &str) -> String {
    format!("[REDACTED: {} bytes, too long to scan]", text.len())
}

/// One found secret: its byte range and the rule's check (for the card mask).
#[derive(Clone, Copy)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The rule that found it (`usize::MAX` once merged with another rule's span).
    pub(crate) rule: usize,
    /// The vendor format, for the vendor rule.
    pub(crate) vendor: Option<&'static str>,
}

impl Redactor {
    /// A builder starting from the built-in rules.
    pub fn builder() -> RedactorBuilder {
        RedactorBuilder::default()
    }

    /// What a field named `name` holding `value` may show: the replacement when the name is
    /// sensitive, otherwise `value` with any secret inside replaced. Borrowed when nothing
    /// is sensitive.
    pub fn redact_field<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        if self.is_sensitive_name(name) {
            self.replacement_for(value)
        } else {
            self.redact_text(value)
        }
    }

    /// `text` with every secret found in it replaced; borrowed when there is none.
    ///
    /// The text is also read as a person would read it (see `normalize.rs`): after one
    /// round of URL, HTML or JavaScript unescaping, without invisible characters, with
    /// look-alike letters mapped to Latin ones. What is found there is replaced in the
    /// original, where it came from.
    ///
    /// Linear time whatever the text (no rule rescans from each position); a text longer
    /// than [`MAX_SCAN_BYTES`] is not scanned at all but replaced whole, with its length,
    /// so no value a caller logs can hold its thread for long.
    pub fn redact_text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if text.len() > MAX_SCAN_BYTES {
            return Cow::Owned(too_long(text));
        }
        let shape = Shape::of(text.as_bytes());
        let view = shape.unusual.then(|| normalize::view(text)).flatten();
        // Most values: nothing any rule needs, decided before anything else is set up.
        if view.is_none() && self.surely_clean(text, &shape) {
            return Cow::Borrowed(text);
        }
        let mut spans: Vec<Span> = Vec::new();
        self.collect(text, &shape, view.as_ref(), &mut spans, &mut Vec::new());
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        spans.sort_unstable_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        let mut i = 0;
        while i < spans.len() {
            let mut span = spans[i];
            i += 1;
            while i < spans.len() && spans[i].start < span.end {
                span.end = span.end.max(spans[i].end);
                if spans[i].rule != span.rule {
                    span.rule = usize::MAX;
                }
                i += 1;
            }
            if span.start < pos {
                continue;
            }
            out.push_str(&text[pos..span.start]);
            let secret = &text[span.start..span.end];
            let rule = self.inner.rules.get(span.rule);
            match rule.and_then(|r| r.replacement) {
                Some(replacement) => {
                    let digits_only = rule.is_some_and(|r| r.check == Check::Card);
                    replace(
                        &mut out,
                        replacement,
                        secret,
                        digits_only,
                        &self.inner.hasher,
                    );
                }
                None => out.push_str(&self.replacement_for(secret)),
            }
            pos = span.end;
        }
        out.push_str(&text[pos..]);
        Cow::Owned(out)
    }

    /// The names of the rules that find a secret in `text` (`"jwt"`, `"key_value"` for a
    /// sensitive key whose value is not redacted, a vendor format such as
    /// `"github_pat"`, …), each once, in rule order: what an audit reports without showing
    /// the secret.
    pub fn find(&self, text: &str) -> Vec<&str> {
        if text.len() > MAX_SCAN_BYTES {
            return vec![TOO_LONG];
        }
        let shape = Shape::of(text.as_bytes());
        let view = shape.unusual.then(|| normalize::view(text)).flatten();
        if view.is_none() && self.surely_clean(text, &shape) {
            return Vec::new();
        }
        let (mut spans, mut files) = (Vec::new(), Vec::new());
        self.collect(text, &shape, view.as_ref(), &mut spans, &mut files);
        // In rule order (built-in rules by their place in the table, then file rules), each
        // name once.
        let mut named: Vec<(usize, &str)> = spans
            .iter()
            .filter_map(|span| {
                let rule = self.inner.rules.get(span.rule)?;
                Some((span.rule, span.vendor.unwrap_or(rule.name.as_str())))
            })
            .collect();
        named.extend(
            files
                .iter()
                .map(|&i| (usize::MAX, self.inner.file_rules[i].id.as_str())),
        );
        named.sort_by_key(|&(rule, _)| rule);
        let mut found = Vec::new();
        for (_, name) in named {
            if !found.contains(&name) {
                found.push(name);
            }
        }
        found
    }

    /// The secrets of `text` into `spans` (file rules' spans with `rule: usize::MAX`, their
    /// indices into `files`), and those of its normalised `view`, mapped back.
    fn collect(
        &self,
        text: &str,
        shape: &Shape,
        view: Option<&normalize::View>,
        spans: &mut Vec<Span>,
        files: &mut Vec<usize>,
    ) {
        self.collect_in(text, shape, spans, files);
        if let Some(view) = view {
            let mut seen = Vec::new();
            self.collect_in(
                &view.text,
                &Shape::of(view.text.as_bytes()),
                &mut seen,
                files,
            );
            for span in seen {
                let (start, end) = view.original(span.start, span.end);
                if end > start {
                    spans.push(Span { start, end, ..span });
                }
            }
        }
    }

    fn collect_in(&self, text: &str, shape: &Shape, spans: &mut Vec<Span>, files: &mut Vec<usize>) {
        if self.surely_clean(text, shape) {
            return;
        }
        let mut hits = Hits::default();
        let mask = self.candidates(text, shape, &mut hits);
        let before = spans.len();
        for idx in 0..self.inner.rules.len() {
            if mask & (1 << idx) != 0 {
                self.find_spans(idx, text, &hits, spans);
            }
        }
        // What a redactor already replaced is clean: redacting it again would change
        // nothing (or stack markers), and an audit must not report prodlog's own output.
        let mut i = before;
        while i < spans.len() {
            if already_redacted(&text[spans[i].start..spans[i].end]) {
                spans.swap_remove(i);
            } else {
                i += 1;
            }
        }
        self.file_spans(text, &mut hits.files, |i, (start, end)| {
            if already_redacted(&text[start..end]) {
                return;
            }
            files.push(i);
            spans.push(Span {
                start,
                end,
                rule: usize::MAX,
                vendor: None,
            });
        });
    }

    /// The rules-file rules and allowlists that were skipped because they cannot apply to
    /// log lines (no regex, a regex construct Rust's `regex` lacks, an allowlist of paths),
    /// each with the reason.
    pub fn skipped_rules(&self) -> &[(String, String)] {
        &self.inner.skipped
    }

    /// How many formats this redactor knows: its rules (a vendor table counts each of its
    /// formats), and the rules-file rules in use.
    pub fn format_count(&self) -> usize {
        self.inner.rules.len() - usize::from(self.inner.vendor_rule.is_some())
            + self.inner.vendors.len()
            + crate::vendors::SIGNATURES.matches('|').count()
            + self.inner.file_rules.len()
    }

    /// How many rules-file rules are in use.
    pub fn file_rule_count(&self) -> usize {
        self.inner.file_rules.len()
    }

    /// Runs each rules-file rule whose keyword was seen, once, reporting (rule, range).
    fn file_spans(
        &self,
        text: &str,
        candidates: &mut smallvec::SmallVec<[u32; 8]>,
        mut found: impl FnMut(usize, (usize, usize)),
    ) {
        if candidates.is_empty() {
            return;
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut ranges = Vec::new();
        for &i in candidates.iter() {
            let Some(rule) = self.inner.file_rules.get(i as usize) else {
                continue;
            };
            ranges.clear();
            rule.find(text, &self.inner.file_allow, &mut ranges);
            for &r in &ranges {
                found(i as usize, r);
            }
        }
    }

    /// True when no rule can match `text`, decided from its bytes alone (which byte
    /// classes it has, its digits, its runs of token characters): most values. False
    /// means "look closer" with [`redact_text`](Self::redact_text). Adding characters
    /// never turns a false into a true, so a formatter may ask about an escaped form of
    /// the text (JSON escaping only adds characters).
    pub fn quick_clean(&self, text: &str) -> bool {
        self.surely_clean(text, &Shape::of(text.as_bytes()))
    }

    /// A number no other redactor of this process has (clones share it): a key for
    /// caches of this redactor's decisions.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The replacement this redactor writes.
    pub fn replacement(&self) -> Replacement {
        self.inner.replacement
    }

    /// Is a field with this name redacted whatever its value?
    pub fn is_sensitive_name(&self, name: &str) -> bool {
        builtin_sensitive(name) || self.user_name(name)
    }

    /// [`is_sensitive_name`](Self::is_sensitive_name) for the `&'static str` names of
    /// `tracing` fields, answered from a small per-thread cache keyed by the name's address.
    pub fn is_sensitive_name_static(&self, name: &'static str) -> bool {
        const SLOTS: usize = 256;
        type Slot = Cell<(usize, usize, u64, bool)>;
        thread_local! {
            static CACHE: [Slot; SLOTS] = const { [const { Cell::new((0, 0, 0, false)) }; SLOTS] };
        }
        let addr = name.as_ptr() as usize;
        let key = (addr, name.len(), self.inner.id);
        // Two ways per set, picked by a multiplicative hash: names of one callsite sit side by
        // side in memory, and a plain mix of their addresses made pairs of them evict each
        // other on every event (measured: 10% of an event's time spent re-deciding names).
        let h = ((addr ^ (name.len() << 48)) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let set = ((h >> 57) as usize) * 2;
        CACHE.with(|cache| {
            for way in [set, set + 1] {
                let (a, l, id, hit) = cache[way].get();
                if (a, l, id) == key {
                    return hit;
                }
            }
            let sensitive = self.is_sensitive_name(name);
            // The older way goes: move the first to the second, the new one first.
            cache[set + 1].set(cache[set].get());
            cache[set].set((key.0, key.1, key.2, sensitive));
            sensitive
        })
    }

    /// What replaces `secret` (the same text for the same secret within a process).
    pub fn replacement_for<'a>(&self, secret: &str) -> Cow<'a, str> {
        match self.inner.replacement {
            Replacement::Redacted => Cow::Borrowed(REDACTED),
            other => {
                let mut out = String::new();
                replace(&mut out, other, secret, false, &self.inner.hasher);
                Cow::Owned(out)
            }
        }
    }

    fn user_name(&self, name: &str) -> bool {
        if self.inner.names.is_empty() {
            return false;
        }
        self.inner.names.iter().any(|n| ends_with_words(name, n))
    }

    /// The rules worth running on `text`, as a bit set.
    ///
    /// One cheap pass first classifies the text: every built-in format needs either a
    /// `:`/`=` (pairs, headers, URLs), a run of at least [`MIN_RUN`] token characters
    /// (vendor tokens, JWTs, PEM armour, bearer tokens), enough digits (cards, SSNs) or an
    /// `@` (e-mail). Only a text that could hold one pays for the Aho-Corasick scan.
    /// True when no rule can match a text of this shape: no rule that always runs, nothing
    /// for the prefilter (see [`candidates`](Self::candidates)) and too few digits.
    #[inline]
    fn surely_clean(&self, text: &str, shape: &Shape) -> bool {
        let inner = &*self.inner;
        inner.always == 0 && !self.needs_scan(text, shape) && shape.digits < inner.min_digits
    }

    /// Whether the text could hold a literal of the prefilter in a place a rule looks.
    #[inline]
    fn needs_scan(&self, text: &str, shape: &Shape) -> bool {
        // Prose with a credential-like word needs a digit and room for a key and a value:
        // `invalid token 8f3k2j9d0a`.
        let prose = shape.digits > 0 && text.len() >= 14;
        let pairs = shape.separator || prose;
        !shape.hex_only
            && (pairs || shape.long_run || shape.armour || (self.inner.emails && shape.at))
    }

    fn candidates(&self, text: &str, shape: &Shape, hits: &mut Hits) -> u64 {
        let inner = &*self.inner;
        let mut mask = inner.always;
        let prose = shape.digits > 0 && text.len() >= 14;
        let pairs = shape.separator || prose;
        if self.needs_scan(text, shape) {
            let kv_bit = inner.key_value.map_or(0, |kv| 1u64 << kv);
            let vendor_bit = inner.vendor_rule.map_or(0, |v| 1u64 << v);
            for m in inner
                .prefilter
                .find_overlapping_iter(aho_corasick::Input::new(text))
            {
                let pattern = m.pattern().as_usize();
                let rules = inner.pattern_rules[pattern];
                mask |= rules & !vendor_bit;
                if rules & kv_bit != 0 && pairs {
                    hits.keys.push(m.start());
                }
                // A vendor prefix counts only at the start of a word.
                if rules & vendor_bit != 0
                    && (m.start() == 0 || !text.as_bytes()[m.start() - 1].is_ascii_alphanumeric())
                {
                    mask |= vendor_bit;
                    hits.vendors.push((m.start(), pattern));
                }
                if let Some(files) = inner.pattern_files.get(pattern) {
                    hits.files.extend(files.iter().copied());
                }
            }
            hits.files.extend(inner.always_files.iter().copied());
            if !shape.separator {
                mask &= !(inner.need_separator & !kv_bit);
                if !prose {
                    mask &= !kv_bit;
                }
            }
        }
        // `Shape` measures runs only where no separator already calls for a scan; the
        // issued-token scan measures its own (from each `_` and `-`), so a text with a
        // separator is not measured twice.
        if inner.run_rules != 0 && !shape.hex_only && (shape.long_run || shape.separator) {
            mask |= inner.run_rules;
        }
        if shape.digits >= inner.min_digits {
            let b = text.as_bytes();
            // Cheapest tests first: the digit count, the byte and letter the rule needs,
            // the group bits of a short text; then the exact group, and only when that is
            // long enough the bounded one (the plain group bounds it from above).
            let (mut group, mut bounded) = (None, None);
            for &(idx, d) in &inner.digit_rules {
                if shape.digits < d.min
                    || !shape.may_have_group(d.min)
                    || d.byte
                        .is_some_and(|(c, n)| memchr::memchr_iter(c, b).take(n).count() < n)
                    || (d.upper && !b.iter().any(u8::is_ascii_uppercase))
                {
                    continue;
                }
                let plain = *group.get_or_insert_with(|| crate::shape::longest_digit_group(b));
                let longest = if d.bounded && plain >= d.min {
                    *bounded.get_or_insert_with(|| crate::shape::longest_bounded_digit_group(b))
                } else {
                    plain
                };
                if longest >= d.min {
                    mask |= 1 << idx;
                }
            }
        }
        mask
    }
}
