//! The file on disk: whole-line writes, rotation by size and time, numbered backups, gzip,
//! and reopening when an outside tool moved or truncated the file.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::backups::{self, Compressor, FileId, Job};
use crate::clock::Clock;
use crate::lock::{lock_path, DirLock, LOCK_WAIT};
use crate::safe::{self, open_append, Note};

/// When a new file is started because time passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Rotation {
    /// Only by size.
    #[default]
    Never,
    /// At every minute boundary (for tests and demos).
    Minutely,
    /// At every hour boundary.
    Hourly,
    /// At every day boundary.
    Daily,
}

/// How rotation is configured (see [`WriterBuilder`](crate::WriterBuilder)).
#[derive(Debug, Clone)]
pub(crate) struct RollOptions {
    pub(crate) max_bytes: Option<u64>,
    pub(crate) max_backups: usize,
    pub(crate) max_total_bytes: Option<u64>,
    pub(crate) rotation: Rotation,
    pub(crate) local_time: bool,
    pub(crate) compress: bool,
    /// Permission bits of the files created (the directory gets `x` where `r` is set).
    pub(crate) mode: u32,
}

/// The open log file and what is needed to rotate it.
pub(crate) struct RollingFile {
    /// The file written now: the configured name, or this process's own name after a
    /// fall-back (see [`RollingFile::fall_back`]).
    path: PathBuf,
    /// The configured name.
    base: PathBuf,
    file: File,
    /// The file's size as this process last left it; any other size means someone else
    /// (another process, logrotate) changed the file.
    size: u64,
    period: Option<i64>,
    opts: RollOptions,
    clock: Arc<dyn Clock>,
    /// The shared directory lock; `None` once this process writes a file of its own.
    lock: Option<Arc<DirLock>>,
    /// Orders this process's rotations and its gzip thread's renames (the directory lock
    /// does it across processes, and is not there after a fall-back).
    local: Arc<Mutex<()>>,
    compressor: Option<Compressor>,
    /// Bytes written since the kernel was last asked to start writing the file back.
    unkicked: u64,
    /// With a spool: where numbered lines' runs are recorded, a duplicate of the current
    /// file's descriptor (kept by the runs past rotation), and the number of the next
    /// numbered line written (`None`: what is being written is not numbered — a report).
    pub(crate) spool: Option<Arc<Mutex<crate::spool::Runs>>>,
    held: Option<(FileId, Arc<File>)>,
    pub(crate) tag: Option<u64>,
}

/// Written bytes after which the kernel is asked to start writing them to disk.
const WRITEBACK_EVERY: u64 = 8 * 1024 * 1024;

/// Asks the kernel to start writing `file`'s dirty pages to disk, without waiting for them
/// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`).
///
/// Otherwise a busy log piles up dirty pages until the kernel's own threshold (10% of
/// memory by default: gigabytes) and the fsync at shutdown writes all of them while the
/// process is being stopped. With a kick every few megabytes that fsync finds little left:
/// 1,000,000 events to a file and synced took 300 ns per event before and 230 after
/// (`prodlog-bench`, file row). Linux only; elsewhere the fsync does it all.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the call's duration (borrowed from `file`); the
    // call only reads its arguments; an error (an unsupported file system) is harmless.
    #[allow(unsafe_code)]
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File) {}

/// Creates the parent directory of `path` (see [`create_dir`]).
fn create_parent(path: &Path, mode: u32) -> io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => create_dir(dir, mode),
        None => Ok(()),
    }
}

/// Creates a log directory (and its parents) with `x` added where the files' `mode` has
/// `r`: 0640 files live in a 0750 directory. An existing directory keeps its mode.
pub fn create_dir(dir: &Path, mode: u32) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode | ((mode & 0o444) >> 2));
    builder.create(dir)
}

