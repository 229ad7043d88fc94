//! A coarse clock the hot path reads with one atomic load: a background thread advances it
//! every 10 ms (and writes the due summaries every 100 ms). Reading `Instant::now()` per
//! event would cost more than the whole limiter.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

static START: OnceLock<Instant> = OnceLock::new();
static NOW_US: AtomicU64 = AtomicU64::new(0);
static UNIX_MS: AtomicU64 = AtomicU64::new(0);
/// No thread could be started: read the real clocks instead.
static DIRECT: AtomicBool = AtomicBool::new(false);

const TICK: Duration = Duration::from_millis(10);

fn real_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn advance() {
    let start = START.get_or_init(Instant::now);
    NOW_US.store(start.elapsed().as_micros() as u64, Ordering::Relaxed);
    UNIX_MS.store(real_unix_ms(), Ordering::Relaxed);
}

/// Starts the clock thread (once per process).
pub(crate) fn start() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        advance();
        let spawned = std::thread::Builder::new()
            .name("prodlog-limit".into())
            .spawn(|| {
                let mut ticks = 0u64;
                loop {
                    std::thread::sleep(TICK);
                    advance();
                    ticks += 1;
                    if ticks.is_multiple_of(10) {
                        crate::summary::tick();
                    }
                }
            });
        if spawned.is_err() {
            DIRECT.store(true, Ordering::Relaxed);
        }
    });
}

/// Microseconds since the limiter started (at most one tick stale).
pub(crate) fn now_us() -> u64 {
    if DIRECT.load(Ordering::Relaxed) {
        advance();
    }
    NOW_US.load(Ordering::Relaxed)
}

/// Wall-clock milliseconds since the Unix epoch (at most one tick stale).
pub(crate) fn unix_ms() -> u64 {
    if DIRECT.load(Ordering::Relaxed) {
        return real_unix_ms();
    }
    UNIX_MS.load(Ordering::Relaxed)
}
