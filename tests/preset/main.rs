//! `prodlog::init()` and `try_init()` as a service uses them: each scenario runs in a child
//! process (a global subscriber is set once per process) with its own environment, and the
//! parent checks stdout, stderr and the files. Run with `cargo test --test preset`.

#[path = "../support/mod.rs"]
mod support;

use std::process::Output;

use serde_json::Value;

/// What a child does, by `PRODLOG_TEST_CHILD`.
fn child(scenario: &str) {
    match scenario {
        "init" => {
            let _guard = prodlog::init();
            emit();
            // A second initialisation is reported, never a panic.
            let second = prodlog::try_init();
            eprintln!(
                "second try_init: {:?}",
                second.as_ref().err().map(|e| e.kind())
            );
            let _again = prodlog::init();
        }
        "try_init" => match prodlog::try_init() {
            Ok(_guard) => {
                eprintln!("try_init: ok");
                emit();
            }
            Err(e) => eprintln!("try_init: {:?}: {e}", e.kind()),
        },
        other => panic!("unknown scenario {other}"),
    }
}

fn emit() {
    let s = tracing::info_span!(
        "request",
        request_id = "r-1",
        user_id = tracing::field::Empty
    );
    let _e = s.enter();
    s.record("user_id", 42);
    tracing::debug!("debug line");
    tracing::debug!(target: "preset::noisy", "noisy debug line");
    tracing::info!(n = 1, "info line");
    tracing::warn!(value = "evil\n\u{1b}[2Jx", "warn line");
    tracing::error!(code = 500, "error line");
}

fn run(scenario: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = support::child_command(scenario);
    cmd.env_remove("NO_COLOR").envs(env.iter().copied());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{scenario} {env:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout_json(out: &Output) -> Vec<serde_json::Map<String, Value>> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(support::parse)
        .collect()
}

/// The messages of the lines written as such: the flight recorder's lines (a request's
/// DEBUG lines, written after its ERROR, marked `recorded`) are checked on their own.
fn messages(lines: &[serde_json::Map<String, Value>]) -> Vec<&str> {
    lines
        .iter()
        .filter(|l| !l.contains_key("recorded"))
        .map(|l| l["message"].as_str().unwrap())
        .collect()
}

fn defaults_pipe_json_to_stdout() {
    let out = run("init", &[]);
    let all = stdout_json(&out);
    // The request logged an ERROR: the flight recorder writes its DEBUG lines after it,
    // marked, when it closes.
    let (recorded, lines): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|l| l.contains_key("recorded"));
    assert_eq!(messages(&lines), ["info line", "warn line", "error line"]);
    let recorded_messages: Vec<&str> = recorded
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(recorded_messages, ["debug line", "noisy debug line"]);
    assert!(recorded
        .iter()
        .all(|l| l["level"] == "DEBUG" && l["request_id"] == "r-1"));
    assert_eq!(lines[0]["request_id"], "r-1");
    assert_eq!(lines[0]["user_id"], 42);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("second try_init: Some(AlreadyInitialized)"),
        "{err}"
    );
    assert!(
        err.contains("prodlog: a global tracing subscriber is already set"),
        "{err}"
    );
}

