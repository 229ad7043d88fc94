//! The [`Redactor`]: compiled once, shared by reference count, asked per field and per text.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind};
use regex::Regex;

use crate::names::{builtin_sensitive, ends_with_words, normalize};
use crate::rules::{
    is_aws_secret, is_card, is_iban, is_ssn, is_token_like, Builtin, Check, Gate, BUILTINS, EMAIL,
};
use crate::shape::Shape;

const REDACTED: &str = "[REDACTED]";

/// Literals one of which is in every key the built-in name rule finds sensitive.
#[rustfmt::skip]
const KEY_LITERALS: &[&str] = &[
    "pass", "pwd", "pw", "secret", "token", "key", "auth", "cookie", "cred", "ssn", "cvv", "cvc",
    "pin", "otp", "sig", "jwt", "bearer", "session", "iban", "card", "cc", "credit", "debit",
    "pan", "security", "social", "tax", "account", "routing", "bank", "conn",
];

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

/// A user rule that does not compile, or too many rules.
#[derive(Debug)]
pub struct BuildError {
    rule: String,
    message: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redaction rule {:?}: {}", self.rule, self.message)
    }
}

impl std::error::Error for BuildError {}

struct Rule {
    name: String,
    regex: Regex,
    /// Capture groups holding the secret (the first that matched is replaced).
    groups: Vec<usize>,
    check: Check,
    /// This rule's own replacement, instead of the redactor's.
    replacement: Option<Replacement>,
}

struct Inner {
    id: u64,
    rules: Vec<Rule>,
    prefilter: AhoCorasick,
    /// For each prefilter pattern, the rules it lets run.
    pattern_rules: Vec<u64>,
    /// Rules that always run (user rules).
    always: u64,
    /// (rule, minimum digits, a byte that must also be present).
    digit_rules: Vec<(usize, usize, Option<u8>)>,
    /// The fewest digits any of `digit_rules` needs.
    min_digits: usize,
    key_value: Option<usize>,
    /// Rules that cannot match without a `:` or `=` in the text.
    need_separator: u64,
    emails: bool,
    /// The user's sensitive names, as lower-case words.
    names: Vec<Vec<String>>,
    replacement: Replacement,
    hasher: RandomState,
}

/// Decides what a field or a text may show. Cheap to clone (one reference count) and to
/// share across threads. See the [crate docs](crate) for what it catches.
#[derive(Clone)]
pub struct Redactor {
    inner: Arc<Inner>,
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

/// Builds a [`Redactor`].
///
/// ```
/// use prodlog_redact::{Redactor, Replacement};
///
/// let r = Redactor::builder()
///     .field_name("member_code")
///     .rule("acme_ticket", r"ACME-[0-9]{8}")
///     .replacement(Replacement::KeyedHash)
///     .build()?;
/// assert!(r.redact_field("memberCode", "X").starts_with("[REDACTED:"));
/// assert_ne!(r.redact_text("ticket ACME-12345678"), "ticket ACME-12345678");
/// assert!(Redactor::builder().rule("bad", "([a-z").build().is_err());
/// # Ok::<(), prodlog_redact::BuildError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RedactorBuilder {
    names: Vec<String>,
    rules: Vec<(String, String, Option<Replacement>)>,
    replacement: Replacement,
    card_mask: CardMask,
    emails: bool,
}

impl RedactorBuilder {
    /// Adds a sensitive field name. Compared by words, in any case and spelling: `member_code`
    /// also covers `memberCode`, `x-member-code` and `old_member_code`.
    pub fn field_name(mut self, name: impl AsRef<str>) -> Self {
        self.names.push(normalize(name.as_ref()));
        self
    }

    /// Adds a value rule: every match of `regex` is replaced (only the capture group named
    /// `s` when there is one). An invalid regex is an error of [`build`](Self::build).
    pub fn rule(mut self, name: impl Into<String>, regex: impl Into<String>) -> Self {
        self.rules.push((name.into(), regex.into(), None));
        self
    }

    /// Adds a value rule with its own replacement (a partial mask such as
    /// [`Replacement::KeepLast`], or a keyed hash), whatever the redactor's default.
    pub fn rule_with(
        mut self,
        name: impl Into<String>,
        regex: impl Into<String>,
        replacement: Replacement,
    ) -> Self {
        self.rules
            .push((name.into(), regex.into(), Some(replacement)));
        self
    }

    /// What replaces a secret ([`Replacement::Redacted`] by default).
    pub fn replacement(mut self, replacement: Replacement) -> Self {
        self.replacement = replacement;
        self
    }

    /// How card numbers are shown ([`CardMask::Full`] by default).
    pub fn card_mask(mut self, mask: CardMask) -> Self {
        self.card_mask = mask;
        self
    }

