//! A hostile host, through `prodlog::init()` in real child processes: another user
//! (`nobody`, through `setpriv`) plants symlinks, files of their own and FIFOs at the names
//! prodlog uses in a shared log directory, or holds the directory's lock; stdout is a
//! closed pipe. No byte may reach a planted target, nothing may hang, every line logged
//! must be somewhere safe. Run with `cargo test --test hostile`.
//!
//! The parts that need a second user are skipped, with a message, when the tests do not
//! run as root or `setpriv` is missing; the same plants made by the test's own user still
//! run (a symlink or a FIFO is refused whoever made it).

#[path = "../support/mod.rs"]
mod support;

mod bypass;
mod pipes;
mod settings;
mod signals;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const PAD: &str = "hostile-host-padding-hostile-host-padding-hostile-host-padding";

fn child(scenario: &str) {
    match scenario {
        "service" => {
            let _guard = prodlog::init();
            let n: u64 = std::env::var("LINES").unwrap().parse().unwrap();
            let pause: u64 = std::env::var("PAUSE_MS").map_or(0, |p| p.parse().unwrap());
            for seq in 0..n {
                tracing::info!(seq, pad = PAD, "service line");
                if seq % 10 == 0 {
                    tracing::error!(seq, "service error");
                }
                if pause > 0 {
                    std::thread::sleep(Duration::from_millis(pause));
                }
            }
        }
        "settings" => settings::child(),
        "flood8" => signals::child(),
        "flood4" => signals::child_bounded(),
        "bypass" | "panic" => bypass::child(scenario),
        other => pipes::child(other),
    }
}

fn main() {
    support::test_main(
        child,
        &[
            ("symlinks_at_the_log_names", symlinks_at_the_log_names),
            ("symlinks_at_backup_names", symlinks_at_backup_names),
            ("another_users_file", another_users_file),
            (
                "symlink_swapped_in_while_running",
                symlink_swapped_in_while_running,
            ),
            ("fifo_at_the_log_name", fifo_at_the_log_name),
            ("lock_held_by_another_user", lock_held_by_another_user),
            ("stdout_closed", pipes::stdout_closed),
            ("stdout_broken_by_head", pipes::stdout_broken_by_head),
            ("stderr_closed", pipes::stderr_closed),
            ("both_broken_by_head", pipes::both_broken_by_head),
            ("settings_fuzz", settings::settings_fuzz),
            ("bypass_families", bypass::bypass_families),
            ("panic_message", bypass::panic_message),
            (
                "sigterm_during_gzip_rotation",
                signals::sigterm_during_gzip_rotation,
            ),
            (
                "gzip_under_a_low_descriptor_limit",
                signals::gzip_under_a_low_descriptor_limit,
            ),
        ],
    );
}

/// A directory any user may write to (the test's temporary directory is 0700 otherwise).
fn shared_dir(mode: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(mode)).unwrap();
    dir
}

/// Runs `program args` as `nobody` when the tests run as root (the attacker is another
/// user); as the test's own user otherwise. Returns whether it ran as another user.
fn as_attacker(program: &str, args: &[&str]) -> bool {
    let other = attacker_available();
    let status = if other {
        Command::new("setpriv")
            .args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                program,
            ])
            .args(args)
            .status()
    } else {
        Command::new(program).args(args).status()
    }
    .unwrap();
    assert!(status.success(), "{program} {args:?}: {status}");
    other
}

