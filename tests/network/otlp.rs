//! OTLP export against a real collector (Rotel).

use super::rotel::{received, start_rotel, wait_received, Received};
use super::*;

pub(crate) fn otlp_child(port: u16, extra: &[(&str, &str)]) -> Command {
    let mut cmd = child_command("requests");
    cmd.env("PRODLOG_OTLP", "on")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
        .env("PRODLOG_CONSOLE", "off")
        .env("PRODLOG_APP", "checkout")
        .env("RUST_LOG", "debug")
        .env_remove("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
        .env_remove("OTEL_SERVICE_NAME")
        .env_remove("OTEL_SDK_DISABLED");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

/// The OTLP child printing `logged N` after each request, its stdout and stderr piped.
fn spawn_with_markers(
    port: u16,
    extra: &[(&str, &str)],
) -> (std::process::Child, std::process::ChildStdout) {
    let mut vars = vec![("MARKERS", "1")];
    vars.extend_from_slice(extra);
    let mut child = otlp_child(port, &vars)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    (child, stdout)
}

pub(crate) fn otlp_records_reach_a_real_collector_redacted_with_context() {
    let name = "otlp_records_reach_a_real_collector_redacted_with_context";
    let dir = tempfile::tempdir().unwrap();
    let rotel = match start_rotel(dir.path(), free_port()) {
        Ok(r) => r,
        Err(why) => return skip(name, &why),
    };
    // The same events whatever the schema of the files: the exporter reads each.
    for (i, schema) in ["prodlog", "ecs", "gcp", "otel"].iter().enumerate() {
        let service = format!("checkout-{schema}");
        let out = otlp_child(
            rotel.port,
            &[
                ("N", "3"),
                ("PRODLOG_JSON_SCHEMA", schema),
                ("OTEL_SERVICE_NAME", &service),
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "service.version=1.4.2,deployment.environment=test",
                ),
            ],
        )
        .output()
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        // 3 requests x 4 events.
        let all = wait_received(&rotel, 12 * (i + 1), Duration::from_secs(10));
        let records: Vec<&Received> = all
            .iter()
            .filter(|r| {
                r.resource
                    .iter()
                    .any(|(k, v)| k == "service.name" && *v == service)
            })
            .collect();
        assert_eq!(records.len(), 12, "{schema}: {records:#?}\n{stdout}");
        assert!(stdout.contains("sent=12 dropped=0"), "{stdout}");
        for r in &records {
            assert_eq!(
                r.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736",
                "{schema}: {r:?}"
            );
            assert_eq!(r.span_id, "00f067aa0ba902b7", "{schema}: {r:?}");
            assert!(
                r.attr("request_id").is_some_and(|v| v.starts_with("req-")),
                "{schema}: {r:?}"
            );
            assert_eq!(r.attr("user_id"), Some("42"), "{schema}: {r:?}");
            let n: usize = r.attr("request_id").unwrap()[4..].parse().unwrap();
            let order = (1000 + n).to_string();
            assert_eq!(r.attr("order_id"), Some(order.as_str()), "{schema}: {r:?}");
            assert_eq!(r.attr("span"), Some("request"), "{schema}: {r:?}");
            assert!(
                r.attr("code.file.path")
                    .is_some_and(|f| f.ends_with("main.rs")),
                "{schema}: {r:?}"
            );
            assert!(
                r.attr("code.line.number")
                    .is_some_and(|l| l.parse::<u32>().is_ok()),
                "{schema}: {r:?}"
            );
            assert!(
                r.resource
                    .iter()
                    .any(|(k, v)| k == "service.version" && v == "1.4.2"),
                "{r:?}"
            );
            assert!(r.resource.iter().any(|(k, _)| k == "host.name"), "{r:?}");
            assert_eq!(r.scope, "network", "{schema}: {r:?}");
            // Nothing of the schema's own keys leaks into the attributes.
            for k in [
                "timestamp",
                "@timestamp",
                "time",
                "severity",
                "level",
                "log.level",
                "Body",
                "message",
            ] {
                assert!(r.attr(k).is_none(), "{schema}: {k} in {r:?}");
            }
        }
        let sev: Vec<&str> = records
            .iter()
            .take(4)
            .map(|r| r.severity.as_str())
            .collect();
        assert_eq!(sev, ["DEBUG", "INFO", "WARN", "ERROR"], "{schema}");
        assert!(
            records[1].body.starts_with("login ok with key ")
                && records[1].body.contains("[REDACTED]"),
            "{schema}: {:?}",
            records[1]
        );
        assert_eq!(records[1].attr("password"), Some("[REDACTED]"), "{schema}");
    }
    // Levels: under RUST_LOG=warn only WARN and ERROR leave, still with the request
    // context of their INFO span; PRODLOG_OTLP_LEVEL=error keeps the export to errors.
    let before = received(&rotel).len();
    for (service, extra, expected) in [
        (
            "checkout-warn",
            [("RUST_LOG", "warn"), ("PRODLOG_OTLP_LEVEL", "trace")],
            &["WARN", "ERROR"][..],
        ),
        (
            "checkout-errors",
            [("RUST_LOG", "debug"), ("PRODLOG_OTLP_LEVEL", "error")],
            &["ERROR"][..],
        ),
    ] {
        let mut vars = vec![("N", "3"), ("OTEL_SERVICE_NAME", service)];
        vars.extend(extra);
        let out = otlp_child(rotel.port, &vars).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let want = 3 * expected.len();
        let deadline = Instant::now() + Duration::from_secs(10);
        let records = loop {
            let all = received(&rotel);
            let mine: Vec<Received> = all[before..]
                .iter()
                .filter(|r| {
                    r.resource
                        .iter()
                        .any(|(k, v)| k == "service.name" && v == service)
                })
                .cloned()
                .collect();
            if mine.len() >= want || Instant::now() > deadline {
                break mine;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(records.len(), want, "{service}: {records:#?}");
        for r in &records {
            assert!(expected.contains(&r.severity.as_str()), "{service}: {r:?}");
            assert!(
                r.attr("request_id").is_some_and(|v| v.starts_with("req-")),
                "{service}: {r:?}"
            );
        }
    }
    let raw = std::fs::read_to_string(&rotel.out).unwrap();
    for secret in [SECRET_PW, SECRET_KEY, SECRET_TOKEN, "Sup3rSecret"] {
        assert!(
            !raw.contains(secret),
            "{secret} reached the collector:\n{raw}"
        );
    }
    println!("  {} records received by Rotel", received(&rotel).len());
}

pub(crate) fn otlp_collector_that_goes_away_and_comes_back() {
    let name = "otlp_collector_that_goes_away_and_comes_back";
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut rotel = match start_rotel(dir.path(), port) {
        Ok(r) => r,
        Err(why) => return skip(name, &why),
    };
    let total = 60;
    let (mut child, mut stdout) = spawn_with_markers(
        port,
        &[
            ("N", &total.to_string()),
            ("PAUSE_MS", "50"),
            ("RUST_LOG", "info"),
        ],
    );
    // Let some requests through, then take the collector away for ~1 s.
    let mut seen = String::new();
    read_until(&mut stdout, &mut seen, "logged 10\n");
    let before = wait_received(&rotel, 1, Duration::from_secs(5)).len();
    rotel.server.kill();
    read_until(&mut stdout, &mut seen, "logged 30\n");
    let rotel2 = start_rotel(dir.path(), port).expect("rotel restarts on the same port");
    stdout.read_to_string(&mut seen).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{seen}\n{stderr}");
    // The child took every batch to the collector before it ended; the collector writes
    // them to its file when it gets to it. So wait for the whole set, not a count (a count
    // was reached by the requests queued while it was away, before the last ones were in
    // the file, on a loaded machine).
    let first = received(&rotel);
    let request_ids = |records: &[Received]| -> std::collections::BTreeSet<String> {
        records
            .iter()
            .filter(|r| r.severity == "INFO")
            .filter_map(|r| r.attr("request_id").map(str::to_owned))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let got = loop {
        let mut got = request_ids(&first);
        got.extend(request_ids(&received(&rotel2)));
        if (11..total).all(|n| got.contains(&format!("req-{n}"))) || Instant::now() >= deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Every request logged while the collector was away or after it came back arrives:
    // the lines waited in the queue. (A batch the old collector took just before it was
    // killed may be lost with it: it answered 200.)
    for n in 30..total {
        assert!(
            got.contains(&format!("req-{n}")),
            "req-{n} missing; got {got:?}\n{stderr}"
        );
    }
    for n in 11..30 {
        assert!(
            got.contains(&format!("req-{n}")),
            "req-{n} (logged while the collector was away) missing; got {got:?}\n{stderr}"
        );
    }
    assert!(before > 0, "saw {:?}", &before);
    assert!(
        stderr.contains("cannot send"),
        "the outage is reported: {stderr}"
    );
    assert!(
        stderr.contains("sending again"),
        "the recovery is reported: {stderr}"
    );
    assert!(seen.contains("dropped=0"), "{seen}");
}

pub(crate) fn otlp_sigterm_delivers_every_logged_line() {
    let name = "otlp_sigterm_delivers_every_logged_line";
    let dir = tempfile::tempdir().unwrap();
    let rotel = match start_rotel(dir.path(), free_port()) {
        Ok(r) => r,
        Err(why) => return skip(name, &why),
    };
    // Logging as fast as it can, 3 events per request at info; SIGTERM mid-stream.
    let (mut child, mut stdout) = spawn_with_markers(
        rotel.port,
        &[
            ("N", "100000000"),
            ("RUST_LOG", "info"),
            // Every event counts here: no callsite held back by the flood limiter.
            ("PRODLOG_RATE_LIMIT", "off"),
        ],
    );
    let mut seen = String::new();
    read_until(&mut stdout, &mut seen, "logged 2000\n");
    // Every request whose marker the child printed before the signal was sent had
    // returned from its `error!` call: those are "logged before SIGTERM".
    let before: usize = seen
        .lines()
        .filter_map(|l| l.strip_prefix("logged "))
        .filter_map(|n| n.parse().ok())
        .max()
        .unwrap();
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill failed: {status:?}");
    stdout.read_to_string(&mut seen).unwrap();
    let mut child_stderr = child.stderr.take().unwrap();
    let exit = child.wait().unwrap();
    let mut stderr = String::new();
    child_stderr.read_to_string(&mut stderr).unwrap();
    // Still killed by the signal (not an exit code of the handler's choosing).
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&exit),
        Some(15),
        "{exit:?}"
    );
    // Every event logged before SIGTERM is at the collector, or counted in a
    // `prodlog dropped N lines` record (logging flat out can overflow the queue); lines
    // logged while shutting down are counted on stderr.
    let expected = 3 * (before + 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (events, dropped) = loop {
        let records = received(&rotel);
        let events = records
            .iter()
            .filter(|r| r.scope == "network")
            .filter_map(|r| {
                r.attr("request_id")?
                    .strip_prefix("req-")?
                    .parse::<usize>()
                    .ok()
            })
            .filter(|&n| n <= before)
            .count();
        let dropped: usize = records
            .iter()
            .filter(|r| r.scope == "prodlog")
            .filter_map(|r| r.attr("dropped").and_then(|d| d.parse::<usize>().ok()))
            .sum();
        if events + dropped >= expected || Instant::now() > deadline {
            break (events, dropped);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        events + dropped >= expected,
        "{events} received + {dropped} dropped < {expected} logged before SIGTERM\n{stderr}"
    );
    let after: usize = seen
        .lines()
        .filter_map(|l| l.strip_prefix("logged "))
        .filter_map(|n| n.parse().ok())
        .max()
        .unwrap();
    if after > before {
        assert!(
            stderr.contains("logged during shutdown were not sent")
                || events + dropped >= 3 * (after + 1),
            "{stderr}"
        );
    }
    println!("  {events} events logged before SIGTERM received, {dropped} dropped and reported, of {expected}");
}

pub(crate) fn otlp_unreachable_collector_never_blocks_and_is_reported() {
    // A port nobody listens on; 2,000 requests; the program ends within its shutdown timeout.
    let port = free_port();
    let started = Instant::now();
    let out = otlp_child(
        port,
        &[
            ("N", "2000"),
            ("PRODLOG_SHUTDOWN_MS", "1000"),
            ("RUST_LOG", "info"),
        ],
    )
    .output()
    .unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("cannot send"), "{stderr}");
    assert!(
        stderr.contains("not sent at shutdown") || stderr.contains("left unsent"),
        "{stderr}"
    );
    let stats = stdout
        .lines()
        .find(|l| l.starts_with("STATS otlp"))
        .expect("stats line");
    assert!(stats.contains("sent=0"), "{stats}");
    assert!(!stats.contains("failed=0"), "{stats}");
    // Not a timing assertion on the hot path: a sanity bound on a hang (flush 1 s + exit 1 s).
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}

pub(crate) fn otlp_bad_configuration_is_a_clear_init_problem() {
    for (var, value, expect) in [
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "collector:4318",
            "not an http:// or https:// URL",
        ),
        // Never a silent switch to another protocol, compression or trust.
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "grpc",
            "OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\" is not supported",
        ),
        (
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
            "http/json",
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=\"http/json\" is not supported",
        ),
        (
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            "brotli",
            "OTEL_EXPORTER_OTLP_COMPRESSION=\"brotli\" is not valid",
        ),
        (
            "OTEL_EXPORTER_OTLP_INSECURE",
            "true",
            "certificates are always verified",
        ),
        (
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "/etc/hostname",
            "the endpoint is http://",
        ),
        (
            "OTEL_BLRP_MAX_QUEUE_SIZE",
            "2048",
            "PRODLOG_OTLP_QUEUE_BYTES",
        ),
        ("OTEL_LOGS_EXPORTER", "console", "OTEL_LOGS_EXPORTER"),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization",
            "OTEL_EXPORTER_OTLP_HEADERS",
        ),
        ("PRODLOG_OTLP", "maybe", "PRODLOG_OTLP"),
        ("PRODLOG_JSON_SCHEMA", "splunk", "PRODLOG_JSON_SCHEMA"),
        (
            "PRODLOG_SYSLOG",
            "udp://127.0.0.1:notaport",
            "syslog destination",
        ),
    ] {
        let mut cmd = otlp_child(free_port(), &[("N", "1"), ("PRODLOG_SHUTDOWN_MS", "200")]);
        cmd.env(var, value);
        let dir = tempfile::tempdir().unwrap();
        cmd.env("PRODLOG_DIR", dir.path());
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{var}={value}: {stderr}");
        assert!(stderr.contains(expect), "{var}={value}: {stderr}");
        // The files are still written.
        let log = std::fs::read_to_string(dir.path().join("checkout.log")).unwrap_or_default();
        assert!(log.contains("slow upstream"), "{var}={value}: {log}");
    }
}
