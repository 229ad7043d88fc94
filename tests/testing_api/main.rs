//! `prodlog::testing` as a user's test suite would use it — and that each assertion fails
//! when the configuration is wrong.

use prodlog::testing::capture;
use serde_json::json;

fn service() {
    let _r = tracing::info_span!("request", request_id = "r-5").entered();
    tracing::debug!(sql = "select 1", "query plan");
    tracing::info!(order = 7, card = "4111 1111 1111 1111", "order paid");
}

fn fails(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("the assertion must fail");
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn the_production_configuration_holds() {
    let config = prodlog::builder().from_env(false).directives("info");
    let (_, logs) = capture(config, service);
    let paid = logs.assert_logged(
        "order paid",
        &[("order", json!(7)), ("request_id", json!("r-5"))],
    );
    assert_eq!(paid["card"], "[REDACTED]");
    logs.assert_nothing_below(tracing::Level::INFO);
    logs.assert_no_secrets();
    assert_eq!(logs.events().len(), 1);
}

#[test]
fn each_assertion_catches_a_wrong_configuration() {
    let (_, verbose) = capture(
        prodlog::builder().from_env(false).directives("debug"),
        service,
    );
    let msg = fails(|| verbose.assert_nothing_below(tracing::Level::INFO));
    assert!(
        msg.contains("events below INFO") && msg.contains("query plan"),
        "{msg}"
    );

    let (_, leaky) = capture(
        prodlog::builder().from_env(false).without_redaction(),
        service,
    );
    let msg = fails(|| leaky.assert_no_secrets());
    assert!(msg.contains("line 1: card_number"), "{msg}");
    assert!(
        !msg.contains("4111"),
        "the report never shows the secret: {msg}"
    );

    let msg = fails(|| {
        leaky.assert_logged("order paid", &[("order", json!(8))]);
    });
    assert!(msg.contains("no event \"order paid\""), "{msg}");
}

mod web {
    use axum::body::Body;
    use axum::extract::Path;
    use axum::http::{Request, StatusCode};
    use prodlog::LogErr;
    use serde_json::json;
    use tower::ServiceExt;

    async fn get_order(Path(id): Path<u64>) -> StatusCode {
        prodlog::context::add("order_id", id);
        tracing::info!(token = "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "order loaded");
        StatusCode::OK
    }

    async fn fail() -> StatusCode {
        let r: Result<(), std::io::Error> = Err(std::io::Error::other("database is down"));
        let _ = r.log_err();
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn app() -> axum::Router {
        axum::Router::new()
            .route("/orders/{id}", axum::routing::get(get_order))
            .route("/fail", axum::routing::get(fail))
            .layer(prodlog::context::tower::RequestContextLayer::new())
    }

    #[tokio::test]
    async fn async_capture_around_an_axum_router() {
        let config = prodlog::builder().from_env(false);
        let request = Request::get("/orders/7")
            .header("x-request-id", "test-1")
            .body(Body::empty())
            .unwrap();
        let (response, logs) =
            prodlog::testing::capture_async(config, app().oneshot(request)).await;
        assert_eq!(response.unwrap().status(), StatusCode::OK);
        let loaded = logs.assert_logged(
            "order loaded",
            &[("request_id", json!("test-1")), ("order_id", json!(7))],
        );
        assert_eq!(loaded["token"], "[REDACTED]");
        logs.assert_logged(
            "request completed",
            &[("status", json!(200)), ("path", json!("/orders/7"))],
        );
        logs.assert_no_secrets();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_failed_request_is_one_error_line() {
        let config = prodlog::builder().from_env(false);
        let request = Request::get("/fail").body(Body::empty()).unwrap();
        let (response, logs) =
            prodlog::testing::capture_async(config, app().oneshot(request)).await;
        assert_eq!(
            response.unwrap().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let errors: Vec<_> = logs
            .events()
            .iter()
            .filter(|e| e["level"] == "ERROR")
            .collect();
        assert_eq!(errors.len(), 1, "{:?}", logs.lines());
        assert_eq!(errors[0]["message"], "database is down");
        let done = logs.assert_logged("request completed", &[("status", json!(500))]);
        assert_eq!(done["level"], "WARN", "the handler already said why");
        assert_eq!(done["request_id"], errors[0]["request_id"]);
    }

    #[tokio::test]
    async fn an_unexplained_5xx_is_an_error_line() {
        async fn bare() -> StatusCode {
            StatusCode::BAD_GATEWAY
        }
        let app = axum::Router::new()
            .route("/bare", axum::routing::get(bare))
            .layer(prodlog::context::tower::RequestContextLayer::new());
        let request = Request::get("/bare").body(Body::empty()).unwrap();
        let (_, logs) = prodlog::testing::capture_async(
            prodlog::builder().from_env(false),
            app.oneshot(request),
        )
        .await;
        let done = logs.assert_logged("request completed", &[("status", json!(502))]);
        assert_eq!(done["level"], "ERROR");
    }
}
