//! The timing layer, the explicit timer, and the latency aggregates.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tracing_core::span::{Attributes, Id};
use tracing_core::Subscriber;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::clock::{Clock, SystemClock};
use crate::histogram::{Histogram, Summary};
use crate::rules::{SlowSpecError, Thresholds};

/// Which closing spans log an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Report {
    /// None (durations are still aggregated).
    Off,
    /// Only spans over their threshold: one WARN event with `slow = true`.
    #[default]
    Slow,
    /// Every span: an INFO event with its durations (WARN when over its threshold).
    All,
}

pub(crate) struct Shared {
    /// Unique per layer, never reused (the per-thread cache's key).
    id: u64,
    report: Report,
    /// Busy/idle need enter and exit: only when something reports them.
    track_entries: bool,
    pub(crate) thresholds: Thresholds,
    pub(crate) clock: Arc<dyn Clock>,
    aggregate: bool,
    stats: RwLock<HashMap<Cow<'static, str>, Arc<Histogram>>>,
}

impl Shared {
    fn histogram(&self, name: &str) -> Arc<Histogram> {
        if let Some(h) = self
            .stats
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            return h.clone();
        }
        let mut stats = self.stats.write().unwrap_or_else(PoisonError::into_inner);
        stats
            .entry(Cow::Owned(name.to_owned()))
            .or_insert_with(|| Arc::new(Histogram::new()))
            .clone()
    }
}

/// Milliseconds with microsecond precision.
pub(crate) fn ms(d: Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

/// Measures every span: total time (`duration_ms`), time inside (`busy_ms`) and waiting
/// between polls or entries (`idle_ms`), on a monotonic clock; flags slow ones; keeps
/// latency percentiles per span name. Build with [`TimingLayer::builder`].
///
/// ```
/// use prodlog_timing::TimingLayer;
/// use tracing_subscriber::prelude::*;
///
/// let timing = TimingLayer::builder().slow("query=100ms,*=1s")?.build();
/// let latencies = timing.latencies();
/// let subscriber = tracing_subscriber::registry().with(timing);
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("query", table = "orders").entered();
/// });
/// assert_eq!(latencies.summary("query").unwrap().count, 1);
/// # Ok::<(), Vec<prodlog_timing::SlowSpecError>>(())
/// ```
#[derive(Clone)]
pub struct TimingLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for TimingLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimingLayer")
            .field("report", &self.shared.report)
            .field("thresholds", &self.shared.thresholds)
            .finish_non_exhaustive()
    }
}

/// Configures a [`TimingLayer`].
///
/// # Default values
///
/// | setting | default |
/// |---|---|
/// | [`report`](Self::report) | [`Report::Slow`] |
/// | [`slow`](Self::slow) | no thresholds: nothing is flagged |
/// | [`aggregate`](Self::aggregate) | on |
/// | [`clock`](Self::clock) | [`SystemClock`] (the OS's monotonic clock; the TSC with feature `tsc`) |
#[must_use]
pub struct TimingBuilder {
    report: Report,
    thresholds: Thresholds,
    clock: Arc<dyn Clock>,
    aggregate: bool,
}

impl std::fmt::Debug for TimingBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimingBuilder")
            .field("report", &self.report)
            .field("thresholds", &self.thresholds)
            .finish_non_exhaustive()
    }
}

impl TimingBuilder {
    /// Which closing spans log an event.
    pub fn report(mut self, report: Report) -> Self {
        self.report = report;
        self
    }

    /// Adds thresholds from a spec like `PRODLOG_SLOW`: `query=100ms,app::http=1s,*=5s`.
    /// Every malformed entry is returned, named, with its position.
    pub fn slow(mut self, spec: &str) -> Result<Self, Vec<SlowSpecError>> {
        for (name, limit) in Thresholds::parse(spec)?.entries() {
            self.thresholds.push(&name, limit);
        }
        Ok(self)
    }

    /// Like [`slow`](Self::slow), keeping the valid entries and returning the errors of
    /// the others (for a caller that works around bad configuration).
    pub fn slow_lossy(mut self, spec: &str) -> (Self, Vec<SlowSpecError>) {
        let (valid, errors) = Thresholds::parse_lossy(spec);
        for (name, limit) in valid.entries() {
            self.thresholds.push(&name, limit);
        }
        (self, errors)
    }

    /// Adds one threshold: a span name, a target, or `*`.
    pub fn threshold(mut self, name: &str, limit: Duration) -> Self {
        self.thresholds.push(name, limit);
        self
    }

