//! The monotonic clock, injected so tests never depend on real sleeps being exact.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Where span timings read the time: a monotonic reading, as time since an origin of the
/// clock's choosing (only differences are used).
pub trait Clock: Send + Sync + 'static {
    /// Time since the clock's origin.
    fn now(&self) -> Duration;
}

/// The CPU's time-stamp counter through `quanta` (calibrated against the OS's monotonic
/// clock; falls back to it where there is no usable TSC): a reading costs a few
/// nanoseconds instead of a `clock_gettime` call.
#[derive(Debug, Clone)]
pub struct SystemClock {
    clock: quanta::Clock,
    origin: quanta::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        let clock = quanta::Clock::new();
        let origin = clock.now();
        SystemClock { clock, origin }
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Duration {
        self.clock.now().saturating_duration_since(self.origin)
    }
}

/// A clock that moves only when told to.
///
/// ```
/// use prodlog_timing::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_millis(250));
/// assert_eq!(clock.now() - t0, Duration::from_millis(250));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    offset_ns: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        ManualClock::default()
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let ns = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.offset_ns.fetch_add(ns, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.offset_ns.load(Ordering::SeqCst))
    }
}
