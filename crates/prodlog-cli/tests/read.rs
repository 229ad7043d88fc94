//! `prodlog view`, `trace` and `patterns`: the real binary over logs written by
//! `prodlog::init()`'s layers — two services, requests interleaved, files rotated and
//! gzipped — checked against what the test computes from the files itself; and every
//! bad input of the CLI.

mod common;

use std::io::Read;
use std::process::Command;

use common::{all_lines, parse, prodlog, ts, two_services};
use serde_json::Value;

#[test]
fn trace_finds_exactly_one_requests_lines_in_order_across_rotated_gzipped_files() {
    let root = tempfile::tempdir().unwrap();
    let (api, worker) = two_services(root.path());
    let gz = std::fs::read_dir(&api)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "gz")
        })
        .count();
    assert!(
        gz >= 2,
        "the fixture must rotate and gzip (got {gz} .gz files)"
    );
    let lines = all_lines(&[&api, &worker]);
    for id in ["req-3", "req-17", "req-59", "req-1"] {
        let mut expected: Vec<&String> = lines
            .iter()
            .filter(|l| parse(l)["request_id"] == id)
            .collect();
        expected.sort_by_key(|l| ts(&parse(l)));
        let out = prodlog(&[
            "trace",
            id,
            api.to_str().unwrap(),
            worker.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        // The same lines (timestamps can tie between services: compare as sorted sets,
        // and check the order is by time).
        let mut g = got.clone();
        g.sort();
        let mut e: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        e.sort();
        assert_eq!(g, e, "{id}");
        let times: Vec<String> = got.iter().map(|l| ts(&parse(l))).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{id}: not in time order"
        );
        // Both services, the timing events, and not the neighbour that mentions it.
        assert!(got.iter().any(|l| l.contains("\"job picked\"")), "{id}");
        assert!(
            got.iter()
                .all(|l| !l.contains(&format!("\"previous was {id}\""))),
            "{id}"
        );
    }
    // The human view: summary, span tree with durations, errors.
    let out = prodlog(&[
        "trace",
        "req-3",
        root.path().to_str().unwrap(),
        "--color",
        "never",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("request req-3: "), "{text}");
    assert!(
        text.contains("status 500") && text.contains("1 errors"),
        "{text}"
    );
    for span in ["request", "db", "job"] {
        assert!(text.contains(&format!("└ {span}  ")), "{span}: {text}");
    }
    // An id nobody logged: exit 1, like grep.
    assert_eq!(
        prodlog(&["trace", "req-999", root.path().to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
}

/// What a filter keeps, computed here from the parsed line.
type Keep = Box<dyn Fn(&Value) -> bool>;

#[test]
fn view_filters_agree_with_the_same_filters_computed_here() {
    let root = tempfile::tempdir().unwrap();
    let (api, worker) = two_services(root.path());
    let lines = all_lines(&[&api, &worker]);
    let values: Vec<Value> = lines.iter().map(|l| parse(l)).collect();
    let mut times: Vec<String> = values.iter().map(ts).collect();
    times.sort();
    let since = times[times.len() / 3].clone();
    let rank = |l: &str| {
        ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
            .iter()
            .position(|x| *x == l)
            .unwrap()
    };
    let cases: Vec<(Vec<String>, Keep)> = vec![
        (
            vec!["--level".into(), "warn".into()],
            Box::new(move |v: &Value| rank(v["level"].as_str().unwrap()) >= 3),
        ),
        (
            // A target and its submodules (the fixture's events come from `read::common`).
            vec!["--target".into(), "read".into()],
            Box::new(|v: &Value| {
                let t = v["target"].as_str().unwrap_or("");
                t == "read" || t.starts_with("read::")
            }),
        ),
        (
            vec!["--field".into(), "user_id=3".into()],
            Box::new(|v: &Value| v["user_id"] == 3),
        ),
        (
            vec!["--grep".into(), "mail|timeout".into()],
            Box::new(|v: &Value| {
                let s = v.to_string();
                s.contains("mail") || s.contains("timeout")
            }),
        ),
        (
            vec!["--since".into(), since.clone()],
            Box::new(move |v: &Value| ts(v) >= since),
        ),
        (
            vec![
                "--level".into(),
                "info".into(),
                "--field".into(),
                "status=200".into(),
            ],
            Box::new(move |v: &Value| {
                v["status"] == 200 && rank(v["level"].as_str().unwrap()) >= 2
            }),
        ),
    ];
    for (args, keep) in cases {
        let mut a = vec!["view".to_owned(), "--json".to_owned()];
        a.extend(args.iter().cloned());
        a.push(api.display().to_string());
        a.push(worker.display().to_string());
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = prodlog(&a);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let mut expected: Vec<String> = lines
            .iter()
            .zip(&values)
            .filter(|(_, v)| keep(v))
            .map(|(l, _)| l.clone())
            .collect();
        assert!(
            !expected.is_empty(),
            "{args:?}: the case must select something"
        );
        let mut g = got.clone();
        g.sort();
        expected.sort();
        assert_eq!(g, expected, "{args:?}");
        let t: Vec<String> = got.iter().map(|l| ts(&parse(l))).collect();
        assert!(
            t.windows(2).all(|w| w[0] <= w[1]),
            "{args:?}: merged out of time order"
        );
    }
    // The human form: one line per event, coloured only when asked.
    let out = prodlog(&[
        "view",
        "--level",
        "error",
        "--color",
        "always",
        api.to_str().unwrap(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 15, "{text}");
    assert!(
        text.contains("\x1b[1;31mERROR") && text.contains("request failed: upstream timeout"),
        "saw {:?}",
        &text
    );
    // Bad filters are usage errors that say what is expected.
    for bad in [
        ["--level", "loud"],
        ["--since", "yesterday"],
        ["--field", "novalue"],
        ["--grep", "("],
    ] {
        let out = prodlog(&["view", bad[0], bad[1], api.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(bad[0]),
            "{bad:?}"
        );
    }
}

#[test]
fn view_follows_a_file_across_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let line = |n: u32| {
        format!("{{\"timestamp\":\"2026-11-30T10:00:{:02}.000000Z\",\"level\":\"INFO\",\"target\":\"t\",\"message\":\"line {n}\"}}\n", n % 60)
    };
    std::fs::write(&log, line(0)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_prodlog"))
        .args([
            "view",
            "--follow",
            "--color",
            "never",
            log.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(line(1).as_bytes())
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Rotated away (renamed), a new file in its place.
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    std::fs::write(&log, format!("{}{}", line(2), line(3))).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let _ = child.wait();
    for n in 0..4 {
        assert!(
            out.contains(&format!("line {n}")),
            "line {n} missing: {out}"
        );
    }
}

#[test]
fn bad_input_is_reported_per_path_and_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ok.log"), "{\"timestamp\":\"2026-11-30T10:00:00Z\",\"level\":\"INFO\",\"target\":\"t\",\"message\":\"ok\",\"request_id\":\"r1\"}\n").unwrap();
    // A symlink loop, a dangling link, a FIFO, a device, a link back to the directory.
    std::os::unix::fs::symlink("loop2", d.join("loop1")).unwrap();
    std::os::unix::fs::symlink("loop1", d.join("loop2")).unwrap();
    std::os::unix::fs::symlink("/no/such/file", d.join("dangling")).unwrap();
    std::os::unix::fs::symlink(d, d.join("again")).unwrap();
    std::os::unix::fs::symlink("/dev/full", d.join("device")).unwrap();
    let fifo = d.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success(),
        "mkfifo failed"
    );
    for cmd in [
        vec!["view"],
        vec!["trace", "r1"],
        vec!["patterns"],
        vec!["audit"],
    ] {
        let mut a = cmd.clone();
        a.push(d.to_str().unwrap());
        let started = std::time::Instant::now();
        let out = prodlog(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{cmd:?}: {err}");
        assert!(
            err.contains("loop1") && err.contains("symlink loop"),
            "{cmd:?}: {err}"
        );
        assert!(err.contains("dangling"), "{cmd:?}: {err}");
        assert!(
            err.contains("fifo: not a regular file") && err.contains("device: not a regular file"),
            "{cmd:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{cmd:?}: {err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{cmd:?} hung"
        );
        if cmd[0] != "audit" && cmd[0] != "patterns" {
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("ok") || cmd[0] == "trace",
                "{cmd:?}"
            );
        }
    }
    // A huge single line (64 MiB): every command ends, with bounded memory.
    let huge = d.join("huge.log");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&huge).unwrap());
        f.write_all(b"{\"message\":\"").unwrap();
        for _ in 0..64 {
            f.write_all(&vec![b'a'; 1 << 20]).unwrap();
        }
        f.write_all(b" ghp_R2d2C3poBb8Yoda1Luke2Leia3Han4Chewie5\"}\nnext\n")
            .unwrap();
    }
    for cmd in [
        vec!["view", "--json"],
        vec!["trace", "ghp_"],
        vec!["patterns"],
        vec!["audit"],
    ] {
        let mut a = cmd.clone();
        a.push(huge.to_str().unwrap());
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(env!("CARGO_BIN_EXE_prodlog"))
            .args(&a)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let max_kb: u64 = err
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0);
        assert!(
            max_kb > 0 && max_kb < 300_000,
            "{cmd:?}: peak RSS {max_kb} KiB\n{err}"
        );
        assert!(!err.contains("panicked"), "{cmd:?}: {err}");
        if cmd[0] == "view" || cmd[0] == "patterns" {
            // The cut is said, not silent.
            assert!(err.contains("1 lines longer than 1 MiB"), "{cmd:?}: {err}");
        }
        if cmd[0] == "audit" {
            // The token at the end of the long line is still found.
            assert_eq!(out.status.code(), Some(1), "{cmd:?}: {err}");
        }
    }
    // Thread counts are clamped; zero is a usage error.
    let out = prodlog(&[
        "audit",
        "--threads",
        "100000",
        d.join("ok.log").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lowered to"),
        "saw {:?}",
        &String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        prodlog(&["audit", "--threads", "0", "x"]).status.code(),
        Some(2)
    );
}

#[test]
fn help_at_every_level_and_a_version() {
    let out = prodlog(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("prodlog "),
        "saw {:?}",
        &String::from_utf8_lossy(&out.stdout)
    );
    for cmd in ["view", "trace", "patterns", "audit", "check"] {
        let out = prodlog(&[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage: prodlog"),
            "{cmd}"
        );
    }
    let out = prodlog(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("frobnicate"),
        "saw {:?}",
        &String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads the follower's stdout on a thread; the text so far.
fn collect_output(child: &mut std::process::Child) -> std::sync::Arc<std::sync::Mutex<String>> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let s = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1 << 16];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            s.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    seen
}

/// Waits until `seen` holds `want` lines of `mark` (at most 60 s); their numbers.
fn numbers_seen(seen: &std::sync::Mutex<String>, mark: &str, want: usize) -> Vec<u64> {
    let numbers = || -> Vec<u64> {
        seen.lock()
            .unwrap()
            .lines()
            .filter_map(|l| l.split(mark).nth(1))
            .filter_map(|r| r.get(..6).and_then(|d| d.parse().ok()))
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while numbers().len() < want && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // A moment more: anything beyond `want` would be a line twice.
    std::thread::sleep(std::time::Duration::from_millis(600));
    numbers()
}

/// `--follow` under rotation faster than its poll (a rotation every ~50 lines, thousands
/// a second, through prodlog's own writer): every line is shown once, in order — the
/// backups that came and went between two polls included.
#[test]
fn follow_under_fast_rotation_shows_every_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let writer = prodlog::writer::Writer::builder(&log)
        .max_bytes(Some(8 * 1024))
        .max_backups(5000)
        .build()
        .unwrap();
    writer.write_line(b"{\"timestamp\":\"2026-12-08T10:00:00.000000Z\",\"level\":\"INFO\",\"target\":\"t\",\"message\":\"start\"}\n");
    assert!(writer.flush(std::time::Duration::from_secs(10)));
    let mut child = Command::new(env!("CARGO_BIN_EXE_prodlog"))
        .args(["view", "--follow", "--json"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let seen = collect_output(&mut child);
    numbers_seen(&seen, "nothing", 0);
    let total = 20_000u64;
    for n in 0..total {
        writer.write_line(
            format!("{{\"timestamp\":\"2026-12-08T10:00:01.000000Z\",\"level\":\"INFO\",\"target\":\"t\",\"message\":\"seq-{n:06} padding padding padding padding padding padding\"}}\n").as_bytes(),
        );
        if n % 2000 == 0 {
            assert!(writer.flush(std::time::Duration::from_secs(10)));
        }
    }
    assert!(writer.flush(std::time::Duration::from_secs(10)));
    let got = numbers_seen(&seen, "seq-", total as usize);
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let rotations = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(rotations > 100, "{rotations} files: rotations happened");
    assert_eq!(
        got.len() as u64,
        total,
        "each line once: {} seen",
        got.len()
    );
    assert!(got.iter().copied().eq(0..total), "in order");
}

/// `--follow` on a directory with no log yet: the log that appears later is shown from
/// its first line.
#[test]
fn follow_waits_for_a_log_to_appear() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_prodlog"))
        .args(["view", "--follow", "--json"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let seen = collect_output(&mut child);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut text = String::new();
    for n in 0..3 {
        text.push_str(&format!("{{\"timestamp\":\"2026-12-08T10:00:00.000000Z\",\"level\":\"INFO\",\"target\":\"t\",\"message\":\"seq-{n:06}\"}}\n"));
    }
    std::fs::write(dir.path().join("late.log"), text).unwrap();
    let got = numbers_seen(&seen, "seq-", 3);
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    assert_eq!(got, [0, 1, 2]);
}
