//! The flight recorder's filter with two subscribers in one process (test captures, a
//! global one): each keeps its own view of which callsites its directives never want, so
//! a DEBUG event one subscriber writes is never taken for a recorded one by the other.

use prodlog_format::{JsonLayer, MemorySink, RecordFilter, RecordSettings};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::prelude::*;

fn emit() {
    let _r = tracing::info_span!("request", request_id = "r-1").entered();
    tracing::debug!("same callsite");
    tracing::error!("failed");
}

fn dispatch(directives: LevelFilter, sink: MemorySink) -> tracing::Dispatch {
    let json = JsonLayer::default()
        .with_sink(LevelFilter::TRACE, sink)
        .record(RecordSettings::default());
    tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(json.with_filter(RecordFilter::new(directives, LevelFilter::DEBUG))),
    )
}

#[test]
fn each_subscriber_judges_its_own_callsites() {
    for order in [true, false] {
        let (info_sink, debug_sink) = (MemorySink::default(), MemorySink::default());
        let (a, b) = if order {
            let a = dispatch(LevelFilter::INFO, info_sink.clone());
            (a, dispatch(LevelFilter::DEBUG, debug_sink.clone()))
        } else {
            let b = dispatch(LevelFilter::DEBUG, debug_sink.clone());
            (dispatch(LevelFilter::INFO, info_sink.clone()), b)
        };
        tracing::dispatcher::with_default(&b, emit);
        tracing::dispatcher::with_default(&a, emit);
        let debug_lines = debug_sink.lines();
        let line = debug_lines
            .iter()
            .find(|l| l.contains("same callsite"))
            .expect("written at debug");
        assert!(
            !line.contains("\"recorded\""),
            "written as a line, not recorded: {line}"
        );
        let info_lines = info_sink.lines();
        let line = info_lines
            .iter()
            .find(|l| l.contains("same callsite"))
            .expect("recorded at info");
        assert!(line.contains("\"recorded\":true"), "{line}");
    }
}

/// A callsite recorded under one subscriber, then written under the next one: whether an
/// event is record-only is decided for that event alone (it once stayed marked on the
/// thread, and the second subscriber, for which the callsite was `always` interesting and
/// so never asked again, recorded the line instead of writing it).
#[test]
fn a_callsite_recorded_before_is_written_when_the_next_subscriber_wants_it() {
    let info_sink = MemorySink::default();
    let a = dispatch(LevelFilter::INFO, info_sink.clone());
    tracing::dispatcher::with_default(&a, emit);
    drop(a);
    let debug_sink = MemorySink::default();
    // Registered alone: the callsite is `always` interesting for it.
    let b = dispatch(LevelFilter::DEBUG, debug_sink.clone());
    tracing::dispatcher::with_default(&b, emit);
    let lines = debug_sink.lines();
    let line = lines
        .iter()
        .find(|l| l.contains("same callsite"))
        .expect("written at debug");
    assert!(!line.contains("\"recorded\""), "{line}");
    assert!(info_sink
        .lines()
        .iter()
        .any(|l| l.contains("\"recorded\":true")));
}
