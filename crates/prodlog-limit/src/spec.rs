//! The limits: a default, and overrides per level or per target, from code or from
//! `PRODLOG_RATE_LIMIT`.

use std::fmt;
use std::time::Duration;

use tracing_core::{Level, Metadata};

/// A token bucket: `rate` events per second sustained, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Events per second, sustained.
    pub rate: u32,
    /// Events let through at once before the rate applies.
    pub burst: u32,
}

impl Limit {
    /// `rate` per second with a burst of `burst` (both at least 1).
    pub fn new(rate: u32, burst: u32) -> Limit {
        Limit {
            rate: rate.max(1),
            burst: burst.max(1),
        }
    }

    /// The time one event's token takes to come back.
    pub(crate) fn interval(&self) -> Duration {
        Duration::from_nanos(1_000_000_000 / u64::from(self.rate))
    }
}

/// The default limit of each ERROR and WARN callsite: 1000 events per second with a burst
/// of 10,000. A callsite has to log more than a thousand errors a second, for ten seconds,
/// before anything is held back; a retry loop that logs the same error a hundred thousand
/// times a second does not fill the disk. INFO and more verbose callsites are not limited
/// by default: the floods that fill disks are errors and warnings, while a busy access log
/// or a data export at INFO is wanted whole (`PRODLOG_RATE_LIMIT=1000/s` limits every
/// level).
pub const DEFAULT_LIMIT: Limit = Limit {
    rate: 1000,
    burst: 10_000,
};

/// Where a limit applies.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Level(Level),
    /// A target and its submodules.
    Target(String),
}

/// Every callsite's limit: a default, overrides per level, and per target (the longest
/// matching target wins over a level, which wins over the default). `off` turns limiting
/// off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSpec {
    default: Option<Limit>,
    scoped: Vec<(Scope, Option<Limit>)>,
    collapse: bool,
}

/// Errors and warnings at [`DEFAULT_LIMIT`], the rest unlimited.
impl Default for LimitSpec {
    fn default() -> Self {
        LimitSpec {
            default: None,
            scoped: vec![
                (Scope::Level(Level::ERROR), Some(DEFAULT_LIMIT)),
                (Scope::Level(Level::WARN), Some(DEFAULT_LIMIT)),
            ],
            collapse: false,
        }
    }
}

/// A limit spec that does not parse: the item and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    item: String,
    message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limit {:?}: {}", self.item, self.message)
    }
}

impl std::error::Error for SpecError {}

fn err(item: &str, message: impl Into<String>) -> SpecError {
    SpecError {
        item: item.to_owned(),
        message: message.into(),
    }
}

/// `100/s` or `100/s+1000` (rate and burst), or `off`.
fn limit(item: &str, s: &str) -> Result<Option<Limit>, SpecError> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let (rate, burst) = match s.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (s, None),
    };
    let rate = rate
        .trim()
        .strip_suffix("/s")
        .ok_or_else(|| err(item, "expected a rate such as 100/s"))?;
    let rate: u32 = rate
        .trim()
        .parse()
        .ok()
        .filter(|r| *r > 0)
        .ok_or_else(|| err(item, "the rate must be a whole number above 0, per second"))?;
    let burst = match burst {
        Some(b) => b
            .trim()
            .parse()
            .ok()
            .filter(|b| *b > 0)
            .ok_or_else(|| err(item, "the burst must be a whole number above 0"))?,
        None => rate.saturating_mul(10),
    };
    Ok(Some(Limit::new(rate, burst)))
}

impl LimitSpec {
    /// No limiting at all.
    pub fn off() -> LimitSpec {
        LimitSpec {
            default: None,
            scoped: Vec::new(),
            collapse: false,
        }
    }

    /// Also collapses identical consecutive events — the same callsite with the same field
    /// values — into one line and a summary `"repeated N times"` (off by default).
    pub fn with_collapse(mut self, on: bool) -> Self {
        self.collapse = on;
        self
    }

    /// Are identical consecutive events collapsed?
    pub fn collapses(&self) -> bool {
        self.collapse
    }

