//! The lines a writer wrote, by number, for a reader that fell behind: a network
//! destination whose memory queue filled while its collector was away reads its lines
//! back from the file instead of dropping them.
//!
//! With [`WriterBuilder::spool`](crate::WriterBuilder::spool) on, every line queued gets a
//! number (0, 1, 2, …, in queue order: the order of the file), and the worker records
//! where each run of numbered lines landed: which file (a duplicate of its descriptor, so
//! the lines stay readable after rotation renames, gzips or deletes the file), at what
//! offset. Lines the writer adds itself (its reports) and other processes' lines are
//! between runs, never inside one, so a reader gets exactly the numbered lines.
//!
//! Memory: one entry per run (runs in one file merge unless another process wrote in
//! between), released as the reader confirms lines. At most `max_backups + 1` files are
//! held — what the directory keeps anyway: lines in an older file are lost to the reader,
//! and counted.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::sync::{Arc, Mutex};

use crate::backups::FileId;
use crate::writer::lock;

/// Where one line is on disk: for a checkpoint that outlives the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Device and inode of the file.
    pub dev: u64,
    /// Inode of the file.
    pub ino: u64,
    /// Byte offset of the line in the file.
    pub offset: u64,
}

/// One run of numbered lines in one file.
struct Run {
    file: Arc<File>,
    id: FileId,
    offset: u64,
    len: u64,
    first: u64,
    lines: u64,
    /// A line of the run whose offset is known: (number, offset). Reading and releasing
    /// move it forward, so each byte is scanned once.
    cursor: (u64, u64),
}

#[derive(Default)]
pub(crate) struct Runs {
    runs: VecDeque<Run>,
    /// Lines before this number were released.
    released: u64,
    /// Numbered lines written (the end of what can be read).
    written: u64,
    /// Numbered lines lost to the reader: their file was let go before they were read.
    lost: u64,
    /// Distinct files held, at most.
    max_files: usize,
    /// Where line 0 goes: the file and its size when the writer opened it. What was
    /// there before belongs to earlier runs of the program (a destination resuming from a
    /// checkpoint reads up to here).
    pub(crate) origin: Option<Position>,
}

/// A reader's handle on a spooling writer's lines. Cheap to clone.
#[derive(Clone)]
pub struct Spool {
    pub(crate) runs: Arc<Mutex<Runs>>,
    pub(crate) writer: std::sync::Weak<crate::writer::Shared>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = lock(&self.runs);
        f.debug_struct("Spool")
            .field("released", &r.released)
            .field("written", &r.written)
            .field("lost", &r.lost)
            .finish()
    }
}

pub(crate) fn new_runs(max_files: usize) -> Arc<Mutex<Runs>> {
    Arc::new(Mutex::new(Runs {
        max_files: max_files.max(1),
        ..Runs::default()
    }))
}

/// Records that `bytes` (whole numbered lines, from number `first`) were written to
/// `file` at `offset`. Called by the worker.
pub(crate) fn record(
    runs: &Mutex<Runs>,
    file: &Arc<File>,
    id: FileId,
    offset: u64,
    bytes: &[u8],
    first: u64,
) -> u64 {
    let lines = memchr::memchr_iter(b'\n', bytes).count() as u64;
    if lines == 0 {
        return 0;
    }
    let mut r = lock(runs);
    r.written = r.written.max(first + lines);
    if let Some(last) = r.runs.back_mut() {
        if last.id == id && last.offset + last.len == offset && last.first + last.lines == first {
            last.len += bytes.len() as u64;
            last.lines += lines;
            return lines;
        }
    }
    r.runs.push_back(Run {
        file: file.clone(),
        id,
        offset,
        len: bytes.len() as u64,
        first,
        lines,
        cursor: (first, offset),
    });
    // Hold no more files than the directory keeps.
    loop {
        let mut ids: Vec<FileId> = r.runs.iter().map(|run| run.id).collect();
        ids.dedup();
        if ids.len() <= r.max_files {
            break;
        }
        let oldest = ids[0];
        while r.runs.front().is_some_and(|run| run.id == oldest) {
            let run = r.runs.pop_front().expect("checked");
            let end = run.first + run.lines;
            if end > r.released {
                let unread = end - r.released.max(run.first);
                r.lost += unread;
                r.released = end;
            }
        }
    }
    lines
}

/// Reads from `file` at `at` into `buf` as much as it can (short at the end of the file).
fn pread(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        let mut n = 0;
        while n < buf.len() {
            match file.read_at(&mut buf[n..], at + n as u64) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
    #[cfg(not(unix))]
    {
        let _ = (file, buf, at);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "spool needs unix",
        ))
    }
}

/// From a known `(line, offset)` of a run, the offset of line `target` (≥ line).
fn seek(file: &File, (mut line, mut offset): (u64, u64), target: u64) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    while line < target {
        let n = pread(file, &mut buf, offset)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the spooled file ended before its lines",
            ));
        }
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' {
                line += 1;
                if line == target {
                    return Ok(offset + i as u64 + 1);
                }
            }
        }
        offset += n as u64;
    }
    Ok(offset)
}