    /// Redacts e-mail addresses too (off by default).
    pub fn emails(mut self, on: bool) -> Self {
        self.emails = on;
        self
    }

    /// Compiles the rules.
    pub fn build(self) -> Result<Redactor, BuildError> {
        static IDS: AtomicU64 = AtomicU64::new(1);
        let mut builtins: Vec<&Builtin> = BUILTINS.iter().collect();
        if self.emails {
            builtins.push(&EMAIL);
        }
        if builtins.len() + self.rules.len() > 64 {
            return Err(BuildError {
                rule: self.rules.last().map(|r| r.0.clone()).unwrap_or_default(),
                message: format!("at most {} user rules", 64 - builtins.len()),
            });
        }
        let mut rules = Vec::new();
        let mut literals: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<u64> = Vec::new();
        let mut digit_rules = Vec::new();
        let mut key_value = None;
        let mut need_separator = 0u64;
        let mut add_literal = |lit: &str, rule: usize| {
            let lit = lit.to_ascii_lowercase();
            match literals.iter().position(|l| *l == lit) {
                Some(i) => pattern_rules[i] |= 1 << rule,
                None => {
                    literals.push(lit);
                    pattern_rules.push(1 << rule);
                }
            }
        };
        for b in builtins {
            let idx = rules.len();
            let mut rule = compile(b.name, b.pattern, b.check)?;
            if b.check == Check::Card && self.card_mask == CardMask::Last4 {
                rule.replacement = Some(Replacement::KeepLast(4));
            }
            rules.push(rule);
            if b.needs_separator {
                need_separator |= 1 << idx;
            }
            match b.gate {
                Gate::Literals(lits) => lits.iter().for_each(|l| add_literal(l, idx)),
                Gate::Digits(min, byte) => digit_rules.push((idx, min, byte)),
            }
            if b.check == Check::SensitiveKey {
                key_value = Some(idx);
                KEY_LITERALS.iter().for_each(|l| add_literal(l, idx));
                for name in &self.names {
                    if let Some(last) = name.rsplit('_').next().filter(|w| !w.is_empty()) {
                        add_literal(last, idx);
                    }
                }
            }
        }
        let mut always = 0;
        for (name, pattern, replacement) in &self.rules {
            always |= 1 << rules.len();
            let mut rule = compile(name, pattern, Check::None)?;
            rule.replacement = *replacement;
            rules.push(rule);
        }
        // A DFA: one table lookup per byte, the fastest scan for short values.
        let prefilter = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&literals)
            .map_err(|e| BuildError {
                rule: "prefilter".into(),
                message: e.to_string(),
            })?;
        Ok(Redactor {
            inner: Arc::new(Inner {
                id: IDS.fetch_add(1, Ordering::Relaxed),
                rules,
                prefilter,
                pattern_rules,
                always,
                min_digits: digit_rules.iter().map(|r| r.1).min().unwrap_or(usize::MAX),
                digit_rules,
                key_value,
                need_separator,
                emails: self.emails,
                names: self
                    .names
                    .iter()
                    .filter(|n| !n.is_empty())
                    .map(|n| n.split('_').map(str::to_owned).collect())
                    .collect(),
                replacement: self.replacement,
                hasher: RandomState::new(),
            }),
        })
    }
}

fn compile(name: &str, pattern: &str, check: Check) -> Result<Rule, BuildError> {
    let regex = Regex::new(pattern).map_err(|e| BuildError {
        rule: name.to_owned(),
        message: e.to_string(),
    })?;
    let groups = regex
        .capture_names()
        .enumerate()
        .filter(|(_, n)| {
            n.is_some_and(|n| {
                n.strip_prefix('s')
                    .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
            })
        })
        .map(|(i, _)| i)
        .collect();
    Ok(Rule {
        name: name.to_owned(),
        regex,
        groups,
        check,
        replacement: None,
    })
}

/// Appends the replacement of `secret`.
fn replace(
    out: &mut String,
    replacement: Replacement,
    secret: &str,
    digits_only: bool,
    hasher: &RandomState,
) {
    match replacement {
        Replacement::Redacted => out.push_str(REDACTED),
        Replacement::KeyedHash => {
            let h = hasher.hash_one(secret);
            out.push_str(&format!("[REDACTED:{:08x}]", h >> 32));
        }
        Replacement::KeepLast(n) => {
            let kept: Vec<char> = secret
                .chars()
                .filter(|c| !digits_only || c.is_ascii_digit())
                .collect();
            let n = usize::from(n);
            // Never show more than a third of a secret.
            if n == 0 || kept.len() < n * 3 {
                out.push_str(REDACTED);
                return;
            }
            out.push_str(&format!("[REDACTED:last{n}="));
            out.extend(&kept[kept.len() - n..]);
            out.push(']');
        }
    }
}

