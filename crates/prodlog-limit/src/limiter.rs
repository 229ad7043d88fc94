//! The per-callsite token buckets, and the filter that consults them.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tracing_log::NormalizeEvent;

use tracing_core::field::{Field, Visit};
use tracing_core::subscriber::Interest;
use tracing_core::{span, Event, Level, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::clock;
use crate::spec::LimitSpec;

/// Callsites tracked; a program has fewer callsites that log than this (a callsite that
/// finds the table full is not limited, and counted in [`Stats::untracked`]).
const SLOTS: usize = 4096;

/// The target of the summaries (never limited themselves).
pub const SUMMARY_TARGET: &str = "prodlog::limit";

/// One callsite's bucket and what it held back since its last summary.
pub(crate) struct Slot {
    /// The callsite's metadata address (0: free).
    key: AtomicUsize,
    /// The limits are in place.
    ready: AtomicBool,
    pub(crate) meta: OnceLock<&'static Metadata<'static>>,
    /// For a `log` record: its own target and `file:line` (`meta` is the bridge's callsite,
    /// one per level, shared by every record of that level).
    pub(crate) origin: OnceLock<(String, String)>,
    /// Microseconds one event's token takes to come back (0: unlimited).
    interval: AtomicU64,
    /// The most the theoretical arrival time may run ahead of now (burst × interval).
    window: AtomicU64,
    /// Generic cell rate algorithm: when the bucket will be full again, in µs.
    tat: AtomicU64,
    pub(crate) suppressed: AtomicU64,
    /// Wall-clock ms of the first and last suppressed event since the last summary.
    pub(crate) first_ms: AtomicU64,
    pub(crate) last_ms: AtomicU64,
    /// The next suppressed event records its fields (set after each summary and tick).
    pub(crate) capture: AtomicBool,
    /// The message and the other fields of a recent held-back event.
    pub(crate) fields: Mutex<(String, String)>,
    pub(crate) last_summary_ms: AtomicU64,
    /// Collapsing: a hash of the last event's field values, and how many identical events
    /// followed it since the last summary.
    last_hash: AtomicU64,
    pub(crate) repeats: AtomicU64,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            key: AtomicUsize::new(0),
            ready: AtomicBool::new(false),
            meta: OnceLock::new(),
            origin: OnceLock::new(),
            interval: AtomicU64::new(0),
            window: AtomicU64::new(0),
            tat: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
            first_ms: AtomicU64::new(0),
            last_ms: AtomicU64::new(0),
            capture: AtomicBool::new(true),
            fields: Mutex::new((String::new(), String::new())),
            last_summary_ms: AtomicU64::new(0),
            last_hash: AtomicU64::new(0),
            repeats: AtomicU64::new(0),
        }
    }
}

pub(crate) struct Shared {
    pub(crate) spec: LimitSpec,
    /// Nothing is limited: every event passes without a lookup.
    pub(crate) off: bool,
    /// Per level (ERROR first): can a callsite of it be limited? If not, its events pass
    /// without a lookup and without taking a slot.
    may_limit: [bool; 5],
    pub(crate) slots: Box<[Slot]>,
    pub(crate) untracked: AtomicU64,
    pub(crate) suppressed_total: AtomicU64,
    pub(crate) repeated_total: AtomicU64,
    pub(crate) collapse: bool,
    pub(crate) summaries: AtomicU64,
    /// How often a callsite that stays suppressed gets a summary.
    pub(crate) summary_every: Duration,
}

/// Counters of a [`RateLimit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Events held back, in all.
    pub suppressed: u64,
    /// Summary events written.
    pub summaries: u64,
    /// Events of callsites that found the table full (let through, not limited).
    pub untracked: u64,
    /// Identical consecutive events collapsed (with [`LimitSpec::with_collapse`]).
    pub repeated: u64,
}

