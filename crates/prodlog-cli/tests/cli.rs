//! The real `prodlog` binary over files the preset wrote.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

fn prodlog(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prodlog"));
    for (k, _) in std::env::vars() {
        if k.starts_with("PRODLOG_") || k.starts_with("OTEL_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.args(args).envs(env.iter().copied()).output().unwrap()
}

const TOKEN: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

/// Writes `svc.log` in `dir` through the preset (redaction on unless `leaky`).
fn write_logs(dir: &Path, leaky: bool) {
    let mut builder = prodlog::builder()
        .from_env(false)
        .console(prodlog::ConsoleMode::Off)
        .app_name("svc")
        .log_dir(dir);
    if leaky {
        builder = builder.without_redaction();
    }
    let (layer, guard) = builder.into_layer().unwrap();
    let subscriber = <tracing_subscriber::Registry as Default>::default();
    let subscriber = tracing_subscriber::layer::SubscriberExt::with(subscriber, layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(user = "ada", "login");
        tracing::warn!(attempt = 2, "retrying");
        tracing::info!(note = format!("using {TOKEN}"), "calling github");
        tracing::info!(password = "hunter2", "form posted");
    });
    drop(guard);
}

#[test]
fn audit_finds_planted_secrets_by_file_and_line_without_echoing_them() {
    let dir = tempfile::tempdir().unwrap();
    write_logs(dir.path(), true);
    // A rotated, gzipped file with one more leak on its second line.
    let gz = std::fs::File::create(dir.path().join("svc.log.1.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
    enc.write_all(b"{\"level\":\"INFO\",\"target\":\"old\",\"message\":\"ok\"}\n{\"level\":\"INFO\",\"target\":\"old\",\"message\":\"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl\"}\nnot json at all\n").unwrap();
    enc.finish().unwrap();

    let out = prodlog(&["audit", dir.path().to_str().unwrap()], &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let log = dir.path().join("svc.log");
    let gz = dir.path().join("svc.log.1.gz");
    assert!(
        text.contains(&format!("{}:3: github_pat", log.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}:4: key_value", log.display())),
        "{text}"
    );
    assert!(text.contains(&format!("{}:2: jwt", gz.display())), "{text}");
    assert!(
        !text.contains(TOKEN) && !text.contains("hunter2"),
        "never echoes a secret: {text}"
    );
    assert!(text.contains("1 non-JSON lines"), "{text}");
    assert!(text.contains("levels: INFO 5, WARN 1"), "{text}");

    let out = prodlog(&["audit", "--json", dir.path().to_str().unwrap()], &[]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 3);
    assert_eq!(report["lines"], 7);
    assert_eq!(report["noisiest_targets"][0]["target"], "cli");
}

#[test]
fn audit_of_redacted_logs_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    write_logs(dir.path(), false);
    let out = prodlog(
        &["audit", "--threads", "2", dir.path().to_str().unwrap()],
        &[],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("no leaked secrets found"), "{text}");
}

#[test]
fn audit_reports_usage_and_missing_paths() {
    assert_eq!(prodlog(&["audit"], &[]).status.code(), Some(2));
    // A path that cannot be read is reported by name and skipped: exit 3, incomplete.
    let out = prodlog(&["audit", "/no/such/dir"], &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("skipped /no/such/dir"),
        "saw {:?}",
        &String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_prints_the_configuration_and_finds_its_canary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = prodlog(
        &["check"],
        &[
            ("PRODLOG_DIR", d),
            ("PRODLOG_APP", "svc"),
            ("RUST_LOG", "info,sqlx=debug"),
            ("PRODLOG_CONSOLE", "off"),
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("levels: \"info,sqlx=debug\" (from RUST_LOG)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("ok: canary arrived in {d}/svc.log")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "ok: {d}/svc.error.log can be appended to (nothing written"
        )),
        "{text}"
    );

    let out = prodlog(
        &["check"],
        &[
            ("PRODLOG_DIR", "/dev/null/logs"),
            ("PRODLOG_APP", "svc"),
            ("PRODLOG_CONSOLE", "off"),
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("cannot create log directory /dev/null/logs"),
        "{text}"
    );

    let out = prodlog(
        &["check"],
        &[("RUST_LOG", "info,app=loud"), ("PRODLOG_CONSOLE", "off")],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("problem: invalid level directives"), "{text}");
}

/// Both redaction corpora written as unredacted JSON log lines (as a service with redaction
/// off would write them): audit must report every secret line and (almost) no innocent one.
#[test]
fn audit_detection_matches_the_redaction_layer_on_the_corpora() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut corpora = vec![root.join("crates/prodlog-redact/tests/corpus/corpus.jsonl")];
    let external = root.join("../shared/redact-cases/external.jsonl");
    if external.exists() {
        corpora.push(external);
    } else {
        eprintln!("external set skipped: {} is absent", external.display());
    }
    for corpus in corpora {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("unredacted.log");
        let mut out = String::new();
        let mut secret_lines = std::collections::BTreeSet::new();
        let cases: Vec<serde_json::Value> = std::fs::read_to_string(&corpus)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        for (i, case) in cases.iter().enumerate() {
            let value = case["value"].as_str().unwrap();
            let mut line = serde_json::Map::new();
            line.insert("timestamp".into(), "2026-11-25T01:00:00.000000Z".into());
            line.insert("level".into(), "INFO".into());
            line.insert("target".into(), "corpus".into());
            if case["where"] == "field" {
                line.insert("message".into(), "field case".into());
                line.insert(case["field"].as_str().unwrap().into(), value.into());
            } else {
                line.insert("message".into(), value.into());
            }
            out.push_str(&serde_json::Value::Object(line).to_string());
            out.push('\n');
            if case["kind"] == "secret" {
                secret_lines.insert(i as u64 + 1);
            }
        }
        std::fs::write(&log, out).unwrap();
        let res = prodlog(&["audit", "--json", log.to_str().unwrap()], &[]);
        let report: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
        let reported: std::collections::BTreeSet<u64> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["line"].as_u64().unwrap())
            .collect();
        let missed: Vec<_> = secret_lines.difference(&reported).collect();
        let false_alarms = reported.difference(&secret_lines).count();
        for line in reported.difference(&secret_lines) {
            eprintln!("flagged innocent case {}", cases[*line as usize - 1]["id"]);
        }
        let innocents = cases.len() - secret_lines.len();
        eprintln!(
            "{}: {}/{} secret lines reported, {false_alarms}/{innocents} innocent lines flagged",
            corpus.display(),
            secret_lines.len() - missed.len(),
            secret_lines.len()
        );
        assert!(
            missed.is_empty(),
            "missed lines {missed:?} of {}",
            corpus.display()
        );
        assert!(
            false_alarms * 100 <= innocents,
            "{false_alarms} false alarms in {}",
            corpus.display()
        );
    }
}

/// A human console capture, colours included: `key=value` split by escape codes is still
/// read as a pair, and a clean coloured line is not flagged.
#[test]
fn audit_reads_coloured_console_captures() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("console.txt");
    std::fs::write(
        &capture,
        concat!(
            "\x1b[2m2026-11-30T10:00:00.000001Z\x1b[0m \x1b[32m INFO\x1b[0m \x1b[2mapp:\x1b[0m login ok \x1b[3muser\x1b[0m=alice\n",
            "\x1b[2m2026-11-30T10:00:00.000002Z\x1b[0m \x1b[31mERROR\x1b[0m \x1b[2mapp:\x1b[0m login failed \x1b[3mpassword\x1b[0m=Hunter2x9\n",
            "\x1b[2m2026-11-30T10:00:00.000003Z\x1b[0m \x1b[32m INFO\x1b[0m \x1b[2mapp:\x1b[0m cache hit \x1b[3mkey\x1b[0m=orders:user:42\n",
        ),
    )
    .unwrap();
    let out = prodlog(&["audit", capture.to_str().unwrap()], &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{}:2: key_value", capture.display())),
        "{text}"
    );
    assert!(!text.contains(":1:") && !text.contains(":3:"), "{text}");
    assert!(!text.contains("Hunter2x9"), "the secret is never echoed");
}

/// A collector on 127.0.0.1 answering 200 to every POST; counts the requests.
fn collector() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let posts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = posts.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut r = BufReader::new(conn);
            let mut len = 0u64;
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if line == "\r\n" {
                    let _ = std::io::copy(&mut (&mut r).take(len), &mut std::io::sink());
                    seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ = r
                        .get_mut()
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                    len = 0;
                    continue;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
    });
    (port, posts)
}

#[test]
fn check_sends_its_canary_to_the_network_destinations() {
    let (port, posts) = collector();
    let endpoint = format!("http://127.0.0.1:{port}");
    let out = prodlog(
        &["check"],
        &[
            ("PRODLOG_OTLP", "on"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("PRODLOG_CONSOLE", "off"),
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("otlp: {endpoint}/v1/logs up to trace")),
        "{text}"
    );
    assert!(text.contains("ok: canary accepted by otlp"), "{text}");
    assert!(
        posts.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "no POST reached the collector"
    );

    // Nobody listening: a failure, said so, exit 1.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = prodlog(
        &["check"],
        &[
            ("PRODLOG_OTLP", "on"),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                &format!("http://127.0.0.1:{dead}"),
            ),
            ("PRODLOG_CONSOLE", "off"),
            ("PRODLOG_SHUTDOWN_MS", "300"),
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL: the canary did not reach otlp"),
        "{text}"
    );

    // Syslog over UDP with nothing listening: the datagram left, and the check says it
    // cannot confirm more.
    let out = prodlog(
        &["check"],
        &[
            ("PRODLOG_SYSLOG", &format!("udp://127.0.0.1:{dead}")),
            ("PRODLOG_CONSOLE", "off"),
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("not confirmed"), "{text}");
    assert!(!text.contains("canary accepted by syslog"), "{text}");
}

/// `check` pointed at a live service's directory: the ERROR-only file is byte-identical
/// afterwards, the canary is an INFO line with a marker in the main file only, and no file
/// appears that the service would not create — with or without `PRODLOG_APP`.
#[test]
fn check_on_live_files_changes_nothing_alerting_watches() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let old_line = "{\"timestamp\":\"2026-12-07T10:00:00.000000Z\",\"level\":\"ERROR\",\"target\":\"svc\",\"message\":\"earlier\"}\n";
    std::fs::write(dir.path().join("svc.log"), old_line).unwrap();
    std::fs::write(dir.path().join("svc.error.log"), old_line).unwrap();
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    let before = listing();
    for vars in [
        vec![
            ("PRODLOG_DIR", d),
            ("PRODLOG_APP", "svc"),
            ("PRODLOG_CONSOLE", "off"),
        ],
        // Without PRODLOG_APP: the directory's one application is the one checked.
        vec![("PRODLOG_DIR", d), ("PRODLOG_CONSOLE", "off")],
    ] {
        let out = prodlog(&["check"], &vars);
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{vars:?}: {text}");
        assert_eq!(
            std::fs::read(dir.path().join("svc.error.log")).unwrap(),
            old_line.as_bytes(),
            "the error file is byte-identical"
        );
        assert!(
            text.contains("can be appended to (nothing written"),
            "{text}"
        );
        assert_eq!(listing(), before, "no file created: {vars:?}");
    }
    let main = std::fs::read_to_string(dir.path().join("svc.log")).unwrap();
    let canaries: Vec<&str> = main.lines().filter(|l| l.contains("canary-")).collect();
    assert_eq!(canaries.len(), 2, "{main}");
    for c in canaries {
        assert!(
            c.contains("\"level\":\"INFO\"") && c.contains("\"prodlog_check\":true"),
            "{c}"
        );
    }
    // An empty directory and no PRODLOG_APP: nothing created, and the check says why.
    let empty = tempfile::tempdir().unwrap();
    let out = prodlog(
        &["check"],
        &[
            ("PRODLOG_DIR", empty.path().to_str().unwrap()),
            ("PRODLOG_CONSOLE", "off"),
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("set PRODLOG_APP"), "{text}");
    assert_eq!(
        std::fs::read_dir(empty.path()).unwrap().count(),
        0,
        "{text}"
    );
}

#[test]
fn check_reads_bounded_amounts_and_speaks_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // The log file is a device that never ends: the check must not read it whole.
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("svc.log")).unwrap();
    let started = std::time::Instant::now();
    let out = prodlog(
        &["check"],
        &[
            ("PRODLOG_DIR", d),
            ("PRODLOG_APP", "svc"),
            ("PRODLOG_CONSOLE", "off"),
            ("PRODLOG_ERROR_FILE", "off"),
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("not a regular file"), "{text}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "saw {:?}",
        &started
    );
    // A normal run: sizes, durations and counts, no Debug output.
    let dir = tempfile::tempdir().unwrap();
    let out = prodlog(
        &["check"],
        &[
            ("PRODLOG_DIR", dir.path().to_str().unwrap()),
            ("PRODLOG_APP", "svc"),
            ("PRODLOG_CONSOLE", "off"),
            ("PRODLOG_MAX_BYTES", "100M"),
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    for plain in [
        "at 100 MiB",
        "8 MiB per file",
        "up to 5 s",
        "secret formats",
    ] {
        assert!(text.contains(plain), "{plain}: {text}");
    }
    for debug in ["Redactor {", "Never (UTC)", "104857600", "Some("] {
        assert!(!text.contains(debug), "{debug}: {text}");
    }
}
