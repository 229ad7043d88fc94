//! Span timing costs: an enter/exit pair of a live span, and a span's whole life (create,
//! enter, exit, close: the close records into the latency histogram), with and without
//! prodlog's timing layer, and with `fmt`'s own span timing (`FmtSpan::CLOSE`).

use std::hint::black_box;
use std::time::Instant;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::prelude::*;

use crate::cases::Measured;

fn set<S: tracing::Subscriber + Send + Sync + 'static>(s: S) {
    tracing::subscriber::set_global_default(s).expect("one subscriber per process");
}

fn install(imp: &str) -> Option<()> {
    use prodlog::context::ContextLayer;
    match imp {
        "prodlog-timing" => set(tracing_subscriber::registry().with(
            ContextLayer::new()
                .and_then(
                    prodlog::timing::TimingLayer::builder()
                        .threshold("*", std::time::Duration::from_secs(1))
                        .build(),
                )
                .with_filter(LevelFilter::INFO),
        )),
        "no-timing" => {
            set(tracing_subscriber::registry()
                .with(ContextLayer::new().with_filter(LevelFilter::INFO)))
        }
        "fmt-timing" => set(tracing_subscriber::fmt()
            .with_span_events(FmtSpan::CLOSE)
            .with_writer(std::io::sink)
            .with_max_level(LevelFilter::INFO)
            .finish()),
        _ => return None,
    }
    Some(())
}

fn measure(n: u64, mut f: impl FnMut()) -> Measured {
    for _ in 0..n / 10 {
        f();
    }
    let a0 = crate::alloc::count();
    let t0 = Instant::now();
    for _ in 0..n {
        f();
    }
    Measured {
        ns_per_event: t0.elapsed().as_nanos() as f64 / n as f64,
        allocs_per_event: (crate::alloc::count() - a0) as f64 / n as f64,
    }
}

/// prodlog's layers (context, timing, JSON to `io::sink`) under `warn` directives, with
/// INFO spans kept for context (`ContextSpans`, what the preset does now) or not (before).
fn install_warn(imp: &str) -> Option<()> {
    use prodlog::context::ContextLayer;
    use prodlog::filter::{ContextSpans, TargetFilter};
    use prodlog::format::JsonLayer;
    let layers = || {
        ContextLayer::new()
            .and_then(prodlog::timing::TimingLayer::builder().build())
            .and_then(JsonLayer::with_make_writer(std::io::sink))
    };
    let warn = || TargetFilter::builder().parse("warn").ok();
    match imp {
        "prodlog-context-spans" => {
            set(tracing_subscriber::registry()
                .with(layers().with_filter(ContextSpans::new(warn()?))))
        }
        "prodlog-spans-off" => {
            set(tracing_subscriber::registry().with(layers().with_filter(warn()?)))
        }
        "fmt-envfilter" => set(tracing_subscriber::fmt()
            .json()
            .with_writer(std::io::sink)
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
            .finish()),
        _ => return None,
    }
    Some(())
}

/// `row` is `span-enter`, `span-life`, `span-warn` or `span-histogram`.
pub fn run(row: &str, imp: &str, n: u64) -> Option<Measured> {
    if row == "span-warn" {
        install_warn(imp)?;
        return Some(measure(n, || {
            let span = tracing::info_span!("request", request_id = "req-7f3a9c");
            let _g = black_box(span.enter());
        }));
    }
    if row == "span-histogram" {
        // The aggregate alone: one duration recorded under a name (lookup + atomic adds).
        let latencies = prodlog::timing::TimingLayer::builder().build().latencies();
        let mut ns = 1_000u64;
        return (imp == "prodlog-timing").then(|| {
            measure(n, || {
                ns = ns.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) % 10_000_000;
                latencies.record("query", std::time::Duration::from_nanos(black_box(ns)));
            })
        });
    }
    install(imp)?;
    match row {
        "span-enter" => {
            let span = tracing::info_span!("query", table = "orders");
            Some(measure(n, || {
                let _g = black_box(span.enter());
            }))
        }
        "span-life" => Some(measure(n, || {
            let span = tracing::info_span!("query", table = "orders");
            let _g = black_box(span.enter());
        })),
        _ => None,
    }
}
