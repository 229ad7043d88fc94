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
        // 2 requests x info, warn, error, and each request's DEBUG line, which the flight
        // recorder writes (marked) because the request logged an ERROR.
        assert_eq!(lines.len(), 8, "{lines:#?}");
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains("\"recorded\":true"))
                .count(),
            2,
            "{lines:#?}"
        );
        for l in &lines {
            let recorded = l.contains("\"recorded\":true");
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
                    let levels: &[&str] = if recorded {
                        &["debug"]
                    } else {
                        &["info", "warn", "error"]
                    };
                    assert!(levels.contains(&v["log.level"].as_str().unwrap()), "{l}");
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
                    let levels: &[&str] = if recorded {
                        &["DEBUG"]
                    } else {
                        &["INFO", "WARNING", "ERROR"]
                    };
                    assert!(levels.contains(&v["severity"].as_str().unwrap()), "{l}");
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
                    let least = if recorded { 5 } else { 9 };
                    assert!(v["SeverityNumber"].as_u64().unwrap() >= least, "{l}");
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
