//! What happens to the lines when the world is unkind, through `prodlog::init()` in real
//! child processes: replicas sharing one directory, SIGTERM and SIGINT, SIGKILL and a
//! restart onto a torn line, a full disk (tmpfs) freed a little at a time under two
//! replicas and `RUST_LOG=warn`, huge settings, an error file that cannot be opened, file
//! modes, and memory under a flood. Run with `cargo test --test durability`.

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/disk.rs"]
mod disk;

mod full_disk;

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PAD: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

fn child(scenario: &str) {
    let arg = |name: &str| std::env::var(name).unwrap_or_default();
    match scenario {
        "replica" => {
            let _guard = prodlog::init();
            let id: u64 = arg("REPLICA").parse().unwrap();
            for seq in 0..arg("LINES").parse::<u64>().unwrap() {
                tracing::info!(replica = id, seq, pad = PAD, "replica line");
            }
        }
        "forever" => {
            // Logs until a signal ends it; after each line is logged (handed to prodlog),
            // its number goes to stdout: what the parent saw acknowledged.
            let _guard = prodlog::init();
            let mut out = std::io::stdout().lock();
            for seq in 0u64.. {
                tracing::info!(seq, pad = PAD, "acknowledged line");
                std::io::Write::write_all(&mut out, format!("{seq}\n").as_bytes()).unwrap();
            }
        }
        "graceful" => {
            // The application's own shutdown, set up after init(): it must keep working.
            let _guard = prodlog::init();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .unwrap();
                let mut seq = 0u64;
                loop {
                    tokio::select! {
                        _ = term.recv() => break,
                        _ = tokio::time::sleep(Duration::from_millis(1)) => {
                            tracing::info!(seq, "working");
                            println!("{seq}");
                            seq += 1;
                        }
                    }
                }
                tracing::warn!(seq, "graceful shutdown by the application");
            });
        }
        "disk" => {
            let _guard = prodlog::init();
            let id: u64 = arg("REPLICA").parse().unwrap();
            for seq in 0..arg("LINES").parse::<u64>().unwrap() {
                tracing::info!(replica = id, seq, "below the level");
                tracing::warn!(replica = id, seq, pad = PAD, "disk line");
                if seq % 2 == 1 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        "few" => {
            let _guard = prodlog::init();
            for seq in 0..10 {
                tracing::info!(seq, "after the restart");
                tracing::error!(seq, "an error after the restart");
            }
        }
        "flood" => {
            let _guard = prodlog::init();
            let threads: Vec<_> = (0..8)
                .map(|t| {
                    std::thread::spawn(move || {
                        let end = Instant::now() + Duration::from_secs(2);
                        let mut seq = 0u64;
                        while Instant::now() < end {
                            for _ in 0..100 {
                                tracing::info!(t, seq, pad = PAD, "flood");
                                seq += 1;
                            }
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            let status = fs::read_to_string("/proc/self/status").unwrap();
            let hwm = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .unwrap()
                .split_whitespace()
                .nth(1)
                .unwrap()
                .to_owned();
            println!("VmHWM {hwm}");
        }
        other => panic!("unknown scenario {other}"),
    }
}

fn main() {
    support::test_main(
        child,
        &[
            ("two_replicas_share_a_directory", || replicas(2, false)),
            ("four_replicas_share_a_directory_with_gzip", || {
                replicas(4, true)
            }),
            ("sigterm_keeps_every_acknowledged_line", || {
                signal_keeps_acknowledged("TERM", libc_signal::TERM)
            }),
            ("sigint_keeps_every_acknowledged_line", || {
                signal_keeps_acknowledged("INT", libc_signal::INT)
            }),
            (
                "an_application_handler_keeps_its_graceful_shutdown",
                app_handler_unchanged,
            ),
            (
                "sigkill_then_restart_leaves_every_line_parseable",
                sigkill_then_restart,
            ),
            (
                "huge_settings_are_clamped_and_init_stays_fast",
                huge_settings,
            ),
            (
                "an_error_file_that_cannot_open_leaves_the_main_file",
                error_file_fails_alone,
            ),
            (
                "two_replicas_on_a_full_disk_freed_a_little_at_a_time_account_for_every_line",
                full_disk::full_disk_two_replicas,
            ),
            ("files_are_owner_and_group_only", modes),
            (
                "memory_stays_near_the_queue_bound_under_a_flood",
                flood_memory,
            ),
        ],
    );
}

mod libc_signal {
    pub const INT: i32 = 2;
    pub const TERM: i32 = 15;
}

fn preset(scenario: &str, dir: &Path) -> Command {
    let mut cmd = support::child_command(scenario);
    cmd.env("PRODLOG_DIR", dir)
        .env("PRODLOG_APP", "app")
        .env("PRODLOG_CONSOLE", "off");
    cmd
}

/// Every line of `app.log*` in `dir` (not the error file), each parsed: a line that is not
/// JSON fails the test.
fn all_lines(dir: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("app.log") {
            continue;
        }
        let mut text = String::new();
        if name.ends_with(".gz") {
            flate2_free_gunzip(&path, &mut text);
        } else {
            fs::File::open(&path)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
        }
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{name} ends mid-line"
        );
        out.extend(text.lines().map(support::parse));
    }
    out
}

/// `gzip -dc`, so the test needs no flate2 of its own.
fn flate2_free_gunzip(path: &Path, text: &mut String) {
    let out = Command::new("gzip").arg("-dc").arg(path).output().unwrap();
    assert!(out.status.success(), "gzip -dc {}", path.display());
    text.push_str(&String::from_utf8(out.stdout).unwrap());
}

/// The sum of `N` in every "`prefix` N" of `text`.
fn sum_after(text: &str, prefix: &str) -> u64 {
    text.split(prefix)
        .skip(1)
        .map(|rest| rest.split(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

fn replicas(n: u64, gzip: bool) {
    let dir = tempfile::tempdir().unwrap();
    let lines = 20_000u64;
    let children: Vec<_> = (0..n)
        .map(|id| {
            preset("replica", dir.path())
                .env("REPLICA", id.to_string())
                .env("LINES", lines.to_string())
                .env("PRODLOG_MAX_BYTES", "64k")
                .env("PRODLOG_MAX_BACKUPS", "100000")
                .env("PRODLOG_COMPRESS", if gzip { "on" } else { "off" })
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Rotation every 64 KiB can outrun gzip: said once, and those backups stay plain.
        let complaints: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains("outruns gzip"))
            .collect();
        assert!(complaints.is_empty(), "a replica complained: {stderr}");
    }
    let mut seen = HashSet::new();
    let mut count = 0;
    for line in all_lines(dir.path()) {
        if line["message"] != "replica line" {
            panic!("unexpected line {line:?}");
        }
        count += 1;
        let key = (
            line["replica"].as_u64().unwrap(),
            line["seq"].as_u64().unwrap(),
        );
        assert!(seen.insert(key), "{key:?} written twice");
    }
    assert_eq!(count, n * lines, "every line of every replica, once");
    let backups = fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("app.log.")
        })
        .count();
    assert!(backups > 10 * n as usize, "rotation happened: {backups}");
}

/// Starts `scenario`, reads its acknowledgements until `after` of them, sends `signal`, and
/// returns (the last acknowledged number, the exit status, stderr).
fn signal_after(
    mut cmd: Command,
    after: u64,
    signal: &str,
) -> (Option<u64>, std::process::ExitStatus, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acks = BufReader::new(child.stdout.take().unwrap());
    let mut last = None;
    let mut line = String::new();
    while last.is_none_or(|n| n < after) {
        line.clear();
        if acks.read_line(&mut line).unwrap() == 0 {
            break;
        }
        last = line.trim().parse().ok().or(last);
    }
    let kill = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success(), "kill failed: {kill:?}");
    // Acknowledgements printed before the signal arrived count too.
    for l in acks.lines() {
        let Ok(l) = l else { break };
        if let Ok(n) = l.trim().parse() {
            last = Some(n);
        }
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (last, status, err)
}

fn signal_keeps_acknowledged(name: &str, number: i32) {
    let dir = tempfile::tempdir().unwrap();
    let (last, status, err) = signal_after(preset("forever", dir.path()), 20_000, name);
    assert_eq!(
        status.signal(),
        Some(number),
        "the process still ends by SIG{name}: {status:?} {err}"
    );
    let last = last.expect("the child acknowledged lines");
    let lines = all_lines(dir.path());
    let logged: HashSet<u64> = lines
        .iter()
        .filter(|l| l["message"] == "acknowledged line")
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    let missing = (0..=last).filter(|s| !logged.contains(s)).count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged lines lost to SIG{name}",
        last + 1
    );
    assert!(
        lines.iter().any(|l| l["message"]
            .as_str()
            .unwrap()
            .contains(&format!("SIG{name}"))),
        "the signal is named in the log"
    );
}

fn app_handler_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (last, status, err) = signal_after(preset("graceful", dir.path()), 50, "TERM");
    assert_eq!(
        status.code(),
        Some(0),
        "the application's handler ran its shutdown: {status:?} {err}"
    );
    let lines = all_lines(dir.path());
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "graceful shutdown by the application"),
        "the application's last line is there"
    );
    assert!(
        !lines.iter().any(|l| l["target"] == "prodlog"),
        "prodlog stayed out of the application's handling"
    );
    let logged = lines.iter().filter(|l| l["message"] == "working").count() as u64;
    assert!(logged > last.unwrap(), "saw {:?}", &logged);
}

