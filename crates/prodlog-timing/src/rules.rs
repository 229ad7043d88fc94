//! Slow thresholds: `NAME=DURATION` entries, where `NAME` is a span's name (exact), a
//! target (module-path prefix at `::` boundaries) or `*`.

use std::fmt;
use std::time::Duration;

/// An entry of a thresholds spec that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowSpecError {
    entry: String,
    position: usize,
    reason: String,
}

impl fmt::Display for SlowSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "slow threshold {} {:?}: {}; expected NAME=DURATION with NAME a span name, a target or `*`, and DURATION like 250us, 100ms, 1.5s or 2m",
            self.position, self.entry, self.reason
        )
    }
}

impl std::error::Error for SlowSpecError {}

/// Parses `250us`, `100ms`, `1.5s`, `2m`, `1h`, `500ns`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let secs = match unit {
        "ns" => n / 1e9,
        "us" | "µs" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs).ok()
}

/// One threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Threshold {
    pub(crate) name: String,
    pub(crate) limit: Duration,
}

/// The thresholds, most specific first: span names, then targets longest first, then `*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Thresholds(Vec<Threshold>);

fn covers(prefix: &str, target: &str) -> bool {
    target.starts_with(prefix)
        && (target.len() == prefix.len() || target[prefix.len()..].starts_with("::"))
}

impl Thresholds {
    pub(crate) fn parse(spec: &str) -> Result<Self, Vec<SlowSpecError>> {
        let (valid, errors) = Self::parse_lossy(spec);
        if errors.is_empty() {
            Ok(valid)
        } else {
            Err(errors)
        }
    }

    /// The valid entries, and an error for each other one.
    pub(crate) fn parse_lossy(spec: &str) -> (Self, Vec<SlowSpecError>) {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (i, raw) in spec.split(',').enumerate() {
            let entry = raw.trim();
            if entry.is_empty() && spec.trim().is_empty() {
                continue;
            }
            let err = |reason: &str| SlowSpecError {
                entry: entry.to_owned(),
                position: i + 1,
                reason: reason.to_owned(),
            };
            let Some((name, dur)) = entry.split_once('=') else {
                errors.push(err(if entry.is_empty() {
                    "empty entry"
                } else {
                    "no `=`"
                }));
                continue;
            };
            let name = name.trim();
            if name.is_empty() {
                errors.push(err("no name before `=`"));
                continue;
            }
            match parse_duration(dur) {
                Some(limit) => out.push(Threshold {
                    name: name.to_owned(),
                    limit,
                }),
                None => errors.push(err(&format!("{:?} is not a duration", dur.trim()))),
            }
        }
        (Thresholds(out), errors)
    }

    pub(crate) fn push(&mut self, name: &str, limit: Duration) {
        self.0.push(Threshold {
            name: name.to_owned(),
            limit,
        });
    }

    /// The threshold for a span: its name (exact) first, then the longest target prefix,
    /// then `*`.
    pub(crate) fn for_span(&self, name: &str, target: &str) -> Option<Duration> {
        if let Some(t) = self.0.iter().rev().find(|t| t.name == name) {
            return Some(t.limit);
        }
        if let Some(t) = self
            .0
            .iter()
            .filter(|t| t.name != "*" && covers(&t.name, target))
            .max_by_key(|t| t.name.len())
        {
            return Some(t.limit);
        }
        self.0.iter().rev().find(|t| t.name == "*").map(|t| t.limit)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn entries(&self) -> Vec<(String, Duration)> {
        self.0.iter().map(|t| (t.name.clone(), t.limit)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250us"), Some(Duration::from_micros(250)));
        assert_eq!(parse_duration("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        for bad in ["", "ms", "10", "1.5x", "-1s", "NaNs", "1e400s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_then_targets_then_star() {
        let t = Thresholds::parse("query=100ms, app::db=50ms, app=1s, *=2s").unwrap();
        assert_eq!(
            t.for_span("query", "app::db"),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            t.for_span("pool", "app::db::pool"),
            Some(Duration::from_millis(50))
        );
        assert_eq!(t.for_span("req", "app::http"), Some(Duration::from_secs(1)));
        assert_eq!(t.for_span("x", "apple"), Some(Duration::from_secs(2)));
        let errors = Thresholds::parse("query=100ms,db,x=fast,=1s").unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 3, "{text:?}");
        assert!(
            text[0].starts_with("slow threshold 2 \"db\": no `=`"),
            "{}",
            text[0]
        );
        assert!(text[1].starts_with("slow threshold 3 \"x=fast\": \"fast\" is not a duration"));
        assert!(text[2].starts_with("slow threshold 4 \"=1s\": no name before `=`"));
    }
}
