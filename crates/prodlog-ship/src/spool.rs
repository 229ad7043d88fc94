//! The file is the spool: a destination whose memory queue is full (its collector is away,
//! or slower than the service) does not drop the lines the local file also holds. It
//! remembers the number of the first line it did not queue, and once its queue is sent it
//! reads the file's numbered lines from there ([`prodlog_writer::Spool`]: the same redacted
//! bytes, across rotation and gzip), then goes back to its memory queue at the exact line
//! where reading stopped. Each line is sent once, in order.
//!
//! A checkpoint — a 64-byte file beside the log, `.<log name>.<destination>.pos`, holding
//! the file and offset of the first line not acknowledged — is rewritten after each
//! acknowledged batch. The next start of the program resumes from it: the rest of that
//! file and every newer one up to where its writer starts, then its own lines. A crash
//! resends at most the batch that was on its way; nothing is skipped. The checkpoint is
//! locked (`flock`): with several processes on one log file, the first one keeps it and
//! the others ship without resuming.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use prodlog_writer::{Position, Spool};
use tracing_core::LevelFilter;

/// Shared with the callers (under the queue's lock).
pub(crate) struct SpoolState {
    /// `Some(n)`: behind — numbered lines from `n` on are read from the file, not queued.
    pub(crate) behind: Option<u64>,
    /// Numbered lines below this were (or will be) read from the file: not queued.
    pub(crate) live_from: u64,
    /// One past the highest number queued.
    pub(crate) queued_to: u64,
    /// Shutting down: numbered lines from here on stay in the file for the next start.
    pub(crate) stop_at: Option<u64>,
    pub(crate) source: Spool,
}

/// The sending thread's side: the file, what is left of an earlier run, the checkpoint.
pub(crate) struct Feeder {
    pub(crate) source: Spool,
    /// The most verbose level this destination takes (the file may take more).
    pub(crate) level: LevelFilter,
    /// Lines an earlier run of the program left unsent, oldest first.
    prelude: VecDeque<Piece>,
    checkpoint: Option<Checkpoint>,
}

/// A range of an earlier run's file.
struct Piece {
    file: File,
    dev: u64,
    ino: u64,
    at: u64,
    end: u64,
}

/// What a batch read from the file moves forward once it is acknowledged.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Advance {
    /// Numbered lines up to (not including) this one.
    Lines(u64),
    /// The first piece of the prelude, to this offset.
    Prelude(u64),
}

impl Feeder {
    pub(crate) fn new(source: Spool, level: LevelFilter, name: &str) -> Feeder {
        let mut feeder = Feeder {
            source,
            level,
            prelude: VecDeque::new(),
            checkpoint: None,
        };
        let Some(path) = feeder.source.path() else {
            return feeder;
        };
        let slug: String = name
            .split_whitespace()
            .next()
            .unwrap_or("ship")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(file_name) = file_name else {
            return feeder;
        };
        let at = path.with_file_name(format!(".{file_name}.{slug}.pos"));
        match Checkpoint::open(&at) {
            Ok(Some((checkpoint, saved))) => {
                let origin = feeder.source.origin();
                if let (Some(saved), Some(origin)) = (saved, origin) {
                    match prelude(&path, saved, origin) {
                        Ok(pieces) => feeder.prelude = pieces.into(),
                        Err(why) => {
                            warn(name, &format!("cannot resume from {}: {why}", at.display()))
                        }
                    }
                }
                feeder.checkpoint = Some(checkpoint);
                if feeder.prelude.is_empty() {
                    // Nothing of an earlier run waits: this run's first line is next.
                    feeder.save_prelude_position();
                }
            }
            // Another process keeps the checkpoint of this file.
            Ok(None) => {}
            Err(e) => warn(name, &format!("no checkpoint at {}: {e}", at.display())),
        }
        feeder
    }

    /// The log file, when a checkpoint is kept (the next start resumes from it).
    pub(crate) fn resumes(&self) -> Option<PathBuf> {
        self.checkpoint.as_ref().and(self.source.path())
    }