fn human_console_is_escaped_and_uncoloured_in_a_pipe() {
    let out = run("init", &[("PRODLOG_CONSOLE", "human")]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour and no raw ESC in a pipe: {text:?}"
    );
    assert!(
        lines[1].ends_with(
            " WARN preset: warn line value=\"evil\\n\\x1b[2Jx\" request_id=r-1 user_id=42"
        ),
        "{text}"
    );

    let out = run(
        "init",
        &[("PRODLOG_CONSOLE", "human"), ("PRODLOG_COLOR", "always")],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\u{1b}[33m WARN\u{1b}[0m"), "{text:?}");
    assert!(text.contains("\\x1b[2Jx"), "{text:?}");
}

fn files_main_and_error_only() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("nested/logs");
    let out = run(
        "init",
        &[
            ("PRODLOG_DIR", logs.to_str().unwrap()),
            ("PRODLOG_APP", "billing"),
            ("PRODLOG_CONSOLE", "off"),
        ],
    );
    assert!(out.stdout.is_empty(), "saw {:?}", &out);
    let main = support::read_json_lines(&logs.join("billing.log"));
    assert_eq!(messages(&main), ["info line", "warn line", "error line"]);
    let errors = support::read_json_lines(&logs.join("billing.error.log"));
    assert_eq!(messages(&errors), ["error line"]);
    assert_eq!(errors[0]["request_id"], "r-1");

    let dir2 = tempfile::tempdir().unwrap();
    run(
        "init",
        &[
            ("PRODLOG_DIR", dir2.path().to_str().unwrap()),
            ("PRODLOG_APP", "a"),
            ("PRODLOG_ERROR_FILE", "off"),
            ("PRODLOG_CONSOLE", "off"),
        ],
    );
    assert!(dir2.path().join("a.log").exists(), "saw {:?}", &dir2);
    assert!(!dir2.path().join("a.error.log").exists(), "saw {:?}", &dir2);
}

fn rust_log_levels() {
    let warn = stdout_json(&run("init", &[("RUST_LOG", "warn")]));
    assert_eq!(messages(&warn), ["warn line", "error line"]);
    let target = stdout_json(&run("init", &[("RUST_LOG", "preset::noisy=debug")]));
    assert_eq!(
        messages(&target),
        ["noisy debug line", "info line", "warn line", "error line"],
        "a target-only spec keeps info for the rest"
    );
    let blank = stdout_json(&run("init", &[("RUST_LOG", "  ")]));
    assert_eq!(
        messages(&blank),
        ["info line", "warn line", "error line"],
        "blank means default"
    );
}

fn bad_environment_is_reported_and_worked_around() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let unusable = file.join("logs"); // a directory under a regular file
    let out = run(
        "init",
        &[
            ("PRODLOG_CONSOLE", "fancy"),
            ("RUST_LOG", "warn,,preset=verbose"),
            ("PRODLOG_DIR", unusable.to_str().unwrap()),
            ("PRODLOG_APP", "../escape"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "prodlog: PRODLOG_CONSOLE=\"fancy\" is not valid: expected one of auto, human, json, off; using auto",
        "prodlog: invalid level directives \"warn,,preset=verbose\" in RUST_LOG",
        "directive 3 \"preset=verbose\" (at byte 6): unknown level \"verbose\"",
        "keeping the valid directives",
        "prodlog: PRODLOG_APP=\"../escape\" is not valid",
        &format!("prodlog: cannot create log directory {}", unusable.display()),
        "writing no log files",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    // The valid part of the spec (`warn`) still applies, and the console still works.
    assert_eq!(messages(&stdout_json(&out)), ["warn line", "error line"]);
    assert!(!dir.path().join("escape.log").exists(), "saw {:?}", &dir);
}

fn try_init_returns_typed_errors() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("PRODLOG_CONSOLE", "fancy")],
            "try_init: InvalidEnv: PRODLOG_CONSOLE=\"fancy\"",
        ),
        (
            &[("RUST_LOG", "info,=debug")],
            "try_init: InvalidDirectives: invalid level directives",
        ),
        (
            &[("PRODLOG_DIR", "/dev/null/logs")],
            "try_init: LogFile: cannot create log directory /dev/null/logs",
        ),
        (&[], "try_init: ok"),
    ];
    for (env, expected) in cases {
        let out = run("try_init", env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(expected),
            "{env:?}: expected {expected:?} in {err}"
        );
        // info, warn, error, and the request's two DEBUG lines from the flight recorder.
        let printed = stdout_json(&out).len();
        assert_eq!(
            printed,
            if expected.ends_with("ok") { 5 } else { 0 },
            "{env:?}"
        );
    }
}

fn main() {
    support::test_main(
        child,
        &[
            ("defaults_pipe_json_to_stdout", defaults_pipe_json_to_stdout),
            (
                "human_console_is_escaped_and_uncoloured_in_a_pipe",
                human_console_is_escaped_and_uncoloured_in_a_pipe,
            ),
            ("files_main_and_error_only", files_main_and_error_only),
            ("rust_log_levels", rust_log_levels),
            (
                "bad_environment_is_reported_and_worked_around",
                bad_environment_is_reported_and_worked_around,
            ),
            (
                "try_init_returns_typed_errors",
                try_init_returns_typed_errors,
            ),
        ],
    );
}
