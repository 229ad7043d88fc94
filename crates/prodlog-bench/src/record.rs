//! The `record` row: a DEBUG event inside a request through `prodlog::init()`
//! (`RUST_LOG=info`, output to `io::sink`-like: no files, console off) — recorded by the
//! flight recorder and discarded with its request, vs the same event written (at
//! `debug`), vs filtered out (recorder off); and the recorder's memory per event.

use std::time::Instant;

use tracing::level_filters::LevelFilter;

use crate::alloc;
use crate::cases::Measured;

/// Lines formatted and thrown away: the output of the `written` case.
struct NullSink;

impl prodlog::format::LineSink for NullSink {
    fn write_line(&self, line: &[u8]) -> std::io::Result<()> {
        std::hint::black_box(line);
        Ok(())
    }
}

/// Events per request: the request span is opened and closed around each batch (its cost
/// is in every case alike).
const PER_REQUEST: u64 = 20;

#[inline(never)]
fn debug_event(i: u64) {
    tracing::debug!(
        customer = "alice",
        amount = 1299u64,
        attempt = i,
        ratio = 0.875f64,
        approved = true,
        "payment step"
    );
}

pub fn run(imp: &str, n: u64) -> Option<Measured> {
    let (directives, record) = match imp {
        "prodlog-recorded" => ("info", LevelFilter::DEBUG),
        "prodlog-written" => ("debug", LevelFilter::OFF),
        "prodlog-filtered" => ("info", LevelFilter::OFF),
        "prodlog-outside" => ("info", LevelFilter::DEBUG),
        _ => return None,
    };
    let guard = prodlog::builder()
        .from_env(false)
        .console(prodlog::ConsoleMode::Off)
        .directives(directives)
        .record(record)
        .json_sink(LevelFilter::TRACE, NullSink)
        .try_init()
        .ok()?;
    let outside = imp == "prodlog-outside";
    let batch = |k: u64| {
        // `prodlog-outside`: the same span, not a request (nothing records).
        let request = if outside {
            tracing::info_span!("job", request_id = "req-7f3a9c", user_id = 42u64)
        } else {
            tracing::info_span!("request", request_id = "req-7f3a9c", user_id = 42u64)
        };
        let _e = request.enter();
        for i in 0..k {
            debug_event(i);
        }
    };
    for _ in 0..(n / 10).min(1000) / PER_REQUEST {
        batch(PER_REQUEST);
    }
    let a0 = alloc::count();
    let t0 = Instant::now();
    for _ in 0..n / PER_REQUEST {
        batch(PER_REQUEST);
    }
    let elapsed = t0.elapsed();
    let allocs = alloc::count() - a0;
    if imp == "prodlog-recorded" {
        let s = guard.recorder()?;
        eprintln!(
            "record: {} recorded, {} discarded, {} written",
            s.recorded, s.discarded, s.written
        );
    }
    std::mem::forget(guard);
    let events = (n / PER_REQUEST * PER_REQUEST) as f64;
    Some(Measured {
        ns_per_event: elapsed.as_nanos() as f64 / events,
        allocs_per_event: allocs as f64 / events,
    })
}

/// Bytes the recorder holds per recorded event of the bench event, and per open request.
pub fn memory() -> (f64, usize) {
    let guard = prodlog::builder()
        .from_env(false)
        .console(prodlog::ConsoleMode::Off)
        .directives("info")
        .record_bounds(
            100_000,
            1 << 30,
            1 << 30,
            std::time::Duration::from_secs(3600),
        )
        .json_sink(LevelFilter::TRACE, NullSink)
        .try_init()
        .expect("init");
    let request = tracing::info_span!("request", request_id = "req-7f3a9c", user_id = 42u64);
    let events = 10_000;
    {
        let _e = request.enter();
        for i in 0..events {
            debug_event(i);
        }
    }
    let held = guard.recorder().map_or(0, |s| s.held_bytes);
    drop(request);
    std::mem::forget(guard);
    (
        held as f64 / events as f64,
        prodlog::format::RecordStats::REQUEST_BYTES,
    )
}
