//! Broken and closed standard streams: a log shipper that died, `| head -1`, a service
//! started with its stdout or stderr closed. The process never panics and never blocks;
//! the files get every line.

use std::fs;
use std::process::Command;
use std::time::Duration;

use super::{assert_all, run_bounded, seqs_in};

pub(crate) fn child(scenario: &str) {
    match scenario {
        "console" => {
            let guard = prodlog::init();
            let n: u64 = std::env::var("LINES").unwrap().parse().unwrap();
            for seq in 0..n {
                tracing::info!(seq, "console line");
                if seq % 100 == 0 {
                    tracing::error!(seq, "console error");
                }
            }
            drop(guard);
            // prodlog's own reports must not panic either: what is left of stderr.
            prodlog::flush();
        }
        other => panic!("unknown scenario {other}"),
    }
}

/// Runs the console child through `sh -c <wrapper>` (the wrapper closes or breaks a
/// stream), then checks the exit status and the files.
fn console_through(wrapper: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::child_command("console");
    let exe = std::env::current_exe().unwrap();
    cmd.env("PRODLOG_DIR", dir.path())
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "json")
        .env("LINES", "3000");
    // `child_command` set the program to the test binary: run it through bash instead.
    let mut bash = Command::new("bash");
    bash.arg("-c").arg(wrapper).arg(&exe);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => bash.env(k, v),
            None => bash.env_remove(k),
        };
    }
    let out = run_bounded(bash, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "exit {:?} through {wrapper:?}: {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_all(&seqs_in(dir.path(), "svc.log", "console line"), 3000, 1);
    assert_all(
        &seqs_in(dir.path(), "svc.error.log", "console error"),
        3000,
        100,
    );
    assert!(
        fs::read_dir(dir.path()).unwrap().count() >= 2,
        "files in the directory: {:?}",
        fs::read_dir(dir.path()).map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );
    stderr
}

pub(crate) fn stdout_closed() {
    console_through(r#"exec "$0" >&-"#);
}

pub(crate) fn stdout_broken_by_head() {
    // The child's own exit status, not head's.
    let stderr = console_through(r#""$0" | head -1 >/dev/null; exit ${PIPESTATUS[0]}"#);
    assert!(
        stderr.contains("lines lost") || stderr.contains("stdout"),
        "{stderr}"
    );
}

pub(crate) fn stderr_closed() {
    // Both closed: prodlog's own reports have nowhere to go and must not panic.
    console_through(r#"exec "$0" >&- 2>&-"#);
}

pub(crate) fn both_broken_by_head() {
    // stdout and stderr into one pipe that `head` closes: prodlog's own reports meet the
    // broken pipe too.
    console_through(r#""$0" 2>&1 | head -1 >/dev/null; exit ${PIPESTATUS[0]}"#);
}