/// Per-callsite rate limiting for a layer ([`RateLimit::wrap`]): each callsite (so each
/// level of each `info!`/`error!` in the code) has a token bucket; an event that finds its
/// bucket empty is held back and counted, and a summary event says how many were held back,
/// when, and what the last one looked like — written when the callsite calms down, every
/// few seconds while it does not, and at shutdown ([`RateLimit::flush`]).
///
/// ```
/// use prodlog_limit::{Limit, LimitSpec, RateLimit};
/// use tracing_subscriber::prelude::*;
///
/// let limit = RateLimit::new(LimitSpec::off().with_default(Some(Limit::new(10, 10))));
/// let subscriber = tracing_subscriber::registry()
///     .with(limit.wrap(tracing_subscriber::fmt::layer().with_writer(std::io::sink)));
/// tracing::subscriber::with_default(subscriber, || {
///     for i in 0..1000 {
///         tracing::error!(i, "retrying");
///     }
///     limit.flush(); // the summary of what was held back, on this thread's subscriber
/// });
/// assert!(limit.stats().suppressed >= 980);
/// ```
///
/// Cost: an event of a level nothing limits (INFO and below by default) pays one array
/// read. A callsite that is not flooding pays one lookup in a fixed table keyed by the
/// callsite's address and one compare-and-swap on its bucket (time comes from a clock a
/// background thread advances every 10 ms, not from a syscall). A held-back event pays two
/// atomic adds, and formats nothing.
#[derive(Clone)]
pub struct RateLimit {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("spec", &self.shared.spec)
            .field("stats", &self.stats())
            .finish()
    }
}

const LEVELS: [Level; 5] = [
    Level::ERROR,
    Level::WARN,
    Level::INFO,
    Level::DEBUG,
    Level::TRACE,
];

fn level_index(level: Level) -> usize {
    match level {
        Level::ERROR => 0,
        Level::WARN => 1,
        Level::INFO => 2,
        Level::DEBUG => 3,
        _ => 4,
    }
}

fn hash(addr: usize) -> usize {
    (addr >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize) >> 20
}

impl RateLimit {
    /// A limiter with these limits (starts the clock and summary thread once per process).
    pub fn new(spec: LimitSpec) -> RateLimit {
        let shared = Arc::new(Shared {
            off: spec.is_off(),
            may_limit: LEVELS.map(|l| spec.may_limit(l)),
            collapse: spec.collapses(),
            spec,
            slots: (0..SLOTS).map(|_| Slot::new()).collect(),
            untracked: AtomicU64::new(0),
            suppressed_total: AtomicU64::new(0),
            repeated_total: AtomicU64::new(0),
            summaries: AtomicU64::new(0),
            summary_every: Duration::from_secs(5),
        });
        clock::start();
        crate::summary::register(&shared);
        RateLimit { shared }
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        let s = &*self.shared;
        Stats {
            suppressed: s.suppressed_total.load(Ordering::Relaxed),
            summaries: s.summaries.load(Ordering::Relaxed),
            untracked: s.untracked.load(Ordering::Relaxed),
            repeated: s.repeated_total.load(Ordering::Relaxed),
        }
    }

    /// Writes a summary for every callsite with events held back, now, on the calling
    /// thread's subscriber (the guard calls this at shutdown; tests call it to see them).
    pub fn flush(&self) {
        crate::summary::emit_due(&self.shared, true);
    }

