//! Levels through the preset, as a service sees them: noisy dependencies, `RUST_LOG` (or the
//! application's own variable), `log` records, per-destination levels and changes at run
//! time. Each scenario runs in a child process (one global subscriber per process).
//! Run with `cargo test --test levels`.

#[path = "../support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tracing_core::LevelFilter;

fn emit_targets() {
    tracing::info!(target: "hyper::client::pool", "hyper info");
    tracing::warn!(target: "hyper::proto", "hyper warn");
    tracing::info!(target: "sqlx::query", "sqlx info");
    tracing::info!(target: "chatty_dep", "chatty info");
    tracing::debug!(target: "levels::db", "app debug");
    tracing::info!(target: "levels", "app info");
}

/// Waits until the filter says `target` is at `level` (applied by another thread).
fn wait_for(guard: &prodlog::Guard, target: &str, level: LevelFilter) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let filter = guard.filter().expect("a filter handle").filter();
    while filter.level_for(target) != level {
        assert!(Instant::now() < deadline, "{target} never reached {level}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn child(scenario: &str) {
    match scenario {
        "targets" => {
            let _guard = prodlog::builder().quiet("chatty_dep").init();
            emit_targets();
        }
        "own_var" => {
            let _guard = prodlog::builder().env_var("LEVELS_LOG").init();
            emit_targets();
        }
        "log" => {
            let _guard = prodlog::init();
            let span = tracing::info_span!("request", request_id = "r-7");
            let _entered = span.enter();
            log::info!(target: "legacy::db", "log says {}", 5);
            log::debug!(target: "legacy::db", "log debug");
            log::info!(target: "hyper::client", "log from a quiet dependency");
            log::warn!("default target");
            tracing::info!(target: "legacy::db", "tracing says 5");
        }
        "destinations" => {
            let _guard = prodlog::init();
            tracing::debug!("debug line");
            tracing::info!("info line");
            tracing::warn!("warn line");
            tracing::error!("error line");
        }
        "handle" => {
            let guard = prodlog::init();
            let handle = guard.filter().expect("a filter handle");
            for round in 0..2 {
                // The same callsites before and after the change.
                tracing::debug!(round, "debug line");
                log::debug!(target: "levels", "log debug line {round}");
                tracing::info!(target: "hyper::client", round, "hyper info");
                if round == 0 {
                    let bad = handle.set_directives("debug,,hyper=loud").unwrap_err();
                    eprintln!("rejected: {}", bad.len());
                    handle.set_directives("debug,hyper=info").unwrap();
                }
            }
        }
        "file" => {
            let path = std::env::var("PRODLOG_DIRECTIVES_FILE").unwrap();
            let guard = prodlog::init();
            tracing::info!(step = 1, "hidden by the file's warn");
            std::fs::write(&path, "# today\ninfo\nlevels=debug\n").unwrap();
            wait_for(&guard, "levels", LevelFilter::DEBUG);
            tracing::debug!(step = 2, "shown after the file changed");
            std::fs::write(&path, "info,levels=loud").unwrap();
            // A SIGHUP re-reads at once, and must not terminate the process.
            let pid = std::process::id().to_string();
            let status = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
            assert!(status.success(), "kill failed: {status:?}");
            std::thread::sleep(Duration::from_millis(300));
            tracing::debug!(step = 3, "still debug: the bad file was not applied");
            std::fs::write(&path, "error").unwrap();
            Command::new("kill").args(["-HUP", &pid]).status().unwrap();
            wait_for(&guard, "levels", LevelFilter::ERROR);
            tracing::warn!(step = 4, "hidden again");
            std::fs::write(&path, "  \n").unwrap();
            // Blank: back to the directives the program started with (`info`, not the file's).
            wait_for(&guard, "levels", LevelFilter::INFO);
            tracing::info!(step = 5, "blank file: back to the starting directives");
        }
        other => panic!("unknown scenario {other}"),
    }
}

fn run(scenario: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = support::child_command(scenario);
    cmd.env_remove("LEVELS_LOG").envs(env.iter().copied());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{scenario} {env:?} failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout_lines(out: &Output) -> Vec<Map<String, Value>> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(support::parse)
        .collect()
}

fn messages(lines: &[Map<String, Value>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_owned())
        .collect()
}

fn noisy_dependencies_are_quiet_by_default_and_loud_when_asked() {
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Env<'_>, &[&str])] = &[
        // sqlx is in the built-in table, chatty_dep was added by `quiet()`.
        (&[], &["hyper warn", "app info"][..]),
        // A bare level never makes a quiet dependency louder.
        (
            &[("RUST_LOG", "debug")],
            &["hyper warn", "app debug", "app info"],
        ),
        (
            &[("RUST_LOG", "info,hyper=debug,chatty_dep=info")],
            &["hyper info", "hyper warn", "chatty info", "app info"],
        ),
        (
            &[("RUST_LOG", "hyper::client=trace,levels::db=debug")],
            &["hyper info", "hyper warn", "app debug", "app info"],
        ),
        (&[("RUST_LOG", "off,hyper=warn")], &["hyper warn"]),
    ];
    for (env, expected) in cases {
        let out = run("targets", env);
        assert_eq!(messages(&stdout_lines(&out)), *expected, "{env:?}");
    }
}

fn the_application_can_name_its_own_variable() {
    let out = run(
        "own_var",
        &[("LEVELS_LOG", "warn,levels=debug"), ("RUST_LOG", "off")],
    );
    assert_eq!(
        messages(&stdout_lines(&out)),
        ["hyper warn", "app debug", "app info"]
    );
    let out = run("own_var", &[("LEVELS_LOG", "levels=verbose")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid level directives \"levels=verbose\" in LEVELS_LOG: directive 1 \"levels=verbose\" (at byte 0): unknown level \"verbose\""),
        "{err}"
    );
}