impl RollingFile {
    pub(crate) fn open(
        path: PathBuf,
        opts: RollOptions,
        clock: Arc<dyn Clock>,
    ) -> io::Result<Self> {
        create_parent(&path, opts.mode)?;
        let dir = lock_path(&path);
        if let Some(warning) = safe::check_dir(&dir) {
            if !safe::note(&dir, Note::Warned) {
                safe::warn(&warning);
            }
        }
        let dir_lock = Arc::new(DirLock::open(&dir)?);
        let local = Arc::new(Mutex::new(()));
        // A directory whose lock another process kept from this one already: not waited
        // for again (the error file after the main file, at start).
        let wait = if safe::noted(&dir, Note::LockHeld) {
            Duration::ZERO
        } else {
            LOCK_WAIT
        };
        let attempt = dir_lock
            .lock(wait)
            .and_then(|held| Ok((held, open_append(&path, opts.mode)?)));
        let (file, lock, held) = match attempt {
            Ok((held, file)) => (file, Some(dir_lock.clone()), Some(held)),
            Err(e) if must_fall_back(&e) => {
                if e.kind() == io::ErrorKind::TimedOut {
                    safe::note(&dir, Note::LockHeld);
                }
                let alt = safe::per_process_path(&path);
                safe::warn(&fall_back_message(&e, &alt));
                (open_append(&alt, opts.mode)?, None, None)
            }
            Err(e) => return Err(e),
        };
        let _local = local.lock().unwrap_or_else(PoisonError::into_inner);
        let current = match lock {
            Some(_) => path.clone(),
            None => safe::per_process_path(&path),
        };
        let compressor = opts.compress.then(|| {
            Compressor::start(
                current.clone(),
                lock.as_ref().map(|_| dir.clone()),
                local.clone(),
            )
        });
        let meta = file.metadata()?;
        let mut rolling = RollingFile {
            size: meta.len(),
            // A file left by an earlier run belongs to the period it was last written in.
            period: None,
            path: current,
            base: path,
            file,
            opts,
            clock,
            lock,
            local: local.clone(),
            compressor,
            unkicked: 0,
            spool: None,
            held: None,
            tag: None,
        };
        rolling.period = rolling.period_of(meta.modified().unwrap_or_else(|_| rolling.clock.now()));
        rolling.repair_tail()?;
        if rolling.opts.compress {
            backups::remove_stale_temporaries(&rolling.path);
        }
        backups::prune(
            &rolling.path,
            rolling.opts.max_backups,
            rolling.opts.max_total_bytes,
        )?;
        drop(held);
        Ok(rolling)
    }

    /// The current file and the offset the next line goes at.
    pub(crate) fn position(&self) -> Option<crate::Position> {
        let id = FileId::of(&self.file.metadata().ok()?);
        Some(crate::Position {
            dev: id.0,
            ino: id.1,
            offset: self.size,
        })
    }

    /// The file written now.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Stops sharing the configured name: from now on this process writes
    /// `app.<pid>.log` (and its own backups), without the directory lock. Taken when the
    /// lock cannot be had within [`LOCK_WAIT`] or the name holds something unsafe (a
    /// symlink, a FIFO, another user's file) — never blocking, never following.
    fn fall_back(&mut self, why: &io::Error) -> io::Result<()> {
        let alt = safe::per_process_path(&self.base);
        let message = fall_back_message(why, &alt);
        safe::warn(&message);
        self.file = open_append(&alt, self.opts.mode)?;
        self.path = alt;
        self.lock = None;
        self.size = self.file.metadata()?.len();
        self.period = self.period_of(self.clock.now());
        if self.opts.compress {
            // The old thread ends with its queued files (their names are the shared ones).
            self.compressor = Some(Compressor::start(
                self.path.clone(),
                None,
                self.local.clone(),
            ));
        }
        self.repair_tail()?;
        let mut note = Vec::new();
        report_line(&mut note, &message);
        // Not a numbered line: written outside the spool's runs.
        self.write_chunk_at(&note).map_err(|(e, _)| e)
    }

    /// Opens the current name again (after a rotation, or when someone moved the file); a
    /// name that now holds something unsafe makes a sharing writer fall back.
    fn reopen(&mut self) -> io::Result<()> {
        match open_append(&self.path, self.opts.mode) {
            Ok(file) => {
                self.file = file;
                Ok(())
            }
            Err(e) if self.lock.is_some() && safe::is_refused(&e) => self.fall_back(&e),
            Err(e) => Err(e),
        }
    }

