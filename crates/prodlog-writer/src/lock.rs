//! The advisory lock that lets several processes share one set of log files.
//!
//! Every write, rotation and backup rename happens while holding an exclusive `flock` on
//! `.<name>.lock` next to the log file (a file of its own, because the log file itself is
//! renamed at rotation). The lock is released by the kernel when a process dies, so a
//! killed replica never wedges the others.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// `.app.log.lock` next to `app.log`.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.lock"))
}

/// An open lock file.
#[derive(Debug)]
pub(crate) struct DirLock(File);

/// The lock, held until dropped.
pub(crate) struct Held<'a>(&'a File);

impl DirLock {
    pub(crate) fn open(path: &Path) -> io::Result<DirLock> {
        Self::open_with_mode(path, 0o640)
    }

    pub(crate) fn open_with_mode(path: &Path, mode: u32) -> io::Result<DirLock> {
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
        #[cfg(not(unix))]
        let _ = mode;
        opts.open(path).map(DirLock)
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