fn sigkill_then_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_, status, _) = signal_after(preset("forever", dir.path()), 5_000, "KILL");
    assert_eq!(status.signal(), Some(9));
    // Whatever the kill left, plus a fragment as a write cut short by power loss leaves.
    let log = dir.path().join("app.log");
    let mut text = fs::read(&log).unwrap();
    text.extend_from_slice(b"{\"timestamp\":\"2026-11-30T10:00:00.000000Z\",\"level\":\"IN");
    fs::write(&log, &text).unwrap();
    let out = preset("few", dir.path()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cut a torn last line"), "{stderr}");
    let lines = all_lines(dir.path()); // every line parses
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["message"] == "after the restart")
            .count(),
        10
    );
    assert!(
        lines.iter().any(|l| l["message"]
            .as_str()
            .unwrap()
            .contains("cut a torn last line")),
        "saw {:?}",
        &lines
    );
}

fn huge_settings() {
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=30 {
        fs::write(dir.path().join(format!("app.log.{i}")), "{\"old\":true}\n").unwrap();
    }
    for (backups, total) in [("18446744073709551615", "0"), ("1000000", "1M")] {
        let start = Instant::now();
        let out = preset("few", dir.path())
            .env("PRODLOG_MAX_BACKUPS", backups)
            .env("PRODLOG_MAX_TOTAL_BYTES", total)
            .env("PRODLOG_QUEUE_BYTES", "999999G")
            .env("PRODLOG_SHUTDOWN_MS", "18446744073709551615")
            .output()
            .unwrap();
        let took = start.elapsed();
        assert!(out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("PRODLOG_MAX_BACKUPS") && stderr.contains("keeping 100000"),
            "{stderr}"
        );
        assert!(stderr.contains("PRODLOG_QUEUE_BYTES"), "{stderr}");
        assert!(stderr.contains("PRODLOG_SHUTDOWN_MS"), "{stderr}");
        // Not a benchmark: a loop over a million numbers took 13 s here.
        assert!(
            took < Duration::from_secs(10),
            "init and exit took {took:?}"
        );
    }
    let kept = (1..=30)
        .filter(|i| dir.path().join(format!("app.log.{i}")).exists())
        .count();
    assert_eq!(kept, 30, "no backup deleted because of a huge count");
}