    /// The slot of a callsite, claimed on first sight (`None`: the table is full).
    ///
    /// A `tracing` callsite is keyed by its metadata's address. A `log` record comes
    /// through one bridge callsite per level, so it is keyed by what identifies its own
    /// call: target, level, file and line (an odd key: addresses are even), and its limit
    /// is the one for its own target — a storm from one crate never takes the bucket of
    /// another's errors.
    fn slot(&self, event: &Event<'_>) -> Option<&Slot> {
        let meta = event.metadata();
        let normalized = event.normalized_metadata();
        let key = match &normalized {
            Some(n) => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (n.target(), n.level(), n.file(), n.line(), n.module_path()).hash(&mut h);
                (h.finish() as usize) | 1
            }
            None => std::ptr::from_ref(meta) as usize,
        };
        let slots = &self.shared.slots;
        let mut i = hash(key) % SLOTS;
        for _ in 0..SLOTS {
            let slot = &slots[i];
            match slot.key.load(Ordering::Acquire) {
                k if k == key => return Some(slot),
                0 => {
                    if slot
                        .key
                        .compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        let own = normalized.as_ref().unwrap_or(meta);
                        let limit = if own.target().starts_with(SUMMARY_TARGET) {
                            None
                        } else {
                            self.shared.spec.limit_for(own)
                        };
                        if let Some(l) = limit {
                            let interval = l.interval().as_micros().max(1) as u64;
                            slot.interval.store(interval, Ordering::Relaxed);
                            slot.window
                                .store(interval * u64::from(l.burst), Ordering::Relaxed);
                        }
                        if let Some(n) = &normalized {
                            let _ = slot.origin.set((
                                n.target().to_owned(),
                                format!("{}:{}", n.file().unwrap_or("?"), n.line().unwrap_or(0)),
                            ));
                        }
                        let _ = slot.meta.set(meta);
                        slot.ready.store(true, Ordering::Release);
                        return Some(slot);
                    }
                    if slot.key.load(Ordering::Acquire) == key {
                        return Some(slot);
                    }
                }
                _ => {}
            }
            i = (i + 1) % SLOTS;
        }
        None
    }

    /// Takes a token from the event's bucket, or counts it as held back.
    fn admit(&self, event: &Event<'_>) -> bool {
        let meta = event.metadata();
        if !self.shared.may_limit[level_index(*meta.level())] {
            return true;
        }
        let Some(slot) = self.slot(event) else {
            self.shared.untracked.fetch_add(1, Ordering::Relaxed);
            return true;
        };
        if !slot.ready.load(Ordering::Acquire) {
            return true;
        }
        if self.shared.collapse && !meta.target().starts_with(SUMMARY_TARGET) {
            let hash = value_hash(event);
            if slot.last_hash.swap(hash, Ordering::Relaxed) == hash {
                slot.repeats.fetch_add(1, Ordering::Relaxed);
                slot.last_ms.store(clock::unix_ms(), Ordering::Relaxed);
                self.shared.repeated_total.fetch_add(1, Ordering::Relaxed);
                self.keep_example(slot, event);
                return false;
            }
        }
        let interval = slot.interval.load(Ordering::Relaxed);
        if interval == 0 {
            return true;
        }
        let window = slot.window.load(Ordering::Relaxed);
        let now = clock::now_us();
        let mut tat = slot.tat.load(Ordering::Relaxed);
        loop {
            let next = tat.max(now) + interval;
            if next - now > window {
                break;
            }
            match slot
                .tat
                .compare_exchange_weak(tat, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(t) => tat = t,
            }
        }
        // Held back: counted, and now and then its fields kept for the summary.
        let ms = clock::unix_ms();
        if slot.suppressed.fetch_add(1, Ordering::Relaxed) == 0 {
            slot.first_ms.store(ms, Ordering::Relaxed);
        }
        slot.last_ms.store(ms, Ordering::Relaxed);
        self.shared.suppressed_total.fetch_add(1, Ordering::Relaxed);
        self.keep_example(slot, event);
        false
    }

    /// Now and then (after each summary and tick), a held-back event's fields are kept as
    /// the example its summary shows.
    fn keep_example(&self, slot: &Slot, event: &Event<'_>) {
        if slot.capture.load(Ordering::Relaxed) && slot.capture.swap(false, Ordering::Relaxed) {
            let mut fields = slot.fields.lock().unwrap_or_else(PoisonError::into_inner);
            let (message, rest) = &mut *fields;
            message.clear();
            rest.clear();
            event.record(&mut Capture { message, rest });
        }
    }
}

