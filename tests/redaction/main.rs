//! Redaction end to end, as a service uses it: each corpus case is logged through
//! `prodlog::init()` — as a field, as the message, and as a span field (request context) —
//! to the JSON file and the human console, in a child process; the parent reads what was
//! written. Corpora: prodlog's own (`crates/prodlog-redact/tests/corpus/corpus.jsonl`) and
//! the shared external set of secret-scanner cases (`../shared/redact-cases/external.jsonl`,
//! skipped with a message where absent). Run with `cargo test --test redaction`.

#[path = "../support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Logs `value` under the field `name`; tracing field names are static, so every name the
/// corpora use is listed here.
macro_rules! log_field {
    ($name:expr, $id:expr, $value:expr; $($field:literal)*) => {
        match $name {
            $( $field => tracing::info!(target: "corpus", case = $id, $field = %$value, "field case"), )*
            other => panic!("add the field name {other:?} to tests/redaction/main.rs"),
        }
    };
}

fn log_case(case: &Value) {
    let id = case["id"].as_str().unwrap();
    let value = case["value"].as_str().unwrap();
    if case["where"] == "field" {
        let name = case["field"].as_str().unwrap();
        log_field!(name, id, value;
            "Authorization" "PASSWORD" "Password" "Set-Cookie" "X-Api-Key" "accessToken"
            "access_token" "apiKey" "api_key" "arg" "auth_method" "auth_token" "authorization"
            "aws_secret_access_key" "body" "cardNumber" "card_brand" "card_last4" "card_number"
            "clientSecret" "client_secret" "commit" "context" "cookie" "cookie_name"
            "credentials" "cvv" "db-password" "dbPassword" "db_password" "detail" "email"
            "github_token" "header" "jwt" "key_name" "kms_key_id" "location" "new_password"
            "note" "otp" "otp_sent" "passphrase" "passwd" "password" "password_hash"
            "password_policy" "password_reset_requested" "path" "payload" "pin"
            "pin_code_length" "privateKey" "private_key" "public_key" "pwd" "raw"
            "refresh_token" "request_id" "secret" "secret_length" "session_count" "session_id"
            "set-cookie" "ssn" "status" "stripe_key" "token" "token_count" "token_expires_at"
            "tokenizer" "url" "user" "user_password" "value" "webhook_secret" "x_api_key");
    } else {
        tracing::info!(target: "corpus", case = id, "{value}");
        let span = tracing::info_span!("request", ctx = %value);
        let _entered = span.enter();
        tracing::info!(target: "corpus", case = id, "in context");
    }
}

fn corpora() -> Vec<(&'static str, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = vec![(
        "own",
        root.join("crates/prodlog-redact/tests/corpus/corpus.jsonl"),
    )];
    let external = root.join("../shared/redact-cases/external.jsonl");
    if external.exists() {
        out.push(("external", external));
    } else {
        eprintln!("external set skipped: {} is absent", external.display());
    }
    out
}

fn read_cases(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every string in a JSON line, decoded.
fn strings(line: &Map<String, Value>) -> String {
    line.values()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\u{0}")
}

fn check_corpus(name: &str, path: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let out = support::child_command(path.to_str().unwrap())
        .env("PRODLOG_DIR", dir.path())
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "human")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8(out.stdout).unwrap();
    let lines = support::read_json_lines(&dir.path().join("svc.log"));
    let cases = read_cases(path);
    let by_case = |id: &str| -> Vec<&Map<String, Value>> {
        lines.iter().filter(|l| l["case"] == id).collect()
    };
    let all_json: String = lines.iter().map(strings).collect::<Vec<_>>().join("\n");
    let (mut secrets, mut leaked, mut innocents, mut altered) = (0, Vec::new(), 0, Vec::new());
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let value = case["value"].as_str().unwrap();
        let logged = by_case(id);
        assert_eq!(
            logged.len(),
            if case["where"] == "field" { 1 } else { 2 },
            "{id}: every case reaches the file"
        );
        if case["kind"] == "secret" {
            secrets += 1;
            let secret = case["secret"].as_str().unwrap();
            // The console escapes control characters: look for every printable piece.
            let console_leak = secret
                .split(|c: char| c.is_control())
                .any(|piece| piece.len() >= 6 && console.contains(piece));
            if all_json.contains(secret) || console_leak {
                leaked.push(format!("{id}: {value:?}"));
            }
        } else {
            innocents += 1;
            let intact = if case["where"] == "field" {
                logged[0][case["field"].as_str().unwrap()] == *value
            } else {
                logged[0]["message"] == *value && logged[1]["ctx"] == *value
            };
            if !intact {
                altered.push(format!("{id}: {value:?} -> {logged:?}"));
            }
        }
    }
    println!(
        "{name}: {}/{secrets} secrets removed, {}/{innocents} innocent values intact",
        secrets - leaked.len(),
        innocents - altered.len()
    );
    assert!(leaked.is_empty(), "{name} leaked:\n{}", leaked.join("\n"));
    assert!(
        altered.len() * 100 <= innocents,
        "{name}: more than 1% altered:\n{}",
        altered.join("\n")
    );
    audit_agrees_with_the_redactor(name, path, &lines, &cases);
}

