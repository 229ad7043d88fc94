//! Exception boundaries through the preset: error chains of every shape, `log_err`,
//! `critical!`, and panics — each scenario in a child process that writes real files.
//! Run with `cargo test --test errors`.

#[path = "../support/mod.rs"]
mod support;

mod orders;

use std::error::Error;
use std::fmt;
use std::path::Path;
use std::process::Output;

use prodlog::LogErr;
use serde_json::{json, Map, Value};

/// An error with an optional source: chains of any length.
#[derive(Debug)]
struct Layer {
    msg: String,
    source: Option<Box<Layer>>,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl Error for Layer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

fn chain(msgs: &[&str]) -> Layer {
    let mut err: Option<Box<Layer>> = None;
    for m in msgs.iter().rev() {
        err = Some(Box::new(Layer {
            msg: (*m).to_owned(),
            source: err,
        }));
    }
    *err.unwrap()
}

fn child(scenario: &str) {
    let _guard = prodlog::init();
    match scenario {
        "located" => {
            let _ = orders::load(7);
            let here: Result<(), Layer> = Err(chain(&["in main", "below"]));
            let _ = here.log_err();
        }
        "chains" => {
            let io = std::io::Error::new(std::io::ErrorKind::NotFound, "config.toml not found");
            tracing::error!(case = "one", error = &io as &dyn Error, "one level");
            let five = chain(&[
                "request failed",
                "calling billing",
                "connect refused",
                "dns failed",
                "no route",
            ]);
            tracing::error!(case = "five", error = &five as &dyn Error, "five levels");
            let any = anyhow::anyhow!("socket closed")
                .context("reading invoice 7")
                .context("export failed");
            prodlog::log_error(any.as_ref());
            let secret = chain(&["login failed", "upstream said: password=hunter2 rejected"]);
            tracing::error!(
                case = "secret",
                error = &secret as &dyn Error,
                "secret in a cause"
            );
            let r: Result<(), Layer> = Err(chain(&["boundary", "inner cause"]));
            let back = r.log_err();
            assert!(back.is_err(), "log_err passes the error on");
            let boxed: Result<(), Box<dyn Error + Send + Sync>> = Err("boxed failure".into());
            assert!(boxed.log_err().is_err(), "log_err must pass the error on");
            let start = std::time::Instant::now();
            let any: anyhow::Result<()> = Err(anyhow::anyhow!("disk gone").context("saving"));
            assert!(any.log_err().is_err(), "log_err must pass the error on");
            let took = start.elapsed();
            let start = std::time::Instant::now();
            let again: anyhow::Result<()> = Err(anyhow::anyhow!("disk gone").context("again"));
            assert!(again.log_err().is_err(), "log_err must pass the error on");
            eprintln!(
                "log_err on anyhow: first {took:?}, second {:?}",
                start.elapsed()
            );
        }
        "critical" => {
            prodlog::critical!(db = "orders", "database unreachable: shutting down");
            prodlog::critical!(target: "app::db", "replica set lost");
            tracing::error!(severity = "low", "an ordinary error with a severity field");
        }
        "exit" => {
            // `std::process::exit` runs no destructor: the guard is never dropped.
            let _guard = prodlog::init();
            for n in 0..20_000 {
                tracing::info!(n, "before exit");
            }
            std::process::exit(0);
        }
        "panic" => {
            let request = tracing::info_span!("request", request_id = "r-77");
            let _e = request.enter();
            tracing::info!("about to fail");
            let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
            panic!("invariant broken with {token}");
        }
        other => panic!("unknown scenario {other}"),
    }
}

fn run(scenario: &str, dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = support::child_command(scenario);
    cmd.env("PRODLOG_DIR", dir)
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "human")
        .envs(env.iter().copied());
    cmd.output().unwrap()
}

fn lines(dir: &Path, file: &str) -> Vec<Map<String, Value>> {
    support::read_json_lines(&dir.join(file))
}

