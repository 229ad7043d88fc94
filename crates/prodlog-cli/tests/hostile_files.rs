//! The `prodlog` binary on files and settings an attacker or an accident shaped: raw
//! escape bytes, thousands of files under a low descriptor limit, a symlink swapped in
//! for a live file, gigabytes of one request in a `.gz`, a reader that closes the pipe.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::prodlog;

/// `prodlog view --json <dir>` under `ulimit -n <limit>`: the numbers at the end of each
/// line's message, in the order shown.
fn view_numbers_under_ulimit(dir: &Path, limit: u32) -> Vec<u64> {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            r#"ulimit -n {limit} && exec "$0" view --json "$1""#
        ))
        .arg(env!("CARGO_BIN_EXE_prodlog"))
        .arg(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["message"].as_str().unwrap()[5..].parse().unwrap()
        })
        .collect()
}

/// A prodlog JSON line at `secs` seconds past 00:00 with the message `line <secs>`.
fn line_at(secs: u64) -> String {
    format!(
        "{{\"timestamp\":\"2026-12-07T{:02}:{:02}:{:02}.000000Z\",\"level\":\"INFO\",\"target\":\"a\",\"message\":\"line {secs}\"}}\n",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Text from the files never reaches the terminal as it is: `--json` writes control
/// characters and direction overrides as JSON escapes, `audit` shows targets redacted,
/// and a reader that closes the pipe ends the tool quietly, without a panic.
#[test]
fn hostile_file_contents_stay_inert() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("svc.log");
    let mut f = std::fs::File::create(&log).unwrap();
    for i in 0..2000 {
        writeln!(
            f,
            "{{\"timestamp\":\"2026-12-07T10:00:{:02}.000000Z\",\"level\":\"INFO\",\"target\":\"postgres://app:Tg7pW0rdInTarget@db/x\",\"message\":\"raw \x1b[2J bidi \u{202e} end {i}\"}}",
            i % 60
        )
        .unwrap();
    }
    drop(f);
    let path = log.to_str().unwrap();
    for args in [
        vec!["view", "--json", path],
        vec!["patterns", "--json", path],
    ] {
        let out = prodlog(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert!(!out.stdout.contains(&0x1b), "{args:?}: a raw escape byte");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.contains('\u{202e}'),
            "{args:?}: a raw direction override"
        );
        if args[0] == "view" {
            assert!(text.contains("\\u001b"), "the escape is kept, escaped");
        }
    }
    let out = prodlog(&["audit", path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("noisiest targets"), "{text}");
    assert!(
        !text.contains("Tg7pW0rdInTarget"),
        "audit printed a password: {text}"
    );
    // `| head -1`: the reader goes away after one line; every reading subcommand ends
    // quietly, with status 0 (`set -o pipefail` scripts see success).
    for sub in [
        "view --json",
        "view",
        "patterns --json",
        "patterns",
        "audit",
    ] {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                r#""$0" {sub} "$1" | head -c 10 >/dev/null; exit ${{PIPESTATUS[0]}}"#
            ))
            .arg(env!("CARGO_BIN_EXE_prodlog"))
            .arg(path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{sub}: {stderr}");
        // audit exits 1 when it finds a secret (the target holds one): that is its answer.
        if sub != "audit" {
            assert!(out.status.success(), "{sub}: {:?} {stderr}", out.status);
        }
    }
}

/// 3,000 backups of one log under `ulimit -n 64`: one rotation set, read one file after
/// the other, so every line comes out, in time order, with few files open.
#[test]
fn view_reads_thousands_of_backups_with_few_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let n = 3_000u64;
    for i in 0..=n {
        // `app.log.N` is older the larger N is; `app.log` (i = 0) is the newest.
        let name = if i == 0 {
            "app.log".to_owned()
        } else {
            format!("app.log.{i}")
        };
        std::fs::write(dir.path().join(name), line_at(n - i)).unwrap();
    }
    let got = view_numbers_under_ulimit(dir.path(), 64);
    assert_eq!(got, (0..=n).collect::<Vec<_>>(), "every line, oldest first");
}

/// `view -f` on a live file that another user swaps for a symlink to a file they may not
/// read: the link is not followed, the target never shown.
#[test]
fn follow_never_reads_through_a_swapped_in_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let secret = tempfile::tempdir().unwrap();
    let target = secret.path().join("shadow");
    std::fs::write(
        &target,
        "{\"timestamp\":\"2026-12-07T10:00:00.000000Z\",\"level\":\"INFO\",\"target\":\"a\",\"message\":\"TOPSECRET\"}\n",
    )
    .unwrap();
    let log = dir.path().join("app.log");
    let line = |m: &str| {
        format!("{{\"timestamp\":\"2026-12-07T10:00:00.000000Z\",\"level\":\"INFO\",\"target\":\"a\",\"message\":\"{m}\"}}\n")
    };
    std::fs::write(&log, line("first")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_prodlog"))
        .args(["view", "-f", "--json"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Swapped only once the follower has shown the first line (it is following by then).
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !seen.lock().unwrap().contains("first") {
        assert!(
            std::time::Instant::now() < deadline,
            "the follower showed nothing"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::fs::remove_file(&log).unwrap();
    std::os::unix::fs::symlink(&target, &log).unwrap();
    // Several polls of the follower (every 200 ms).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    reader.join().unwrap();
    let text = seen.lock().unwrap().clone();
    assert!(!text.contains("TOPSECRET"), "followed a symlink: {text}");
}

/// A compressed backup holding 150 MB of lines of one request, traced under a 1.5 GB
/// address-space limit: the first 64 MiB of matching lines are shown, the rest counted,
/// and memory stays bounded.
#[test]
fn trace_of_a_huge_compressed_match_has_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("app.log.1.gz");
    let line = r#"{"timestamp":"2026-12-07T10:00:00.000000Z","level":"INFO","target":"a","message":"step","request_id":"req-42","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#;
    let made = Command::new("bash")
        .arg("-c")
        .arg(r#"yes "$1" | head -c 150M | gzip -1 > "$2""#)
        .arg("-")
        .arg(line)
        .arg(&gz)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed: {made:?}");
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -v 1500000 && exec "$0" trace req-42 "$1" --json | wc -l"#)
        .arg(env!("CARGO_BIN_EXE_prodlog"))
        .arg(&gz)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let shown: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(shown > 100_000, "{shown} lines shown: {stderr}");
    assert!(stderr.contains("more lines holding"), "{stderr}");
    assert!(!stderr.contains("memory allocation"), "{stderr}");
}

/// 3,000 separate logs (3,000 rotation sets) under `ulimit -n 256`: merged in passes
/// through temporary runs, every line comes out once, in time order.
#[test]
fn view_merges_thousands_of_separate_logs_with_few_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let n = 3_000u64;
    for i in 0..n {
        // File i holds two lines, at seconds i and i + n: the merge interleaves them all.
        std::fs::write(
            dir.path().join(format!("svc-{i}.log")),
            line_at(i) + &line_at(i + n),
        )
        .unwrap();
    }
    let got = view_numbers_under_ulimit(dir.path(), 256);
    assert_eq!(got, (0..2 * n).collect::<Vec<_>>());
}
