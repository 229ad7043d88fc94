//! The level filters side by side: prodlog's `TargetFilter`, tracing-subscriber's
//! `EnvFilter` and `Targets`, all given the same 50 directives.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Instant;

use tracing::Metadata;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::Registry;

use crate::cases::Measured;

/// 50 directives: 49 for other crates and modules, one for this bench's own target.
pub fn directives() -> String {
    let mut d = vec!["warn".to_owned()];
    for i in 0..24 {
        d.push(format!("dep_{i}=info"));
        d.push(format!("dep_{i}::inner::module=debug"));
    }
    d.push("prodlog_bench=info".to_owned());
    d.join(",")
}

/// A layer that does nothing with an event but count it, so only the filter costs.
struct Count;

static SEEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl<S: tracing::Subscriber> Layer<S> for Count {
    fn on_event(&self, _event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        SEEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[inline(never)]
fn enabled_event() {
    tracing::info!(amount = 1299u64, "payment processed");
}

#[inline(never)]
fn disabled_event() {
    tracing::debug!(amount = 1299u64, "payment processed");
}

fn prodlog_filter() -> prodlog::filter::TargetFilter {
    prodlog::filter::TargetFilter::builder()
        .parse(&directives())
        .expect("bench directives")
}

fn env_filter() -> EnvFilter {
    EnvFilter::builder()
        .parse(directives())
        .expect("bench directives")
}

fn targets() -> Targets {
    directives().parse().expect("bench directives")
}

fn install<F>(filter: F)
where
    F: Filter<Registry> + Send + Sync + 'static,
{
    let subscriber = tracing_subscriber::registry().with(Count.with_filter(filter));
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber per process");
}

fn timed(n: u64, f: impl Fn()) -> Measured {
    for _ in 0..n.min(10_000) / 10 {
        f();
    }
    let a0 = crate::alloc::count();
    let t0 = Instant::now();
    for _ in 0..n {
        f();
    }
    let ns = t0.elapsed().as_nanos() as f64 / n as f64;
    Measured {
        ns_per_event: ns,
        allocs_per_event: (crate::alloc::count() - a0) as f64 / n as f64,
    }
}

/// Catches the `&'static Metadata` of the enabled event's callsite.
struct Grab;

static META: OnceLock<&'static Metadata<'static>> = OnceLock::new();

impl<S: tracing::Subscriber> Layer<S> for Grab {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if meta.is_event() {
            let _ = META.set(meta);
        }
        tracing::subscriber::Interest::always()
    }
}

/// The decision itself, as made once per callsite (and per event where a filter cannot
/// cache it): `callsite_enabled` on the enabled event's metadata.
fn decide<F: Filter<Registry>>(filter: F, n: u64) -> Measured {
    tracing::subscriber::with_default(tracing_subscriber::registry().with(Grab), enabled_event);
    let meta = *META.get().expect("the event's metadata");
    timed(n, || {
        black_box(filter.callsite_enabled(black_box(meta)));
    })
}

/// Runs one filter case: `row` is `filter-off`, `filter-on` or `filter-decide`.
pub fn run(row: &str, imp: &str, n: u64) -> Option<Measured> {
    if row == "filter-decide" {
        return Some(match imp {
            "prodlog" => decide(prodlog_filter(), n),
            "env-filter" => decide(env_filter(), n),
            "targets" => decide(targets(), n),
            _ => return None,
        });
    }
    match imp {
        "prodlog" => install(prodlog_filter()),
        "env-filter" => install(env_filter()),
        "targets" => install(targets()),
        _ => return None,
    }
    let f = match row {
        "filter-off" => disabled_event,
        "filter-on" => enabled_event,
        _ => return None,
    };
    let before = SEEN.load(std::sync::atomic::Ordering::Relaxed);
    let m = timed(n, f);
    let seen = SEEN.load(std::sync::atomic::Ordering::Relaxed) - before;
    let expected = if row == "filter-on" {
        n + n.min(10_000) / 10
    } else {
        0
    };
    assert_eq!(seen, expected, "{row}/{imp}: events reaching the layer");
    Some(m)
}
