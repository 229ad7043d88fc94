//! The aggregator schemas of the files, through the preset.

use super::*;

pub(crate) fn ecs_and_gcp_files_carry_the_platform_field_names() {
    for schema in ["ecs", "gcp", "otel"] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = child_command("requests");
        cmd.env("PRODLOG_JSON_SCHEMA", schema)
            .env("PRODLOG_DIR", dir.path())
            .env("PRODLOG_APP", "svc")
            .env("PRODLOG_CONSOLE", "off")
            .env("RUST_LOG", "info")
            .env("N", "2");
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{o:?}");
        let lines: Vec<String> = std::fs::read_to_string(dir.path().join("svc.log"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(lines.len(), 6, "{lines:#?}");
        for l in &lines {
            for secret in [SECRET_PW, SECRET_KEY, SECRET_TOKEN] {
                assert!(!l.contains(secret), "{schema}: {l}");
            }
            let v = support::parse(l);
            match schema {
                // The ecs-logging spec's required fields, with their types.
                "ecs" => {
                    assert!(
                        support::is_rfc3339_micros(v["@timestamp"].as_str().unwrap()),
                        "{l}"
                    );
                    assert!(
                        ["info", "warn", "error"].contains(&v["log.level"].as_str().unwrap()),
                        "{l}"
                    );
                    assert!(v["message"].is_string(), "{l}");
                    assert_eq!(v["ecs.version"], prodlog::format::ECS_VERSION);
                    assert_eq!(v["log.logger"], "network");
                    assert_eq!(v["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736");
                    assert_eq!(v["span.id"], "00f067aa0ba902b7");
                    assert!(
                        v["request_id"].as_str().unwrap().starts_with("req-"),
                        "saw {:?}",
                        &v["request_id"]
                    );
                }
                // Cloud Logging's special JSON fields.
                "gcp" => {
                    assert!(
                        ["INFO", "WARNING", "ERROR"].contains(&v["severity"].as_str().unwrap()),
                        "{l}"
                    );
                    assert!(v["time"].is_string() && v["message"].is_string(), "{l}");
                    assert_eq!(
                        v["logging.googleapis.com/trace"],
                        "4bf92f3577b34da6a3ce929d0e0e4736"
                    );
                    assert_eq!(v["logging.googleapis.com/spanId"], "00f067aa0ba902b7");
                    assert!(
                        v["logging.googleapis.com/sourceLocation"]["file"]
                            .as_str()
                            .unwrap()
                            .ends_with("main.rs"),
                        "saw {:?}",
                        &v["logging.googleapis.com/sourceLocation"]["file"]
                    );
                    assert_eq!(v["logging.googleapis.com/labels"]["target"], "network");
                    assert!(
                        v["request_id"].as_str().unwrap().starts_with("req-"),
                        "saw {:?}",
                        &v["request_id"]
                    );
                }
                _ => {
                    assert!(v["SeverityNumber"].as_u64().unwrap() >= 9, "{l}");
                    assert!(v["Body"].is_string(), "{l}");
                    assert!(
                        v["Attributes"]["request_id"]
                            .as_str()
                            .unwrap()
                            .starts_with("req-"),
                        "{l}"
                    );
                }
            }
        }
    }
}