/// What `prodlog audit` and `assert_no_secrets()` report of a JSON line: every decoded
/// string value the redactor would still change, and every value under a sensitive name
/// that is not a redaction marker.
fn audit(redactor: &prodlog::redact::Redactor, line: &Map<String, Value>) -> Vec<String> {
    let mut kinds = Vec::new();
    for (key, value) in line {
        let Some(text) = value.as_str() else { continue };
        if redactor.is_sensitive_name(key) && !text.starts_with("[REDACTED") {
            kinds.push(format!("{key}: key_value"));
        }
        for kind in redactor.find(text) {
            kinds.push(format!("{key}: {kind}"));
        }
    }
    kinds
}

/// The audit and the redactor agree: of the lines prodlog wrote (every secret redacted)
/// the audit reports none, its own markers included; of the same events written with
/// redaction off, it reports every secret case.
fn audit_agrees_with_the_redactor(
    name: &str,
    path: &Path,
    redacted: &[Map<String, Value>],
    cases: &[Value],
) {
    let redactor = prodlog::redact::Redactor::default();
    let flagged: Vec<String> = redacted
        .iter()
        .filter_map(|l| {
            let kinds = audit(&redactor, l);
            (!kinds.is_empty()).then(|| format!("{} {kinds:?}: {l:?}", l["case"]))
        })
        .collect();
    assert!(
        flagged.is_empty(),
        "{name}: the audit flags lines prodlog redacted:\n{}",
        flagged.join("\n")
    );

    let dir = tempfile::tempdir().unwrap();
    let out = support::child_command(path.to_str().unwrap())
        .env("PRODLOG_DIR", dir.path())
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "off")
        .env("REDACTION_TEST_OFF", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let raw = support::read_json_lines(&dir.path().join("svc.log"));
    let mut missed = Vec::new();
    let mut secrets = 0;
    for case in cases.iter().filter(|c| c["kind"] == "secret") {
        secrets += 1;
        let id = &case["id"];
        let seen = raw
            .iter()
            .filter(|l| l["case"] == *id)
            .any(|l| !audit(&redactor, l).is_empty());
        if !seen {
            missed.push(format!("{id}: {:?}", case["value"]));
        }
    }
    println!(
        "{name}: audit of the unredacted log reports {}/{secrets} secrets, of the redacted log 0 lines",
        secrets - missed.len()
    );
    assert!(
        missed.is_empty(),
        "{name}: the audit misses secrets the redactor removes:\n{}",
        missed.join("\n")
    );
}

/// The child: logs every case of the corpus at `path` through the preset.
fn child(path: &str) {
    if path == "rules" {
        let _guard = prodlog::init();
        tracing::info!("ticket ACME-12345678 opened");
        tracing::info!(
            note = "adafruit_key = 'f4c1a9e2b7d3805c6e1f9a0b2c4d6e8f'",
            "config"
        );
        tracing::info!(
            token = "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            "built-in"
        );
        return;
    }
    let _guard = if std::env::var_os("REDACTION_TEST_OFF").is_some() {
        prodlog::builder().without_redaction().init()
    } else {
        prodlog::init()
    };
    for case in read_cases(Path::new(path)) {
        log_case(&case);
    }
}

fn all_corpora() {
    for (name, path) in corpora() {
        check_corpus(name, &path);
        println!("redaction corpus {name} ... ok");
    }
}

/// `PRODLOG_REDACT_RULES`: a user's gitleaks-format file and gitleaks' own default file add
/// to the built-in rules; a bad file is reported and the built-in rules still apply.
fn rules_files_through_the_preset() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("rules.toml");
    std::fs::write(
        &own,
        "[[rules]]\nid = \"acme-ticket\"\nregex = 'ACME-[0-9]{8}'\nkeywords = [\"acme-\"]\n",
    )
    .unwrap();
    let gitleaks =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/redact-rules/gitleaks.toml");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[rules]\nid = ").unwrap();
    let run = |rules: &Path| {
        let logs = tempfile::tempdir().unwrap();
        let out = support::child_command("rules")
            .env("PRODLOG_REDACT_RULES", rules)
            .env("PRODLOG_DIR", logs.path())
            .env("PRODLOG_APP", "svc")
            .env("PRODLOG_CONSOLE", "off")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = std::fs::read_to_string(logs.path().join("svc.log")).unwrap();
        (text, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (text, _) = run(&own);
    assert!(!text.contains("ACME-12345678"), "{text}");
    assert!(!text.contains("ghp_0123"), "the built-in rules still apply");
    if gitleaks.exists() {
        let (text, stderr) = run(&gitleaks);
        assert!(!text.contains("f4c1a9e2b7d3805c6e1f9a0b2c4d6e8f"), "{text}");
        assert!(
            stderr.contains("in use") && stderr.contains("skipped"),
            "{stderr}"
        );
    } else {
        println!(
            "    skipped the gitleaks file: {} is absent",
            gitleaks.display()
        );
    }
    let (text, stderr) = run(&bad);
    assert!(
        stderr.contains("cannot load redaction rules from") && stderr.contains("bad.toml"),
        "{stderr}"
    );
    assert!(!text.contains("ghp_0123"), "the built-in rules stand in");
    assert!(
        text.contains("ACME-12345678"),
        "no file rule, no redaction of the ticket"
    );
}

fn main() {
    support::test_main(
        child,
        &[
            ("redaction_corpora_end_to_end", all_corpora),
            (
                "rules_files_through_the_preset",
                rules_files_through_the_preset,
            ),
        ],
    );
}
