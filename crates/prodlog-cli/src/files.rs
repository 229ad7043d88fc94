//! Finding log files under the paths given, and reading their lines with bounded memory.
//!
//! Every command takes files and directories. A directory is walked recursively; a symlink
//! loop, an unreadable directory or file, and anything that is not a regular file (a
//! device, a FIFO) are reported per path and skipped, never fatal: [`Skipped`] collects
//! them and the command's exit code says that something was skipped.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Paths that were skipped, with the reason, in the order met.
#[derive(Debug, Default)]
pub(crate) struct Skipped(pub(crate) Vec<(PathBuf, String)>);

impl Skipped {
    pub(crate) fn add(&mut self, path: &Path, why: impl std::fmt::Display) {
        self.0.push((path.to_owned(), why.to_string()));
    }

    /// Each skipped path on stderr, `prodlog <cmd>: skipped PATH: why`.
    pub(crate) fn report(&self, cmd: &str) {
        for (p, why) in &self.0 {
            eprintln!("prodlog {cmd}: skipped {}: {why}", p.display());
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The regular files under `paths` (directories walked, symlinks followed once), sorted
/// within each directory so that a rotated set reads oldest first: `app.log.3.gz`,
/// `app.log.2`, `app.log.1`, `app.log`. For reading (view, trace, patterns) the error-only
/// copies are left out (see `drop_error_copies`); `audit` calls [`collect_all`].
pub(crate) fn collect(paths: &[PathBuf], skipped: &mut Skipped) -> Vec<PathBuf> {
    drop_error_copies(collect_all(paths, skipped))
}

/// [`collect`] keeping every file: an audit scans the error-only files too (their backups
/// may outlive the main file's).
pub(crate) fn collect_all(paths: &[PathBuf], skipped: &mut Skipped) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut seen_dirs = HashSet::new();
    let mut seen_files = HashSet::new();
    for p in paths {
        walk(p, &mut out, &mut seen_dirs, &mut seen_files, skipped, 0);
    }
    out
}

/// prodlog's `<app>.error.log` repeats the ERROR lines of `<app>.log`: when both are
/// among the files (in one directory), the error file's lines would be read twice, so it
/// is left out. Named on its own, it is read.
fn drop_error_copies(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let stem = |p: &Path| -> Option<(PathBuf, String)> {
        let name = p.file_name()?.to_string_lossy().into_owned();
        let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
        let at = name.find(".log")?;
        Some((dir, name[..at].to_owned()))
    };
    let mains: HashSet<(PathBuf, String)> = files
        .iter()
        .filter_map(|p| stem(p))
        .filter(|(_, s)| !s.ends_with(".error"))
        .collect();
    files
        .into_iter()
        .filter(|p| match stem(p) {
            Some((dir, s)) => match s.strip_suffix(".error") {
                Some(app) => !mains.contains(&(dir, app.to_owned())),
                None => true,
            },
            None => true,
        })
        .collect()
}

fn walk(
    path: &Path,
    out: &mut Vec<PathBuf>,
    seen_dirs: &mut HashSet<PathBuf>,
    seen_files: &mut HashSet<PathBuf>,
    skipped: &mut Skipped,
    depth: usize,
) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            // A dangling link or a loop of links, an absent path, a permission problem.
            let why = match e.raw_os_error() {
                Some(40) => "symlink loop".to_owned(),
                _ => e.to_string(),
            };
            return skipped.add(path, why);
        }
    };
    if meta.is_dir() {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        if !seen_dirs.insert(real) {
            return skipped.add(path, "directory already visited (a symlink loop)");
        }
        if depth > 64 {
            return skipped.add(path, "directory nesting deeper than 64");
        }
        let entries = match std::fs::read_dir(path) {
            Ok(rd) => rd,
            Err(e) => return skipped.add(path, e),
        };
        // Hidden files in a walked directory are not logs (an exporter's checkpoint,
        // `.<app>.log.otlp.pos`; editors' swap files): named on their own, they are read.
        let mut children: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        children.sort_by_key(|p| rotation_order(p));
        for c in children {
            walk(&c, out, seen_dirs, seen_files, skipped, depth + 1);
        }
    } else if meta.is_file() {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        if !seen_files.insert(real) {
            return;
        }
        match File::open(path) {
            Ok(_) => out.push(path.to_owned()),
            Err(e) => skipped.add(path, e),
        }
    } else {
        skipped.add(path, "not a regular file");
    }
}

/// The rotation set a file belongs to: `app.log` for `app.log`, `app.log.3` and
/// `app.log.3.gz`.
pub(crate) fn stem(p: &Path) -> String {
    rotation_order(p).0
}