fn attacker_available() -> bool {
    // SAFETY: geteuid cannot fail.
    #[allow(unsafe_code)]
    let root = unsafe { libc_geteuid() } == 0;
    root && Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[allow(unsafe_code)]
unsafe fn libc_geteuid() -> u32 {
    extern "C" {
        fn geteuid() -> u32;
    }
    // SAFETY: a libc function with no preconditions.
    unsafe { geteuid() }
}

/// A precious file of the service's user, outside the log directory.
fn precious(dir: &Path) -> PathBuf {
    let path = dir.join("precious.conf");
    fs::write(&path, b"precious content\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    path
}

fn assert_untouched(path: &Path) {
    assert_eq!(
        fs::read(path).unwrap(),
        b"precious content\n",
        "{} was written through",
        path.display()
    );
    assert_eq!(
        fs::metadata(path).unwrap().mode() & 0o7777,
        0o644,
        "{} was chmodded",
        path.display()
    );
}

/// Runs the service child in `dir` with `vars`, and checks it ends by itself.
fn service(dir: &Path, lines: u64, vars: &[(&str, &str)]) -> Output {
    let mut cmd = support::child_command("service");
    cmd.env("PRODLOG_DIR", dir)
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "off")
        .env("LINES", lines.to_string());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = run_bounded(cmd, Duration::from_secs(60));
    assert!(out.status.success(), "{out:?}");
    out
}

/// Runs `cmd` to its end; a child still running after `limit` is killed and the test
/// fails (a hang is the bug these tests look for).
fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let started = Instant::now();
    let waiter = std::thread::spawn(move || child.wait_with_output().unwrap());
    while !waiter.is_finished() {
        if started.elapsed() > limit {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let out = waiter.join().unwrap();
            panic!("the child hung for {limit:?}: {out:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    waiter.join().unwrap()
}

/// Every `seq` of "service line" in the files whose names start with `prefix`, gzipped
/// ones included.
fn seqs_in(dir: &Path, prefix: &str, message: &str) -> Vec<u64> {
    let mut seqs = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let meta = fs::symlink_metadata(&path).unwrap();
        // The attacker's own plants are not the service's files.
        // SAFETY: geteuid cannot fail.
        #[allow(unsafe_code)]
        let theirs = meta.uid() != unsafe { libc_geteuid() };
        if !name.starts_with(prefix) || meta.file_type().is_symlink() || theirs {
            continue;
        }
        let text = if name.ends_with(".gz") {
            let out = Command::new("gzip").arg("-dc").arg(&path).output().unwrap();
            String::from_utf8(out.stdout).unwrap()
        } else if fs::symlink_metadata(&path).unwrap().is_file() {
            fs::read_to_string(&path).unwrap()
        } else {
            continue;
        };
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{name}: torn or forged line {line:?}: {e}"));
            if v["message"] == message {
                seqs.push(v["seq"].as_u64().unwrap());
            }
        }
    }
    seqs.sort_unstable();
    seqs
}

fn assert_all(seqs: &[u64], n: u64, step: u64) {
    let want: Vec<u64> = (0..n).step_by(step as usize).collect();
    assert_eq!(seqs.len(), want.len(), "lines lost or written twice");
    assert_eq!(seqs, want.as_slice());
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn symlinks_at_the_log_names() {
    let outside = tempfile::tempdir().unwrap();
    let target = precious(outside.path());
    let dir = shared_dir(0o1777);
    let log = dir.path().join("svc.log");
    let err = dir.path().join("svc.error.log");
    let other = as_attacker(
        "ln",
        &["-s", target.to_str().unwrap(), log.to_str().unwrap()],
    );
    as_attacker(
        "ln",
        &["-s", target.to_str().unwrap(), err.to_str().unwrap()],
    );

    let out = service(dir.path(), 500, &[]);
    assert_untouched(&target);
    let text = stderr(&out);
    assert!(
        text.contains("refusing") && text.contains("symbolic link"),
        "{text}"
    );
    // Every line is in the service's own files instead.
    assert_all(&seqs_in(dir.path(), "svc.", "service line"), 500, 1);
    assert_all(&seqs_in(dir.path(), "svc.error.", "service error"), 500, 10);
    assert!(own_file(dir.path()).is_some(), "{text}");
    println!(
        "  (planted by {})",
        if other {
            "nobody"
        } else {
            "the test's own user"
        }
    );
}

/// The process's own `svc.<pid>.log`, if one was written.
fn own_file(dir: &Path) -> Option<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.strip_prefix("svc.")
                .and_then(|r| r.strip_suffix(".log"))
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        })
}

fn symlinks_at_backup_names() {
    let outside = tempfile::tempdir().unwrap();
    let target = precious(outside.path());
    let dir = shared_dir(0o1777);
    for i in 1..=6 {
        for suffix in ["", ".gz"] {
            let link = dir.path().join(format!("svc.log.{i}{suffix}"));
            as_attacker(
                "ln",
                &["-s", target.to_str().unwrap(), link.to_str().unwrap()],
            );
        }
    }
    let out = service(
        dir.path(),
        4000,
        &[
            ("PRODLOG_MAX_BYTES", "16k"),
            ("PRODLOG_MAX_BACKUPS", "1000"),
            ("PRODLOG_COMPRESS", "on"),
        ],
    );
    assert_untouched(&target);
    assert_all(&seqs_in(dir.path(), "svc.log", "service line"), 4000, 1);
    assert!(!stderr(&out).contains("panicked"), "{out:?}");
}