/// Where the prefilter saw a secret noun (for the pairs rule): inline for the usual few, so
/// a clean value that merely mentions `key` next to a `:` allocates nothing.
type Hits = smallvec::SmallVec<[usize; 16]>;

/// One found secret: its byte range and the rule's check (for the card mask).
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    /// The rule that found it (`usize::MAX` once merged with another rule's span).
    rule: usize,
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
    pub fn redact_text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut hits = Hits::new();
        let mask = self.candidates(text, &mut hits);
        if mask == 0 {
            return Cow::Borrowed(text);
        }
        let mut spans: Vec<Span> = Vec::new();
        for idx in 0..self.inner.rules.len() {
            if mask & (1 << idx) != 0 {
                self.find_spans(idx, text, &hits, &mut spans);
            }
        }
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

    /// The names of the rules that find a secret in `text` (`"vendor_token"`, `"jwt"`,
    /// `"key_value"` for a sensitive key whose value is not redacted, …), each once, in rule
    /// order: what an audit reports without showing the secret.
    pub fn find(&self, text: &str) -> Vec<&str> {
        let mut hits = Hits::new();
        let mask = self.candidates(text, &mut hits);
        let mut found = Vec::new();
        let mut spans = Vec::new();
        for idx in 0..self.inner.rules.len() {
            if mask & (1 << idx) != 0 {
                spans.clear();
                self.find_spans(idx, text, &hits, &mut spans);
                if !spans.is_empty() {
                    found.push(self.inner.rules[idx].name.as_str());
                }
            }
        }
        found
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
        let slot = (addr ^ (addr >> 7) ^ name.len()) % SLOTS;
        CACHE.with(|cache| {
            let (a, l, id, hit) = cache[slot].get();
            if (a, l, id) == key {
                return hit;
            }
            let sensitive = self.is_sensitive_name(name);
            cache[slot].set((key.0, key.1, key.2, sensitive));
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
    fn candidates(&self, text: &str, kv_hits: &mut Hits) -> u64 {
        let inner = &*self.inner;
        let mut mask = inner.always;
        let shape = Shape::of(text.as_bytes());
        if shape.separator || shape.long_run || shape.armour || (inner.emails && shape.at) {
            let kv_bit = inner.key_value.map_or(0, |kv| 1u64 << kv);
            for m in inner
                .prefilter
                .find_overlapping_iter(aho_corasick::Input::new(text))
            {
                let rules = inner.pattern_rules[m.pattern().as_usize()];
                mask |= rules;
                if rules & kv_bit != 0 && shape.separator {
                    kv_hits.push(m.start());
                }
            }
            if !shape.separator {
                mask &= !inner.need_separator;
            }
        }
        if shape.digits >= inner.min_digits {
            let group = crate::shape::longest_digit_group(text.as_bytes());
            for &(idx, min, byte) in &inner.digit_rules {
                if group >= min && byte.is_none_or(|b| text.as_bytes().contains(&b)) {
                    mask |= 1 << idx;
                }
            }
        }
        mask
    }

    fn find_spans(&self, idx: usize, text: &str, kv_hits: &[usize], spans: &mut Vec<Span>) {
        if Some(idx) == self.inner.key_value {
            let mut ranges = Vec::new();
            crate::pairs::find_pairs(text, kv_hits, |k| self.is_sensitive_name(k), &mut ranges);
            spans.extend(ranges.into_iter().map(|(start, end)| Span {
                start,
                end,
                rule: idx,
            }));
            return;
        }
        let rule = &self.inner.rules[idx];
        if !rule.regex.is_match(text) {
            return;
        }
        if rule.groups.is_empty() {
            // The whole match is the secret: no capture slots to allocate.
            for m in rule.regex.find_iter(text) {
                if !m.is_empty() && self.passes(rule.check, m.as_str()) {
                    spans.push(Span {
                        start: m.start(),
                        end: m.end(),
                        rule: idx,
                    });
                }
            }
            return;
        }
        for caps in rule.regex.captures_iter(text) {
            let m = rule
                .groups
                .iter()
                .find_map(|&g| caps.get(g))
                .or_else(|| caps.get(0));
            if let Some(m) = m.filter(|m| !m.is_empty() && self.passes(rule.check, m.as_str())) {
                spans.push(Span {
                    start: m.start(),
                    end: m.end(),
                    rule: idx,
                });
            }
        }
    }

    fn passes(&self, check: Check, m: &str) -> bool {
        match check {
            Check::Card => is_card(m),
            Check::Ssn => is_ssn(m),
            Check::TokenLike => is_token_like(m),
            Check::AwsSecret => is_aws_secret(m),
            Check::Iban => is_iban(m),
            Check::NotAWord => crate::rules::is_not_a_word(m),
            Check::None | Check::SensitiveKey => true,
        }
    }
}
