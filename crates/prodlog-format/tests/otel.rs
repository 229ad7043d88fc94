//! With `tracing-opentelemetry`'s layer and a real OpenTelemetry SDK tracer (no exporter),
//! every JSON line inside a span carries the W3C `trace_id` and `span_id` of that span, the
//! same ids the tracer gives the trace: a log line can be found from a trace and back.

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Map, Value};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::prelude::*;

use prodlog_format::MemorySink as Capture;

fn ids(span: &tracing::Span) -> (String, String) {
    let cx = span.context();
    let otel = cx.span();
    let sc = otel.span_context();
    (sc.trace_id().to_string(), sc.span_id().to_string())
}

#[test]
fn json_lines_carry_the_trace_and_span_ids() {
    let provider = SdkTracerProvider::builder().build();
    let tracer = provider.tracer("prodlog-test");
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(prodlog_context::ContextLayer::new())
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .with(prodlog_format::JsonLayer::new(capture.clone()));
    let mut expected = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("outside any span");
        let request = tracing::info_span!("request", request_id = "r-1");
        let _r = request.enter();
        tracing::info!("in the request");
        expected.push(ids(&request));
        let db = tracing::info_span!("db");
        let _d = db.enter();
        tracing::info!("in the query");
        expected.push(ids(&db));
    });
    let lines: Vec<Map<String, Value>> = capture
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines[0].get("trace_id").is_none(), "no span, no ids");
    for (line, (trace, span)) in lines[1..].iter().zip(&expected) {
        assert_eq!(line["trace_id"], *trace);
        assert_eq!(line["span_id"], *span);
        assert_eq!(trace.len(), 32);
        assert_eq!(span.len(), 16);
    }
    assert_eq!(lines[1]["trace_id"], lines[2]["trace_id"], "one trace");
    assert_ne!(
        lines[1]["span_id"], lines[2]["span_id"],
        "the innermost span's id"
    );
    assert_eq!(lines[2]["request_id"], "r-1");
}