fn error_chains_of_every_shape() {
    for with_backtrace in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let env: &[(&str, &str)] = if with_backtrace {
            &[("RUST_BACKTRACE", "1")]
        } else {
            &[]
        };
        let out = run("chains", dir.path(), env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let all = lines(dir.path(), "svc.error.log");
        let by = |case: &str| {
            all.iter()
                .find(|l| l.get("case") == Some(&json!(case)))
                .unwrap()
        };
        assert_eq!(by("one")["error"], "config.toml not found");
        assert!(
            !by("one").contains_key("error_chain"),
            "no causes, no chain"
        );
        assert_eq!(by("five")["error"], "request failed");
        assert_eq!(
            by("five")["error_chain"],
            json!([
                "calling billing",
                "connect refused",
                "dns failed",
                "no route"
            ]),
            "the causes, each once"
        );
        assert_eq!(
            by("secret")["error_chain"][0],
            "upstream said: password=[REDACTED] rejected"
        );
        let anyhow_line = all
            .iter()
            .find(|l| l["message"] == "export failed")
            .unwrap();
        assert_eq!(
            anyhow_line["error_chain"],
            json!(["reading invoice 7", "socket closed"]),
            "anyhow's context chain, the message not repeated"
        );
        assert!(!anyhow_line.contains_key("error"), "saw {:?}", &anyhow_line);
        assert!(
            anyhow_line["location"]
                .as_str()
                .unwrap()
                .contains("tests/errors/main.rs:"),
            "saw {:?}",
            &anyhow_line["location"]
        );
        assert_eq!(
            anyhow_line.contains_key("backtrace"),
            with_backtrace,
            "backtrace only when captured"
        );
        let boundary = all.iter().find(|l| l["message"] == "boundary").unwrap();
        assert_eq!(boundary["error_chain"], json!(["inner cause"]));
        let boxed = all
            .iter()
            .find(|l| l["message"] == "boxed failure")
            .unwrap();
        assert!(
            boxed["location"]
                .as_str()
                .unwrap()
                .contains("tests/errors/main.rs:"),
            "saw {:?}",
            &boxed["location"]
        );
        let saving = all.iter().find(|l| l["message"] == "saving").unwrap();
        assert_eq!(saving["error_chain"], json!(["disk gone"]));
        if with_backtrace {
            for line in [anyhow_line, boundary, saving] {
                let frames = line["backtrace"].as_array().expect("frames as an array");
                assert!(!frames.is_empty() && frames.len() < 30, "{frames:?}");
                assert!(
                    frames[0].as_str().unwrap().starts_with("errors::child"),
                    "the application's frame first: {frames:?}"
                );
                for f in frames {
                    let f = f.as_str().unwrap();
                    assert!(!f.contains("REDACTED"), "a frame mangled: {f}");
                    assert!(!f.starts_with("std::") && !f.starts_with("core::"), "{f}");
                }
            }
        }
        let err = String::from_utf8_lossy(&out.stderr);
        println!(
            "    {}",
            err.lines().find(|l| l.starts_with("log_err")).unwrap()
        );

        let console = String::from_utf8(out.stdout).unwrap();
        // One line per event, plus its causes and at most 5 frames (and a "more" line).
        let saving = console.find("saving").unwrap();
        let extra = console[saving..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("    "))
            .count();
        assert!(
            extra <= 1 + 5 + 1,
            "{extra} lines under one error:\n{console}"
        );
        assert_eq!(
            console[saving..].contains("    at errors::child"),
            with_backtrace
        );
        let five = console.find("five levels").unwrap();
        assert!(
            console[five..].contains(
                "\n    caused by: calling billing\n    caused by: connect refused\n    caused by: dns failed\n    caused by: no route\n"
            ),
            "{console}"
        );
        assert!(
            !console.contains("hunter2")
                && !std::fs::read_to_string(dir.path().join("svc.log"))
                    .unwrap()
                    .contains("hunter2"),
            "saw {:?}",
            &console
        );
    }
}

fn critical_is_a_level_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let out = run("critical", dir.path(), &[]);
    assert!(out.status.success(), "the child failed: {out:?}");
    let errors = lines(dir.path(), "svc.error.log");
    let levels: Vec<&str> = errors
        .iter()
        .map(|l| l["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["CRITICAL", "CRITICAL", "ERROR"]);
    assert_eq!(errors[1]["target"], "app::db");
    let console = String::from_utf8(out.stdout).unwrap();
    assert!(
        console.contains(" CRIT errors: database unreachable"),
        "{console}"
    );
}

fn a_panic_leaves_its_event_with_context_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let out = run("panic", dir.path(), &[]);
    assert!(
        !out.status.success(),
        "the child should have failed: {out:?}"
    );
    let errors = lines(dir.path(), "svc.error.log");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let p = &errors[0];
    assert_eq!(p["target"], "panic");
    assert_eq!(p["panic"], true);
    assert_eq!(p["message"], "panicked: invariant broken with [REDACTED]");
    assert_eq!(
        p["request_id"], "r-77",
        "the request context of the panicking thread"
    );
    assert_eq!(p["thread"], "main");
    assert!(
        p["location"]
            .as_str()
            .unwrap()
            .contains("tests/errors/main.rs:"),
        "saw {:?}",
        &p["location"]
    );
    assert!(
        !p["backtrace"].as_array().unwrap().is_empty(),
        "a backtrace, as frames"
    );
    let all = lines(dir.path(), "svc.log");
    assert_eq!(all[0]["message"], "about to fail");
    // The default hook still ran after prodlog's.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("panicked at"),
        "saw {:?}",
        &String::from_utf8_lossy(&out.stderr)
    );
}

fn main() {
    support::test_main(
        child,
        &[
            ("error_chains_of_every_shape", error_chains_of_every_shape),
            (
                "log_err_is_located_at_its_caller_in_every_schema",
                log_err_is_located_at_its_caller,
            ),
            (
                "critical_is_a_level_of_its_own",
                critical_is_a_level_of_its_own,
            ),
            (
                "a_panic_leaves_its_event_with_context_on_disk",
                a_panic_leaves_its_event_with_context_on_disk,
            ),
            (
                "process_exit_without_the_guard_keeps_every_line",
                process_exit_keeps_lines,
            ),
        ],
    );
}

