//! The redaction bypass families end to end, through `prodlog::init()` in a child: every
//! disguise of a key or separator, card numbers of every numeric type and grouping, a
//! `log` record's target, a panic's message. Nothing may reach the file, the JSON console
//! (stdout) or stderr. The cases are generated here (the redactor's own tests generate
//! them per family too); each secret is random, so no rule can know it.

use std::time::Duration;

use super::run_bounded;
use crate::support::Rng;

/// (text, secret) pairs: each text holds its secret behind one disguise.
fn cases() -> Vec<(String, String)> {
    let mut rng = Rng(0xb1a5_0000_2424_0001);
    let keys = [
        "password",
        "api_key",
        "client_secret",
        "access_token",
        "passwd",
    ];
    let seps = [
        "%3D", "&#61;", "&#x3d;", "&equals;", r"\x3d", r"\u003d", r"\u{3d}", "\0=", "\n=", "\r\n =",
    ];
    let mut out = Vec::new();
    for sep in seps {
        let secret = rng.secret();
        let key = keys[rng.below(keys.len())];
        out.push((format!("POST /login {key}{sep}{secret}&next=home"), secret));
    }
    for disguise in ['\u{200b}', '\u{200d}', '\u{feff}', '\u{ad}', '\0'] {
        let secret = rng.secret();
        out.push((format!("config pass{disguise}word={secret}"), secret));
    }
    for key in ["pаssword", "ｐａｓｓｗｏｒｄ", "api_kеy", "𝐩𝐚𝐬𝐬𝐰𝐨𝐫𝐝"]
    {
        let secret = rng.secret();
        out.push((format!("config {key}: {secret}"), secret));
    }
    for prose in ["password is:", "the api key is :", "token was:"] {
        let secret = rng.secret();
        out.push((format!("{prose} {secret}"), secret));
    }
    for card in [
        "4111.1111.1111.1111",
        "4111_1111_1111_1111",
        "5500 0000 0000 0004",
    ] {
        out.push((
            format!("charged card {card} ok"),
            card.replace([' ', '.', '_'], ""),
        ));
    }
    out
}

const CARD: u64 = 4_012_888_888_881_881;
const TARGET_PASSWORD: &str = "Tg7pW0rdInTarget";
const PANIC_PASSWORD: &str = "Pn1cPassw0rdValue";

pub(crate) fn child(scenario: &str) {
    let _guard = prodlog::init();
    match scenario {
        "bypass" => {
            for (text, _) in cases() {
                tracing::info!(value = %text, "field case");
                tracing::info!("{text}");
                let span = tracing::info_span!("request", ctx = %text);
                let _entered = span.enter();
                tracing::warn!("in context");
                log::warn!("log record: {text}");
            }
            tracing::info!(amount = CARD, "as u64");
            tracing::info!(amount = -(CARD as i64), "as i64");
            tracing::info!(amount = CARD as i128, "as i128");
            tracing::info!(amount = CARD as u128, "as u128");
            tracing::info!(amount = CARD as f64, "as f64");
            tracing::info!(amount = -(CARD as f64), "as negative f64");
            let target = format!("postgres://app:{TARGET_PASSWORD}@db.internal/orders");
            log::error!(target: &target, "from a log record with a URL target");
        }
        "panic" => {
            let url = format!("postgres://app:{PANIC_PASSWORD}@db.internal/orders");
            let password = PANIC_PASSWORD;
            panic!("cannot connect to {url} (password={password})");
        }
        other => panic!("unknown scenario {other}"),
    }
}

fn everything(dir: &std::path::Path, out: &std::process::Output) -> String {
    let mut all = String::from_utf8_lossy(&out.stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    for entry in std::fs::read_dir(dir).unwrap() {
        all.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    all
}

fn run(scenario: &str) -> (String, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::child_command(scenario);
    cmd.env("PRODLOG_DIR", dir.path())
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "json")
        // Rust's own panic message on stderr too (off by default with a JSON console).
        .env("PRODLOG_PANIC_STDERR", "on");
    let out = run_bounded(cmd, Duration::from_secs(60));
    (everything(dir.path(), &out), out)
}

pub(crate) fn bypass_families() {
    let (all, out) = run("bypass");
    assert!(out.status.success(), "{out:?}");
    let cases = cases();
    for (text, secret) in &cases {
        assert!(!all.contains(secret.as_str()), "{text:?} leaked {secret:?}");
    }
    let digits = CARD.to_string();
    assert!(
        !all.contains(&digits),
        "a card number leaked through a numeric field"
    );
    assert!(
        !all.contains(&digits[..12]),
        "a card number leaked through a numeric field"
    );
    assert!(
        !all.contains(TARGET_PASSWORD),
        "a log record's target leaked"
    );
    // Everything else was written.
    assert!(
        all.matches("\"message\":\"field case\"").count() >= cases.len(),
        "saw {:?}",
        &all
    );
    assert!(
        all.contains("from a log record with a URL target"),
        "saw {:?}",
        &all
    );
    println!(
        "  ({} disguised secrets, 6 numeric types, a log target)",
        cases.len()
    );
}

pub(crate) fn panic_message() {
    // With a JSON console, the panic is one structured line and nothing else by default.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::child_command("panic");
    cmd.env("PRODLOG_DIR", dir.path())
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "json");
    let quiet = super::run_bounded(cmd, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&quiet.stdout);
    assert!(stdout.contains("\"panic\":true"), "{stdout}");
    assert!(
        !String::from_utf8_lossy(&quiet.stderr).contains("panicked at"),
        "{quiet:?}"
    );
    let (all, out) = run("panic");
    assert!(
        !out.status.success(),
        "the child should have failed: {out:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("panicked at"), "{stderr}");
    assert!(
        stderr.contains("cannot connect to postgres://app:"),
        "{stderr}"
    );
    assert!(
        !all.contains(PANIC_PASSWORD),
        "the panic's password leaked: {all}"
    );
}