    /// Whether latency percentiles are kept per span name.
    pub fn aggregate(mut self, on: bool) -> Self {
        self.aggregate = on;
        self
    }

    /// The clock (tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The layer.
    pub fn build(self) -> TimingLayer {
        TimingLayer {
            shared: Arc::new(Shared {
                id: {
                    static NEXT: AtomicU64 = AtomicU64::new(1);
                    NEXT.fetch_add(1, Ordering::Relaxed)
                },
                track_entries: self.report == Report::All
                    || (self.report == Report::Slow && !self.thresholds.is_empty()),
                report: self.report,
                thresholds: self.thresholds,
                clock: self.clock,
                aggregate: self.aggregate,
                stats: RwLock::new(HashMap::new()),
            }),
        }
    }
}

impl TimingLayer {
    /// A builder with the defaults.
    pub fn builder() -> TimingBuilder {
        TimingBuilder {
            report: Report::Slow,
            thresholds: Thresholds::default(),
            clock: Arc::new(SystemClock::default()),
            aggregate: true,
        }
    }

    /// The latency aggregates this layer fills.
    pub fn latencies(&self) -> Latencies {
        Latencies {
            shared: self.shared.clone(),
        }
    }
}

/// The timing state of one span. It lives in the span's extensions (as an `Arc`) and in a
/// small per-thread cache keyed by span id, so entering and leaving a span the thread has
/// seen recently needs no registry lookup. A span id can be reused once its span closed:
/// `closed` tells a stale cache entry from a live one.
struct SpanTiming {
    /// The clock's reading at creation.
    created: Duration,
    /// Nanoseconds inside the span (while at least one thread has it entered).
    busy_ns: AtomicU64,
    /// When the span was last entered from depth 0, in ns since `created`.
    entered_at_ns: AtomicU64,
    depth: AtomicU32,
    closed: AtomicBool,
    threshold: Option<Duration>,
    histogram: Option<Arc<Histogram>>,
}

const CACHE_SLOTS: usize = 8;

/// The next slot to fill, and the slots: ((layer id, span id), timing). Span ids are
/// unique only within one subscriber, so the layer's own id is part of the key.
type Recent = (usize, [((u64, u64), Option<Arc<SpanTiming>>); CACHE_SLOTS]);

thread_local! {
    /// Recently entered spans of this thread: (span id, timing), filled round-robin.
    static RECENT: std::cell::RefCell<Recent> =
        const { std::cell::RefCell::new((0, [const { ((0, 0), None) }; CACHE_SLOTS])) };
}

fn since(created: Duration, now: Duration) -> u64 {
    u64::try_from(now.saturating_sub(created).as_nanos()).unwrap_or(u64::MAX)
}

impl TimingLayer {
    /// The timing of span `id`: from this thread's cache, or from the registry (then cached).
    fn timing<S>(&self, id: &Id, ctx: &Context<'_, S>, f: impl FnOnce(&SpanTiming))
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let key = (self.shared.id, id.into_u64());
        let mut f = Some(f);
        let hit = RECENT
            .try_with(|r| {
                let r = r.borrow();
                let found = r.1.iter().find_map(|(k, t)| {
                    t.as_ref()
                        .filter(|t| *k == key && !t.closed.load(Ordering::Acquire))
                });
                match (found, f.take()) {
                    (Some(t), Some(f)) => {
                        f(t);
                        true
                    }
                    (_, g) => {
                        f = g;
                        false
                    }
                }
            })
            .unwrap_or(false);
        let Some(f) = f.filter(|_| !hit) else { return };
        let Some(span) = ctx.span(id) else { return };
        let Some(t) = span.extensions().get::<Arc<SpanTiming>>().cloned() else {
            return;
        };
        f(&t);
        let _ = RECENT.try_with(|r| {
            let mut r = r.borrow_mut();
            let slot = r.0 % CACHE_SLOTS;
            r.1[slot] = (key, Some(t));
            r.0 = r.0.wrapping_add(1);
        });
    }
}