    /// Lines of an earlier run are waiting.
    pub(crate) fn has_prelude(&self) -> bool {
        !self.prelude.is_empty()
    }

    /// Reads the next lines to send into `batch` (as queue entries: `- <line>\n`), at
    /// most about `max_bytes`: the prelude first, then the numbered lines from `from`.
    /// Returns what to move forward once they are acknowledged, and how many numbered
    /// lines were found lost (their file was let go before they were read).
    pub(crate) fn read(
        &mut self,
        from: Option<u64>,
        batch: &mut Vec<u8>,
        max_bytes: usize,
    ) -> io::Result<Option<(Advance, u64)>> {
        let mut raw = Vec::with_capacity(max_bytes.min(1 << 20));
        if let Some(piece) = self.prelude.front() {
            let want = (piece.end - piece.at).min(max_bytes as u64) as usize;
            raw.resize(want, 0);
            let n = pread(&piece.file, &mut raw, piece.at)?;
            raw.truncate(n);
            let whole = raw.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            raw.truncate(whole);
            if whole == 0 {
                // The end of the piece (or a line longer than a batch: not resent).
                self.prelude.pop_front();
                return Ok(Some((Advance::Prelude(u64::MAX), 0)));
            }
            let to = piece.at + whole as u64;
            self.entries(&raw, batch);
            return Ok(Some((Advance::Prelude(to), 0)));
        }
        let Some(from) = from else {
            return Ok(None);
        };
        let (first, n) = self.source.read(from, &mut raw, max_bytes)?;
        if n == 0 {
            return Ok(None);
        }
        self.entries(&raw, batch);
        Ok(Some((
            Advance::Lines(first + n),
            first.saturating_sub(from),
        )))
    }

    fn entries(&self, raw: &[u8], batch: &mut Vec<u8>) {
        for line in raw.split_inclusive(|&b| b == b'\n') {
            if line.len() <= 1 || !self.wants(line) {
                continue;
            }
            batch.extend_from_slice(b"- ");
            batch.extend_from_slice(line);
        }
    }

    /// Whether a line of the file is at a level this destination takes.
    fn wants(&self, line: &[u8]) -> bool {
        if self.level == LevelFilter::TRACE {
            return true;
        }
        let record = crate::line::Record::parse(line);
        let level = match record.level.as_str() {
            "TRACE" => tracing_core::Level::TRACE,
            "DEBUG" => tracing_core::Level::DEBUG,
            "INFO" => tracing_core::Level::INFO,
            "WARN" => tracing_core::Level::WARN,
            _ => tracing_core::Level::ERROR,
        };
        self.level >= level
    }

    /// After a batch read from the file was acknowledged.
    pub(crate) fn advanced(&mut self, advance: Advance) {
        match advance {
            Advance::Prelude(to) => {
                if let Some(piece) = self.prelude.front_mut() {
                    piece.at = to.min(piece.end);
                    if piece.at >= piece.end {
                        self.prelude.pop_front();
                    }
                }
                self.save_prelude_position();
            }
            Advance::Lines(to) => self.acknowledged(to),
        }
    }

    /// Numbered lines below `to` were acknowledged: their runs are let go, and the
    /// checkpoint moves (unless an earlier run's lines still wait).
    pub(crate) fn acknowledged(&mut self, to: u64) {
        let at = self.source.release(to);
        if self.prelude.is_empty() {
            if let (Some(c), Some(at)) = (&mut self.checkpoint, at) {
                c.save(at);
            }
        }
    }

    fn save_prelude_position(&mut self) {
        let at = match self.prelude.front() {
            Some(p) => Position {
                dev: p.dev,
                ino: p.ino,
                offset: p.at,
            },
            None => match self.source.origin() {
                Some(origin) => origin,
                None => return,
            },
        };
        if let Some(c) = &mut self.checkpoint {
            c.save(at);
        }
    }
}

