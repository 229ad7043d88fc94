//! Users' rules in the format teams already keep for repository scanning: gitleaks TOML.
//!
//! What applies to a log line is kept: `[[rules]]` with `id`, `regex`, `secretGroup`,
//! `keywords` (case-insensitive literals gating the rule, fed to the redactor's prefilter),
//! `entropy` (Shannon entropy of the secret, in bits per character), and allowlists — the
//! global `[allowlist]`/`[[allowlists]]` and each rule's `[[rules.allowlists]]` — with their
//! `regexes` (against the secret, the match or the line, as `regexTarget` says) and
//! `stopwords`, combined by `condition` (`OR` by default).
//!
//! What cannot apply to a log line is skipped and reported with a count and a reason: rules
//! without a `regex` (path-only rules), regexes Rust's `regex` cannot compile (RE2 and Rust
//! share their syntax; the rare difference is reported), and allowlists made only of
//! `paths` or `commits`. A file that is not valid TOML, or a rule without an `id`, is an
//! error naming the rule and the problem.
//!
//! Dependencies: `toml` and `serde` (derive) read the file; they are what every Rust TOML
//! reader uses. They are behind the `rules-file` feature: nine crates and a third of
//! prodlog's cold build that a service without a rules file does not need.

use regex::Regex;

use crate::builder::BuildError;

#[derive(Default)]
#[cfg_attr(feature = "rules-file", derive(serde::Deserialize), serde(default))]
struct File {
    rules: Vec<RawRule>,
    allowlist: Option<RawAllow>,
    allowlists: Vec<RawAllow>,
}

#[derive(Default)]
#[cfg_attr(feature = "rules-file", derive(serde::Deserialize), serde(default))]
struct RawRule {
    id: Option<String>,
    regex: Option<String>,
    #[cfg_attr(feature = "rules-file", serde(rename = "secretGroup"))]
    secret_group: Option<usize>,
    entropy: Option<f64>,
    keywords: Vec<String>,
    allowlist: Option<RawAllow>,
    allowlists: Vec<RawAllow>,
}

#[derive(Default)]
#[cfg_attr(feature = "rules-file", derive(serde::Deserialize), serde(default))]
struct RawAllow {
    regexes: Vec<String>,
    stopwords: Vec<String>,
    paths: Vec<String>,
    commits: Vec<String>,
    #[cfg_attr(feature = "rules-file", serde(rename = "regexTarget"))]
    regex_target: Option<String>,
    condition: Option<String>,
}

/// What an allowlist's regexes are matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Secret,
    Match,
    Line,
}

/// One allowlist, compiled.
#[derive(Debug)]
pub(crate) struct Allow {
    regexes: Vec<Regex>,
    /// Lower-case.
    stopwords: Vec<String>,
    target: Target,
    /// `AND`: every criterion must allow; `OR`: any.
    all: bool,
}

impl Allow {
    /// Does this allowlist let `secret` (found as `matched` in `line`) through?
    pub(crate) fn allows(&self, secret: &str, matched: &str, line: &str) -> bool {
        let target = match self.target {
            Target::Secret => secret,
            Target::Match => matched,
            Target::Line => line,
        };
        let lower = secret.to_ascii_lowercase();
        let by_regex =
            (!self.regexes.is_empty()).then(|| self.regexes.iter().any(|r| r.is_match(target)));
        let by_word = (!self.stopwords.is_empty())
            .then(|| self.stopwords.iter().any(|w| lower.contains(w.as_str())));
        match (by_regex, by_word) {
            (Some(a), Some(b)) if self.all => a && b,
            (Some(a), Some(b)) => a || b,
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => false,
        }
    }
}

/// One rule of a file, compiled.
#[derive(Debug)]
pub(crate) struct FileRule {
    pub(crate) id: String,
    pub(crate) regex: Regex,
    pub(crate) secret_group: Option<usize>,
    pub(crate) entropy: Option<f64>,
    /// Lower-case; empty: the rule runs on every text.
    pub(crate) keywords: Vec<String>,
    pub(crate) allow: Vec<Allow>,
}

/// The rules of one file, the global allowlists, and what was skipped and why.
#[derive(Debug, Default)]
pub(crate) struct LoadedRules {
    pub(crate) rules: Vec<FileRule>,
    pub(crate) global: Vec<Allow>,
    pub(crate) skipped: Vec<(String, String)>,
}