fn error_file_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    // Something that is not a file at the name: refused, said so, and the lines go to the
    // process's own `app.error.<pid>.log`.
    fs::create_dir(dir.path().join("app.error.log")).unwrap();
    let out = preset("few", dir.path()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("app.error.log") && stderr.contains("refusing"),
        "{stderr}"
    );
    let lines = support::read_json_lines(&dir.path().join("app.log"));
    assert_eq!(lines.len(), 20, "the main file still gets everything");
    assert_eq!(
        support::read_json_lines(&own(dir.path(), "app.error.")).len(),
        10
    );

    // And the other way round: the main file's name is taken, the error file still works.
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("app.log")).unwrap();
    let out = preset("few", dir.path()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let errors = support::read_json_lines(&dir.path().join("app.error.log"));
    assert_eq!(errors.len(), 10);
    assert_eq!(support::read_json_lines(&own(dir.path(), "app.")).len(), 20);
}

/// The process's own `<prefix><pid>.log` in `dir`.
fn own(dir: &Path, prefix: &str) -> std::path::PathBuf {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(".log"))
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        })
        .unwrap_or_else(|| panic!("no {prefix}<pid>.log in {}", dir.display()))
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn modes() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("logs");
    let out = preset("replica", &dir)
        .env("REPLICA", "0")
        .env("LINES", "3000")
        .env("PRODLOG_MAX_BYTES", "64k")
        .env("PRODLOG_COMPRESS", "on")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(mode(&dir), 0o750, "the directory prodlog created");
    let mut gz = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        gz += usize::from(path.to_string_lossy().ends_with(".gz"));
        assert_eq!(mode(&path), 0o640, "{}", path.display());
    }
    assert!(gz > 0, "rotated files were gzipped");

    // An existing file keeps its owner's choice; PRODLOG_FILE_MODE sets new files' mode.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    fs::write(&log, "").unwrap();
    fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();
    let out = preset("few", dir.path())
        .env("PRODLOG_FILE_MODE", "0600")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(mode(&log), 0o644);
    assert_eq!(mode(&dir.path().join("app.error.log")), 0o600);
}

fn flood_memory() {
    let dir = tempfile::tempdir().unwrap();
    let out = preset("flood", dir.path())
        .env("PRODLOG_QUEUE_BYTES", "8M")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let kib: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    println!("peak RSS under an 8-thread flood with an 8 MiB queue: {kib} KiB");
    // The queue and the batch being written (8 MiB together), and a constant for the
    // program (about 12 MB here).
    assert!(
        kib < 32 * 1024,
        "peak RSS {kib} KiB is far above the queue bound"
    );
}