fn another_users_file() {
    if !attacker_available() {
        println!("  skipped: needs root and setpriv to act as another user");
        return;
    }
    let dir = shared_dir(0o1777);
    let log = dir.path().join("svc.log");
    as_attacker("touch", &[log.to_str().unwrap()]);
    as_attacker("chmod", &["0666", log.to_str().unwrap()]);
    as_attacker("sh", &["-c", &format!("echo planted > {}", log.display())]);

    let out = service(dir.path(), 300, &[]);
    let text = stderr(&out);
    assert!(
        text.contains("refusing") && text.contains("belongs to user"),
        "{text}"
    );
    assert_eq!(fs::read_to_string(&log).unwrap(), "planted\n", "adopted");
    assert_eq!(fs::metadata(&log).unwrap().mode() & 0o777, 0o666);
    assert_all(&seqs_in(dir.path(), "svc.", "service line"), 300, 1);
    // The world-writable, sticky directory is fine; a non-sticky one is warned about.
    assert!(!text.contains("sticky"), "{text}");
    let open = shared_dir(0o777);
    let out = service(open.path(), 10, &[]);
    assert!(stderr(&out).contains("without the sticky bit"), "{out:?}");
}

fn fifo_at_the_log_name() {
    let dir = shared_dir(0o1777);
    let log = dir.path().join("svc.log");
    as_attacker("mkfifo", &[log.to_str().unwrap()]);
    let out = service(dir.path(), 200, &[]);
    let text = stderr(&out);
    assert!(text.contains("not a regular file"), "{text}");
    assert_all(&seqs_in(dir.path(), "svc.", "service line"), 200, 1);
    assert!(
        fs::symlink_metadata(&log)
            .unwrap()
            .file_type()
            .is_fifo_like(),
        "the FIFO at {} was replaced",
        log.display()
    );
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for fs::FileType {
    fn is_fifo_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_fifo(self)
    }
}

fn lock_held_by_another_user() {
    let dir = shared_dir(0o1777);
    // Another process takes the directory's lock and keeps it.
    let mut holder = if attacker_available() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "flock",
        ]);
        c
    } else {
        Command::new("flock")
    };
    let mut holder = holder
        .args([
            "-x",
            dir.path().to_str().unwrap(),
            "-c",
            "echo held; sleep 120",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 5];
    std::io::Read::read_exact(holder.stdout.as_mut().unwrap(), &mut first).unwrap();
    assert_eq!(&first, b"held\n");

    let started = Instant::now();
    let out = service(dir.path(), 300, &[]);
    let took = started.elapsed();
    let _ = Command::new("kill").arg(holder.id().to_string()).status();
    let _ = holder.wait();
    let text = stderr(&out);
    assert!(text.contains("held the log directory's lock"), "{text}");
    assert_all(&seqs_in(dir.path(), "svc.", "service line"), 300, 1);
    assert!(
        !dir.path().join("svc.log").exists(),
        "nothing written under the shared name"
    );
    println!("  (init and 300 lines with the lock held: {took:?})");
}

/// In a directory anyone may write to without the sticky bit, another user deletes the
/// live log while the service runs and puts a symlink in its place: the service notices
/// the file moved, refuses the link, and goes on in its own file: nothing reaches the
/// target. (The lines in the file the attacker deleted are gone with it: a directory like
/// this one is warned about at start for that reason.)
fn symlink_swapped_in_while_running() {
    let outside = tempfile::tempdir().unwrap();
    let target = precious(outside.path());
    let dir = shared_dir(0o777);
    let log = dir.path().join("svc.log");
    let mut cmd = support::child_command("service");
    cmd.env("PRODLOG_DIR", dir.path())
        .env("PRODLOG_APP", "svc")
        .env("PRODLOG_CONSOLE", "off")
        .env("LINES", "300")
        .env("PAUSE_MS", "10")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Once the service has written a few lines, the attacker swaps the file.
    let deadline = Instant::now() + Duration::from_secs(60);
    while fs::metadata(&log).map_or(0, |m| m.len()) < 1000 {
        assert!(Instant::now() < deadline, "the service wrote nothing");
        std::thread::sleep(Duration::from_millis(10));
    }
    as_attacker(
        "sh",
        &[
            "-c",
            // Atomic: a link made aside, renamed over the live file (no moment without it:
            // `rm` then `ln` raced the writer recreating the file).
            &format!(
                "ln -s {1} {0}.planted && mv -f {0}.planted {0}",
                log.display(),
                target.display()
            ),
        ],
    );
    let out = child.wait_with_output().unwrap();
    let stderr = stderr(&out);
    assert!(out.status.success(), "{stderr}");
    assert_untouched(&target);
    assert!(stderr.contains("refusing"), "{stderr}");
    // The lines before the swap went to the deleted file (gone with it); those after are
    // in the process's own file, each once and whole.
    let own = own_file(dir.path()).expect("the process's own file");
    let after = seqs_in(dir.path(), "svc.", "service line");
    assert!(
        !after.is_empty() && after.windows(2).all(|w| w[0] < w[1]),
        "saw {:?}",
        &after
    );
    assert!(
        after.last() == Some(&299),
        "the last line is in {}",
        own.display()
    );
}
