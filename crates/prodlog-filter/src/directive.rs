//! Parsing `RUST_LOG`-style directive strings, with errors that say which directive, where,
//! and what would be valid.

use std::fmt;

use tracing_core::LevelFilter;

/// One parsed directive: a level for a target prefix, or the default level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub(crate) target: Option<String>,
    pub(crate) level: LevelFilter,
}

impl Directive {
    /// The target this directive is for (`None` for the default level).
    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }

    /// The level it sets.
    pub fn level(&self) -> LevelFilter {
        self.level
    }
}

/// `target=level`, or the bare level of the default directive.
impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = self.level.to_string().to_ascii_lowercase();
        match &self.target {
            Some(t) => write!(f, "{t}={level}"),
            None => f.write_str(&level),
        }
    }
}

/// What is wrong with a directive.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirectiveErrorKind {
    /// Nothing between two commas.
    Empty,
    /// `=debug`: a level without a target.
    MissingTarget,
    /// `my_app=`: a target without a level.
    MissingLevel,
    /// A level name that is not one of `off`, `error`, `warn`, `info`, `debug`, `trace`, `0`–`5`.
    UnknownLevel(String),
    /// A target with characters no Rust module path or `log` target uses.
    BadTarget(String),
    /// `[span{field=value}]=level`: span and field filters are not supported.
    SpanFilter,
}

/// A directive that does not parse: which one, where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    directive: String,
    index: usize,
    offset: usize,
    kind: DirectiveErrorKind,
}

impl DirectiveError {
    /// The directive as written.
    pub fn directive(&self) -> &str {
        &self.directive
    }
    /// Its position among the comma-separated directives, from 1.
    pub fn position(&self) -> usize {
        self.index + 1
    }
    /// Its byte offset in the whole string.
    pub fn offset(&self) -> usize {
        self.offset
    }
    /// What is wrong with it.
    pub fn kind(&self) -> &DirectiveErrorKind {
        &self.kind
    }
}

const LEVELS: &str = "off, error, warn, info, debug, trace (any case) or 0-5";

impl fmt::Display for DirectiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "directive {} {:?} (at byte {}): ",
            self.position(),
            self.directive,
            self.offset
        )?;
        match &self.kind {
            DirectiveErrorKind::Empty => f.write_str("empty directive (two commas in a row?)"),
            DirectiveErrorKind::MissingTarget => {
                f.write_str("no target before '=': expected `target=level` or a bare level")
            }
            DirectiveErrorKind::MissingLevel => write!(f, "no level after '=': expected {LEVELS}"),
            DirectiveErrorKind::UnknownLevel(l) => {
                write!(f, "unknown level {l:?}: expected {LEVELS}")
            }
            DirectiveErrorKind::BadTarget(t) => write!(
                f,
                "invalid target {t:?}: expected a module path such as `my_app::db` (letters, digits, '_', '-', '.', ':')"
            ),
            DirectiveErrorKind::SpanFilter => f.write_str(
                "span and field filters (`[span{field=value}]`) are not supported: use `target=level`",
            ),
        }
    }
}

impl std::error::Error for DirectiveError {}

/// Parses a level name: any case, or a number (0 = off … 5 = trace).
pub fn parse_level(s: &str) -> Option<LevelFilter> {
    Some(match s {
        "0" => LevelFilter::OFF,
        "1" => LevelFilter::ERROR,
        "2" => LevelFilter::WARN,
        "3" => LevelFilter::INFO,
        "4" => LevelFilter::DEBUG,
        "5" => LevelFilter::TRACE,
        s if s.eq_ignore_ascii_case("off") => LevelFilter::OFF,
        s if s.eq_ignore_ascii_case("error") => LevelFilter::ERROR,
        s if s.eq_ignore_ascii_case("warn") || s.eq_ignore_ascii_case("warning") => {
            LevelFilter::WARN
        }
        s if s.eq_ignore_ascii_case("info") => LevelFilter::INFO,
        s if s.eq_ignore_ascii_case("debug") => LevelFilter::DEBUG,
        s if s.eq_ignore_ascii_case("trace") => LevelFilter::TRACE,
        _ => return None,
    })
}

