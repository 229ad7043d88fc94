//! Opening files in a directory other users may write to, without being tricked.
//!
//! A log directory is often shared (`/var/log/app`, group- or world-writable), and every
//! name the writer uses there is predictable. Another user who can create entries in it
//! could plant, before the service starts or between two rotations:
//! - a **symlink** at `app.log` (or a backup or temporary name), so the service appends its
//!   lines to — or truncates, or chmods — any file it can write (CWE-59);
//! - a **file of their own**, mode 0666, so they read every line and forge some;
//! - a **FIFO** or a device, so every write hangs.
//!
//! So every file is opened with `O_NOFOLLOW` (a symlink is refused, never followed) and
//! `O_NONBLOCK` (a FIFO cannot hang the open), then checked on its descriptor: a regular
//! file, owned by this process's effective user, with one link. Anything else is refused
//! with an error that says what was found; the file is never written, truncated or
//! chmodded. Temporaries are created with `O_EXCL` under unpredictable names.
//!
//! The directory itself is trusted: whoever can replace the log directory (write access to
//! its parent) is already trusted with the logs. A directory others may write to without
//! the sticky bit earns a warning (see [`check_dir`]).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Opens `path` for appending and reading (to repair a torn tail), creating it with
/// `mode`; refuses anything that is not a regular file of this user's.
pub(crate) fn open_append(path: &Path, mode: u32) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true).append(true).create(true);
    open_checked(path, mode, opts)
}

/// Creates a new file at `path` (`O_EXCL`: never an existing file or a symlink's target).
pub(crate) fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    open_checked(path, mode, opts)
}

#[cfg(unix)]
fn open_checked(path: &Path, mode: u32, mut opts: OpenOptions) -> io::Result<File> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    opts.mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    // Some kernels answer EACCES rather than ELOOP for a planted symlink (a sandbox, or
    // `fs.protected_symlinks`): what is at the name says which it was.
    let file = opts
        .open(path)
        .map_err(|e| match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => refused(path, "it is a symbolic link"),
            Ok(m) if !m.file_type().is_file() => refused(path, NOT_REGULAR),
            Ok(m) if m.uid() != euid() => refused(path, &foreign(m.uid())),
            _ if e.raw_os_error() == Some(libc::ELOOP) => refused(path, "it is a symbolic link"),
            _ => e,
        })?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(refused(
            path,
            "it is not a regular file (a FIFO, a device or a directory)",
        ));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(refused(
            path,
            &format!(
                "it belongs to user {}, not to this process's user {me} (another user could read or forge its lines)",
                meta.uid()
            ),
        ));
    }
    if meta.nlink() > 1 {
        return Err(refused(path, "it has other hard links"));
    }
    clear_nonblock(&file);
    Ok(file)
}

#[cfg(not(unix))]
fn open_checked(path: &Path, _mode: u32, opts: OpenOptions) -> io::Result<File> {
    let file = opts.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(refused(path, "it is not a regular file"));
    }
    Ok(file)
}

#[cfg(unix)]
const NOT_REGULAR: &str = "it is not a regular file (a FIFO, a device or a directory)";

#[cfg(unix)]
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid()
    }
}

#[cfg(unix)]
fn foreign(uid: u32) -> String {
    format!(
        "it belongs to user {uid}, not to this process's user {} (another user could read or forge its lines)",
        euid()
    )
}

/// Opens an existing file for reading if it is one of this user's regular files (never a
/// FIFO, a device or a symlink's target).
pub(crate) fn open_read(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    open_checked(path, 0, opts)
}

/// Whether `meta` (of a file this process did not open) belongs to this process's user.
#[cfg(unix)]
pub(crate) fn owned_by_me(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.uid() == euid()
}

#[cfg(not(unix))]
pub(crate) fn owned_by_me(_meta: &std::fs::Metadata) -> bool {
    true
}

/// Back to blocking writes on the regular file (the flag only guarded the open).
#[cfg(unix)]
fn clear_nonblock(file: &File) {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor `file` keeps open for the call; F_GETFL/F_SETFL only
    // read and set status flags.
    #[allow(unsafe_code)]
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
}

/// The error of a refused file; [`is_refused`] recognises it.
fn refused(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        Refused(format!("refusing {}: {why}", path.display())),
    )
}

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Whether `e` is a refusal of an unsafe file (a symlink, a FIFO, a device, another user's
/// file) rather than an ordinary I/O error.
pub fn is_refused(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Refused>())
}