/// A gitleaks (Go RE2) regex in Rust's syntax: `\w`, `\d`, `\s` are ASCII in RE2, as they
/// are written out here (Unicode classes would also blow Rust's size limit on rules such
/// as gitleaks' `generic-api-key`), and a `{` or `}` that does not make a repetition is a
/// literal in RE2, so it is escaped.
pub(crate) fn translate(re2: &str) -> String {
    let b = re2.as_bytes();
    let mut out = String::with_capacity(re2.len() + 16);
    let mut in_class = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            let class = match b[i + 1] {
                b'w' => Some("0-9A-Za-z_"),
                b'd' => Some("0-9"),
                b's' => Some("\\t\\n\\x0C\\r "),
                _ => None,
            };
            match class {
                Some(set) if in_class => out.push_str(set),
                Some(set) => {
                    out.push('[');
                    out.push_str(set);
                    out.push(']');
                }
                None => {
                    out.push('\\');
                    let ch = re2[i + 1..].chars().next().unwrap_or('\\');
                    out.push(ch);
                    i += ch.len_utf8() + 1;
                    continue;
                }
            }
            i += 2;
            continue;
        }
        if in_class {
            if c == b']' && !out.ends_with('[') && !out.ends_with("[^") {
                in_class = false;
            }
        } else if c == b'[' {
            in_class = true;
        } else if c == b'{' {
            let rest = &re2[i..];
            let end = rest.find('}');
            let repetition = end.is_some_and(|end| {
                let inner = &rest[1..end];
                !inner.is_empty()
                    && inner.as_bytes()[0].is_ascii_digit()
                    && inner.bytes().all(|x| x.is_ascii_digit() || x == b',')
                    && inner.matches(',').count() <= 1
            });
            match end.filter(|_| repetition) {
                Some(end) => {
                    out.push_str(&rest[..=end]);
                    i += end + 1;
                }
                None => {
                    out.push_str("\\{");
                    i += 1;
                }
            }
            continue;
        } else if c == b'}' {
            out.push_str("\\}");
            i += 1;
            continue;
        }
        let ch = re2[i..].chars().next().unwrap_or('?');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn compile(re2: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(&translate(re2))
        .size_limit(32 << 20)
        .build()
}

fn last_line(e: &regex::Error) -> String {
    e.to_string()
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Shannon entropy of `s` in bits per character (gitleaks' definition).
pub(crate) fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    crate::issued::entropy(&counts, s.len())
}

fn compile_allow(raw: RawAllow, skipped: &mut Vec<(String, String)>, owner: &str) -> Option<Allow> {
    let all = raw
        .condition
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("and"));
    let target = match raw.regex_target.as_deref() {
        Some("match") => Target::Match,
        Some("line") => Target::Line,
        _ => Target::Secret,
    };
    let inapplicable = !raw.paths.is_empty() || !raw.commits.is_empty();
    if raw.regexes.is_empty() && raw.stopwords.is_empty() {
        if inapplicable {
            skipped.push((
                format!("{owner} (allowlist)"),
                "an allowlist of paths or commits only (log lines have neither)".to_owned(),
            ));
        }
        return None;
    }
    if inapplicable && all {
        // `AND` with a path criterion can never hold for a log line.
        skipped.push((
            format!("{owner} (allowlist)"),
            "an allowlist that needs a path or commit (condition AND)".to_owned(),
        ));
        return None;
    }
    let mut regexes = Vec::new();
    for r in raw.regexes {
        match compile(&r) {
            Ok(re) => regexes.push(re),
            Err(e) => skipped.push((
                format!("{owner} (allowlist)"),
                format!("allowlist regex not supported: {}", last_line(&e)),
            )),
        }
    }
    Some(Allow {
        regexes,
        stopwords: raw
            .stopwords
            .iter()
            .map(|w| w.to_ascii_lowercase())
            .collect(),
        target,
        all,
    })
}

#[cfg(feature = "rules-file")]
fn read_toml(text: &str, source: &str) -> Result<File, BuildError> {
    toml::from_str(text)
        .map_err(|e| BuildError::new(source, format!("not a gitleaks rules file: {e}")))
}

/// Without the TOML reader: a clear error rather than rules silently left out.
#[cfg(not(feature = "rules-file"))]
fn read_toml(text: &str, source: &str) -> Result<File, BuildError> {
    let _ = text;
    Err(BuildError::new(
        source,
        "reading a rules file needs the `rules-file` cargo feature of prodlog (or \
         prodlog-redact); this program was built without it"
            .to_owned(),
    ))
}

