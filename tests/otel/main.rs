//! The preset's layer next to `tracing-opentelemetry`'s, with a real SDK tracer: the JSON
//! file carries each line's `trace_id` and `span_id`, as the tracer knows them.

#[path = "../support/mod.rs"]
mod support;

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::prelude::*;

#[test]
fn the_preset_writes_trace_ids_next_to_an_opentelemetry_layer() {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = support::files_only(dir.path()).into_layer().unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .with(layer);
    let trace_id = tracing::subscriber::with_default(subscriber, || {
        let span = prodlog::context::request();
        let _e = span.enter();
        tracing::info!("traced");
        span.context().span().span_context().trace_id().to_string()
    });
    drop(guard);
    let lines = support::read_json_lines(&dir.path().join("t.log"));
    assert_eq!(
        lines[0]["trace_id"], trace_id,
        "found from the trace, and back"
    );
    assert_eq!(lines[0]["span_id"].as_str().unwrap().len(), 16);
    assert_eq!(lines[0]["request_id"].as_str().unwrap().len(), 36);
}