/// With a spool, whether lines wait in the file (and, when every line written was read,
/// the switch back to the memory queue, at the exact line where reading stopped).
pub(crate) fn file_work(sp: Option<&mut SpoolState>, feeder: Option<&Feeder>) -> Option<u64> {
    let (sp, feeder) = (sp?, feeder?);
    if feeder.has_prelude() {
        return Some(sp.behind.unwrap_or(0));
    }
    let from = sp.behind?;
    if sp.stop_at.is_some_and(|stop| from >= stop) {
        return None;
    }
    if from < sp.source.written() {
        return Some(from);
    }
    // Under the queue's lock: a caller that got a number from here on queues its line.
    let next = sp.source.queued();
    if from >= next {
        sp.behind = None;
        sp.live_from = next;
    }
    None
}

fn warn(name: &str, what: &str) {
    use std::io::Write as _;
    let _ = writeln!(io::stderr(), "prodlog: {name}: {what}");
}

fn pread(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
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

/// The earlier run's lines after `saved`: the rest of its file, each newer backup, and
/// the current file up to `origin` (where this run's writer started).
fn prelude(path: &Path, saved: Position, origin: Position) -> Result<Vec<Piece>, String> {
    use std::os::unix::fs::MetadataExt;
    // The current file, then `path.1`, `path.2`, … (newest backup first).
    let mut chain = Vec::new();
    for i in 0..=prodlog_writer::MAX_BACKUPS.min(10_000) {
        let p: PathBuf = if i == 0 {
            path.to_owned()
        } else {
            let mut s = path.as_os_str().to_owned();
            s.push(format!(".{i}"));
            s.into()
        };
        let Ok(file) = File::open(&p) else {
            if i == 0 {
                continue;
            }
            break;
        };
        let meta = file.metadata().map_err(|e| e.to_string())?;
        let found = meta.dev() == saved.dev && meta.ino() == saved.ino;
        chain.push((file, meta));
        if found {
            break;
        }
    }
    let Some((_, last)) = chain.last() else {
        return Err("the log file is gone".to_owned());
    };
    if !(last.dev() == saved.dev && last.ino() == saved.ino) {
        return Err(
            "the file it points into was compressed or deleted since; the lines it held are not resent".to_owned(),
        );
    }
    let mut pieces = Vec::new();
    let count = chain.len();
    for (i, (file, meta)) in chain.into_iter().enumerate().rev() {
        let at = if i == count - 1 { saved.offset } else { 0 };
        let end = if meta.dev() == origin.dev && meta.ino() == origin.ino {
            origin.offset
        } else {
            meta.len()
        };
        if end > at {
            pieces.push(Piece {
                file,
                dev: meta.dev(),
                ino: meta.ino(),
                at,
                end,
            });
        }
    }
    Ok(pieces)
}

/// The checkpoint file: one fixed-size record rewritten in place (one `pwrite`, so a
/// process that dies leaves the old record or the new one), held under `flock`.
struct Checkpoint {
    file: File,
    last: Option<Position>,
}

const RECORD: usize = 64;

impl Checkpoint {
    /// The checkpoint and what it holds; `None` when another process holds it.
    fn open(path: &Path) -> io::Result<Option<(Checkpoint, Option<Position>)>> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o640)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let mut buf = [0u8; RECORD];
        let n = pread(&file, &mut buf, 0)?;
        let saved = std::str::from_utf8(&buf[..n]).ok().and_then(|text| {
            let mut it = text.split_whitespace().map(|x| x.parse::<u64>().ok());
            Some(Position {
                dev: it.next()??,
                ino: it.next()??,
                offset: it.next()??,
            })
        });
        Ok(Some((Checkpoint { file, last: saved }, saved)))
    }

    fn save(&mut self, at: Position) {
        use std::os::unix::fs::FileExt;
        if self.last == Some(at) {
            return;
        }
        let text = format!("{} {} {}", at.dev, at.ino, at.offset);
        let mut record = [b' '; RECORD];
        record[..text.len().min(RECORD - 1)]
            .copy_from_slice(&text.as_bytes()[..text.len().min(RECORD - 1)]);
        record[RECORD - 1] = b'\n';
        if self.file.write_at(&record, 0).is_ok() {
            self.last = Some(at);
        }
    }
}
