//! The summaries: one event per callsite that had events held back — when it calms down,
//! every few seconds while it does not, and at shutdown — so the counts in the log are
//! exact: lines written + `suppressed` in the summaries = events logged.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tracing::Level;

use crate::clock;
use crate::limiter::{Shared, Slot, SUMMARY_TARGET};

/// Every live limiter, for the clock thread's ticks.
static LIMITERS: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

pub(crate) fn register(shared: &Arc<Shared>) {
    let mut all = LIMITERS.lock().unwrap_or_else(PoisonError::into_inner);
    all.retain(|w| w.strong_count() > 0);
    all.push(Arc::downgrade(shared));
}

/// Called by the clock thread every 100 ms: summaries that are due go to the global
/// subscriber.
pub(crate) fn tick() {
    for shared in live() {
        emit_due(&shared, false);
    }
}

fn live() -> Vec<Arc<Shared>> {
    LIMITERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .collect()
}

/// Writes every pending summary of every live limiter now, on the calling thread's
/// subscriber (for a process about to end: a signal, `std::process::exit`).
pub fn flush_all() {
    for shared in live() {
        emit_due(&shared, true);
    }
}

/// A callsite that held nothing back for this long has calmed down.
const QUIET_MS: u64 = 200;

/// Writes the summaries that are due (all pending ones with `all`).
pub(crate) fn emit_due(shared: &Shared, all: bool) {
    let now = clock::unix_ms();
    for slot in shared.slots.iter() {
        if slot.suppressed.load(Ordering::Relaxed) == 0 && slot.repeats.load(Ordering::Relaxed) == 0
        {
            continue;
        }
        // A fresher example of what is being held back for the next summary.
        slot.capture.store(true, Ordering::Relaxed);
        let last = slot.last_ms.load(Ordering::Relaxed);
        let calm = now.saturating_sub(last) >= QUIET_MS;
        let every = shared.summary_every.as_millis() as u64;
        let due = now.saturating_sub(slot.last_summary_ms.load(Ordering::Relaxed)) >= every;
        if all || calm || due {
            emit(shared, slot, now);
        }
    }
}

fn rfc3339(ms: u64) -> String {
    crate::time::rfc3339(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms),
        3,
    )
}

fn emit(shared: &Shared, slot: &Slot, now: u64) {
    let Some(meta) = slot.meta.get() else { return };
    let repeated = slot.repeats.swap(0, Ordering::Relaxed);
    let n = slot.suppressed.swap(0, Ordering::Relaxed);
    if n == 0 && repeated == 0 {
        return;
    }
    slot.last_summary_ms.store(now, Ordering::Relaxed);
    shared.summaries.fetch_add(1, Ordering::Relaxed);
    let first = rfc3339(slot.first_ms.load(Ordering::Relaxed));
    let last = rfc3339(slot.last_ms.load(Ordering::Relaxed));
    // The latest example stays for the next summary too (a fresher one replaces it).
    let (message, fields) = slot
        .fields
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let (target, callsite) = match slot.origin.get() {
        Some((target, callsite)) => (target.clone(), callsite.clone()),
        None => (
            meta.target().to_owned(),
            format!(
                "{}:{}",
                meta.file().unwrap_or("?"),
                meta.line().unwrap_or(0)
            ),
        ),
    };
    let what = if n == 0 {
        format!("repeated {repeated} times")
    } else if repeated == 0 {
        format!("suppressed {n} events")
    } else {
        format!("suppressed {n} events, repeated {repeated} times")
    };
    macro_rules! summary {
        ($level:expr) => {
            tracing::event!(
                target: SUMMARY_TARGET,
                $level,
                suppressed = n,
                repeated,
                suppressed_target = target.as_str(),
                suppressed_callsite = callsite.as_str(),
                suppressed_message = message.as_str(),
                first_suppressed = first.as_str(),
                last_suppressed = last.as_str(),
                last_fields = fields.as_str(),
                "{what}"
            )
        };
    }
    // The callsite's own level, so an error storm's summary reaches the error-only file.
    match *meta.level() {
        Level::ERROR => summary!(Level::ERROR),
        Level::WARN => summary!(Level::WARN),
        Level::INFO => summary!(Level::INFO),
        Level::DEBUG => summary!(Level::DEBUG),
        _ => summary!(Level::TRACE),
    }
}
