//! A tiny axum service with prodlog: every request gets a `request` span with its id (the
//! caller's `x-request-id` when sane, a fresh UUIDv7 otherwise), its route template and,
//! from a W3C `traceparent`, its trace id; the id is echoed in the response, and one
//! completion event carries `status`, `duration_ms`, `client_addr` and `user_agent`.
//! Health probes are silent at INFO.
//!
//! ```sh
//! PRODLOG_CONSOLE=human cargo run --example axum_service --features web
//! curl -i -H 'x-request-id: demo-1' 'http://127.0.0.1:3000/orders/7'
//! curl -i 'http://127.0.0.1:3000/orders/13'   # a background task panics: a 500, logged
//! ```
//!
//! Set `DEMO_EXIT_AFTER_MS=500` to stop by itself (the README's demo does not need it).
//! Its tests (`cargo test --example axum_service --features web`) show what
//! `prodlog::testing::capture_async` sees.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use prodlog::LogErr;

async fn order(Path(id): Path<u64>) -> Result<String, StatusCode> {
    tracing::info!(order = id, "loading order");
    // Context learned mid-request reaches every later event of the request.
    prodlog::context::add("customer_id", id * 10);
    // A library that logs with the `log` crate: its records carry the request too.
    log::info!(target: "pricing_engine", "quote requested for order {id}");
    let total = prodlog::context::spawn(async move {
        tracing::info!(order = id, "pricing in a background task");
        if id == 13 {
            panic!("pricing engine crashed on order {id}");
        }
        id * 1299
    })
    .await
    // A panicked task: logged here, with this file and line, then a 500.
    .log_err()
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    if id == 0 {
        tracing::warn!("no such order");
        return Err(StatusCode::NOT_FOUND);
    }
    tracing::info!(total, "order loaded");
    Ok(format!("order {id}: {total}\n"))
}

async fn health() -> &'static str {
    "ok"
}

/// The service's routes, with prodlog's middleware.
fn app() -> axum::Router {
    axum::Router::new()
        .route("/orders/{id}", get(order))
        .route("/healthz", get(health))
        .layer(prodlog::context::tower::RequestContextLayer::new())
}

#[tokio::main]
async fn main() {
    let _guard = prodlog::init();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
        .await
        .expect("bind 127.0.0.1:3000");
    tracing::info!(addr = %listener.local_addr().expect("an address"), "listening");
    let stop = async {
        match std::env::var("DEMO_EXIT_AFTER_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    // `ConnectInfo` gives the completion line its `client_addr`.
    let service = app().into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(stop)
        .await
        .expect("serve");
    tracing::info!("stopped");
}

#[cfg(test)]
mod tests {
    use super::app;
    use axum::body::Body;
    use axum::http::Request;
    use serde_json::{json, Value};
    use tower::ServiceExt; // oneshot

    fn get(uri: &str) -> Request<Body> {
        Request::get(uri)
            .header("user-agent", "probe-test/1.0")
            .header(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
            .body(Body::empty())
            .expect("a request")
    }

    /// What production writes, the capture sees: a spawned task's event, a `log` record
    /// and a panic, each with the request's context; the error line is the handler's.
    #[tokio::test]
    async fn capture_sees_tasks_log_records_and_panics() {
        let config = prodlog::builder().from_env(false);
        let (response, logs) =
            prodlog::testing::capture_async(config, app().oneshot(get("/orders/13"))).await;
        assert_eq!(response.expect("a response").status(), 500);
        let first = logs.assert_logged("loading order", &[("order", json!(13))]);
        let id = first["request_id"].clone();
        assert!(id.is_string(), "no request id: {first:?}");
        let same = [("request_id", id.clone()), ("customer_id", json!(130))];
        logs.assert_logged("pricing in a background task", &same);
        let record = logs.assert_logged("quote requested for order 13", &same);
        assert_eq!(record["target"], "pricing_engine", "{record:?}");
        let panic = logs
            .events()
            .iter()
            .find(|e| e["target"] == "panic")
            .unwrap_or_else(|| panic!("no panic line in {:#?}", logs.lines()));
        assert_eq!(panic["request_id"], id, "{panic:?}");
        assert!(
            panic["message"]
                .as_str()
                .is_some_and(|m| m.contains("pricing engine crashed")),
            "{panic:?}"
        );
        let error = logs
            .events()
            .iter()
            .find(|e| e["target"] == "axum_service" && e["level"] == "ERROR")
            .unwrap_or_else(|| panic!("no log_err line in {:#?}", logs.lines()));
        let at = error["location"].as_str().unwrap_or_default();
        assert!(at.starts_with("examples/axum_service.rs:"), "{error:?}");
        let done = logs.assert_logged("request completed", &[("status", json!(500))]);
        assert_eq!(done["route"], "/orders/{id}", "{done:?}");
        assert_eq!(done["path"], "/orders/13", "{done:?}");
        assert_eq!(done["user_agent"], "probe-test/1.0", "{done:?}");
        // The handler logged the failure: the completion is a WARN, one ERROR line per cause.
        assert_eq!(done["level"], "WARN", "{done:?}");
    }

    /// A health probe writes nothing at INFO; a `traceparent` becomes `trace_id`.
    #[tokio::test]
    async fn probes_are_silent_and_traces_are_followed() {
        let config = prodlog::builder().from_env(false);
        let (response, logs) =
            prodlog::testing::capture_async(config, app().oneshot(get("/healthz"))).await;
        assert_eq!(response.expect("a response").status(), 200);
        assert!(
            logs.lines().is_empty(),
            "a probe logged: {:#?}",
            logs.lines()
        );

        let config = prodlog::builder().from_env(false).directives("debug");
        let (_, logs) =
            prodlog::testing::capture_async(config, app().oneshot(get("/healthz"))).await;
        logs.assert_logged("request completed", &[("level", json!("DEBUG"))]);

        let config = prodlog::builder().from_env(false);
        let (response, logs) =
            prodlog::testing::capture_async(config, app().oneshot(get("/orders/7"))).await;
        let response = response.expect("a response");
        let trace = json!("4bf92f3577b34da6a3ce929d0e0e4736");
        let line = logs.assert_logged("order loaded", &[("trace_id", trace)]);
        assert_eq!(line["parent_span_id"], "00f067aa0ba902b7", "{line:?}");
        let span_id = line["span_id"].as_str().unwrap_or_default();
        let echoed = response.headers()["traceparent"]
            .to_str()
            .unwrap_or_default();
        assert_eq!(
            echoed,
            format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{span_id}-01"),
            "{line:?}"
        );
        assert!(
            matches!(&line["request_id"], Value::String(_)),
            "no request id: {line:?}"
        );
    }
}
