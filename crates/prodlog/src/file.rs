//! The preset's file destinations: `prodlog-writer` writers configured from the builder and
//! the `PRODLOG_*` rotation variables.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use prodlog_format::LineSink;
use prodlog_writer::{QueuePolicy, Rotation, Writer};
use tracing_core::LevelFilter;

use crate::error::{InitError, InitErrorKind};

/// How the log files are written and rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileSettings {
    pub(crate) max_bytes: Option<u64>,
    pub(crate) max_backups: usize,
    pub(crate) rotation: Rotation,
    pub(crate) local_time: bool,
    pub(crate) compress: bool,
    pub(crate) queue: QueuePolicy,
    pub(crate) fsync: Option<Duration>,
    pub(crate) shutdown_timeout: Duration,
}

impl Default for FileSettings {
    fn default() -> Self {
        FileSettings {
            max_bytes: Some(100 * 1024 * 1024),
            max_backups: 10,
            rotation: Rotation::Never,
            local_time: false,
            compress: false,
            queue: QueuePolicy::Block,
            fsync: None,
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// A writer as a destination of the JSON layer.
#[derive(Debug)]
pub(crate) struct FileSink(pub(crate) Writer);

impl LineSink for FileSink {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        self.0.write_line(line);
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        self.0.flush(Duration::from_secs(5));
        Ok(())
    }
}

/// `<app>.log` (everything) and, when asked, `<app>.error.log` (ERROR only) in `dir`.
pub(crate) fn open_files(
    dir: &Path,
    app: &str,
    error_file: bool,
    files: &FileSettings,
) -> Result<Vec<(Writer, LevelFilter)>, InitError> {
    let fail = |what: &str, path: PathBuf, e: io::Error| {
        InitError::new(
            InitErrorKind::LogFile,
            format!("cannot {what} {}", path.display()),
        )
        .with_path(path)
        .with_source(e)
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("create log directory", dir.to_owned(), e))?;
    let open = |path: PathBuf| {
        Writer::builder(&path)
            .max_bytes(files.max_bytes)
            .max_backups(files.max_backups)
            .rotation(files.rotation)
            .local_time(files.local_time)
            .compress(files.compress)
            .policy(files.queue)
            .fsync_every(files.fsync)
            .build()
            .map_err(|e| fail("open log file", path, e))
    };
    let mut out = vec![(open(dir.join(format!("{app}.log")))?, LevelFilter::TRACE)];
    if error_file {
        out.push((
            open(dir.join(format!("{app}.error.log")))?,
            LevelFilter::ERROR,
        ));
    }
    Ok(out)
}

/// `100M`, `512k`, `1G`, `4096`: bytes, with binary suffixes.
pub(crate) fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let mult = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("100M"), Some(100 << 20));
        assert_eq!(parse_bytes("512k"), Some(512 << 10));
        assert_eq!(parse_bytes("4096"), Some(4096));
        assert_eq!(parse_bytes("1 GiB"), Some(1 << 30));
        assert_eq!(parse_bytes("ten"), None);
        assert_eq!(parse_bytes("5T"), None);
        assert_eq!(parse_bytes("99999999999999999999G"), None);
    }
}