impl<S> Layer<S> for TimingLayer
where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let s = &self.shared;
        if s.report == Report::Off && !s.aggregate {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let meta = attrs.metadata();
        let timing = SpanTiming {
            created: s.clock.now(),
            busy_ns: AtomicU64::new(0),
            entered_at_ns: AtomicU64::new(0),
            depth: AtomicU32::new(0),
            closed: AtomicBool::new(false),
            threshold: s.thresholds.for_span(meta.name(), meta.target()),
            histogram: s.aggregate.then(|| s.histogram(meta.name())),
        };
        span.extensions_mut().insert(Arc::new(timing));
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if !self.shared.track_entries {
            return;
        }
        self.timing(id, &ctx, |t| {
            if t.depth.fetch_add(1, Ordering::AcqRel) == 0 {
                let now = since(t.created, self.shared.clock.now());
                t.entered_at_ns.store(now, Ordering::Release);
            }
        });
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if !self.shared.track_entries {
            return;
        }
        self.timing(id, &ctx, |t| {
            if t.depth.fetch_sub(1, Ordering::AcqRel) == 1 {
                let now = since(t.created, self.shared.clock.now());
                let entered = t.entered_at_ns.load(Ordering::Acquire);
                t.busy_ns
                    .fetch_add(now.saturating_sub(entered), Ordering::AcqRel);
            }
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let (total, busy, threshold, name) = {
            let ext = span.extensions();
            let Some(t) = ext.get::<Arc<SpanTiming>>() else {
                return;
            };
            t.closed.store(true, Ordering::Release);
            let total = self.shared.clock.now().saturating_sub(t.created);
            let busy = Duration::from_nanos(t.busy_ns.load(Ordering::Acquire)).min(total);
            if let Some(h) = &t.histogram {
                h.record(total);
            }
            (total, busy, t.threshold, span.name())
        };
        let slow = threshold.filter(|limit| total > *limit);
        let idle = total - busy;
        match (self.shared.report, slow) {
            (Report::Off, _) | (Report::Slow, None) => {}
            (_, Some(limit)) => tracing::warn!(
                target: "prodlog_timing",
                parent: &id,
                slow = true,
                duration_ms = ms(total),
                busy_ms = ms(busy),
                idle_ms = ms(idle),
                threshold_ms = ms(limit),
                "slow: {name}"
            ),
            (Report::All, None) => tracing::info!(
                target: "prodlog_timing",
                parent: &id,
                duration_ms = ms(total),
                busy_ms = ms(busy),
                idle_ms = ms(idle),
                "closed: {name}"
            ),
        }
    }
}

/// The latency aggregates of a [`TimingLayer`]: one histogram per span (or timer) name.
#[derive(Clone)]
pub struct Latencies {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.summaries()).finish()
    }
}

impl Latencies {
    /// The figures for one name, if it was recorded.
    pub fn summary(&self, name: &str) -> Option<Summary> {
        let stats = self
            .shared
            .stats
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        stats.get(name).map(|h| h.summary())
    }

    /// Every name with its figures, sorted by name.
    pub fn summaries(&self) -> Vec<(String, Summary)> {
        let stats = self
            .shared
            .stats
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<(String, Summary)> = stats
            .iter()
            .map(|(k, h)| (k.to_string(), h.summary()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Logs one INFO event per name (target `prodlog_timing`) with `count`, `p50_ms`,
    /// `p95_ms`, `p99_ms`, `max_ms` and `mean_ms`.
    pub fn log(&self) {
        for (name, s) in self.summaries() {
            if s.count == 0 {
                continue;
            }
            tracing::info!(
                target: "prodlog_timing",
                operation = %name,
                count = s.count,
                p50_ms = ms(s.p50),
                p95_ms = ms(s.p95),
                p99_ms = ms(s.p99),
                max_ms = ms(s.max),
                mean_ms = ms(s.mean),
                "latency: {name}"
            );
        }
    }

    /// Logs the figures every `every` on a background thread, and once more when the
    /// returned handle is dropped (at shutdown). The events go to the global subscriber.
    pub fn log_every(&self, every: Duration) -> std::io::Result<ReportThread> {
        let (stop, rx) = std::sync::mpsc::channel::<()>();
        let me = self.clone();
        let thread = std::thread::Builder::new()
            .name("prodlog-latency".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                    me.log();
                }
                me.log();
            })?;
        Ok(ReportThread {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Adds one duration under `name` (what a span close or a [`Timer`](crate::Timer) does).
    pub fn record(&self, name: &str, d: Duration) {
        if self.shared.aggregate {
            self.shared.histogram(name).record(d);
        }
    }
}

/// Stops the periodic latency log (logging once more) when dropped.
#[derive(Debug)]
pub struct ReportThread {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ReportThread {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The timing layer of the current subscriber, if it has one.
pub fn current() -> Option<Latencies> {
    tracing::dispatcher::get_default(|d| {
        d.downcast_ref::<TimingLayer>().map(TimingLayer::latencies)
    })
}
