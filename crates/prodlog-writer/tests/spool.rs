//! A spooling writer's lines read back by number, through rotation, gzip and deletion of
//! the files they were written to, while other writers share the file.

use std::time::Duration;

use prodlog_writer::{Spool, Writer};

fn line(n: u64) -> Vec<u8> {
    format!(
        "{{\"message\":\"line {n:07}\",\"pad\":\"{}\"}}\n",
        "x".repeat((n % 97) as usize)
    )
    .into_bytes()
}

/// Every line from `from` to `to` (exclusive), read in chunks of about `chunk` bytes.
fn read_all(spool: &Spool, from: u64, to: u64, chunk: usize) -> (Vec<u8>, u64) {
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        let (first, n) = spool.read(at, &mut out, chunk).unwrap();
        assert_eq!(first, at, "no line lost");
        assert!(n > 0, "stuck at {at} of {to}");
        at += n;
    }
    (out, at)
}

#[test]
fn numbered_lines_read_back_through_rotation_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Writer::builder(dir.path().join("app.log"))
        .max_bytes(Some(64 * 1024))
        .max_backups(50)
        .compress(cfg!(feature = "compression"))
        .spool(true)
        .build()
        .unwrap();
    let spool = writer.spool().expect("spooling");
    let total = 20_000u64;
    let mut expected = Vec::new();
    for n in 0..total {
        let l = line(n);
        writer.write_line(&l);
        expected.extend_from_slice(&l);
    }
    assert_eq!(spool.queued(), total);
    assert!(writer.flush(Duration::from_secs(30)));
    assert_eq!(spool.written(), total);
    // Rotated many times, backups gzipped meanwhile: still readable through the runs.
    let backups = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(backups > 10, "{backups} files");
    for chunk in [1, 333, 64 * 1024, 1 << 20] {
        let (got, _) = read_all(&spool, 0, total, chunk);
        assert!(
            got == expected,
            "chunk {chunk}: {} bytes of {}",
            got.len(),
            expected.len()
        );
    }
    // From the middle, and past the end.
    let (got, _) = read_all(&spool, 12_345, total, 4096);
    let skip: usize = (0..12_345).map(|n| line(n).len()).sum();
    assert!(got == expected[skip..]);
    let mut out = Vec::new();
    assert_eq!(spool.read(total, &mut out, 100).unwrap(), (total, 0));
    // Released lines' files are let go; where the next line goes is known.
    let at = spool.release(15_000).expect("position");
    assert!(at.offset > 0);
    let end = spool.release(total).expect("end position");
    let size = std::fs::metadata(dir.path().join("app.log")).unwrap().len();
    assert_eq!(end.offset, size, "the next line goes at the end of app.log");
    assert_eq!(spool.lost(), 0);
    writer.shutdown(Duration::from_secs(10)).unwrap();
}

#[test]
fn files_past_what_the_directory_keeps_are_lost_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Writer::builder(dir.path().join("app.log"))
        .max_bytes(Some(16 * 1024))
        .max_backups(2)
        .spool(true)
        .build()
        .unwrap();
    let spool = writer.spool().unwrap();
    for n in 0..5_000 {
        writer.write_line(&line(n));
    }
    assert!(writer.flush(Duration::from_secs(30)));
    let lost = spool.lost();
    assert!(lost > 0, "three files held at most");
    let mut out = Vec::new();
    let (first, n) = spool.read(0, &mut out, 1 << 20).unwrap();
    assert_eq!(first, lost, "reading resumes at the first line still held");
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with(&format!("{{\"message\":\"line {lost:07}\"")),
        "{}",
        &text[..80]
    );
    assert!(n > 0);
    writer.shutdown(Duration::from_secs(10)).unwrap();
}

#[test]
fn other_writers_lines_and_reports_are_not_numbered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let ours = Writer::builder(&path).spool(true).build().unwrap();
    let theirs = Writer::builder(&path).build().unwrap();
    let spool = ours.spool().unwrap();
    for n in 0..3_000 {
        ours.write_line(&line(n));
        theirs.write_line(b"{\"message\":\"not ours\"}\n");
        if n % 500 == 0 {
            assert!(ours.flush(Duration::from_secs(10)));
            assert!(theirs.flush(Duration::from_secs(10)));
        }
    }
    assert!(ours.flush(Duration::from_secs(10)));
    assert!(theirs.flush(Duration::from_secs(10)));
    let (got, _) = read_all(&spool, 0, 3_000, 8192);
    let expected: Vec<u8> = (0..3_000).flat_map(line).collect();
    assert!(got == expected, "exactly our lines, in order");
    let file = std::fs::read_to_string(&path).unwrap();
    assert_eq!(file.matches("not ours").count(), 3_000);
    ours.shutdown(Duration::from_secs(10)).unwrap();
    theirs.shutdown(Duration::from_secs(10)).unwrap();
}