    /// Parses `PRODLOG_RATE_LIMIT`'s syntax: comma-separated items, each `off`, a limit for
    /// every callsite `RATE/s` (burst ten times the rate unless given), `burst=N` for its
    /// burst, or `SCOPE=RATE/s[+BURST]` / `SCOPE=off` where `SCOPE` is a level (`error`,
    /// `warn`, …) or a target (`app::db`, covering its submodules). Nothing is limited but
    /// what the spec names.
    ///
    /// ```
    /// use prodlog_limit::{Limit, LimitSpec};
    ///
    /// let spec = LimitSpec::parse("100/s,burst=1000,error=50/s+500,hyper=off").unwrap();
    /// assert_eq!(spec.default_limit(), Some(Limit::new(100, 1000)));
    /// assert!(LimitSpec::parse("100 per second").is_err());
    /// ```
    pub fn parse(spec: &str) -> Result<LimitSpec, SpecError> {
        let mut out = LimitSpec::off();
        let mut burst = None;
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if item.eq_ignore_ascii_case("off") {
                out.default = None;
                continue;
            }
            match item.split_once('=') {
                None => out.default = limit(item, item)?,
                Some((k, v)) if k.trim().eq_ignore_ascii_case("burst") => {
                    burst = Some(
                        v.trim()
                            .parse::<u32>()
                            .ok()
                            .filter(|b| *b > 0)
                            .ok_or_else(|| err(item, "the burst must be a whole number above 0"))?,
                    );
                }
                Some((scope, v)) => {
                    let scope = scope.trim();
                    if scope.is_empty()
                        || !scope
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-'))
                    {
                        return Err(err(item, "expected a level or a target before `=`"));
                    }
                    let scope = match scope.parse::<Level>() {
                        Ok(level) => Scope::Level(level),
                        Err(_) => Scope::Target(scope.to_owned()),
                    };
                    out.scoped.push((scope, limit(item, v)?));
                }
            }
        }
        if let (Some(b), Some(d)) = (burst, out.default.as_mut()) {
            d.burst = b;
        }
        Ok(out)
    }

    /// The limit of callsites no level or target override names.
    pub fn default_limit(&self) -> Option<Limit> {
        self.default
    }

    /// Sets the default limit (`None`: off unless an override says otherwise).
    pub fn with_default(mut self, limit: Option<Limit>) -> Self {
        self.default = limit;
        self
    }

    /// Sets the limit of a level (`None`: unlimited).
    pub fn with_level(mut self, level: Level, limit: Option<Limit>) -> Self {
        self.scoped.push((Scope::Level(level), limit));
        self
    }

    /// Sets the limit of a target and its submodules (`None`: unlimited).
    pub fn with_target(mut self, target: impl Into<String>, limit: Option<Limit>) -> Self {
        self.scoped.push((Scope::Target(target.into()), limit));
        self
    }

    /// Is anything limited at all?
    pub fn is_off(&self) -> bool {
        !self.collapse && self.default.is_none() && self.scoped.iter().all(|(_, l)| l.is_none())
    }

    /// Can any callsite of this level be limited (or collapsed)? Callsites of a level that
    /// cannot are let through without taking a slot of the callsite table, so a program's
    /// thousands of INFO and DEBUG callsites never crowd out its ERROR callsites.
    pub(crate) fn may_limit(&self, level: Level) -> bool {
        self.collapse
            || self.default.is_some()
            || self.scoped.iter().any(|(scope, l)| {
                l.is_some()
                    && match scope {
                        Scope::Level(s) => *s == level,
                        Scope::Target(_) => true,
                    }
            })
    }

    /// The limit of one callsite (decided once per callsite).
    pub(crate) fn limit_for(&self, meta: &Metadata<'_>) -> Option<Limit> {
        let target = meta.target();
        let mut best: Option<(usize, Option<Limit>)> = None;
        for (scope, l) in &self.scoped {
            if let Scope::Target(t) = scope {
                let covers = target == t
                    || (target.starts_with(t.as_str()) && target[t.len()..].starts_with("::"));
                if covers && best.is_none_or(|(len, _)| t.len() >= len) {
                    best = Some((t.len(), *l));
                }
            }
        }
        if let Some((_, l)) = best {
            return l;
        }
        for (scope, l) in self.scoped.iter().rev() {
            if *scope == Scope::Level(*meta.level()) {
                return *l;
            }
        }
        self.default
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_core::callsite::Identifier;
    use tracing_core::field::FieldSet;
    use tracing_core::metadata::Kind;

    struct Cs;
    impl tracing_core::Callsite for Cs {
        fn set_interest(&self, _: tracing_core::subscriber::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            unreachable!()
        }
    }
    static CS: Cs = Cs;

    fn meta(target: &'static str, level: Level) -> Metadata<'static> {
        Metadata::new(
            "event",
            target,
            level,
            None,
            None,
            None,
            FieldSet::new(&[], Identifier(&CS)),
            Kind::EVENT,
        )
    }

    #[test]
    fn the_default_limits_errors_and_warnings_only() {
        let spec = LimitSpec::default();
        assert_eq!(
            spec.limit_for(&meta("app", Level::ERROR)),
            Some(DEFAULT_LIMIT)
        );
        assert_eq!(
            spec.limit_for(&meta("app", Level::WARN)),
            Some(DEFAULT_LIMIT)
        );
        assert_eq!(spec.limit_for(&meta("app", Level::INFO)), None);
    }

    #[test]
    fn only_levels_something_limits_need_a_bucket() {
        let default = LimitSpec::default();
        assert!(default.may_limit(Level::ERROR) && default.may_limit(Level::WARN));
        assert!(!default.may_limit(Level::INFO) && !default.may_limit(Level::TRACE));
        let target = LimitSpec::off().with_target("app::db", Some(Limit::new(1, 1)));
        assert!(target.may_limit(Level::DEBUG));
        assert!(LimitSpec::off().with_collapse(true).may_limit(Level::INFO));
        assert!(LimitSpec::parse("1/s").unwrap().may_limit(Level::TRACE));
        assert!(!LimitSpec::parse("error=off")
            .unwrap()
            .may_limit(Level::ERROR));
    }

    #[test]
    fn targets_win_over_levels_which_win_over_the_default() {
        let spec =
            LimitSpec::parse("100/s,burst=1000,error=50/s+500,app::db=10/s,app::db::hot=off")
                .unwrap();
        assert_eq!(
            spec.limit_for(&meta("app", Level::INFO)),
            Some(Limit::new(100, 1000))
        );
        assert_eq!(
            spec.limit_for(&meta("app", Level::ERROR)),
            Some(Limit::new(50, 500))
        );
        assert_eq!(
            spec.limit_for(&meta("app::db", Level::ERROR)),
            Some(Limit::new(10, 100))
        );
        assert_eq!(
            spec.limit_for(&meta("app::db::pool", Level::INFO)),
            Some(Limit::new(10, 100))
        );
        assert_eq!(spec.limit_for(&meta("app::db::hot", Level::ERROR)), None);
        assert_eq!(
            spec.limit_for(&meta("app::dbx", Level::INFO)),
            Some(Limit::new(100, 1000))
        );
        assert!(LimitSpec::parse("off").unwrap().is_off());
        assert!(!LimitSpec::default().is_off());
    }

    #[test]
    fn bad_specs_name_the_item() {
        for (spec, msg) in [
            ("lots", "rate limit \"lots\": expected a rate such as 100/s"),
            (
                "0/s",
                "rate limit \"0/s\": the rate must be a whole number above 0, per second",
            ),
            (
                "burst=x",
                "rate limit \"burst=x\": the burst must be a whole number above 0",
            ),
            (
                "error=5/s+0",
                "rate limit \"error=5/s+0\": the burst must be a whole number above 0",
            ),
            (
                "a b=5/s",
                "rate limit \"a b=5/s\": expected a level or a target before `=`",
            ),
        ] {
            assert_eq!(LimitSpec::parse(spec).unwrap_err().to_string(), msg);
        }
    }
}
