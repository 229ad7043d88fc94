//! The preset's flight recorder: `PRODLOG_RECORD` and its bounds (see
//! `prodlog_format::RecordSettings` and `docs/recorder.md`).

use std::ffi::OsString;
use std::time::Duration;

use prodlog_format::RecordSettings;
use tracing_core::LevelFilter;

use crate::builder::Builder;
use crate::file::parse_bytes;
use crate::settings::{choice, number, Choices, Problem};

impl Choices {
    /// `PRODLOG_RECORD` (`debug`, `trace`, `off`), `PRODLOG_RECORD_EVENTS`,
    /// `PRODLOG_RECORD_BYTES`, `PRODLOG_RECORD_BUDGET`, `PRODLOG_RECORD_MAX_AGE_S`.
    /// With whether the level was chosen by name (`PRODLOG_RECORD`, `builder().record()`):
    /// otherwise the recorder is off under directives quieter than INFO.
    pub(crate) fn resolve_record(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
        problems: &mut Vec<Problem>,
    ) -> (RecordSettings, bool) {
        let code = self.record;
        let named = self.record_named
            || env("PRODLOG_RECORD").is_some_and(|v| !v.to_string_lossy().trim().is_empty());
        let level = choice(
            env,
            "PRODLOG_RECORD",
            &[
                ("debug", LevelFilter::DEBUG),
                ("trace", LevelFilter::TRACE),
                ("off", LevelFilter::OFF),
            ],
            code.level,
            "the configured level",
            problems,
        );
        let max_events = number(
            env,
            "PRODLOG_RECORD_EVENTS",
            code.max_events,
            "the configured count",
            "a count of events (at least 1)",
            |v| v.trim().parse::<usize>().ok().filter(|n| *n > 0),
            problems,
        );
        let size = |v: &str| {
            parse_bytes(v)
                .and_then(|b| usize::try_from(b).ok())
                .filter(|b| *b >= 1024)
        };
        let max_bytes = number(
            env,
            "PRODLOG_RECORD_BYTES",
            code.max_bytes,
            "the configured size",
            "a size such as 256k (at least 1k)",
            size,
            problems,
        );
        let budget = number(
            env,
            "PRODLOG_RECORD_BUDGET",
            code.budget,
            "the configured size",
            "a size such as 64M (at least 1k)",
            size,
            problems,
        );
        let max_age = number(
            env,
            "PRODLOG_RECORD_MAX_AGE_S",
            code.max_age,
            "the configured age",
            "whole seconds (at least 1)",
            |v| {
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .map(Duration::from_secs)
            },
            problems,
        );
        (
            RecordSettings {
                level,
                max_events,
                max_bytes,
                budget,
                max_age,
            },
            named,
        )
    }
}

/// The flight recorder, as [`Builder`] setters.
impl Builder {
    /// The flight recorder's level (`PRODLOG_RECORD`): inside a request span, events down
    /// to `level` that no output takes are kept, and written — marked `"recorded":true` —
    /// only if the request fails or is slow. `LevelFilter::OFF` turns it off. Default
    /// `DEBUG`, while the directives let INFO through; under quieter ones (`RUST_LOG=warn`)
    /// the recorder is off unless its level is set here or in `PRODLOG_RECORD`.
    pub fn record(mut self, level: LevelFilter) -> Self {
        self.choices.record.level = level;
        self.choices.record_named = true;
        self
    }

    /// The recorder's bounds: per request events and bytes, in all bytes, and the age past
    /// which a request (a leaked span) records no more (`PRODLOG_RECORD_EVENTS`,
    /// `PRODLOG_RECORD_BYTES`, `PRODLOG_RECORD_BUDGET`, `PRODLOG_RECORD_MAX_AGE_S`).
    pub fn record_bounds(
        mut self,
        events: usize,
        bytes: usize,
        budget: usize,
        max_age: Duration,
    ) -> Self {
        let r = &mut self.choices.record;
        r.max_events = events.max(1);
        r.max_bytes = bytes.max(1024);
        r.budget = budget.max(1024);
        r.max_age = max_age.max(Duration::from_secs(1));
        self
    }
}
