//! Span timings with a clock the test moves: thresholds, busy/idle across polls, late
//! closes, several threads, percentiles against a sorted reference, and the timer.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use prodlog_timing::{ManualClock, Report, TimingLayer};
use serde_json::{Map, Value};
use tracing::Instrument;
use tracing_subscriber::prelude::*;

use prodlog_format::MemorySink as Capture;

/// Runs `f` under a subscriber with `timing` and a JSON capture of every event.
fn with_timing<R>(timing: TimingLayer, f: impl FnOnce() -> R) -> (R, Vec<Map<String, Value>>) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(prodlog_context::ContextLayer::new())
        .with(prodlog_format::JsonLayer::new(capture.clone()))
        .with(timing);
    let out = tracing::subscriber::with_default(subscriber, f);
    let events = capture
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out, events)
}

fn ms(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn slow_spans_warn_with_durations_fields_and_context() {
    let clock = ManualClock::new();
    let timing = TimingLayer::builder()
        .slow("query=100ms,app=1s")
        .unwrap()
        .clock(clock.clone())
        .build();
    let (_, events) = with_timing(timing, || {
        let request = tracing::info_span!("request", request_id = "r-9");
        let _r = request.enter();
        {
            let q = tracing::info_span!("query", table = "orders");
            let _e = q.enter();
            clock.advance(Duration::from_millis(150));
        }
        {
            let q = tracing::info_span!("query", table = "users");
            let _e = q.enter();
            clock.advance(Duration::from_millis(50)); // under its threshold
        }
    });
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["level"], "WARN");
    assert_eq!(e["slow"], true);
    assert_eq!(ms(&e["duration_ms"]), 150.0);
    assert_eq!(ms(&e["busy_ms"]), 150.0);
    assert_eq!(ms(&e["idle_ms"]), 0.0);
    assert_eq!(ms(&e["threshold_ms"]), 100.0);
    assert_eq!(e["table"], "orders", "the span's own fields");
    assert_eq!(e["request_id"], "r-9", "and its context");
    assert_eq!(e["span"], "query");
}

/// A future that is pending twice; each poll takes 5 ms of (manual) time.
struct ThreePolls {
    clock: ManualClock,
    polls: u32,
}

impl Future for ThreePolls {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        self.clock.advance(Duration::from_millis(5));
        self.polls += 1;
        if self.polls == 3 {
            Poll::Ready(self.polls)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn busy_and_idle_split_across_awaits() {
    let clock = ManualClock::new();
    let timing = TimingLayer::builder()
        .report(Report::All)
        .clock(clock.clone())
        .build();
    let (polls, events) = with_timing(timing, || {
        let fut = ThreePolls {
            clock: clock.clone(),
            polls: 0,
        }
        .instrument(tracing::info_span!("fetch"));
        let mut fut = Box::pin(fut);
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                break v;
            }
            clock.advance(Duration::from_millis(30)); // waiting between polls
        }
    });
    assert_eq!(polls, 3);
    let e = events
        .iter()
        .find(|e| e["message"] == "closed: fetch")
        .expect("a closing event");
    assert_eq!(ms(&e["busy_ms"]), 15.0);
    assert_eq!(ms(&e["idle_ms"]), 60.0);
    assert_eq!(ms(&e["duration_ms"]), 75.0);
}

#[test]
fn a_span_closes_when_its_last_handle_goes_and_counts_until_then() {
    let clock = ManualClock::new();
    let timing = TimingLayer::builder()
        .report(Report::All)
        .clock(clock.clone())
        .build();
    let latencies = timing.latencies();
    let (_, events) = with_timing(timing, || {
        let span = tracing::info_span!("job");
        let handle = span.clone();
        drop(span);
        clock.advance(Duration::from_millis(40));
        drop(handle);
    });
    let e = events
        .iter()
        .find(|e| e["message"] == "closed: job")
        .unwrap();
    assert_eq!(ms(&e["duration_ms"]), 40.0);
    assert_eq!(ms(&e["busy_ms"]), 0.0);
    assert_eq!(latencies.summary("job").unwrap().count, 1);
}

