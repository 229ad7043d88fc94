//! The advisory lock that lets several processes share one set of log files.
//!
//! Every write, rotation and backup rename happens while holding an exclusive `flock` on
//! the log file's directory. The directory rather than the file, because the file itself is
//! renamed at rotation, and rather than a lock file of its own, because an extra file in
//! the log directory confuses the tools that list it (shippers, `ls app.log*`, tests of
//! "exactly N backups"). The kernel releases the lock when a process dies, so a killed
//! replica never wedges the others. Held for one batch write at a time (microseconds), it
//! also serialises unrelated files of the same directory, which costs nothing measurable.
//!
//! Anyone who can open the directory can take the lock too, and hold it forever (another
//! user's process, by malice or by a bug). So the lock is only ever *tried*, for at most
//! [`LOCK_WAIT`]: a writer that cannot have it in that time stops sharing and falls back
//! to a file name of its own (see `RollingFile::fall_back`); nothing waits forever.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the shared lock is tried before the writer gives up sharing. Replicas hold it
/// for one batch write or one rotation: milliseconds, or a second for a rotation that
/// renames thousands of backups.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(2);

/// The directory `path` lives in.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_owned(),
        None => PathBuf::from("."),
    }
}

/// An open directory, to lock.
#[derive(Debug)]
pub(crate) struct DirLock(File);

/// The lock, held until dropped.
pub(crate) struct Held<'a>(&'a File);

impl DirLock {
    /// Opens the directory (read-only) to lock it.
    pub(crate) fn open(dir: &Path) -> io::Result<DirLock> {
        File::open(dir).map(DirLock)
    }

    /// Takes the exclusive lock, trying for at most `wait`; an error of kind `TimedOut`
    /// when another process kept it all that time.
    pub(crate) fn lock(&self, wait: Duration) -> io::Result<Held<'_>> {
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_micros(50);
        loop {
            match self.0.try_lock() {
                Ok(()) => return Ok(Held(&self.0)),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("another process held the log directory's lock for {wait:?}"),
                ));
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(1));
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
