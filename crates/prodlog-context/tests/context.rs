//! Request context through the public API: ids, late and added fields, nesting, threads.

use serde_json::{Map, Value};
use tracing_subscriber::prelude::*;

use prodlog_format::MemorySink as Capture;

fn run(f: impl FnOnce()) -> Vec<Map<String, Value>> {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(prodlog_context::ContextLayer::new())
        .with(prodlog_format::JsonLayer::new(capture.clone()));
    tracing::subscriber::with_default(subscriber, f);
    capture
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn request_spans_carry_a_fresh_or_sane_incoming_id() {
    let events = run(|| {
        let _a = prodlog_context::request().entered();
        tracing::info!("generated");
        drop(_a);
        let _b = prodlog_context::request_with_id(Some("gw-123")).entered();
        tracing::info!("kept");
        drop(_b);
        let _c = prodlog_context::request_with_id(Some("evil\n{\"level\":\"ERROR\"}")).entered();
        tracing::info!("replaced");
    });
    assert_eq!(events[0]["request_id"].as_str().unwrap().len(), 36);
    assert_eq!(events[1]["request_id"], "gw-123");
    let replaced = events[2]["request_id"].as_str().unwrap();
    assert_eq!(replaced.len(), 36, "a hostile id is replaced: {replaced}");
}

#[test]
fn fields_added_deep_inside_reach_every_later_event_of_the_request() {
    let events = run(|| {
        let _r = prodlog_context::request_with_id(Some("r-1")).entered();
        tracing::info!("before login");
        {
            let _db = tracing::info_span!("db").entered();
            assert!(
                prodlog_context::add("user_id", 42u64),
                "context::add refused the field (no request span?)"
            );
            assert!(
                prodlog_context::add("api_token", "tok-secret-value"),
                "context::add refused the field (no request span?)"
            );
        }
        let _next = tracing::info_span!("render").entered();
        tracing::info!("after login");
    });
    assert!(events[0].get("user_id").is_none(), "saw {:?}", &events[0]);
    assert_eq!(events[1]["user_id"], 42);
    assert_eq!(
        events[1]["api_token"], "[REDACTED]",
        "added context is redacted too"
    );
    assert_eq!(events[1]["request_id"], "r-1");
    assert!(
        !run(|| {
            assert!(!prodlog_context::add("orphan", 1u64), "no current span");
        })
        .iter()
        .any(|e| e.contains_key("orphan")),
        "context::add took a field it should refuse"
    );
}

#[test]
fn inner_values_win_and_late_records_show() {
    let events = run(|| {
        let outer = tracing::info_span!("request", tenant = "a", user_id = tracing::field::Empty);
        let _o = outer.enter();
        outer.record("user_id", 7);
        let _i = tracing::info_span!("job", tenant = "b").entered();
        tracing::info!("inside");
    });
    assert_eq!(events[0]["tenant"], "b", "the innermost value wins");
    assert_eq!(events[0]["user_id"], 7, "recorded after creation");
}

#[test]
fn threads_spawned_with_the_helper_keep_the_context() {
    let events = run(|| {
        let _r = prodlog_context::request_with_id(Some("r-9")).entered();
        prodlog_context::spawn_thread(|| tracing::info!("in the thread"))
            .join()
            .unwrap();
        // The pitfall: a plain thread starts outside every span.
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || tracing::info!("lost context"))
        })
        .join()
        .unwrap();
    });
    assert_eq!(events[0]["request_id"], "r-9");
    assert!(
        events[1].get("request_id").is_none(),
        "saw {:?}",
        &events[1]
    );
}