#[test]
fn a_span_entered_from_several_threads_counts_inside_time_once() {
    let clock = ManualClock::new();
    let timing = TimingLayer::builder()
        .report(Report::All)
        .clock(clock.clone())
        .build();
    let (_, events) = with_timing(timing, || {
        let span = tracing::info_span!("shared");
        let step = Arc::new(Barrier::new(2));
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        // t=0 A enters; t=10 B enters; t=20 A exits; t=30 B exits; t=50 close.
        let b = {
            let (span, step, dispatch) = (span.clone(), step.clone(), dispatch.clone());
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    step.wait(); // 1: A is inside
                    let g = span.enter();
                    step.wait(); // 2: B is inside
                    step.wait(); // 3: A has left
                    step.wait(); // 4: the clock shows 30 ms
                    drop(g);
                    step.wait(); // 5: B has left
                })
            })
        };
        let g = span.enter();
        step.wait(); // 1
        clock.advance(Duration::from_millis(10));
        step.wait(); // 2
        clock.advance(Duration::from_millis(10));
        drop(g);
        step.wait(); // 3
        clock.advance(Duration::from_millis(10));
        step.wait(); // 4
        step.wait(); // 5
        b.join().unwrap();
        clock.advance(Duration::from_millis(20));
        drop(span);
    });
    let e = events
        .iter()
        .find(|e| e["message"] == "closed: shared")
        .unwrap();
    assert_eq!(
        ms(&e["busy_ms"]),
        30.0,
        "the union of the two entries, not their sum"
    );
    assert_eq!(ms(&e["idle_ms"]), 20.0);
}

#[test]
fn percentiles_are_within_one_percent_of_the_exact_values() {
    let clock = ManualClock::new();
    let timing = TimingLayer::builder()
        .report(Report::Off)
        .clock(clock.clone())
        .build();
    let latencies = timing.latencies();
    // A long-tailed set of durations from 3 µs to about 2 s (deterministic).
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut samples: Vec<u64> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let exp = (x % 20) as u32; // 2^0 .. 2^19
            3_000 + (x >> 40) % (1u64 << exp) * 1_000 / 250
        })
        .collect();
    with_timing(timing, || {
        for &ns in &samples {
            let s = tracing::info_span!("op");
            clock.advance(Duration::from_nanos(ns));
            drop(s);
        }
    });
    samples.sort_unstable();
    let exact = |p: f64| {
        let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
        samples[rank - 1] as f64
    };
    let s = latencies.summary("op").unwrap();
    assert_eq!(s.count, samples.len() as u64);
    for (got, p) in [(s.p50, 0.50), (s.p95, 0.95), (s.p99, 0.99)] {
        let want = exact(p);
        let err = (got.as_nanos() as f64 - want).abs() / want;
        assert!(
            err <= 0.01,
            "p{}: {got:?} vs {want} ns ({:.3}%)",
            p * 100.0,
            err * 100.0
        );
    }
    assert_eq!(
        s.max.as_nanos() as u64,
        *samples.last().unwrap(),
        "max is exact"
    );
}

#[test]
fn the_timer_logs_its_duration_and_flags_slow_operations() {
    let clock = ManualClock::new();
    let timing = TimingLayer::builder()
        .threshold("export", Duration::from_millis(200))
        .clock(clock.clone())
        .build();
    let latencies = timing.latencies();
    let (_, events) = with_timing(timing, || {
        let timer = prodlog_timing::start("query_complete");
        clock.advance(Duration::from_millis(12));
        assert_eq!(timer.finish(), Duration::from_millis(12));
        {
            let _dropped = prodlog_timing::start("export");
            clock.advance(Duration::from_millis(250));
        }
        let v = prodlog_timing::timed("load", || {
            clock.advance(Duration::from_millis(3));
            7
        });
        assert_eq!(v, 7);
    });
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0]["message"], "query_complete");
    assert_eq!(ms(&events[0]["duration_ms"]), 12.0);
    assert_eq!(events[1]["level"], "WARN");
    assert_eq!(events[1]["slow"], true);
    assert_eq!(ms(&events[1]["threshold_ms"]), 200.0);
    assert_eq!(events[2]["operation"], "load");
    assert_eq!(latencies.summary("export").unwrap().count, 1);
}

#[test]
fn span_ids_reused_by_another_subscriber_are_not_confused() {
    // The first subscriber's span is left entered and never closed (forgotten handles).
    let first = TimingLayer::builder().report(Report::All).build();
    with_timing(first, || {
        let span = tracing::info_span!("first");
        std::mem::forget(span.enter());
        std::mem::forget(span);
    });
    // The next subscriber on the same thread hands out the same span id again.
    let clock = ManualClock::new();
    let second = TimingLayer::builder()
        .report(Report::All)
        .clock(clock.clone())
        .build();
    let (_, events) = with_timing(second, || {
        let span = tracing::info_span!("second");
        {
            let _g = span.enter();
            clock.advance(Duration::from_millis(5));
        }
        clock.advance(Duration::from_millis(7));
    });
    let e = events
        .iter()
        .find(|e| e["message"] == "closed: second")
        .unwrap();
    assert_eq!(ms(&e["busy_ms"]), 5.0);
    assert_eq!(ms(&e["idle_ms"]), 7.0);
}
