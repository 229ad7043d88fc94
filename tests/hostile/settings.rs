//! Every documented `PRODLOG_*` and `OTEL_*` variable (read from the README's table, so a
//! new one is covered the day it is documented) given hostile values: bytes that are not
//! UTF-8, a `%` before a multi-byte character, control characters, a megabyte, a FIFO,
//! `/dev/zero`, and secrets in the shapes a setting carries them (an `Authorization`
//! header, credentials in a URL, an `api_key=` query). `init()` must return, never panic,
//! and never print the secret.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::Command;
use std::time::Duration;

use super::run_bounded;

/// The secret parts that must never appear on stderr.
const SECRETS: [&str; 4] = [
    "ghp_R4nd0mT0kenV4lue1234567890abcdefXY",
    "Pa55w0rd-Xyzzy-42",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "hunter2-correct-horse",
];

pub(crate) fn child() {
    let guard = prodlog::init();
    tracing::info!(password = "hunter2-correct-horse", "fuzzed settings");
    tracing::error!("fuzzed settings, an error");
    drop(guard);
}

/// The variables the README documents (bench-only ones aside).
fn documented() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let mut vars: Vec<String> = Vec::new();
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        for part in line.split('`') {
            let var = part.trim();
            let documented = (var.starts_with("PRODLOG_") || var.starts_with("OTEL_"))
                && var
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
                && !var.starts_with("PRODLOG_BENCH");
            if documented && !vars.iter().any(|v| v == var) {
                vars.push(var.to_owned());
            }
        }
    }
    assert!(vars.len() > 30, "the README's table: {vars:?}");
    vars
}

fn values(fifo: &str) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![
        OsString::from_vec(vec![0xff, 0xfe, b'%', 0xc3, b'=', 0x80, b',', b'%']),
        "%é1=%ü%".into(),
        "k=%C3%28,x=%,%%%=%".into(),
        "é=ü,ключ=значение,\u{202e}rtl=1".into(),
        "on\u{7}\u{1b}[2J\r\nforged".into(),
        "-1".into(),
        "18446744073709551616000".into(),
        "9999999999999999999G".into(),
        "0".into(),
        "/dev/zero".into(),
        fifo.into(),
        "Authorization=Bearer ghp_R4nd0mT0kenV4lue1234567890abcdefXY".into(),
        "Authorization=Bearer%20ghp_R4nd0mT0kenV4lue1234567890abcdefXY,broken".into(),
        "http://admin:Pa55w0rd-Xyzzy-42@127.0.0.1:1/v1/logs?api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc".into(),
        "tcp://ops:Pa55w0rd-Xyzzy-42@[::1]junk:514".into(),
        "http://[::1]junk:4318".into(),
        // The kernel takes at most 128 KiB per variable (MAX_ARG_STRLEN).
        "x".repeat(120_000).into(),
        "a=".repeat(60_000).into(),
    ];
    v.push(OsString::from_vec(vec![b'%'; 70_000]));
    v
}

fn run(vars: &[(String, OsString)], cwd: &std::path::Path) -> String {
    let mut cmd = crate::support::child_command("settings");
    cmd.current_dir(cwd);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = run_bounded(cmd, Duration::from_secs(90));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        out.status.success(),
        "{names:?}: {:?}\n{}",
        out.status,
        &stderr[..stderr.len().min(4000)]
    );
    for secret in SECRETS {
        if let Some(at) = stderr.find(secret) {
            let from = stderr[..at].rfind('\n').map_or(0, |i| i + 1);
            let to = stderr[at..].find('\n').map_or(stderr.len(), |i| at + i);
            panic!(
                "{names:?} printed a secret: {}",
                &stderr[from..to.min(from + 2000)]
            );
        }
    }
    stderr
}

pub(crate) fn settings_fuzz() {
    let vars = documented();
    let cwd = tempfile::tempdir().unwrap();
    let fifo = cwd.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success(),
        "mkfifo failed"
    );
    let values = values(fifo.to_str().unwrap());
    // Every variable at once, with each value: the variables' problems pile up together.
    for value in values.iter().filter(|v| v.len() <= 16 * 1024) {
        // (All variables at once must fit in the kernel's 2 MiB for a whole environment.)
        let all: Vec<(String, OsString)> =
            vars.iter().map(|k| (k.clone(), value.clone())).collect();
        run(&all, cwd.path());
    }
    // Each variable alone, with values in turn (others unset, so each is reached).
    for (i, var) in vars.iter().enumerate() {
        for value in values.iter().skip(i % 4).step_by(4) {
            run(&[(var.clone(), value.clone())], cwd.path());
        }
    }
    println!("  ({} variables, {} values)", vars.len(), values.len());
}
