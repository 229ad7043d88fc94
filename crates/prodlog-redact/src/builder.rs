//! Building a [`Redactor`]: the built-in rules, the user's names and rules, the prefilter.

use std::fmt;
use std::hash::RandomState;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasickBuilder, AhoCorasickKind};
use regex::Regex;

use crate::names::normalize;
use crate::redactor::{CardMask, Inner, Redactor, Replacement, Rule};
use crate::rules::{Builtin, Check, Gate, BUILTINS, EMAIL};
use crate::vendors::VENDORS;

/// Literals one of which is in every key the built-in name rule finds sensitive.
#[rustfmt::skip]
const KEY_LITERALS: &[&str] = &[
    "pass", "pwd", "pw", "secret", "token", "key", "auth", "cookie", "cred", "ssn", "cvv", "cvc",
    "pin", "otp", "sig", "jwt", "bearer", "session", "iban", "card", "cc", "credit", "debit",
    "pan", "security", "social", "tax", "account", "routing", "bank", "conn", "pat", "psk",
    "client_id", "clientid", "access_id", "webhook",
    "sas",
];

/// A user rule that does not compile, or too many rules.
#[derive(Debug)]
pub struct BuildError {
    rule: String,
    message: String,
}

impl BuildError {
    pub(crate) fn new(rule: &str, message: impl Into<String>) -> BuildError {
        BuildError {
            rule: rule.to_owned(),
            message: message.into(),
        }
    }

    /// The rule (or rules file) at fault.
    pub fn rule(&self) -> &str {
        &self.rule
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redaction rule {:?}: {}", self.rule, self.message)
    }
}

impl std::error::Error for BuildError {}

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
    /// gitleaks TOML rule files, read at build.
    rule_files: Vec<RuleSource>,
}

#[derive(Debug, Clone)]
enum RuleSource {
    Path(std::path::PathBuf),
    Text(String, String),
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

    /// Adds the rules of a gitleaks TOML file (`[[rules]]` with `regex`, `secretGroup`,
    /// `keywords`, `entropy`, allowlists; see the crate docs). Read at
    /// [`build`](Self::build): an unreadable or invalid file is an error there; rules that
    /// cannot apply to log lines are skipped and listed by [`Redactor::skipped_rules`].
    ///
    /// Needs the `rules-file` feature; without it, `build` returns an error saying so.
    ///
    #[cfg_attr(feature = "rules-file", doc = "```")]
    #[cfg_attr(not(feature = "rules-file"), doc = "```ignore")]
    /// # let dir = std::env::temp_dir().join(format!("rules-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("rules.toml");
    /// std::fs::write(&path, "[[rules]]\nid = \"acme-ticket\"\nregex = 'ACME-[0-9]{8}'\nkeywords = [\"acme-\"]\n")?;
    /// let r = prodlog_redact::Redactor::builder().rules_file(&path).build()?;
    /// assert_eq!(r.redact_text("ticket ACME-12345678"), "ticket [REDACTED]");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rules_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.rule_files.push(RuleSource::Path(path.into()));
        self
    }

    /// Adds rules from the text of a gitleaks TOML file (`source` names it in errors).
    pub fn rules_toml(mut self, source: impl Into<String>, toml: impl Into<String>) -> Self {
        self.rule_files
            .push(RuleSource::Text(source.into(), toml.into()));
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
        let mut run_rules = 0u64;
        let mut issued_rule = None;
        let mut key_value = None;
        let mut vendor_rule = None;
        // For each prefilter literal, the vendor formats whose prefix it is.
        let mut pattern_vendors: Vec<Vec<u16>> = Vec::new();
        let mut need_separator = 0u64;
        let mut add_literal = |lit: &str, rule: usize, vendor: Option<u16>| {
            let lit = lit.to_ascii_lowercase();
            let i = match literals.iter().position(|l| *l == lit) {
                Some(i) => i,
                None => {
                    literals.push(lit);
                    pattern_rules.push(0);
                    pattern_vendors.push(Vec::new());
                    literals.len() - 1
                }
            };
            pattern_rules[i] |= 1 << rule;
            pattern_vendors[i].extend(vendor);
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
                Gate::Literals(lits) => lits.iter().for_each(|l| add_literal(l, idx, None)),
                Gate::Digits(digits) => digit_rules.push((idx, digits)),
                Gate::LongRun => run_rules |= 1 << idx,
            }
            if b.check == Check::Issued {
                issued_rule = Some(idx);
            }
            if b.check == Check::SensitiveKey {
                key_value = Some(idx);
                KEY_LITERALS.iter().for_each(|l| add_literal(l, idx, None));
                for name in &self.names {
                    if let Some(last) = name.rsplit('_').next().filter(|w| !w.is_empty()) {
                        add_literal(last, idx, None);
                    }
                }
            }
            if b.check == Check::Vendor {
                vendor_rule = Some(idx);
                for (i, v) in VENDORS.iter().enumerate() {
                    add_literal(v.prefix, idx, u16::try_from(i).ok());
                }
            }
        }
        // Rules files: each keyword feeds the prefilter, pointing at its rules.
        let mut files = crate::rules_file::LoadedRules::default();
        for source in &self.rule_files {
            let loaded = match source {
                RuleSource::Path(path) => {
                    let name = path.display().to_string();
                    let text = crate::config_file::read(path)
                        .map_err(|e| BuildError::new(&name, format!("cannot read: {e}")))?;
                    crate::rules_file::parse(&text, &name)?
                }
                RuleSource::Text(name, text) => crate::rules_file::parse(text, name)?,
            };
            files.rules.extend(loaded.rules);
            files.global.extend(loaded.global);
            files.skipped.extend(loaded.skipped);
        }
        let mut pattern_files: Vec<Vec<u32>> = vec![Vec::new(); literals.len()];
        let mut always_files = Vec::new();
        for (i, rule) in files.rules.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            if rule.keywords.is_empty() {
                always_files.push(i);
            }
            for k in rule.keywords.iter().filter(|k| !k.is_empty()) {
                match literals.iter().position(|l| l == k) {
                    Some(p) => pattern_files[p].push(i),
                    None => {
                        literals.push(k.clone());
                        pattern_rules.push(0);
                        pattern_vendors.push(Vec::new());
                        pattern_files.push(vec![i]);
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
                min_digits: digit_rules
                    .iter()
                    .map(|r| r.1.min)
                    .min()
                    .unwrap_or(usize::MAX),
                digit_rules,
                run_rules,
                issued_rule,
                key_value,
                vendor_rule,
                vendors: VENDORS.iter().map(|_| OnceLock::new()).collect(),
                pattern_vendors,
                pattern_files,
                always_files,
                file_rules: files.rules,
                file_allow: files.global,
                skipped: files.skipped,
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
