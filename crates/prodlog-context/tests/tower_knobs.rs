//! The tower middleware's knobs against a real axum server on 127.0.0.1 and a real HTTP
//! client: the route template, the client's address (the socket's, or a trusted proxy
//! header's), the user agent, W3C `traceparent` read and echoed, silent health probes.

use std::net::SocketAddr;

use axum::extract::Path;
use axum::http::{HeaderName, StatusCode};
use axum::routing::get;
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prodlog_context::tower::RequestContextLayer;
use serde_json::{Map, Value};
use tracing_subscriber::prelude::*;

use prodlog_format::MemorySink as Capture;

async fn order(Path(id): Path<u64>) -> StatusCode {
    tracing::info!(order = id, "loading order");
    if id == 5 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn serve(layer: RequestContextLayer) -> SocketAddr {
    let app = axum::Router::new()
        .route("/orders/{id}", get(order))
        .route("/healthz", get(|| async { "ok" }))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    addr
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knobs_of_the_middleware_in_a_real_server() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(prodlog_context::ContextLayer::new())
        .with(
            prodlog_format::JsonLayer::new(capture.clone()).with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("tower_knobs", tracing::Level::TRACE)
                    .with_target("prodlog_context", tracing::Level::TRACE),
            ),
        );
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let direct = serve(RequestContextLayer::new()).await;
    let proxied = serve(
        RequestContextLayer::new().client_ip_header(HeaderName::from_static("x-forwarded-for")),
    )
    .await;
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let get = |addr: SocketAddr, path: &str, id: &str, traceparent: &str| {
        hyper::Request::get(format!("http://{addr}{path}"))
            .header("x-request-id", id)
            .header("user-agent", "knob-test/1.0")
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
            .header("traceparent", traceparent)
            .body(Empty::new())
            .unwrap()
    };
    let mut echoed = Vec::new();
    for (addr, path, id, tp) in [
        (direct, "/orders/5", "direct-5", TRACEPARENT),
        (proxied, "/orders/7", "proxied-7", TRACEPARENT),
        (direct, "/healthz", "probe-1", TRACEPARENT),
        (
            direct,
            "/orders/8",
            "bad-trace",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",
        ),
    ] {
        let resp = client.request(get(addr, path, id, tp)).await.unwrap();
        let tp = resp
            .headers()
            .get("traceparent")
            .map(|v| v.to_str().unwrap().to_owned());
        echoed.push((id, resp.status().as_u16(), tp));
    }

    let events: Vec<Map<String, Value>> = capture
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let done = |id: &str| -> Map<String, Value> {
        events
            .iter()
            .find(|e| e["request_id"] == id && e["message"] == "request completed")
            .unwrap_or_else(|| panic!("no completion of {id} in {events:#?}"))
            .clone()
    };

    // The socket's address, the route template, the user agent, the trace.
    let d = done("direct-5");
    assert_eq!(d["route"], "/orders/{id}", "{d:?}");
    assert_eq!(d["path"], "/orders/5", "{d:?}");
    assert_eq!(d["level"], "ERROR", "{d:?}");
    let client_addr = d["client_addr"].as_str().unwrap_or_default();
    assert!(
        client_addr.starts_with("127.0.0.1:"),
        "the socket's, not the header's: {d:?}"
    );
    assert_eq!(d["user_agent"], "knob-test/1.0", "{d:?}");
    assert_eq!(d["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736", "{d:?}");
    assert_eq!(d["parent_span_id"], "00f067aa0ba902b7", "{d:?}");
    let span_id = d["span_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(span_id.len(), 16, "{d:?}");
    let handler = events
        .iter()
        .find(|e| e["request_id"] == "direct-5" && e["message"] == "loading order")
        .unwrap_or_else(|| panic!("no handler line in {events:#?}"));
    assert_eq!(
        handler["trace_id"], d["trace_id"],
        "the handler's line is in the trace: {handler:?}"
    );
    assert_eq!(handler["route"], "/orders/{id}", "{handler:?}");
    let (_, status, tp) = &echoed[0];
    assert_eq!(*status, 500);
    assert_eq!(
        tp.as_deref(),
        Some(format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{span_id}-01").as_str()),
        "traceparent echoed with this server's span id"
    );

    // Behind a trusted proxy: the last address of its header.
    let p = done("proxied-7");
    assert_eq!(p["client_addr"], "203.0.113.9", "{p:?}");
    assert_eq!(p["level"], "INFO", "{p:?}");

    // A probe completes at DEBUG: silent at INFO.
    let h = done("probe-1");
    assert_eq!(h["level"], "DEBUG", "{h:?}");

    // A malformed traceparent is neither logged nor echoed.
    let b = done("bad-trace");
    assert!(
        b.get("trace_id").is_none() && b.get("span_id").is_none(),
        "{b:?}"
    );
    assert_eq!(
        echoed[3].2, None,
        "a malformed traceparent was echoed: {echoed:?}"
    );
    assert!(
        !capture.text().contains("-zz"),
        "the malformed header reached a line"
    );
}