/// `std::process::exit` skips the guard's drop; the preset's `atexit` hook drains the
/// queue: every line logged before the call is in the file.
fn process_exit_keeps_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::run_preset("exit", dir.path(), &[("PRODLOG_CONSOLE", "off")]);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(dir.path().join("svc.log")).unwrap();
    let n = text.lines().filter(|l| l.contains("before exit")).count();
    assert_eq!(n, 20_000, "lines lost at process::exit");
}

/// `log_err()` is the caller's event: its file and line in every schema's source keys, its
/// module as the target (so per-module levels apply), and the error under the keys the
/// aggregators' error views read.
fn log_err_is_located_at_its_caller() {
    let find = |all: &[Map<String, Value>], what: &str| -> Map<String, Value> {
        all.iter()
            .find(|l| {
                l.values()
                    .any(|v| v.as_str().is_some_and(|s| s.contains(what)))
            })
            .unwrap_or_else(|| panic!("no line with {what:?} in {all:#?}"))
            .clone()
    };
    let source_line = |file: &str, needle: &str| -> u64 {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
        1 + text.lines().position(|l| l.contains(needle)).unwrap() as u64
    };
    let orders_line = source_line("errors/orders.rs", ".log_err()");
    let main_line = source_line("errors/main.rs", "let _ = here.log_err();");

    // prodlog's schema: the target is the caller's module.
    let dir = tempfile::tempdir().unwrap();
    let out = run("located", dir.path(), &[("PRODLOG_CONSOLE", "off")]);
    assert!(out.status.success(), "{out:?}");
    let all = lines(dir.path(), "svc.log");
    let o = find(&all, "No such file");
    assert_eq!(o["target"], "errors::orders", "{o:?}");
    assert_eq!(o["error_type"], "std::io::error::Error", "{o:?}");
    assert!(
        o["location"]
            .as_str()
            .unwrap()
            .starts_with(&format!("tests/errors/orders.rs:{orders_line}:")),
        "{o:?}"
    );
    let m = find(&all, "in main");
    assert_eq!(m["target"], "errors", "{m:?}");
    assert_eq!(m["error_chain"], json!(["below"]), "{m:?}");
    let at = format!("tests/errors/main.rs:{main_line}:");
    assert!(m["location"].as_str().unwrap().starts_with(&at), "{m:?}");

    // A per-module level applies to it.
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("PRODLOG_CONSOLE", "off"),
        ("RUST_LOG", "info,errors::orders=off"),
    ];
    let out = run("located", dir.path(), &env);
    assert!(out.status.success(), "{out:?}");
    let all = lines(dir.path(), "svc.log");
    assert!(
        all.iter().all(|l| l["target"] != "errors::orders"),
        "errors::orders=off still wrote: {all:?}"
    );
    find(&all, "in main");

    for (schema, check) in [
        (
            "ecs",
            &(|o: &Map<String, Value>, line: u64| {
                assert_eq!(o["log.origin.file.name"], "tests/errors/orders.rs", "{o:?}");
                assert_eq!(o["log.origin.file.line"], line, "{o:?}");
                assert_eq!(o["log.logger"], "errors::orders", "{o:?}");
                assert_eq!(o["error.type"], "std::io::error::Error", "{o:?}");
                assert!(
                    o["error.message"]
                        .as_str()
                        .unwrap()
                        .contains("No such file"),
                    "{o:?}"
                );
            }) as &dyn Fn(&Map<String, Value>, u64),
        ),
        ("gcp", &|o: &Map<String, Value>, line: u64| {
            let at = &o["logging.googleapis.com/sourceLocation"];
            assert_eq!(at["file"], "tests/errors/orders.rs", "{o:?}");
            assert_eq!(at["line"], line.to_string(), "{o:?}");
            assert_eq!(at["function"], "errors::orders", "{o:?}");
            assert!(
                o["@type"].as_str().unwrap().ends_with("ReportedErrorEvent"),
                "{o:?}"
            );
            assert_eq!(o["context"]["reportLocation"]["lineNumber"], line, "{o:?}");
        }),
        ("otel", &|o: &Map<String, Value>, line: u64| {
            let a = &o["Attributes"];
            assert_eq!(a["code.file.path"], "tests/errors/orders.rs", "{o:?}");
            assert_eq!(a["code.line.number"], line, "{o:?}");
            assert_eq!(o["InstrumentationScope"]["Name"], "errors::orders", "{o:?}");
            assert_eq!(a["exception.type"], "std::io::error::Error", "{o:?}");
            assert!(
                a["exception.message"]
                    .as_str()
                    .unwrap()
                    .contains("No such file"),
                "{o:?}"
            );
        }),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let env = [("PRODLOG_CONSOLE", "off"), ("PRODLOG_JSON_SCHEMA", schema)];
        let out = run("located", dir.path(), &env);
        assert!(out.status.success(), "{schema}: {out:?}");
        let all = lines(dir.path(), "svc.log");
        check(&find(&all, "No such file"), orders_line);
    }
}