/// Sort key: the file's stem (`app.log`), then rotation number descending (a higher
/// number is older), the live file (no number) last.
fn rotation_order(p: &Path) -> (String, std::cmp::Reverse<u64>, String) {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = name.strip_suffix(".gz").unwrap_or(&name);
    if let Some((stem, n)) = base.rsplit_once('.') {
        if let Ok(n) = n.parse::<u64>() {
            return (stem.to_owned(), std::cmp::Reverse(n), name.clone());
        }
    }
    (base.to_owned(), std::cmp::Reverse(0), name)
}

/// `bytes` as text: borrowed when they are UTF-8 (`from_utf8` has a fast path for ASCII;
/// the lossy decoder walks chunk by chunk), decoded lossily otherwise.
pub(crate) fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// The most bytes of one line kept; the rest of a longer line is read and dropped, and the
/// line is marked cut.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// Reads lines with at most [`MAX_LINE`] bytes held per line, whatever the input.
pub(crate) struct Lines {
    reader: Box<dyn BufRead>,
    /// Lines longer than the cap seen so far.
    pub(crate) cut: u64,
    pub(crate) number: u64,
}

/// Opens a file to follow: a regular file only (a FIFO cannot hang the open: `O_NONBLOCK`;
/// a device such as `/dev/zero` is refused), and with `no_symlink` not through a symlink
/// (`O_NOFOLLOW`): a live file swapped for a link to another file is not shown.
pub(crate) fn open_regular(path: &Path, no_symlink: bool) -> io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let nofollow = if no_symlink { libc::O_NOFOLLOW } else { 0 };
        opts.custom_flags(libc::O_NONBLOCK | nofollow);
    }
    let f = opts.open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(f)
}

/// Opens `path`, gunzipping `.gz`.
pub(crate) fn open(path: &Path) -> io::Result<Box<dyn Read>> {
    let f = open_regular(path, false)?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    })
}

impl Lines {
    pub(crate) fn new(reader: Box<dyn Read>) -> Lines {
        Lines {
            reader: Box::new(BufReader::with_capacity(256 * 1024, reader)),
            cut: 0,
            number: 0,
        }
    }

    /// The next line (without its newline) into `buf`; false at the end.
    pub(crate) fn next_into(&mut self, buf: &mut Vec<u8>) -> io::Result<bool> {
        buf.clear();
        let mut cut = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if buf.is_empty() && !cut {
                    return Ok(false);
                }
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (i, true),
                None => (available.len(), false),
            };
            let room = MAX_LINE.saturating_sub(buf.len());
            if take > room {
                cut = true;
            }
            buf.extend_from_slice(&available[..take.min(room)]);
            let consumed = if done { take + 1 } else { take };
            self.reader.consume(consumed);
            if done {
                break;
            }
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        self.number += 1;
        if cut {
            self.cut += 1;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_sets_read_oldest_first() {
        let mut v: Vec<PathBuf> = [
            "app.log",
            "app.log.1",
            "app.log.10.gz",
            "app.log.2.gz",
            "b.log",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        v.sort_by_key(|p| rotation_order(p));
        let names: Vec<String> = v.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "app.log.10.gz",
                "app.log.2.gz",
                "app.log.1",
                "app.log",
                "b.log"
            ]
        );
    }

    #[test]
    fn hidden_files_of_a_directory_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.log"), "{}\n").unwrap();
        std::fs::write(dir.path().join(".app.log.otlp.pos"), "1 2 3\n").unwrap();
        let mut skipped = Skipped::default();
        let files = collect(&[dir.path().to_owned()], &mut skipped);
        assert_eq!(files, [dir.path().join("app.log")]);
        let named = collect(&[dir.path().join(".app.log.otlp.pos")], &mut skipped);
        assert_eq!(named.len(), 1, "named on its own, it is read");
    }

    #[test]
    fn long_lines_are_cut_and_counted_with_bounded_memory() {
        let mut data = vec![b'x'; MAX_LINE * 3];
        data.extend_from_slice(b"\nshort\n");
        let mut lines = Lines::new(Box::new(std::io::Cursor::new(data)));
        let mut buf = Vec::new();
        assert!(lines.next_into(&mut buf).unwrap());
        assert_eq!(buf.len(), MAX_LINE);
        assert!(buf.capacity() < MAX_LINE * 2);
        assert!(lines.next_into(&mut buf).unwrap());
        assert_eq!(buf, b"short");
        assert!(!lines.next_into(&mut buf).unwrap());
        assert_eq!((lines.cut, lines.number), (1, 2));
    }
}