    /// The rotation period `t` falls in, as a comparable key.
    fn period_of(&self, t: SystemTime) -> Option<i64> {
        let secs = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        };
        let unit = match self.opts.rotation {
            Rotation::Never => return None,
            Rotation::Minutely => 60,
            Rotation::Hourly => 3600,
            Rotation::Daily => 86_400,
        };
        if !self.opts.local_time {
            return Some(secs(t) / unit);
        }
        #[cfg(not(feature = "local-time"))]
        return Some(secs(t) / unit); // `local_time` is off without the feature
        #[cfg(feature = "local-time")]
        use chrono::{DateTime, Datelike, Local, Timelike};
        #[cfg(feature = "local-time")]
        let local: DateTime<Local> = t.into();
        #[cfg(feature = "local-time")]
        let day = i64::from(local.year()) * 1000 + i64::from(local.ordinal());
        #[cfg(feature = "local-time")]
        Some(match self.opts.rotation {
            Rotation::Daily => day,
            Rotation::Hourly => day * 100 + i64::from(local.hour()),
            _ => (day * 100 + i64::from(local.hour())) * 100 + i64::from(local.minute()),
        })
    }

    /// Writes whole lines under the directory lock, rotating first when time says so and
    /// between lines when size says so. On an error the whole lines that fit stay in the
    /// file, a line cut short is removed, and the unwritten rest is returned with the error.
    pub(crate) fn write_lines<'d>(
        &mut self,
        mut data: &'d [u8],
    ) -> Result<(), (io::Error, &'d [u8])> {
        let local = self.local.clone();
        let _local = local.lock().unwrap_or_else(PoisonError::into_inner);
        let lock = self.lock.clone();
        let _held = match lock.as_deref().map(|l| l.lock(LOCK_WAIT)) {
            None => None,
            Some(Ok(held)) => Some(held),
            Some(Err(e)) if e.kind() == io::ErrorKind::TimedOut => {
                if let Err(e) = self.fall_back(&e) {
                    return Err((e, data));
                }
                None
            }
            Some(Err(e)) => return Err((e, data)),
        };
        if let Err(e) = self.follow_outside_changes() {
            return Err((e, data));
        }
        let now = self.period_of(self.clock.now());
        if now != self.period {
            if self.size > 0 {
                if let Err(e) = self.rotate() {
                    return Err((e, data));
                }
            }
            self.period = now;
        }
        while !data.is_empty() {
            let room = self
                .opts
                .max_bytes
                .map_or(u64::MAX, |m| m.saturating_sub(self.size));
            let room = usize::try_from(room).unwrap_or(usize::MAX);
            let chunk = if data.len() <= room {
                data.len()
            } else if let Some(i) = data[..room].iter().rposition(|&b| b == b'\n') {
                i + 1
            } else if self.size > 0 {
                0 // the next line does not fit: start a new file first
            } else {
                // One line longer than max_bytes: it gets a file of its own.
                data.iter()
                    .position(|&b| b == b'\n')
                    .map_or(data.len(), |i| i + 1)
            };
            if chunk > 0 {
                if let Err((e, kept)) = self.write_chunk(&data[..chunk]) {
                    return Err((e, &data[kept..]));
                }
                data = &data[chunk..];
            }
            if !data.is_empty() {
                if let Err(e) = self.rotate() {
                    return Err((e, data));
                }
            }
        }
        Ok(())
    }

    /// Appends `chunk`. When the disk takes only part of it (full), the whole lines written
    /// stay, the line cut short is truncated away, and their length is returned with the
    /// error.
    fn write_chunk(&mut self, chunk: &[u8]) -> Result<(), (io::Error, usize)> {
        let at = self.size;
        let result = self.write_chunk_at(chunk);
        let kept = match &result {
            Ok(()) => chunk.len(),
            Err((_, kept)) => *kept,
        };
        if let (Some(runs), Some(first), true) = (&self.spool, self.tag, kept > 0) {
            let runs = runs.clone();
            if let Ok(meta) = self.file.metadata() {
                let id = FileId::of(&meta);
                if self.held.as_ref().is_none_or(|(held, _)| *held != id) {
                    self.held = self.file.try_clone().ok().map(|f| (id, Arc::new(f)));
                }
                if let Some((_, file)) = &self.held {
                    let lines = crate::spool::record(&runs, file, id, at, &chunk[..kept], first);
                    self.tag = Some(first + lines);
                }
            }
        }
        result
    }

    fn write_chunk_at(&mut self, chunk: &[u8]) -> Result<(), (io::Error, usize)> {
        let mut written = 0;
        let error = loop {
            if written == chunk.len() {
                self.size += chunk.len() as u64;
                self.unkicked += chunk.len() as u64;
                if self.unkicked >= WRITEBACK_EVERY {
                    self.unkicked = 0;
                    start_writeback(&self.file);
                }
                return Ok(());
            }
            match self.file.write(&chunk[written..]) {
                Ok(0) => break io::Error::from(io::ErrorKind::WriteZero),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break e,
            }
        };
        let kept = chunk[..written]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        if kept < written {
            // If even this fails, the size check of the next write repairs the tail.
            let _ = self.file.set_len(self.size + kept as u64);
        }
        self.size += kept as u64;
        Err((error, kept))
    }

    /// Reopens the file when it was moved or deleted (another process's rotation, logrotate
    /// `create`); takes the real size when someone else wrote to or truncated it
    /// (`copytruncate`: the file is in append mode, so writes land at the new end and leave
    /// no hole). A file changed by someone else gets its torn tail repaired.
    fn follow_outside_changes(&mut self) -> io::Result<()> {
        let ours = self.file.metadata()?;
        let moved = match fs::metadata(&self.path) {
            Ok(on_disk) => !same_file(&ours, &on_disk),
            Err(e) if e.kind() == io::ErrorKind::NotFound => true,
            Err(e) => return Err(e),
        };
        if moved {
            create_parent(&self.path, self.opts.mode)?;
            self.reopen()?;
            self.size = self.file.metadata()?.len();
            // Whoever moved it started the current period.
            self.period = self.period_of(self.clock.now());
            self.repair_tail()?;
        } else if ours.len() != self.size {
            self.size = ours.len();
            self.repair_tail()?;
        }
        Ok(())
    }

    /// A file that does not end with a newline holds the torn last line of a process that
    /// died mid-write (SIGKILL, power loss): the fragment is cut, so that the next line
    /// starts on a line of its own and every line parses, and the cut is reported on stderr
    /// and in the file.
    fn repair_tail(&mut self) -> io::Result<()> {
        if self.size == 0 {
            return Ok(());
        }
        let last = self.last_newline_before(self.size)?;
        if last == Some(self.size - 1) {
            return Ok(());
        }
        let keep = last.map_or(0, |i| i + 1);
        let cut = self.size - keep;
        self.file.set_len(keep)?;
        self.size = keep;
        let message = format!(
            "prodlog cut a torn last line of {cut} bytes from {} (a process stopped mid-write)",
            self.path.display()
        );
        safe::warn(&message);
        let mut note = Vec::new();
        report_line(&mut note, &message);
        // Not a numbered line: written outside the spool's runs.
        self.write_chunk_at(&note).map_err(|(e, _)| e)
    }

    /// The position of the last `\n` before `end`, reading backwards in blocks.
    fn last_newline_before(&self, end: u64) -> io::Result<Option<u64>> {
        let mut buf = [0u8; 8192];
        let mut end = end;
        while end > 0 {
            let start = end.saturating_sub(buf.len() as u64);
            let block = &mut buf[..(end - start) as usize];
            read_at(&self.file, block, start)?;
            if let Some(i) = block.iter().rposition(|&b| b == b'\n') {
                return Ok(Some(start + i as u64));
            }
            end = start;
        }
        Ok(None)
    }

    /// `app.log` becomes `app.log.1`, every older backup moves up one, those beyond
    /// `max_backups` are deleted, and a new `app.log` is started (under the lock).
    pub(crate) fn rotate(&mut self) -> io::Result<()> {
        let keep = self.opts.max_backups;
        // The old file's last pages go to disk on their way out, like the rest of it.
        start_writeback(&self.file);
        self.unkicked = 0;
        backups::shift(&self.path, keep)?;
        let first = backups::backup_path(&self.path, 1, false);
        fs::rename(&self.path, &first)?;
        if keep == 0 {
            fs::remove_file(&first)?;
        }
        let old_path = self.path.clone();
        let old_id = FileId::of(&self.file.metadata()?);
        self.reopen()?;
        self.size = self.file.metadata()?.len();
        if let (Some(compressor), true) = (&self.compressor, keep > 0) {
            compressor.send(Job { id: old_id }, &old_path);
        }
        backups::prune(&old_path, keep, self.opts.max_total_bytes)
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Waits for the compressions in progress (at shutdown) and syncs the file.
    /// Stops the gzip thread (waiting for the file it is on until `deadline` at most) and
    /// syncs the file.
    pub(crate) fn close(&mut self, deadline: std::time::Instant) -> io::Result<()> {
        if let Some(c) = &mut self.compressor {
            c.finish(deadline);
        }
        self.file.sync_all()
    }
}

/// A lock held by someone else past [`LOCK_WAIT`], or an unsafe entry at the name.
fn must_fall_back(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut || safe::is_refused(e)
}

fn fall_back_message(why: &io::Error, alt: &Path) -> String {
    format!(
        "{why}; writing {} instead (this process's own file, not shared with other processes)",
        alt.display()
    )
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    std::os::windows::fs::FileExt::seek_read(file, buf, at).map(|_| ())
}

/// Appends a JSON line in prodlog's format reporting the writer's own trouble.
pub(crate) fn report_line(out: &mut Vec<u8>, message: &str) {
    let now = crate::time::rfc3339(SystemTime::now(), 6);
    let mut escaped = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            c if (c as u32) < 0x20 => escaped.push_str(&format!("\\u{:04x}", c as u32)),
            c => escaped.push(c),
        }
    }
    out.extend_from_slice(
        format!("{{\"timestamp\":\"{now}\",\"level\":\"WARN\",\"target\":\"prodlog_writer\",\"message\":\"{escaped}\"}}\n")
            .as_bytes(),
    );
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    true
}
