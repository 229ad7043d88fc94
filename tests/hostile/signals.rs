//! SIGTERM while 8 threads log flat out into a file that rotates every 256 KiB with gzip:
//! every line a caller saw logged is in the files, whole and once, or counted on stderr.
//! Several runs (`PRODLOG_TEST_RUNS`, 4 by default; 20 for a soak), each signalled at a
//! different point of the rotation cycle.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const PAD: &str = "signal-during-rotation-signal-during-rotation-signal-during-rotation";

/// 4 threads, `LINES` lines each, then the guard drops.
pub(crate) fn child_bounded() {
    let guard = prodlog::init();
    let n: u64 = std::env::var("LINES").unwrap().parse().unwrap();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            std::thread::spawn(move || {
                for seq in 0..n {
                    tracing::info!(t, seq, pad = PAD, "flood line");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(guard);
}

/// Rotation every 64 KiB with gzip, 4 threads flat out, under `ulimit -n 256`: the gzip
/// backlog holds no descriptor and falls behind by leaving backups uncompressed, so every
/// line is written.
pub(crate) fn gzip_under_a_low_descriptor_limit() {
    let dir = tempfile::tempdir().unwrap();
    let lines = 40_000u64;
    let mut cmd = crate::support::child_command("flood4");
    let exe = std::env::current_exe().unwrap();
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(r#"ulimit -n 256 && exec "$0""#)
        .arg(&exe);
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            bash.env(k, v);
        }
    }
    cmd = bash;
    cmd.env("PRODLOG_TEST_CHILD", "flood4")
        .env("PRODLOG_DIR", dir.path())
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "off")
        .env("PRODLOG_ERROR_FILE", "off")
        .env("PRODLOG_MAX_BYTES", "64k")
        .env("PRODLOG_MAX_BACKUPS", "100000")
        .env("PRODLOG_COMPRESS", "on")
        .env("LINES", lines.to_string());
    let out = crate::run_bounded(cmd, std::time::Duration::from_secs(240));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let (seen, torn, _) = read_all(dir.path());
    assert_eq!(torn, 0);
    assert_eq!(
        seen.values().filter(|&&n| n > 1).count(),
        0,
        "written twice"
    );
    assert_eq!(
        seen.len() as u64,
        4 * lines,
        "lines lost under ulimit -n 256: {err}"
    );
    let backups = std::fs::read_dir(dir.path()).unwrap().count();
    println!("  ({} lines in {backups} files, 0 lost)", seen.len());
}

pub(crate) fn child() {
    let _guard = prodlog::init();
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut out = std::io::stdout();
                for seq in 0u64.. {
                    tracing::info!(t, seq, pad = PAD, "flood line");
                    // The acknowledgement, once the call returned: every 8th line, so the
                    // threads log flat out rather than wait on stdout.
                    if seq % 8 == 7
                        && (std::io::Write::write_all(&mut out, format!("{t} {seq}\n").as_bytes())
                            .is_err()
                            || stop.load(Ordering::Relaxed))
                    {
                        break;
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

/// Every line of every file in `dir` (gzipped backups too): (thread, seq) counts, and
/// the number of lines that are not whole JSON.
fn read_all(dir: &std::path::Path) -> (HashMap<(u64, u64), u32>, usize, String) {
    let mut seen = HashMap::new();
    let mut torn = 0;
    let mut notes = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = if name.ends_with(".gz") {
            let out = Command::new("gzip").arg("-dc").arg(&path).output().unwrap();
            assert!(out.status.success(), "{name}: a broken gzip file");
            String::from_utf8(out.stdout).unwrap()
        } else if name.ends_with(".tmp") {
            continue; // a compression the signal cut short: its backup is still there
        } else {
            std::fs::read_to_string(&path).unwrap()
        };
        for line in text.lines() {
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(v) if v["message"] == "flood line" => {
                    let key = (v["t"].as_u64().unwrap(), v["seq"].as_u64().unwrap());
                    *seen.entry(key).or_insert(0) += 1;
                }
                Ok(v) => {
                    if let Some(m) = v["message"].as_str() {
                        notes.push_str(m);
                        notes.push('\n');
                    }
                }
                Err(_) => torn += 1,
            }
        }
    }
    (seen, torn, notes)
}

/// The numbers of lines prodlog said it could not write, from its messages.
fn counted(text: &str) -> u64 {
    let mut n = 0;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let next = words.get(i + 1).copied().unwrap_or("");
            if next == "lines"
                && (line.contains("still queued")
                    || line.contains("could not be written")
                    || line.contains("lost"))
            {
                n += w.parse::<u64>().unwrap_or(0);
            }
        }
    }
    n
}

fn one_run(run: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::child_command("flood8");
    cmd.env("PRODLOG_DIR", dir.path())
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "off")
        .env("PRODLOG_ERROR_FILE", "off")
        .env("PRODLOG_MAX_BYTES", "256k")
        .env("PRODLOG_MAX_BACKUPS", "100000")
        .env("PRODLOG_COMPRESS", "on")
        .env(
            "PRODLOG_SHUTDOWN_MS",
            if run.is_multiple_of(2) { "2000" } else { "1" },
        );
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acks = BufReader::new(child.stdout.take().unwrap());
    let mut last: HashMap<u64, u64> = HashMap::new();
    let mut total = 0u64;
    // A different point in the rotation cycle each run.
    let signal_at = 2_500 + run * 401;
    let mut line = String::new();
    let record = |line: &str, last: &mut HashMap<u64, u64>| {
        let mut parts = line.split_whitespace();
        if let (Some(Ok(t)), Some(Ok(seq))) =
            (parts.next().map(str::parse), parts.next().map(str::parse))
        {
            let e = last.entry(t).or_insert(0);
            *e = (*e).max(seq);
        }
    };
    while total < signal_at {
        line.clear();
        if acks.read_line(&mut line).unwrap() == 0 {
            break;
        }
        record(&line, &mut last);
        total += 1;
    }
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success(),
        "kill -TERM failed"
    );
    let mut rest = String::new();
    let _ = acks.read_to_string(&mut rest);
    for l in rest.lines() {
        record(l, &mut last);
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(
        status.signal(),
        Some(15),
        "ends by SIGTERM: {status:?} {err}"
    );

    let (seen, torn, notes) = read_all(dir.path());
    assert_eq!(torn, 0, "run {run}: torn lines\n{err}");
    let twice = seen.values().filter(|&&n| n > 1).count();
    assert_eq!(twice, 0, "run {run}: lines written twice");
    let mut missing = 0u64;
    for (&t, &max) in &last {
        missing += (0..=max).filter(|s| !seen.contains_key(&(t, *s))).count() as u64;
    }
    let counted = counted(&err) + counted(&notes);
    // Written + counted = logged: the count may only exceed the acknowledged lines
    // missing by the lines logged but not acknowledged yet (acks come every 8th line:
    // at most 8 per thread).
    assert!(
        missing <= counted && counted <= missing + 8 * 8,
        "run {run}: {missing} acknowledged lines missing, {counted} counted\n{err}"
    );
    println!(
        "  run {run}: {} lines written, {missing} acknowledged missing, {counted} counted",
        seen.len()
    );
}

pub(crate) fn sigterm_during_gzip_rotation() {
    let runs: u64 = std::env::var("PRODLOG_TEST_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    for run in 0..runs {
        one_run(run);
    }
}
