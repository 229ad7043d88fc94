//! Resolving a target to its level: user directives, then the quiet table, then the default.

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
/// `my_app::db` but not `my_app_extra` (unlike `EnvFilter`'s plain string prefix).
pub(crate) fn covers(prefix: &str, target: &str) -> bool {
    if let Some(raw) = prefix.strip_suffix('*') {
        return target.starts_with(raw);
    }
    target.starts_with(prefix)
        && (target.len() == prefix.len() || target[prefix.len()..].starts_with("::"))
}

/// Everything needed to answer "which level for this target", immutable once built.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    /// The user's target directives, most specific (longest) first.
    user: Vec<(String, LevelFilter)>,
    /// The quiet table, most specific first, each at WARN.
    quiet: Vec<String>,
    default: LevelFilter,
}

impl Rules {
    pub(crate) fn new(
        directives: &[Directive],
        quiet: impl IntoIterator<Item = String>,
        default: LevelFilter,
    ) -> Self {
        let mut default = default;
        let mut user: Vec<(String, LevelFilter)> = Vec::new();
        for d in directives {
            match &d.target {
                None => default = d.level,
                Some(t) => {
                    // The last directive for the same target wins, as in EnvFilter.
                    user.retain(|(u, _)| u != t);
                    user.push((t.clone(), d.level));
                }
            }
        }
        user.sort_by_key(|u| std::cmp::Reverse(u.0.len()));
        let mut quiet: Vec<String> = quiet.into_iter().collect();
        // Longest first; equal names end up adjacent so `dedup` removes every repeat.
        quiet.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        quiet.dedup();
        Rules {
            user,
            quiet,
            default,
        }
    }

    /// The most verbose level enabled for `target`.
    pub(crate) fn level_for(&self, target: &str) -> LevelFilter {
        if let Some((_, level)) = self.user.iter().find(|(t, _)| covers(t, target)) {
            return *level;
        }
        if self.quiet.iter().any(|q| covers(q, target)) {
            return self.default.min(LevelFilter::WARN);
        }
        self.default
    }

    /// The most verbose level any target can have.
    pub(crate) fn max_level(&self) -> LevelFilter {
        self.user
            .iter()
            .map(|(_, l)| *l)
            .fold(self.default, LevelFilter::max)
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
        let quiet = ["ab", "cd", "ab", "x", "cd"].map(String::from);
        let r = Rules::new(&[], quiet, LevelFilter::INFO);
        assert_eq!(r.quiet, ["ab", "cd", "x"]);
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
