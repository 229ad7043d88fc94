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
