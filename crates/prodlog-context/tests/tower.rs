//! The tower middleware in a real axum server on 127.0.0.1, driven by a real HTTP client:
//! 200 concurrent requests, each line carrying its own request id and no other's.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prodlog_context::tower::RequestContextLayer;
use serde_json::{Map, Value};
use tracing_subscriber::prelude::*;

use prodlog_format::MemorySink as Capture;

#[derive(serde::Deserialize)]
struct Params {
    n: u64,
}

async fn work(Query(p): Query<Params>) -> StatusCode {
    let n = p.n;
    tracing::info!(n, "handling");
    prodlog_context::add("user_id", n * 100);
    prodlog_context::spawn(async move {
        tracing::info!(n, "in a spawned task");
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1 + n % 3)).await;
    tracing::info!(n, "done");
    match n % 10 {
        0 => StatusCode::INTERNAL_SERVER_ERROR,
        1 => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_line_of_a_request_carries_its_own_id() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(prodlog_context::ContextLayer::new())
        .with(
            prodlog_format::JsonLayer::new(capture.clone()).with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("tower", tracing::Level::TRACE)
                    .with_target("prodlog_context", tracing::Level::TRACE),
            ),
        );
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let app = axum::Router::new()
        .route("/work", get(work))
        .layer(RequestContextLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..200u64 {
        let client = client.clone();
        tasks.spawn(async move {
            let mut req = hyper::Request::get(format!("http://{addr}/work?n={n}"));
            if n % 2 == 0 {
                req = req.header("x-request-id", format!("client-{n}"));
            }
            let resp = client
                .request(req.body(Empty::new()).unwrap())
                .await
                .unwrap();
            let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
            (n, id, resp.status().as_u16())
        });
    }
    let mut ids: HashMap<u64, (String, u16)> = HashMap::new();
    while let Some(r) = tasks.join_next().await {
        let (n, id, status) = r.unwrap();
        ids.insert(n, (id, status));
    }
    assert_eq!(ids.len(), 200);
    for (n, (id, status)) in &ids {
        if n % 2 == 0 {
            assert_eq!(
                id,
                &format!("client-{n}"),
                "an incoming id is kept and echoed"
            );
        } else {
            assert_eq!(id.len(), 36, "a generated UUIDv7: {id}");
        }
        let expected = match n % 10 {
            0 => 500,
            1 => 404,
            _ => 200,
        };
        assert_eq!(*status, expected);
    }
    let distinct: std::collections::HashSet<&String> = ids.values().map(|v| &v.0).collect();
    assert_eq!(distinct.len(), 200, "every request has its own id");

    let events: Vec<Map<String, Value>> = capture
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut per_request: HashMap<String, usize> = HashMap::new();
    for e in &events {
        let id = e
            .get("request_id")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("every line carries a request id: {e:?}"));
        *per_request.entry(id.to_owned()).or_default() += 1;
        if let Some(n) = e.get("n").and_then(Value::as_u64) {
            let Some((sent, _)) = ids.get(&n) else {
                panic!("unknown n in {e:?}")
            };
            assert_eq!(id, sent, "line of request {n} carries another id: {e:?}");
            if e["message"] == "done" {
                assert_eq!(e["user_id"], n * 100, "context added mid-request");
            }
        }
        if e["message"] == "request completed" {
            let n = ids
                .iter()
                .find(|(_, v)| v.0 == id)
                .map(|(n, _)| *n)
                .unwrap();
            assert_eq!(e["status"], ids[&n].1);
            assert_eq!(e["path"], "/work");
            assert_eq!(e["method"], "GET");
            assert!(
                e["duration_ms"].as_f64().unwrap() >= 1.0,
                "saw {:?}",
                &e["duration_ms"]
            );
            let level = match ids[&n].1 {
                500 => "ERROR",
                404 => "WARN",
                _ => "INFO",
            };
            assert_eq!(e["level"], level);
        }
    }
    assert_eq!(per_request.len(), 200);
    assert!(
        per_request.values().all(|&c| c == 4),
        "handling, task, done, completed"
    );

    // Hostile incoming ids are replaced, never written.
    for hostile in [
        "{\"level\":\"ERROR\",\"forged\":true}",
        &"x".repeat(200),
        "a b c",
    ] {
        let req = hyper::Request::get(format!("http://{addr}/work?n=2"))
            .header("x-request-id", hostile)
            .body(Empty::new())
            .unwrap();
        let resp = client.request(req).await.unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 36, "replaced by a generated id");
    }
    let all = capture.text();
    assert!(
        !all.contains("forged") && !all.contains(&"x".repeat(200)),
        "saw {:?}",
        &all
    );
}
