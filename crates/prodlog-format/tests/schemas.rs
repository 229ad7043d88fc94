//! Each JSON schema's lines: valid JSON with the platform's field names, nothing twice,
//! redaction and request context as in prodlog's own schema.

use prodlog_format::{JsonLayer, JsonSchema, MemorySink, ECS_VERSION};
use serde_json::Value;
use tracing_subscriber::prelude::*;

fn lines(schema: JsonSchema, f: impl FnOnce()) -> Vec<Value> {
    let sink = MemorySink::default();
    let subscriber = tracing_subscriber::registry()
        .with(prodlog_context::ContextLayer::new())
        .with(JsonLayer::new(sink.clone()).schema(schema));
    tracing::subscriber::with_default(subscriber, f);
    sink.lines()
        .iter()
        .map(|l| {
            // Duplicate keys would be silently merged by serde_json: count them.
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let members = l.matches("\":").count();
            assert!(members >= count_members(&v), "{l}");
            v
        })
        .collect()
}

fn count_members(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.len() + m.values().map(count_members).sum::<usize>(),
        Value::Array(a) => a.iter().map(count_members).sum(),
        _ => 0,
    }
}

fn request() {
    let span = tracing::info_span!(
        "request",
        request_id = "r-42",
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    let _g = span.enter();
    tracing::warn!(
        amount = 12,
        password = "hunter2",
        message_id = 3,
        time = "user field",
        severity = "user severity",
        "payment failed for key AKIAIOSFODNN7EXAMPLE"
    );
}

#[test]
fn ecs_lines_carry_the_required_fields_of_the_ecs_logging_spec() {
    let v = &lines(JsonSchema::Ecs, request)[0];
    // ecs-logging spec.json: @timestamp, log.level, message and ecs.version are required.
    assert!(
        v["@timestamp"].as_str().unwrap().ends_with('Z'),
        "saw {:?}",
        &v["@timestamp"]
    );
    assert_eq!(v["log.level"], "warn");
    assert_eq!(v["ecs.version"], ECS_VERSION);
    assert!(
        v["message"].as_str().unwrap().starts_with("payment failed"),
        "saw {:?}",
        &v["message"]
    );
    assert!(
        !v["message"]
            .as_str()
            .unwrap()
            .contains("AKIAIOSFODNN7EXAMPLE"),
        "saw {:?}",
        &v["message"]
    );
    assert_eq!(v["log.logger"], "schemas");
    assert!(
        v["log.origin.file.name"]
            .as_str()
            .unwrap()
            .ends_with("schemas.rs"),
        "saw {:?}",
        &v["log.origin.file.name"]
    );
    assert!(
        v["log.origin.file.line"].is_u64(),
        "saw {:?}",
        &v["log.origin.file.line"]
    );
    assert_eq!(v["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(v["request_id"], "r-42");
    assert_eq!(v["span.name"], "request");
    assert_ne!(v["password"], "hunter2");
    assert_eq!(v["amount"], 12);
    for k in ["timestamp", "level", "target", "trace_id"] {
        assert!(v.get(k).is_none(), "prodlog key {k} in an ECS line: {v}");
    }
}

#[test]
fn gcp_lines_use_cloud_logging_field_names() {
    let v = &lines(JsonSchema::Gcp, request)[0];
    assert_eq!(v["severity"], "WARNING");
    assert!(
        v["time"].as_str().unwrap().ends_with('Z'),
        "saw {:?}",
        &v["time"]
    );
    let loc = &v["logging.googleapis.com/sourceLocation"];
    assert!(
        loc["file"].as_str().unwrap().ends_with("schemas.rs"),
        "saw {:?}",
        &loc["file"]
    );
    assert!(
        loc["line"].as_str().unwrap().parse::<u32>().is_ok(),
        "saw {:?}",
        &loc["line"]
    );
    assert_eq!(v["logging.googleapis.com/labels"]["target"], "schemas");
    assert_eq!(
        v["logging.googleapis.com/trace"],
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    // A user's own `time` and `severity` fields cannot overwrite the line's.
    assert_eq!(v["fields.time"], "user field");
    assert_eq!(v["fields.severity"], "user severity");
    assert_eq!(v["request_id"], "r-42");
    assert_ne!(v["password"], "hunter2");
}

#[test]
fn otel_lines_follow_the_log_data_model() {
    let v = &lines(JsonSchema::Otel, request)[0];
    assert_eq!(v["SeverityText"], "WARN");
    assert_eq!(v["SeverityNumber"], 13);
    let ns: u128 = v["Timestamp"].as_str().unwrap().parse().unwrap();
    assert!(ns > 1_600_000_000_000_000_000, "saw {:?}", &ns);
    assert!(
        v["Body"].as_str().unwrap().starts_with("payment failed"),
        "saw {:?}",
        &v["Body"]
    );
    assert_eq!(v["InstrumentationScope"]["Name"], "schemas");
    let attrs = &v["Attributes"];
    assert_eq!(attrs["request_id"], "r-42");
    assert_eq!(attrs["amount"], 12);
    assert_eq!(attrs["span"], "request");
    assert!(
        attrs["code.line.number"].is_u64(),
        "saw {:?}",
        &attrs["code.line.number"]
    );
    assert_ne!(attrs["password"], "hunter2");
    assert!(
        attrs.get("message").is_none() && attrs.get("Body").is_none(),
        "saw {:?}",
        &attrs
    );
}

#[test]
fn an_event_without_message_fields_or_spans_is_still_one_valid_object() {
    for schema in [
        JsonSchema::Ecs,
        JsonSchema::Gcp,
        JsonSchema::Otel,
        JsonSchema::Prodlog,
    ] {
        let v = lines(schema, || tracing::info!(n = 1));
        assert_eq!(v.len(), 1, "{schema}");
        let v = lines(schema, || {
            tracing::event!(tracing::Level::ERROR, empty = tracing::field::Empty)
        });
        assert_eq!(v.len(), 1, "{schema}");
    }
}

#[test]
fn one_layer_writes_two_schemas_to_two_destinations() {
    let (ecs, plain) = (MemorySink::default(), MemorySink::default());
    let subscriber = tracing_subscriber::registry().with(
        JsonLayer::default()
            .schema(JsonSchema::Ecs)
            .with_sink(tracing::level_filters::LevelFilter::INFO, ecs.clone())
            .with_sink_schema(
                tracing::level_filters::LevelFilter::WARN,
                JsonSchema::Prodlog,
                plain.clone(),
            ),
    );
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("info");
        tracing::error!("error");
    });
    assert_eq!(ecs.lines().len(), 2);
    assert!(
        ecs.lines()[1].contains("\"log.level\":\"error\""),
        "saw {:?}",
        &ecs
    );
    assert_eq!(plain.lines().len(), 1);
    assert!(
        plain.lines()[0].contains("\"level\":\"ERROR\""),
        "saw {:?}",
        &plain
    );
}

#[test]
fn schema_names_parse_and_bad_ones_say_what_is_expected() {
    assert_eq!("ECS".parse::<JsonSchema>(), Ok(JsonSchema::Ecs));
    assert_eq!(" gcp ".parse::<JsonSchema>(), Ok(JsonSchema::Gcp));
    assert_eq!("otel".parse::<JsonSchema>(), Ok(JsonSchema::Otel));
    let e = "splunk".parse::<JsonSchema>().unwrap_err().to_string();
    assert!(e.contains("splunk") && e.contains("ecs"), "{e}");
}

#[test]
fn messages_are_redacted_with_and_without_escapes() {
    let token = "ghp_R2d2C3poBb8Yoda1Luke2Leia3Han4Chewie5";
    let v = lines(JsonSchema::Prodlog, || {
        tracing::info!("plain message");
        tracing::info!("no escapes, a token {token} inside");
        tracing::info!("escapes \"quoted\"\nand a token {token}\t!");
        tracing::info!(password = "hunter2", "{:?}", ("tuple", token));
    });
    assert_eq!(v[0]["message"], "plain message");
    assert_eq!(v[1]["message"], "no escapes, a token [REDACTED] inside");
    assert_eq!(
        v[2]["message"],
        "escapes \"quoted\"\nand a token [REDACTED]\t!"
    );
    let m = v[3]["message"].as_str().unwrap();
    assert!(!m.contains(token) && m.contains("tuple"), "{m}");
}
