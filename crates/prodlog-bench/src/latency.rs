//! The caller's side of one `info!` event through the whole stack into a file: each call
//! timed, from one thread and from two at once, prodlog's `init()` against
//! `fmt().json()` over `tracing_appender::non_blocking` (lossless).

use std::path::Path;
use std::time::Instant;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::prelude::*;

/// One run's figures: events/s until every line is on disk, caller p50/p99/p99.9 in ns.
pub struct Run {
    pub events_per_sec: f64,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i])
}

/// What timing an empty region costs (median), taken off every sample.
fn clock_overhead() -> u32 {
    let mut v: Vec<u32> = (0..10_000)
        .map(|_| {
            let s = Instant::now();
            u32::try_from(s.elapsed().as_nanos()).unwrap_or(u32::MAX)
        })
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

#[inline(never)]
fn event(n: u64) {
    tracing::info!(
        customer = "alice",
        amount = 1299u64,
        attempt = -3i64,
        n,
        "payment processed"
    );
}

/// `imp`: `prodlog` or `fmt-json`; `threads`: 1 or 2; `n` events in all.
pub fn run(imp: &str, threads: usize, n: usize, dir: &Path) -> Option<Run> {
    let overhead = clock_overhead();
    let t0 = Instant::now();
    let flush: Box<dyn FnOnce()> = match imp {
        "prodlog" => {
            let guard = prodlog::builder()
                .from_env(false)
                .console(prodlog::ConsoleMode::Off)
                .error_file(false)
                .app_name("latency")
                .log_dir(dir)
                .try_init()
                .ok()?;
            Box::new(move || drop(guard))
        }
        "fmt-json" => {
            let file = std::fs::File::create(dir.join("latency.log")).ok()?;
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .finish(file);
            let layer = tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(writer);
            tracing_subscriber::registry()
                .with(layer.with_filter(LevelFilter::INFO))
                .try_init()
                .ok()?;
            Box::new(move || drop(guard))
        }
        _ => return None,
    };
    let per_thread = n / threads.max(1);
    let work = move || {
        let span = tracing::info_span!("request", request_id = "req-7f3a9c", user_id = 42u64);
        let _e = span.enter();
        let mut lat = vec![0u32; per_thread];
        for (i, slot) in lat.iter_mut().enumerate() {
            let s = Instant::now();
            event(i as u64);
            *slot = u32::try_from(s.elapsed().as_nanos())
                .unwrap_or(u32::MAX)
                .saturating_sub(overhead);
        }
        lat
    };
    let mut all: Vec<u32> = if threads <= 1 {
        work()
    } else {
        let handles: Vec<_> = (0..threads).map(|_| std::thread::spawn(work)).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    };
    flush();
    let elapsed = t0.elapsed().as_secs_f64();
    all.sort_unstable();
    if all.is_empty() {
        return None;
    }
    Some(Run {
        events_per_sec: all.len() as f64 / elapsed,
        p50: percentile(&all, 0.5),
        p99: percentile(&all, 0.99),
        p999: percentile(&all, 0.999),
    })
}
