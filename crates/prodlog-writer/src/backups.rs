//! The numbered backups of one log file (`app.log.1` newest … `app.log.N`, or `.N.gz`):
//! found with one directory listing (never by probing every number up to the limit), moved
//! up one at rotation, pruned, and gzipped on a background thread that finds its file by
//! inode, so another process rotating meanwhile never makes it delete the wrong file. The
//! gzip backlog is bounded and holds no descriptor; shutdown does not wait past its
//! deadline for it.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::lock::{DirLock, LOCK_WAIT};
use crate::safe;

/// One backup on disk.
#[derive(Debug, Clone)]
pub(crate) struct Backup {
    pub(crate) index: usize,
    pub(crate) gz: bool,
    pub(crate) path: PathBuf,
}

/// `app.log.3` or `app.log.3.gz`.
pub(crate) fn backup_path(path: &Path, index: usize, gz: bool) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{index}"));
    if gz {
        name.push(".gz");
    }
    PathBuf::from(name)
}

/// The backups of `path`, newest (lowest index) first, from one listing of its directory.
pub(crate) fn list(path: &Path) -> io::Result<Vec<Backup>> {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_owned(),
        None => PathBuf::from("."),
    };
    let Some(base) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(base).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        let (digits, gz) = match rest.strip_suffix(".gz") {
            Some(d) => (d, true),
            None => (rest, false),
        };
        // Plain decimal numbers only: `app.log.01` or `app.log.1.gz.tmp` are not backups.
        if digits.is_empty()
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(index) = digits.parse::<usize>() else {
            continue;
        };
        out.push(Backup {
            index,
            gz,
            path: dir.join(name),
        });
    }
    out.sort_by_key(|b| (b.index, b.gz));
    Ok(out)
}

/// Moves every backup up one (`.1` → `.2`, …), deleting those that would pass `keep`.
pub(crate) fn shift(path: &Path, keep: usize) -> io::Result<()> {
    for b in list(path)?.into_iter().rev() {
        if b.index >= keep {
            remove(&b.path)?;
        } else {
            fs::rename(&b.path, backup_path(path, b.index + 1, b.gz))?;
        }
    }
    Ok(())
}

/// Deletes backups beyond `keep`, then the oldest while all together exceed `cap` bytes.
pub(crate) fn prune(path: &Path, keep: usize, cap: Option<u64>) -> io::Result<()> {
    let mut total = 0u64;
    for b in list(path)? {
        if b.index > keep {
            remove(&b.path)?;
            continue;
        }
        if let Some(cap) = cap {
            total = total.saturating_add(fs::symlink_metadata(&b.path).map_or(0, |m| m.len()));
            if total > cap {
                remove(&b.path)?;
            }
        }
    }
    Ok(())
}

fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A rotated file to gzip, by identity: it is found by inode among the backups when its
/// turn comes (whatever rotations renamed it meanwhile), so a waiting job holds no file
/// descriptor.
pub(crate) struct Job {
    pub(crate) id: FileId,
}

/// Device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId(pub(crate) u64, pub(crate) u64);

impl FileId {
    #[cfg(unix)]
    pub(crate) fn of(meta: &fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId(meta.dev(), meta.ino())
    }

    #[cfg(not(unix))]
    pub(crate) fn of(meta: &fs::Metadata) -> FileId {
        FileId(0, meta.len())
    }
}

/// Backups waiting for the gzip thread at most: past this, a rotated file stays
/// uncompressed (said once on stderr) rather than queue without bound. Under a flood with
/// small backups rotation outruns gzip; falling behind costs disk, never lines.
const BACKLOG: usize = 16;