fn log_records_are_filtered_and_formatted_like_tracing_events() {
    let out = run("log", &[]);
    let lines = stdout_lines(&out);
    assert_eq!(
        messages(&lines),
        ["log says 5", "default target", "tracing says 5"]
    );
    let (from_log, from_tracing) = (&lines[0], &lines[2]);
    let shape = |l: &Map<String, Value>| l.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        shape(from_log),
        shape(from_tracing),
        "same keys, same order"
    );
    for key in ["level", "target", "request_id", "span"] {
        assert_eq!(from_log[key], from_tracing[key], "{key}");
    }
    assert_eq!(from_log["target"], "legacy::db");
    assert_eq!(
        lines[1]["target"], "levels",
        "log's default target: the module"
    );
    assert_eq!(lines[1]["level"], "WARN");

    let out = run("log", &[("PRODLOG_CONSOLE", "human")]);
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.ends_with(" INFO legacy::db: log says 5 request_id=r-7"),
        "{first}"
    );
}

fn read_lines(path: &Path) -> Vec<String> {
    messages(&support::read_json_lines(path))
}

fn destinations_have_their_own_levels() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        "destinations",
        &[
            ("RUST_LOG", "debug"),
            ("PRODLOG_DIR", dir.path().to_str().unwrap()),
            ("PRODLOG_APP", "svc"),
            ("PRODLOG_CONSOLE_LEVEL", "WARN"),
            ("PRODLOG_FILE_LEVEL", "info"),
        ],
    );
    assert_eq!(messages(&stdout_lines(&out)), ["warn line", "error line"]);
    assert_eq!(
        read_lines(&dir.path().join("svc.log")),
        ["info line", "warn line", "error line"]
    );
    assert_eq!(
        read_lines(&dir.path().join("svc.error.log")),
        ["error line"]
    );
    let out = run(
        "destinations",
        &[("RUST_LOG", "debug"), ("PRODLOG_CONSOLE_LEVEL", "chatty")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PRODLOG_CONSOLE_LEVEL=\"chatty\" is not valid: expected off, error, warn, info, debug or trace"),
        "{err}"
    );
    assert_eq!(messages(&stdout_lines(&out)).len(), 4, "falls back to all");
}

fn levels_change_at_run_time_through_the_guard() {
    let out = run("handle", &[]);
    let lines = stdout_lines(&out);
    assert_eq!(
        messages(&lines),
        [
            "log levels changed",
            "debug line",
            "log debug line 1",
            "hyper info"
        ]
    );
    // The change through the handle is on record: what it was, what it became, and how.
    let change = &lines[0];
    assert_eq!(change["source"], "handle", "{change:?}");
    assert_eq!(change["target"], "prodlog_filter", "{change:?}");
    assert_eq!(change["level"], "INFO", "{change:?}");
    assert!(
        change["new"].as_str().unwrap_or_default().contains("debug"),
        "{change:?}"
    );
    assert_eq!(lines[1]["round"], 1);
    assert_eq!(lines[3]["round"], 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rejected: 2"), "{err}");
}

fn levels_follow_a_directives_file_and_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("levels");
    std::fs::write(&path, "warn").unwrap();
    let out = run(
        "file",
        &[("PRODLOG_DIRECTIVES_FILE", path.to_str().unwrap())],
    );
    let lines = stdout_lines(&out);
    let steps: Vec<i64> = lines
        .iter()
        .filter_map(|l| l.get("step").and_then(Value::as_i64))
        .collect();
    assert_eq!(steps, [2, 3, 5], "{lines:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ignored: directive 2 \"levels=loud\" (at byte 5): unknown level \"loud\""),
        "{err}"
    );
    let reloads: Vec<_> = lines
        .iter()
        .filter(|l| l["message"] == "log levels changed")
        .collect();
    assert!(
        !reloads.is_empty(),
        "each applied change is logged: {lines:?}"
    );
    for r in &reloads {
        let source = r["source"].as_str().unwrap_or_default();
        assert!(matches!(source, "file" | "signal"), "{r:?}");
        assert_eq!(r["path"], path.to_str().unwrap(), "{r:?}");
        assert!(r["old"].is_string() && r["new"].is_string(), "{r:?}");
    }
    // (Which of the poll and the SIGHUP sees a change first is a race: either is right.)

    let out = support::child_command("destinations")
        .env("PRODLOG_DIRECTIVES_FILE", dir.path().join("missing"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot watch the directives file") && err.contains("missing"),
        "{err}"
    );
}

fn main() {
    support::test_main(
        child,
        &[
            (
                "noisy_dependencies_are_quiet_by_default_and_loud_when_asked",
                noisy_dependencies_are_quiet_by_default_and_loud_when_asked,
            ),
            (
                "the_application_can_name_its_own_variable",
                the_application_can_name_its_own_variable,
            ),
            (
                "log_records_are_filtered_and_formatted_like_tracing_events",
                log_records_are_filtered_and_formatted_like_tracing_events,
            ),
            (
                "destinations_have_their_own_levels",
                destinations_have_their_own_levels,
            ),
            (
                "levels_change_at_run_time_through_the_guard",
                levels_change_at_run_time_through_the_guard,
            ),
            (
                "levels_follow_a_directives_file_and_sighup",
                levels_follow_a_directives_file_and_sighup,
            ),
        ],
    );
}