/// Parses a gitleaks TOML file; `source` names it in errors.
pub(crate) fn parse(text: &str, source: &str) -> Result<LoadedRules, BuildError> {
    let file = read_toml(text, source)?;
    let mut out = LoadedRules::default();
    for raw in file.allowlist.into_iter().chain(file.allowlists) {
        if let Some(a) = compile_allow(raw, &mut out.skipped, "[allowlist]") {
            out.global.push(a);
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, raw) in file.rules.into_iter().enumerate() {
        let id = raw
            .id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| BuildError::new(source, format!("rule {} has no id", i + 1)))?;
        if !seen.insert(id.clone()) {
            return Err(BuildError::new(
                &id,
                format!("a second rule with this id in {source}"),
            ));
        }
        let Some(pattern) = raw.regex.as_deref() else {
            out.skipped.push((
                id,
                "no regex (path rules do not apply to log lines)".to_owned(),
            ));
            continue;
        };
        let regex = match compile(pattern) {
            Ok(r) => r,
            Err(e) => {
                out.skipped
                    .push((id, format!("regex not supported: {}", last_line(&e))));
                continue;
            }
        };
        if raw.secret_group.is_some_and(|g| g >= regex.captures_len()) {
            return Err(BuildError::new(
                &id,
                format!(
                    "secretGroup {} but the regex has {} groups",
                    raw.secret_group.unwrap_or(0),
                    regex.captures_len() - 1
                ),
            ));
        }
        let mut allow = Vec::new();
        for a in raw.allowlist.into_iter().chain(raw.allowlists) {
            if let Some(a) = compile_allow(a, &mut out.skipped, &id) {
                allow.push(a);
            }
        }
        out.rules.push(FileRule {
            id,
            regex,
            secret_group: raw.secret_group.filter(|g| *g > 0),
            entropy: raw.entropy,
            keywords: raw
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            allow,
        });
    }
    Ok(out)
}

impl FileRule {
    /// The secrets this rule finds in `text`, as byte ranges, after its entropy threshold and
    /// every allowlist (its own, then `global`).
    pub(crate) fn find(&self, text: &str, global: &[Allow], out: &mut Vec<(usize, usize)>) {
        for caps in self.regex.captures_iter(text) {
            let Some(whole) = caps.get(0) else { continue };
            // The secret group, else the first group that matched, else the whole match.
            let secret = match self.secret_group {
                Some(g) => caps.get(g),
                None => (1..caps.len()).find_map(|g| caps.get(g).filter(|m| !m.is_empty())),
            }
            .unwrap_or(whole);
            if secret.is_empty() {
                continue;
            }
            let s = secret.as_str();
            if self.entropy.is_some_and(|min| entropy(s) < min) {
                continue;
            }
            if self
                .allow
                .iter()
                .chain(global)
                .any(|a| a.allows(s, whole.as_str(), text))
            {
                continue;
            }
            out.push((secret.start(), secret.end()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re2_syntax_becomes_rust_syntax() {
        assert_eq!(translate(r"[\w.-]{0,50}\d"), r"[0-9A-Za-z_.-]{0,50}[0-9]");
        assert_eq!(
            translate(r"^\$(?:\d+|{\d+})$"),
            r"^\$(?:[0-9]+|\{[0-9]+\})$"
        );
        assert!(compile(r"^\${(?:[A-Z_]+|[a-z_]+)}$").is_ok());
        assert!(compile(r"['\x22]?\$?{{[^}]+}}['\x22]?").is_ok());
    }

    #[test]
    fn entropy_is_bits_per_character() {
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
    }

    #[cfg(feature = "rules-file")]
    #[test]
    fn a_small_file_with_every_construct() {
        let toml = r#"
            [allowlist]
            regexes = ['''^EXAMPLE''']
            paths = ['''\.md$''']

            [[rules]]
            id = "acme-token"
            regex = '''acme[_-]?token\s*[:=]\s*([a-z0-9]{16})'''
            keywords = ["ACME"]
            entropy = 2.5
            [[rules.allowlists]]
            stopwords = ["dummy"]

            [[rules]]
            id = "path-only"
            path = '''\.pem$'''
        "#;
        let loaded = parse(toml, "test.toml").unwrap();
        assert_eq!(loaded.rules.len(), 1);
        assert_eq!(loaded.skipped.len(), 1);
        assert_eq!(loaded.rules[0].keywords, ["acme"]);
        let mut found = Vec::new();
        let r = &loaded.rules[0];
        r.find("acme_token=a1b2c3d4e5f6a7b8 ok", &loaded.global, &mut found);
        assert_eq!(found.len(), 1);
        found.clear();
        r.find("acme_token=aaaaaaaaaaaaaaaa", &loaded.global, &mut found);
        assert!(found.is_empty(), "below the entropy threshold");
        r.find("acme_token=dummy00000000000a", &loaded.global, &mut found);
        assert!(found.is_empty(), "a stopword");
    }

    #[cfg(feature = "rules-file")]
    #[test]
    fn bad_files_are_errors_naming_the_rule() {
        let e = parse("[[rules]]\nregex = 'x'\n", "f.toml").unwrap_err();
        assert_eq!(e.to_string(), "redaction rule \"f.toml\": rule 1 has no id");
        let e = parse(
            "[[rules]]\nid = 'a'\nregex = 'x'\nsecretGroup = 3\n",
            "f.toml",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "redaction rule \"a\": secretGroup 3 but the regex has 0 groups"
        );
        assert!(parse("[[rules]\n", "f.toml").is_err());
    }
}