/// A hash of an event's field names and values (as `Debug` prints them), without
/// allocating: what "identical" means for collapsing.
fn value_hash(event: &Event<'_>) -> u64 {
    struct Hash(std::hash::DefaultHasher);
    impl std::fmt::Write for Hash {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            std::hash::Hasher::write(&mut self.0, s.as_bytes());
            Ok(())
        }
    }
    impl Visit for Hash {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self, "{}\u{1f}{value:?}\u{1e}", field.name());
        }
    }
    let mut h = Hash(std::hash::DefaultHasher::new());
    event.record(&mut h);
    std::hash::Hasher::finish(&h.0) | 1
}

/// The message, and the other fields as `name=value` pairs (the summary's formatter
/// redacts both like any text).
struct Capture<'a> {
    message: &'a mut String,
    rest: &'a mut String,
}

impl Capture<'_> {
    fn put(&mut self, field: &Field, value: std::fmt::Arguments<'_>) {
        if field.name() == "message" {
            let _ = self.message.write_fmt(value);
            // An example, not the record: a huge message is cut (at a character boundary).
            if self.message.len() > 2048 {
                let mut cut = 2048;
                while !self.message.is_char_boundary(cut) {
                    cut -= 1;
                }
                self.message.truncate(cut);
            }
            return;
        }
        if self.rest.len() > 2048 {
            return;
        }
        if !self.rest.is_empty() {
            self.rest.push(' ');
        }
        self.rest.push_str(field.name());
        self.rest.push('=');
        let _ = self.rest.write_fmt(value);
    }
}

impl Visit for Capture<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format_args!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, format_args!("{value}"));
    }
}

/// A layer whose events pass a [`RateLimit`] first (see [`RateLimit::wrap`]); everything
/// else (spans, callsite registration, downcasting) goes straight to the inner layer.
#[derive(Debug, Clone)]
pub struct Limited<L> {
    limit: RateLimit,
    inner: L,
}

impl RateLimit {
    /// `inner` with its events rate-limited: a held-back event never reaches it.
    ///
    /// A wrapper rather than a per-layer `Filter`: tracing-subscriber's per-layer filters
    /// trip a debug assertion when `event_enabled` says no (its filter state is not reset),
    /// and a wrapper also keeps the limiter out of the other layers' way.
    pub fn wrap<L>(&self, inner: L) -> Limited<L> {
        Limited {
            limit: self.clone(),
            inner,
        }
    }
}

impl<S, L> Layer<S> for Limited<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(meta)
    }

    fn enabled(&self, meta: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(meta, ctx)
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(id, values, ctx);
    }

    fn on_follows_from(&self, span: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if self.limit.shared.off || self.limit.admit(event) {
            self.inner.on_event(event, ctx);
        }
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx);
    }

    fn on_id_change(&self, old: &span::Id, new: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: std::any::TypeId) -> Option<*const ()> {
        if id == std::any::TypeId::of::<Self>() {
            return Some(std::ptr::from_ref(self).cast());
        }
        // SAFETY: forwarded to the inner layer's own implementation of the same contract.
        unsafe { self.inner.downcast_raw(id) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::prelude::*;

    fn claimed(limit: &RateLimit) -> usize {
        let slots = &limit.shared.slots;
        slots
            .iter()
            .filter(|s| s.key.load(Ordering::Relaxed) != 0)
            .count()
    }

    #[test]
    fn unlimited_levels_take_no_slot_of_the_callsite_table() {
        let limit = RateLimit::new(LimitSpec::default());
        let subscriber = tracing_subscriber::registry()
            .with(limit.wrap(tracing_subscriber::fmt::layer().with_writer(std::io::sink)));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("an access log line");
            tracing::debug!("a detail");
            assert_eq!(
                claimed(&limit),
                0,
                "INFO and DEBUG are not limited by default"
            );
            tracing::error!("a failure");
            tracing::warn!("a warning");
            assert_eq!(claimed(&limit), 2);
        });
    }
}
