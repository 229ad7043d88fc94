//! Faults from outside: a full disk (a small tmpfs mounted by the test) and logrotate moving
//! or truncating the file under a live writer. Each test says why it is skipped where the
//! machine cannot provide the fault (no root for `mount`, no `logrotate`).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use prodlog_writer::Writer;

const WAIT: Duration = Duration::from_secs(30);

fn line(phase: &str, seq: usize) -> String {
    format!("{{\"phase\":\"{phase}\",\"seq\":{seq},\"end\":true}}\n")
}

fn lines_of(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_default();
    assert!(!text.contains('\0'), "{} has NUL bytes", path.display());
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{} ends mid-line",
        path.display()
    );
    text.lines().map(str::to_owned).collect()
}

/// The lines the writer reported in the log as lost.
fn reported_lost(lines: &[String]) -> u64 {
    lines
        .iter()
        .filter_map(|l| l.split("prodlog could not write ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

/// Every line sent in the "during" phase was written or lost, and every loss is reported
/// in the log itself.
fn assert_accounted(lines: &[String], stats: prodlog_writer::Stats, sent: u64) {
    assert_eq!(
        reported_lost(lines),
        stats.lost,
        "every lost line is reported in the log"
    );
    assert_eq!(
        count(lines, "during") as u64 + stats.lost,
        sent,
        "written + lost = sent: {stats:?}"
    );
}

fn count(lines: &[String], phase: &str) -> usize {
    let tag = format!("\"phase\":\"{phase}\"");
    lines.iter().filter(|l| l.contains(&tag)).count()
}

#[path = "../../../tests/support/disk.rs"]
mod disk;
use disk::SmallDisk;

#[test]
fn a_full_disk_never_panics_counts_failures_and_resumes() {
    let Some(disk) = SmallDisk::mount("512k") else {
        return;
    };
    let filler = disk.0.join("filler");
    // Leave about 40 KiB free.
    fs::write(&filler, vec![b'f'; 472 * 1024]).unwrap();
    let path = disk.0.join("app.log");
    let writer = Writer::builder(&path)
        .max_bytes(None)
        .queue_bytes(64 * 1024)
        .build()
        .unwrap();
    for seq in 0..300 {
        writer.write_line(line("before", seq).as_bytes());
    }
    assert!(writer.flush(WAIT), "the lines before the fault are written");

    // Bursts across several retry periods: what the writer holds must stay within its
    // 64 KiB queue however long the disk stays full.
    let mut most_held = 0;
    for burst in 0..5 {
        for seq in burst * 4_000..(burst + 1) * 4_000 {
            writer.write_line(line("during", seq).as_bytes());
        }
        std::thread::sleep(Duration::from_millis(250));
        most_held = most_held.max(writer.stats().held_bytes);
    }
    assert!(
        most_held <= 64 * 1024 + 1024,
        "held {most_held} bytes during the fault"
    );
    let _ = writer.flush(Duration::from_millis(500));
    assert!(
        writer.stats().failed_writes > 0,
        "the full disk was noticed: {:?}",
        writer.stats()
    );
    // The worker may be mid-retry (a write the full disk cuts short is truncated away right
    // after): look only at whole lines here; the end of the test checks the file is whole.
    let text = fs::read_to_string(&path).unwrap();
    let whole: Vec<String> = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| l.trim_end().to_owned())
        .collect();
    assert_eq!(
        count(&whole, "before"),
        300,
        "nothing written before the fault is lost"
    );

    fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + WAIT;
    while !writer.flush(Duration::from_millis(200)) {
        assert!(Instant::now() < deadline, "writing never resumed");
    }
    for seq in 0..100 {
        writer.write_line(line("after", seq).as_bytes());
    }
    writer.shutdown(WAIT).unwrap();

    let lines = lines_of(&path);
    let stats = writer.stats();
    assert_eq!(count(&lines, "before"), 300);
    assert_eq!(
        count(&lines, "after"),
        100,
        "writing resumed when space came back"
    );
    assert_accounted(&lines, stats, 20_000);
    for l in &lines {
        assert!(
            l.ends_with("\"end\":true}") || l.contains("prodlog_writer"),
            "a torn line: {l}"
        );
    }
}

fn logrotate(conf: &Path, state: &Path) -> bool {
    match Command::new("logrotate")
        .arg("-f")
        .arg("-s")
        .arg(state)
        .arg(conf)
        .output()
    {
        Ok(out) if out.status.success() => true,
        Ok(out) => panic!("logrotate failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            eprintln!("skipped: logrotate is not installed ({e})");
            false
        }
    }
}

#[test]
fn logrotate_create_mode_under_a_live_writer_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let conf = dir.path().join("rotate.conf");
    fs::write(
        &conf,
        format!("{} {{\n  create\n  rotate 5\n}}\n", path.display()),
    )
    .unwrap();
    let writer = Writer::builder(&path).max_bytes(None).build().unwrap();
    let producer = {
        let w = writer.clone();
        std::thread::spawn(move || {
            for seq in 0..50_000 {
                w.write_line(line("live", seq).as_bytes());
                if seq % 1000 == 0 {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    let ran = logrotate(&conf, &dir.path().join("state"));
    producer.join().unwrap();
    writer.shutdown(WAIT).unwrap();
    if !ran {
        return;
    }
    let mut all = lines_of(&path);
    all.extend(lines_of(&dir.path().join("app.log.1")));
    assert_eq!(
        count(&all, "live"),
        50_000,
        "every line is in app.log or app.log.1"
    );
    assert!(
        !lines_of(&path).is_empty(),
        "the writer reopened app.log after the move"
    );
}

#[test]
fn logrotate_copytruncate_leaves_no_hole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let conf = dir.path().join("rotate.conf");
    fs::write(
        &conf,
        format!("{} {{\n  copytruncate\n  rotate 5\n}}\n", path.display()),
    )
    .unwrap();
    let writer = Writer::builder(&path).max_bytes(None).build().unwrap();
    for seq in 0..5_000 {
        writer.write_line(line("a", seq).as_bytes());
    }
    assert!(
        writer.flush(WAIT),
        "the writer did not flush within {WAIT:?}"
    );
    // copytruncate loses what is written between its copy and its truncate (logrotate
    // documents the race); the writer stays open and idle while it runs.
    let ran = logrotate(&conf, &dir.path().join("state"));
    for seq in 0..5_000 {
        writer.write_line(line("b", seq).as_bytes());
    }
    writer.shutdown(WAIT).unwrap();
    if !ran {
        return;
    }
    let current = lines_of(&path);
    assert_eq!(count(&lines_of(&dir.path().join("app.log.1")), "a"), 5_000);
    assert_eq!(count(&current, "b"), 5_000);
    assert_eq!(
        current.len(),
        5_000,
        "written at the start of the truncated file, no hole"
    );
}

/// The disk is full to the last byte, then freed by less than one batch at a time: every
/// bit of room is used for whole lines, nothing whole is cut away, and at the end every
/// line is on disk or counted as lost — in the file and in `Stats`.
#[test]
fn a_full_disk_freed_a_little_at_a_time_takes_whole_lines_as_room_appears() {
    let Some(disk) = SmallDisk::mount("1m") else {
        return;
    };
    let filler = disk.0.join("filler");
    let path = disk.0.join("app.log");
    let writer = Writer::builder(&path)
        .max_bytes(None)
        .queue_bytes(256 * 1024)
        .build()
        .unwrap();
    writer.write_line(line("before", 0).as_bytes());
    assert!(
        writer.flush(WAIT),
        "the writer did not flush within {WAIT:?}"
    );
    // Fill every byte that is left.
    disk::fill(&filler);
    let sent = 6_000;
    for seq in 0..sent {
        writer.write_line(line("during", seq).as_bytes());
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(writer.stats().failed_writes > 0, "the disk is full");
    let mut on_disk = count(&whole_lines(&path), "during");
    assert!(on_disk < sent, "nothing fits yet");

    // Free 8 KiB at a time (a batch here is about 240 KiB): each step must let more
    // lines through.
    let mut steps_with_progress = 0;
    for _ in 0..12 {
        disk::free(&filler, 8 * 1024);
        std::thread::sleep(Duration::from_millis(450));
        let now = count(&whole_lines(&path), "during");
        steps_with_progress += usize::from(now > on_disk);
        on_disk = now;
    }
    assert!(
        steps_with_progress >= 10,
        "each small step of room was used: {steps_with_progress} of 12"
    );
    fs::remove_file(&filler).unwrap();
    writer.shutdown(WAIT).unwrap();

    let lines = lines_of(&path);
    let stats = writer.stats();
    assert_accounted(&lines, stats, sent as u64);
    let mut seen = std::collections::HashSet::new();
    for l in &lines {
        assert!(
            l.ends_with("\"end\":true}") || l.contains("prodlog_writer"),
            "a torn line: {l}"
        );
        assert!(
            l.contains("prodlog_writer") || seen.insert(l.clone()),
            "twice: {l}"
        );
    }
}

/// Whole lines only (a retry may be in flight).
fn whole_lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| l.trim_end().to_owned())
        .collect()
}
