//! The advisory lock that lets several processes share one set of log files.
//!
//! Every write, rotation and backup rename happens while holding an exclusive `flock` on
//! the log file's directory. The directory rather than the file, because the file itself is
//! renamed at rotation, and rather than a lock file of its own, because an extra file in
//! the log directory confuses the tools that list it (shippers, `ls app.log*`, tests of
//! "exactly N backups"). The kernel releases the lock when a process dies, so a killed
//! replica never wedges the others. Held for one batch write at a time (microseconds), it
//! also serialises unrelated files of the same directory, which costs nothing measurable.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

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

    /// Waits for the exclusive lock.
    pub(crate) fn lock(&self) -> io::Result<Held<'_>> {
        loop {
            match self.0.lock() {
                Ok(()) => return Ok(Held(&self.0)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
