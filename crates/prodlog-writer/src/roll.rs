//! The file on disk: whole-line writes, rotation by size and time, numbered backups, gzip,
//! and reopening when an outside tool moved or truncated the file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, Local, Timelike};

use crate::clock::Clock;

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
}

/// The open log file and what is needed to rotate it.
pub(crate) struct RollingFile {
    path: PathBuf,
    file: File,
    size: u64,
    period: Option<i64>,
    opts: RollOptions,
    clock: Arc<dyn Clock>,
    compressing: Option<JoinHandle<()>>,
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `app.log.3` or `app.log.3.gz`.
fn backup(path: &Path, index: usize, gz: bool) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{index}"));
    if gz {
        name.push(".gz");
    }
    PathBuf::from(name)
}

impl RollingFile {
    pub(crate) fn open(
        path: PathBuf,
        opts: RollOptions,
        clock: Arc<dyn Clock>,
    ) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = open_append(&path)?;
        let meta = file.metadata()?;
        let mut rolling = RollingFile {
            size: meta.len(),
            // A file left by an earlier run belongs to the period it was last written in.
            period: None,
            path,
            file,
            opts,
            clock,
            compressing: None,
        };
        rolling.period = rolling.period_of(meta.modified().unwrap_or_else(|_| rolling.clock.now()));
        rolling.prune();
        Ok(rolling)
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
        let local: DateTime<Local> = t.into();
        let day = i64::from(local.year()) * 1000 + i64::from(local.ordinal());
        Some(match self.opts.rotation {
            Rotation::Daily => day,
            Rotation::Hourly => day * 100 + i64::from(local.hour()),
            _ => (day * 100 + i64::from(local.hour())) * 100 + i64::from(local.minute()),
        })
    }

    /// Writes whole lines, rotating first when time says so and between lines when size
    /// says so. On an error nothing of the failed chunk stays in the file, and the
    /// unwritten rest is returned with the error.
    pub(crate) fn write_lines<'d>(
        &mut self,
        mut data: &'d [u8],
    ) -> Result<(), (io::Error, &'d [u8])> {
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
                if let Err(e) = self.write_chunk(&data[..chunk]) {
                    return Err((e, data));
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

    /// Appends `chunk`, or leaves the file as it was (a write cut short is truncated away).
    fn write_chunk(&mut self, chunk: &[u8]) -> io::Result<()> {
        let before = self.file.metadata().map(|m| m.len()).unwrap_or(self.size);
        match self.file.write_all(chunk) {
            Ok(()) => {
                self.size = before + chunk.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(before);
                self.size = before;
                Err(e)
            }
        }
    }

    /// Reopens the file when it was moved or deleted (logrotate `create`), and takes the
    /// real size when it was truncated (logrotate `copytruncate`: the file is opened in
    /// append mode, so writes land at the new end and leave no hole).
    fn follow_outside_changes(&mut self) -> io::Result<()> {
        let ours = self.file.metadata()?;
        let moved = match fs::metadata(&self.path) {
            Ok(on_disk) => !same_file(&ours, &on_disk),
            Err(e) if e.kind() == io::ErrorKind::NotFound => true,
            Err(e) => return Err(e),
        };
        if moved {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir)?;
            }
            self.file = open_append(&self.path)?;
            self.size = self.file.metadata()?.len();
        } else {
            self.size = ours.len();
        }
        Ok(())
    }

    /// `app.log` becomes `app.log.1`, every older backup moves up one, the oldest beyond
    /// `max_backups` is deleted, and a new `app.log` is started.
    pub(crate) fn rotate(&mut self) -> io::Result<()> {
        self.finish_compression();
        self.file.flush()?;
        let keep = self.opts.max_backups;
        // Backups are contiguous from 1: shift only the ones that exist.
        let mut last = 0;
        while last < keep
            && (backup(&self.path, last + 1, false).exists()
                || backup(&self.path, last + 1, true).exists())
        {
            last += 1;
        }
        for i in (1..=last).rev() {
            for gz in [false, true] {
                let from = backup(&self.path, i, gz);
                if from.exists() {
                    fs::rename(&from, backup(&self.path, i + 1, gz))?;
                }
            }
        }
        let first = backup(&self.path, 1, false);
        fs::rename(&self.path, &first)?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        self.prune();
        if self.opts.compress && keep > 0 {
            self.compressing = std::thread::Builder::new()
                .name("prodlog-gzip".into())
                .spawn(move || {
                    if let Err(e) = gzip(&first) {
                        eprintln!("prodlog-writer: cannot compress {}: {e}", first.display());
                    }
                })
                .ok();
        }
        Ok(())
    }

    /// Deletes backups beyond `max_backups`, then the oldest ones while all backups
    /// together exceed `max_total_bytes`.
    fn prune(&self) {
        let keep = self.opts.max_backups;
        let mut index = keep + 1;
        loop {
            let mut found = false;
            for gz in [false, true] {
                let p = backup(&self.path, index, gz);
                if p.exists() {
                    found = true;
                    let _ = fs::remove_file(&p);
                }
            }
            // Stop at the first gap past the limit (a backup set is contiguous).
            if !found && index > keep + 1 {
                break;
            }
            index += 1;
        }
        let Some(cap) = self.opts.max_total_bytes else {
            return;
        };
        let mut total = 0u64;
        for i in 1..=keep {
            for gz in [false, true] {
                let p = backup(&self.path, i, gz);
                if let Ok(m) = fs::metadata(&p) {
                    total += m.len();
                    if total > cap {
                        let _ = fs::remove_file(&p);
                    }
                }
            }
        }
    }

    fn finish_compression(&mut self) {
        if let Some(t) = self.compressing.take() {
            let _ = t.join();
        }
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Waits for a compression in progress (at shutdown).
    pub(crate) fn close(&mut self) -> io::Result<()> {
        self.finish_compression();
        self.file.sync_all()
    }
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

/// `app.log.1` → `app.log.1.gz` (through a temporary name, so a reader never sees half a
/// gzip file under the final name).
fn gzip(path: &Path) -> io::Result<()> {
    let mut gz_name = path.as_os_str().to_owned();
    gz_name.push(".gz");
    let gz_path = PathBuf::from(gz_name);
    let mut tmp_name = gz_path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut input = File::open(path)?;
    let mut enc =
        flate2::write::GzEncoder::new(File::create(&tmp)?, flate2::Compression::default());
    io::copy(&mut input, &mut enc)?;
    enc.finish()?.sync_all()?;
    fs::rename(&tmp, &gz_path)?;
    fs::remove_file(path)
}
