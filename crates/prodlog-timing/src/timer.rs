//! Timing an operation that is not a span: [`start`], [`timed`], [`timed_async`].

use std::borrow::Cow;
use std::time::Duration;

use crate::layer::{current, ms, Latencies};

/// Times one operation from [`start`] until [`finish`](Timer::finish) or drop, then logs
/// an event named after it with `duration_ms` (WARN with `slow = true` over its threshold)
/// and adds it to the latency aggregates.
#[derive(Debug)]
#[must_use = "a timer measures until it is finished or dropped"]
pub struct Timer {
    name: Cow<'static, str>,
    start: Duration,
    /// Used when there is no timing layer.
    fallback: std::time::Instant,
    latencies: Option<Latencies>,
    done: bool,
}

/// Starts a [`Timer`]: `let timer = prodlog_timing::start("query_complete"); …; timer.finish();`
pub fn start(name: impl Into<Cow<'static, str>>) -> Timer {
    let latencies = current();
    let start = latencies
        .as_ref()
        .map_or(Duration::ZERO, |l| l.shared.clock.now());
    Timer {
        name: name.into(),
        start,
        fallback: std::time::Instant::now(),
        latencies,
        done: false,
    }
}

impl Timer {
    /// Stops the timer, logs it, and returns the duration.
    pub fn finish(mut self) -> Duration {
        self.done = true;
        self.report()
    }

    fn report(&self) -> Duration {
        let d = match &self.latencies {
            Some(l) => l.shared.clock.now().saturating_sub(self.start),
            None => self.fallback.elapsed(),
        };
        let name = &*self.name;
        let limit = self.latencies.as_ref().and_then(|l| {
            l.record(name, d);
            l.shared.thresholds.for_span(name, "")
        });
        match limit.filter(|limit| d > *limit) {
            Some(limit) => tracing::warn!(
                target: "prodlog_timing",
                operation = name,
                slow = true,
                duration_ms = ms(d),
                threshold_ms = ms(limit),
                "{name}"
            ),
            None => {
                tracing::info!(target: "prodlog_timing", operation = name, duration_ms = ms(d), "{name}")
            }
        }
        d
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if !self.done {
            self.done = true;
            self.report();
        }
    }
}

/// Runs `f`, timed as `name` (see [`Timer`]).
pub fn timed<R>(name: impl Into<Cow<'static, str>>, f: impl FnOnce() -> R) -> R {
    let timer = start(name);
    let out = f();
    timer.finish();
    out
}

/// Awaits `fut`, timed as `name` from the first poll to completion (see [`Timer`]).
pub async fn timed_async<F: std::future::Future>(
    name: impl Into<Cow<'static, str>>,
    fut: F,
) -> F::Output {
    let timer = start(name);
    let out = fut.await;
    timer.finish();
    out
}
