//! A lock-free log-linear histogram of durations: 128 buckets per power of two, so any
//! percentile is within 0.4% of the exact value (the bucket's midpoint), for a fixed 40 KiB.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Sub-buckets per power of two (2^7): relative bucket width 1/128.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Powers of two covered above the linear range: up to 2^(7+40) ns, about 39 hours.
const GROUPS: usize = 40;
const BUCKETS: usize = (GROUPS + 1) * SUB as usize;

/// Latency figures for one name.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct Summary {
    /// How many durations were recorded.
    pub count: u64,
    /// Median.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// The longest duration recorded (exact).
    pub max: Duration,
    /// The mean (exact).
    pub mean: Duration,
}

/// Durations recorded by many threads at once with relaxed atomic adds.
pub(crate) struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

fn index(ns: u64) -> usize {
    if ns < SUB {
        return ns as usize;
    }
    let group = (63 - ns.leading_zeros()) - SUB_BITS + 1; // 1.. for ns >= 128
    let sub = (ns >> (group - 1)) - SUB; // 0..SUB within the group
    let i = group as usize * SUB as usize + sub as usize;
    i.min(BUCKETS - 1)
}

/// The midpoint of bucket `i` in nanoseconds.
fn value(i: usize) -> u64 {
    let (group, sub) = ((i as u64) / SUB, (i as u64) % SUB);
    if group == 0 {
        return sub;
    }
    let lo = (SUB + sub) << (group - 1);
    let width = 1u64 << (group - 1);
    lo + width / 2
}

impl Histogram {
    pub(crate) fn new() -> Self {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
        }
    }

    #[inline]
    pub(crate) fn record(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[index(ns)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }

    pub(crate) fn summary(&self) -> Summary {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let count: u64 = counts.iter().sum();
        if count == 0 {
            return Summary::default();
        }
        let max = self.max_ns.load(Ordering::Relaxed);
        // The nearest-rank percentile: the smallest value with at least p of the samples.
        let at = |p: f64| {
            let rank = ((p * count as f64).ceil() as u64).clamp(1, count);
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return Duration::from_nanos(value(i).min(max));
                }
            }
            Duration::from_nanos(max)
        };
        Summary {
            count,
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: Duration::from_nanos(max),
            mean: Duration::from_nanos(self.sum_ns.load(Ordering::Relaxed) / count),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for ns in (0..10_000_000u64)
            .step_by(997)
            .chain([u64::MAX / 2, u64::MAX])
        {
            let i = index(ns);
            assert!(i >= last, "{ns}");
            last = i;
            if ns > 0 && ns < 1 << 45 {
                let v = value(i) as f64;
                assert!(
                    (v - ns as f64).abs() / (ns as f64) <= 1.0 / 128.0,
                    "{ns} -> {v}"
                );
            }
        }
    }
}
