//! The preset's span timing: `PRODLOG_TIMING`, `PRODLOG_SLOW`, `PRODLOG_TIMING_REPORT_S`.

use std::time::Duration;

use prodlog_timing::{Report, TimingLayer};

use crate::error::{InitError, InitErrorKind};
use std::ffi::OsString;

use crate::settings::{choice, number, read, Choices, Problem};

/// What the preset does with span durations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimingSettings {
    pub(crate) report: Report,
    /// Thresholds (`query=100ms,app::http=1s`), and where they came from.
    pub(crate) slow: String,
    pub(crate) slow_from: &'static str,
    pub(crate) log_every: Option<Duration>,
}

impl Default for TimingSettings {
    fn default() -> Self {
        TimingSettings {
            report: Report::Slow,
            slow: String::new(),
            slow_from: "builder().slow()",
            log_every: None,
        }
    }
}

/// The layer, keeping every valid threshold entry and reporting the others.
pub(crate) fn timing_layer(settings: &TimingSettings, problems: &mut Vec<Problem>) -> TimingLayer {
    let (builder, errors) = TimingLayer::builder()
        .report(settings.report)
        .slow_lossy(&settings.slow);
    if !errors.is_empty() {
        let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
        problems.push(Problem {
            error: InitError::new(
                InitErrorKind::InvalidEnv,
                format!(
                    "invalid slow thresholds in {}: {}",
                    settings.slow_from,
                    all.join("; ")
                ),
            ),
            fallback: "keeping the valid thresholds".to_owned(),
        });
    }
    builder.build()
}

impl Choices {
    /// Span timing, with `PRODLOG_TIMING`, `PRODLOG_SLOW` and `PRODLOG_TIMING_REPORT_S`.
    pub(crate) fn resolve_timing(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
        problems: &mut Vec<Problem>,
    ) -> TimingSettings {
        use prodlog_timing::Report;
        let code = &self.timing;
        let report = choice(
            env,
            "PRODLOG_TIMING",
            &[
                ("off", Report::Off),
                ("slow", Report::Slow),
                ("all", Report::All),
            ],
            code.report,
            "the configured reporting",
            problems,
        );
        // Like every variable, a bad PRODLOG_SLOW falls back to the code's value as a whole.
        let (slow, slow_from) =
            match read(env, "PRODLOG_SLOW", problems, "the configured thresholds") {
                Some(spec) => {
                    let (_, errors) = TimingLayer::builder().slow_lossy(&spec);
                    if errors.is_empty() {
                        (spec, "PRODLOG_SLOW")
                    } else {
                        let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
                        problems.push(Problem {
                            error: InitError::new(
                                InitErrorKind::InvalidEnv,
                                format!(
                                    "invalid slow thresholds in PRODLOG_SLOW: {}",
                                    all.join("; ")
                                ),
                            ),
                            fallback: "using the thresholds set in code".to_owned(),
                        });
                        (code.slow.clone(), code.slow_from)
                    }
                }
                None => (code.slow.clone(), code.slow_from),
            };
        let log_every = number(
            env,
            "PRODLOG_TIMING_REPORT_S",
            code.log_every,
            "the configured interval",
            "whole seconds (0: off)",
            |v| {
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .map(|s| Some(Duration::from_secs(s)).filter(|d| !d.is_zero()))
            },
            problems,
        );
        TimingSettings {
            report,
            slow,
            slow_from,
            log_every,
        }
    }
}
