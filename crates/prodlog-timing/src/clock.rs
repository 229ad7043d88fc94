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

/// The monotonic clock of the OS (`std::time::Instant`, `clock_gettime` through the vDSO
/// on Linux: about 20 ns a reading); with the `tsc` feature, the CPU's time-stamp counter
/// through `quanta` (calibrated against the OS's clock, falling back to it where there is
/// no usable TSC: a few nanoseconds a reading, for three more crates in the build).
#[derive(Debug, Clone)]
pub struct SystemClock {
    #[cfg(feature = "tsc")]
    clock: quanta::Clock,
    #[cfg(feature = "tsc")]
    origin: quanta::Instant,
    #[cfg(not(feature = "tsc"))]
    origin: std::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        #[cfg(feature = "tsc")]
        {
            let clock = quanta::Clock::new();
            let origin = clock.now();
            SystemClock { clock, origin }
        }
        #[cfg(not(feature = "tsc"))]
        SystemClock {
            origin: std::time::Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Duration {
        #[cfg(feature = "tsc")]
        return self.clock.now().saturating_duration_since(self.origin);
        #[cfg(not(feature = "tsc"))]
        self.origin.elapsed()
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