fn valid_target(t: &str) -> bool {
    t.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/' | b'*'))
}

/// Parses one directive (already trimmed).
fn parse_one(d: &str) -> Result<Directive, DirectiveErrorKind> {
    if d.is_empty() {
        return Err(DirectiveErrorKind::Empty);
    }
    if d.contains('[') || d.contains('{') {
        return Err(DirectiveErrorKind::SpanFilter);
    }
    match d.split_once('=') {
        Some((target, level)) => {
            let (target, level) = (target.trim(), level.trim());
            if target.is_empty() {
                return Err(DirectiveErrorKind::MissingTarget);
            }
            if level.is_empty() {
                return Err(DirectiveErrorKind::MissingLevel);
            }
            if !valid_target(target) {
                return Err(DirectiveErrorKind::BadTarget(target.to_owned()));
            }
            let level = parse_level(level)
                .ok_or_else(|| DirectiveErrorKind::UnknownLevel(level.to_owned()))?;
            Ok(Directive {
                target: Some(target.to_owned()),
                level,
            })
        }
        None => match parse_level(d) {
            Some(level) => Ok(Directive {
                target: None,
                level,
            }),
            // A bare target enables everything for it, as in `RUST_LOG=my_app`.
            None if valid_target(d) => Ok(Directive {
                target: Some(d.to_owned()),
                level: LevelFilter::TRACE,
            }),
            None => Err(DirectiveErrorKind::BadTarget(d.to_owned())),
        },
    }
}

/// Parses a whole spec, keeping every valid directive and reporting every invalid one.
///
/// An empty or whitespace-only spec is no directive at all (not silence). A trailing comma
/// is tolerated; an empty directive between two commas is an error.
pub fn parse_directives(spec: &str) -> (Vec<Directive>, Vec<DirectiveError>) {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    if spec.trim().is_empty() {
        return (ok, errors);
    }
    let parts: Vec<&str> = spec.split(',').collect();
    let last = parts.len() - 1;
    let mut offset = 0;
    for (index, raw) in parts.iter().enumerate() {
        let d = raw.trim();
        let lead = raw.len() - raw.trim_start().len();
        if !(d.is_empty() && index == last && index > 0) {
            match parse_one(d) {
                Ok(directive) => ok.push(directive),
                Err(kind) => errors.push(DirectiveError {
                    directive: d.to_owned(),
                    index,
                    offset: offset + lead,
                    kind,
                }),
            }
        }
        offset += raw.len() + 1;
    }
    (ok, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_directive_position_and_fix() {
        let (ok, errs) = parse_directives("info,,my_app=verbose,=debug,x=,[s{a=1}]=trace");
        assert_eq!(ok.len(), 1);
        let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "directive 2 \"\" (at byte 5): empty directive (two commas in a row?)",
                "directive 3 \"my_app=verbose\" (at byte 6): unknown level \"verbose\": expected off, error, warn, info, debug, trace (any case) or 0-5",
                "directive 4 \"=debug\" (at byte 21): no target before '=': expected `target=level` or a bare level",
                "directive 5 \"x=\" (at byte 28): no level after '=': expected off, error, warn, info, debug, trace (any case) or 0-5",
                "directive 6 \"[s{a=1}]=trace\" (at byte 31): span and field filters (`[span{field=value}]`) are not supported: use `target=level`",
            ]
        );
    }

    #[test]
    fn blank_and_trailing_comma() {
        assert_eq!(parse_directives("   "), (vec![], vec![]));
        let (ok, errs) = parse_directives(" Debug , a::b=WARN,");
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(
            ok[0],
            Directive {
                target: None,
                level: LevelFilter::DEBUG
            }
        );
        assert_eq!(ok[1].target(), Some("a::b"));
        assert_eq!(ok[1].level(), LevelFilter::WARN);
    }
}