impl Spool {
    /// Where line 0 goes: the file the writer opened, and its size then.
    pub fn origin(&self) -> Option<Position> {
        lock(&self.runs).origin
    }

    /// The file the writer writes (its backups are `path.1`, `path.2`, …).
    pub fn path(&self) -> Option<std::path::PathBuf> {
        self.writer.upgrade().map(|w| w.path.clone())
    }

    /// Numbered lines in the file now: [`read`](Self::read) returns lines below this.
    pub fn written(&self) -> u64 {
        lock(&self.runs).written
    }

    /// The number the next line queued will get: lines below it are in the file or on
    /// their way there.
    pub fn queued(&self) -> u64 {
        match self.writer.upgrade() {
            Some(w) => lock(&w.state).next_line,
            None => self.written(),
        }
    }

    /// Lines lost to the reader: their file was let go (rotated past what the directory
    /// keeps) before they were read or released.
    pub fn lost(&self) -> u64 {
        lock(&self.runs).lost
    }

    /// Appends whole lines from number `from` on to `out`: at most `max_bytes` (but at
    /// least one line), never past [`written`](Self::written). Returns the number of the
    /// first line appended (more than `from` when the lines between were lost) and how
    /// many were appended.
    pub fn read(&self, from: u64, out: &mut Vec<u8>, max_bytes: usize) -> io::Result<(u64, u64)> {
        // What to read, taken under the lock; the reading itself is done without it (the
        // writer's worker records runs under it).
        let (file, cursor, first, end_line, end_offset) = {
            let r = lock(&self.runs);
            let from = from.max(r.released);
            let Some(run) = r.runs.iter().find(|run| run.first + run.lines > from) else {
                return Ok((from.max(r.written), 0));
            };
            let start = from.max(run.first);
            let cursor = if run.cursor.0 <= start {
                run.cursor
            } else {
                (run.first, run.offset)
            };
            (
                run.file.clone(),
                cursor,
                start,
                run.first + run.lines,
                run.offset + run.len,
            )
        };
        let offset = seek(&file, cursor, first)?;
        let want = (end_offset - offset).min(max_bytes.max(1) as u64) as usize;
        let at = out.len();
        out.resize(at + want, 0);
        let n = pread(&file, &mut out[at..], offset)?;
        out.truncate(at + n);
        // Whole lines only; at least one, however long.
        let mut keep = out[at..]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        if keep == 0 && n > 0 {
            out.truncate(at);
            let mut line_end = offset;
            let mut buf = [0u8; 8192];
            'scan: loop {
                let k = pread(&file, &mut buf, line_end)?;
                if k == 0 {
                    break;
                }
                if let Some(i) = buf[..k].iter().position(|&b| b == b'\n') {
                    line_end += i as u64 + 1;
                    break 'scan;
                }
                line_end += k as u64;
            }
            out.resize(at + (line_end - offset) as usize, 0);
            let k = pread(&file, &mut out[at..], offset)?;
            out.truncate(at + k);
            keep = k;
        }
        out.truncate(at + keep);
        let lines =
            (out[at..].iter().filter(|&&b| b == b'\n').count() as u64).min(end_line - first);
        let mut r = lock(&self.runs);
        if let Some(run) = r
            .runs
            .iter_mut()
            .find(|run| run.first <= first && first < run.first + run.lines)
        {
            if run.cursor.0 <= first + lines {
                run.cursor = (first + lines, offset + keep as u64);
            }
        }
        Ok((first, lines))
    }

    /// The reader needs no line below `line` any more: runs before it are let go. Returns
    /// where `line` is (or will be) on disk, for a checkpoint, when that is known.
    pub fn release(&self, line: u64) -> Option<Position> {
        let (file, cursor, id, end) = {
            let mut r = lock(&self.runs);
            r.released = r.released.max(line);
            // The last run stays: the position after it is where the next line goes.
            while r.runs.len() > 1 && r.runs[0].first + r.runs[0].lines <= line {
                r.runs.pop_front();
            }
            let run = r.runs.front()?;
            if run.first > line {
                return None;
            }
            let cursor = if run.cursor.0 <= line {
                run.cursor
            } else {
                (run.first, run.offset)
            };
            let end = (run.first + run.lines <= line).then_some(run.offset + run.len);
            (run.file.clone(), cursor, run.id, end)
        };
        let offset = match end {
            Some(end) => end,
            None => seek(&file, cursor, line).ok()?,
        };
        if end.is_none() {
            let mut r = lock(&self.runs);
            if let Some(run) = r.runs.front_mut() {
                if run.id == id && run.cursor.0 < line && line < run.first + run.lines {
                    run.cursor = (line, offset);
                }
            }
        }
        Some(Position {
            dev: id.0,
            ino: id.1,
            offset,
        })
    }
}