/// The name a process writes to when it cannot share `path` with others (the name is
/// taken by something unsafe, or the shared lock cannot be had): `app.log` becomes
/// `app.<pid>.log`, `app.error.log` becomes `app.error.<pid>.log`, a name without an
/// extension gets `.<pid>` appended.
pub fn per_process_path(path: &Path) -> PathBuf {
    let pid = std::process::id();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let name = match name.as_deref().and_then(|n| n.rsplit_once('.')) {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{pid}.{ext}"),
        _ => format!("{}.{pid}", name.unwrap_or_else(|| "prodlog".to_owned())),
    };
    path.with_file_name(name)
}

/// A warning for a log directory that other users may write to without the sticky bit:
/// they can delete and replace the service's files (the files themselves are still never
/// followed or adopted).
#[cfg(unix)]
pub(crate) fn check_dir(dir: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).ok()?.permissions().mode();
    let sticky = mode & 0o1000 != 0;
    let who = if mode & 0o002 != 0 {
        "every user"
    } else if mode & 0o020 != 0 {
        "its group"
    } else {
        return None;
    };
    (!sticky).then(|| {
        format!(
            "log directory {} is writable by {who} without the sticky bit (mode {:o}): other users can delete or replace its files; prefer 0750, or chmod +t",
            dir.display(),
            mode & 0o7777
        )
    })
}

#[cfg(not(unix))]
pub(crate) fn check_dir(_dir: &Path) -> Option<String> {
    None
}

/// Directories this process already had trouble with, and which: their lock was held
/// past its wait (the next file there falls back at once rather than wait again), or a
/// warning was printed (once per directory, not per file).
static NOTED: std::sync::Mutex<Vec<(PathBuf, Note)>> = std::sync::Mutex::new(Vec::new());

/// What [`NOTED`] remembers of a directory.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Note {
    LockHeld,
    Warned,
}

/// Remembers `note` for `dir`; returns whether it was already there.
pub(crate) fn note(dir: &Path, note: Note) -> bool {
    let mut noted = NOTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if noted.iter().any(|(d, n)| d == dir && *n == note) {
        return true;
    }
    noted.push((dir.to_owned(), note));
    false
}

/// Whether `note` was remembered for `dir`.
pub(crate) fn noted(dir: &Path, note: Note) -> bool {
    NOTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .any(|(d, n)| d == dir && *n == note)
}

/// An unpredictable suffix for a temporary name (SipHash with the process's random keys,
/// over the time, the process id and a counter).
pub(crate) fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

/// Best effort on stderr: never panics, whatever stderr is (closed, a broken pipe, full).
pub(crate) fn warn(message: &str) {
    use std::io::Write;
    let _ = writeln!(io::stderr(), "prodlog-writer: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_process_names() {
        let pid = std::process::id();
        assert_eq!(
            per_process_path(Path::new("/l/app.log")),
            PathBuf::from(format!("/l/app.{pid}.log"))
        );
        assert_eq!(
            per_process_path(Path::new("/l/app.error.log")),
            PathBuf::from(format!("/l/app.error.{pid}.log"))
        );
        assert_eq!(
            per_process_path(Path::new("app")),
            PathBuf::from(format!("app.{pid}"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_and_fifos() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"precious\n").unwrap();
        let link = dir.path().join("app.log");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = open_append(&link, 0o640).unwrap_err();
        assert!(is_refused(&e), "{e}");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"precious\n");

        let fifo = dir.path().join("fifo.log");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        #[allow(unsafe_code)]
        // SAFETY: a valid NUL-terminated path.
        let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
        assert_eq!(rc, 0);
        let e = open_append(&fifo, 0o640).unwrap_err();
        assert!(
            is_refused(&e) && e.to_string().contains("regular file"),
            "{e}"
        );

        let hard = dir.path().join("hard.log");
        std::fs::hard_link(&target, &hard).unwrap();
        assert!(is_refused(&open_append(&hard, 0o640).unwrap_err()));

        let fresh = dir.path().join("fresh.log");
        assert!(open_append(&fresh, 0o640).is_ok());
        assert!(create_new(&fresh, 0o640).is_err(), "O_EXCL");
    }
}
