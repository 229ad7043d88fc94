//! Two replicas on a full disk freed a little at a time, under `RUST_LOG=warn`.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{all_lines, disk, preset, sum_after};

/// Two processes share a log directory on a disk with not one byte free, under
/// `RUST_LOG=warn`; the disk is freed 16 KiB at a time while they log. Every WARN line is
/// on disk once, or counted as lost — in the file itself, or on stderr for what was still
/// queued at exit — and nothing below the level is written.
pub(crate) fn full_disk_two_replicas() {
    let Some(small) = disk::SmallDisk::mount("2m") else {
        return;
    };
    let dir = small.0.join("logs");
    fs::create_dir(&dir).unwrap();
    let filler = small.0.join("filler");
    disk::fill(&filler);
    let lines = 3_000u64;
    let children: Vec<_> = (0..2)
        .map(|id| {
            preset("disk", &dir)
                .env("RUST_LOG", "warn")
                .env("REPLICA", id.to_string())
                .env("LINES", lines.to_string())
                .env("PRODLOG_SHUTDOWN_MS", "500")
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Each child's stderr, read as it comes: the disk is freed only once both have met
    // it full (a cold, loaded machine can take longer to start them than any fixed wait;
    // freeing too early made this test pass nothing through a full disk, and fail).
    let mut children = children;
    let readers: Vec<_> = children
        .iter_mut()
        .map(|c| {
            let mut err = c.stderr.take().unwrap();
            let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
            let keep = seen.clone();
            let thread = std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    keep.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
            (seen, thread)
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !readers
        .iter()
        .all(|(seen, _)| seen.lock().unwrap().contains("cannot write"))
    {
        let texts: Vec<String> = readers
            .iter()
            .map(|(s, _)| s.lock().unwrap().clone())
            .collect();
        assert!(
            Instant::now() < deadline,
            "a child never met the full disk in 120 s; their stderr: {texts:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    while disk::free(&filler, 16 * 1024) > 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
    fs::remove_file(&filler).unwrap();
    for c in &mut children {
        let status = c.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
    let mut stderr = String::new();
    for (seen, thread) in readers {
        thread.join().unwrap();
        stderr.push_str(&seen.lock().unwrap());
    }
    let mut seen = HashSet::new();
    let mut lost_in_file = 0;
    for line in all_lines(&dir) {
        let message = line["message"].as_str().unwrap();
        assert_ne!(message, "below the level", "RUST_LOG=warn holds");
        if line["target"] == "prodlog_writer" {
            lost_in_file += sum_after(message, "prodlog could not write ");
            lost_in_file += sum_after(message, "prodlog dropped ");
            continue;
        }
        assert_eq!(message, "disk line", "{line:?}");
        let key = (
            line["replica"].as_u64().unwrap(),
            line["seq"].as_u64().unwrap(),
        );
        assert!(seen.insert(key), "{key:?} written twice");
    }
    let lost_at_exit: u64 = stderr
        .lines()
        .filter(|l| l.contains("before shutdown"))
        .map(|l| sum_after(l, "prodlog-writer: "))
        .sum();
    let written = seen.len() as u64;
    println!("    full disk: {written} lines written, {lost_in_file} lost (reported in the file), {lost_at_exit} at exit");
    assert!(written > 0, "room that came back was used");
    assert_eq!(
        written + lost_in_file + lost_at_exit,
        2 * lines,
        "written {written} + lost {lost_in_file} (in the file) + {lost_at_exit} (at exit) = sent; stderr: {stderr}"
    );
}