/// The background gzip thread of one log file.
pub(crate) struct Compressor {
    jobs: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
    /// Set at close: the thread stops after the file it is on.
    stop: Arc<AtomicBool>,
    /// Backups left uncompressed because the backlog was full.
    skipped: Arc<AtomicU64>,
    /// Backups queued and not started yet.
    waiting: Arc<AtomicU64>,
    done: Option<Receiver<()>>,
    path: PathBuf,
    /// Held by the thread from a backup's `.gz` rename to its original's removal, and
    /// taken by [`finish`](Self::finish) after it stopped the thread: the process never
    /// ends between the two, which would leave a backup's lines twice (`.N` and `.N.gz`).
    renaming: Arc<Mutex<()>>,
}

impl Compressor {
    /// `lock`: the directory to lock while renaming (none when this process writes a file
    /// of its own); `local` orders the renames with this process's rotations.
    pub(crate) fn start(path: PathBuf, lock: Option<PathBuf>, local: Arc<Mutex<()>>) -> Compressor {
        let (tx, rx) = mpsc::sync_channel(BACKLOG);
        let (done_tx, done_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let waiting = Arc::new(AtomicU64::new(0));
        let (stopping, started) = (stop.clone(), waiting.clone());
        let renaming = Arc::new(Mutex::new(()));
        let own = path.clone();
        let locks = Locks {
            dir: lock,
            local,
            renaming: renaming.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("prodlog-gzip".into())
            .spawn(move || {
                compress_all(&own, &locks, rx, &stopping, &started);
                let _ = done_tx.send(());
            })
            .ok();
        Compressor {
            jobs: thread.as_ref().map(|_| tx),
            thread,
            stop,
            skipped: Arc::new(AtomicU64::new(0)),
            waiting,
            done: Some(done_rx),
            path,
            renaming,
        }
    }

    /// Queues a file; with the backlog full, or without a thread (it could not start),
    /// the backup stays uncompressed.
    pub(crate) fn send(&self, job: Job, path: &Path) {
        let Some(tx) = &self.jobs else { return };
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let Err(e) = tx.try_send(job) else { return };
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        if let TrySendError::Full(_) = e {
            if self.skipped.fetch_add(1, Ordering::Relaxed) == 0 {
                safe::warn(&format!(
                    "rotation of {} outruns gzip: backups past a backlog of {BACKLOG} stay uncompressed",
                    path.display()
                ));
            }
        }
    }

    /// Compresses the backups queued, waiting until `deadline` at most; past it, the
    /// thread stops after the file it is on and the backups still queued stay
    /// uncompressed (a compression cut short by the end of the process leaves a
    /// temporary, removed at the next start).
    pub(crate) fn finish(&mut self, deadline: Instant) {
        self.jobs = None; // the thread ends once the queue is done
        let Some(done) = self.done.take() else { return };
        let left = deadline.saturating_duration_since(Instant::now());
        let ended = done.recv_timeout(left).is_ok()
            || matches!(done.try_recv(), Err(TryRecvError::Disconnected));
        if ended {
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        } else {
            self.stop.store(true, Ordering::Relaxed);
            // A rename in progress completes with its removal; none starts after this.
            drop(self.renaming.lock().unwrap_or_else(PoisonError::into_inner));
            safe::warn(&format!(
                "gzip stopped at shutdown: {} backups of {} left uncompressed",
                self.waiting.load(Ordering::Relaxed),
                self.path.display()
            ));
        }
    }
}

/// The locks a compression takes: the directory's (other processes' rotations), this
/// process's rotations', and the one that keeps a rename and its removal together.
struct Locks {
    dir: Option<PathBuf>,
    local: Arc<Mutex<()>>,
    renaming: Arc<Mutex<()>>,
}

fn compress_all(
    path: &Path,
    locks: &Locks,
    jobs: Receiver<Job>,
    stop: &AtomicBool,
    waiting: &AtomicU64,
) {
    for job in jobs {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        waiting.fetch_sub(1, Ordering::Relaxed);
        if let Err(e) = compress(path, locks, stop, job) {
            safe::warn(&format!(
                "cannot compress a backup of {} (it stays uncompressed): {e}",
                path.display()
            ));
        }
    }
}

/// The backup whose identity is `id`, opened: found by listing the backups (a waiting job
/// held no descriptor). Another process may rotate between the listing and the open, so
/// a name that no longer holds the file is looked up again; `None` once it is gone.
fn open_by_id(path: &Path, id: FileId) -> io::Result<Option<File>> {
    for _ in 0..8 {
        let Some(found) = list(path)?
            .into_iter()
            .find(|b| !b.gz && fs::symlink_metadata(&b.path).is_ok_and(|m| FileId::of(&m) == id))
        else {
            return Ok(None);
        };
        match safe::open_read(&found.path) {
            Ok(f) if FileId::of(&f.metadata()?) == id => return Ok(Some(f)),
            // Renamed (or pruned) between the listing and the open: look again.
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Temporaries of compressions a killed process left (`app.log.<random>.gz.tmp`, this
/// user's regular files, untouched for `STALE`): removed at start. A replica compressing
/// now writes its temporary continuously, so it is never this old.
pub(crate) fn remove_stale_temporaries(path: &Path) {
    const STALE: Duration = Duration::from_secs(600);
    let dir = crate::lock::lock_path(path);
    let Some(base) = path.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = name
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|r| r.strip_suffix(".gz.tmp"))
            .is_some_and(|r| r.len() == 16 && r.bytes().all(|b| b.is_ascii_hexdigit()));
        if !ours {
            continue;
        }
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age >= STALE);
        if meta.is_file() && safe::owned_by_me(&meta) && old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(feature = "compression")]
fn gzip(from: &mut fs::File, to: fs::File) -> io::Result<()> {
    let mut enc = flate2::write::GzEncoder::new(to, flate2::Compression::default());
    io::copy(from, &mut enc)?;
    enc.finish()?.sync_all()
}

/// Never reached: `WriterBuilder::compress` is off without the feature.
#[cfg(not(feature = "compression"))]
fn gzip(_: &mut fs::File, _: fs::File) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "built without the `compression` feature",
    ))
}

/// Gzips the job's file into a temporary name, then — under the directory lock, so no
/// rotation moves files meanwhile — gives it the `.gz` name of wherever the file is now and
/// deletes the original. A file pruned meanwhile leaves nothing behind.
///
/// The temporary name is unpredictable and created with `O_EXCL` and `O_NOFOLLOW`, so a
/// name planted in a shared directory is never written through; its mode is set on the
/// descriptor this call created (the backup's own mode), never on a path.
fn compress(path: &Path, locks: &Locks, stop: &AtomicBool, job: Job) -> io::Result<()> {
    let Some(mut file) = open_by_id(path, job.id)? else {
        return Ok(()); // pruned meanwhile: nothing to do
    };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".{}.gz.tmp", safe::random_suffix()));
    let tmp = PathBuf::from(tmp_name);
    let meta = file.metadata()?;
    let mut created = false;
    let result = (|| {
        let out = safe::create_new(&tmp, 0o600)?;
        created = true;
        out.set_permissions(meta.permissions())?;
        gzip(&mut file, out)?;
        let _local = locks.local.lock().unwrap_or_else(PoisonError::into_inner);
        let lock = locks.dir.as_deref().map(DirLock::open).transpose()?;
        let _held = lock.as_ref().map(|l| l.lock(LOCK_WAIT)).transpose()?;
        let current = list(path)?.into_iter().find(|b| {
            !b.gz && fs::symlink_metadata(&b.path).is_ok_and(|m| FileId::of(&m) == job.id)
        });
        let _renaming = locks
            .renaming
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if stop.load(Ordering::Relaxed) {
            // Shutdown gave up on gzip: the backup stays as it is, whole and once.
            return remove(&tmp);
        }
        match current {
            Some(b) => {
                fs::rename(&tmp, backup_path(path, b.index, true))?;
                fs::remove_file(&b.path)
            }
            None => remove(&tmp),
        }
    })();
    if result.is_err() && created {
        let _ = remove(&tmp);
    }
    result
}
