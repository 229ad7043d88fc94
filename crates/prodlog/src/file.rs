//! The preset's file destinations: `prodlog-writer` writers configured from the builder and
//! the `PRODLOG_*` rotation variables.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use prodlog_format::LineSink;
use prodlog_writer::{QueuePolicy, Rotation, Writer};
use tracing_core::LevelFilter;

use std::ffi::OsString;

use crate::error::{InitError, InitErrorKind};
use crate::settings::{choice, env_error, flag, number, Choices, Problem};

/// How the log files are written and rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileSettings {
    pub(crate) max_bytes: Option<u64>,
    pub(crate) max_backups: usize,
    pub(crate) max_total_bytes: Option<u64>,
    pub(crate) queue_bytes: usize,
    pub(crate) rotation: Rotation,
    pub(crate) local_time: bool,
    pub(crate) compress: bool,
    pub(crate) queue: QueuePolicy,
    pub(crate) fsync: Option<Duration>,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) file_mode: u32,
    pub(crate) flush_on_signal: bool,
}

/// The longest shutdown wait accepted (longer values are refused with a message).
const MAX_SHUTDOWN: Duration = Duration::from_secs(3600);

impl Default for FileSettings {
    fn default() -> Self {
        FileSettings {
            max_bytes: Some(100 * 1024 * 1024),
            max_backups: 10,
            max_total_bytes: None,
            queue_bytes: 8 * 1024 * 1024,
            rotation: Rotation::Never,
            local_time: false,
            compress: false,
            queue: QueuePolicy::Block,
            fsync: None,
            shutdown_timeout: Duration::from_secs(5),
            file_mode: 0o640,
            flush_on_signal: true,
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

/// `<app>.log` (everything) and, when asked, `<app>.error.log` (ERROR only) in `dir`, each
/// opened on its own: one that fails is reported (with the variables that chose it) and
/// the other is still written.
pub(crate) fn open_files(
    dir: &Path,
    app: &str,
    error_file: bool,
    files: &FileSettings,
    spool: bool,
    problems: &mut Vec<Problem>,
) -> Vec<(Writer, LevelFilter)> {
    let open = |path: PathBuf, spool: bool| {
        Writer::builder(&path)
            .spool(spool)
            .max_bytes(files.max_bytes)
            .max_backups(files.max_backups)
            .max_total_bytes(files.max_total_bytes)
            .queue_bytes(files.queue_bytes)
            .rotation(files.rotation)
            .local_time(files.local_time)
            .compress(files.compress)
            .policy(files.queue)
            .fsync_every(files.fsync)
            .file_mode(files.file_mode)
            .build()
    };
    if let Err(e) = prodlog_writer::create_dir(dir, files.file_mode) {
        problems.push(Problem {
            error: InitError::new(
                InitErrorKind::LogFile,
                format!(
                    "cannot create log directory {} (set by PRODLOG_DIR)",
                    dir.display()
                ),
            )
            .with_path(dir.to_owned())
            .with_source(e),
            fallback: "writing no log files".to_owned(),
        });
        return Vec::new();
    }
    let mut wanted = vec![(
        dir.join(format!("{app}.log")),
        LevelFilter::TRACE,
        "PRODLOG_DIR, PRODLOG_APP",
    )];
    if error_file {
        wanted.push((
            dir.join(format!("{app}.error.log")),
            LevelFilter::ERROR,
            "PRODLOG_DIR, PRODLOG_APP; PRODLOG_ERROR_FILE=off turns it off",
        ));
    }
    let mut out = Vec::new();
    for (i, (path, level, vars)) in wanted.into_iter().enumerate() {
        // The main file is the network destination's spool (see prodlog-ship).
        match open(path.clone(), spool && i == 0) {
            Ok(writer) => out.push((writer, level)),
            Err(e) => problems.push(Problem {
                error: InitError::new(
                    InitErrorKind::LogFile,
                    format!("cannot open log file {} (set by {vars})", path.display()),
                )
                .with_path(path.clone())
                .with_source(e),
                fallback: format!("not writing {}", path.display()),
            }),
        }
    }
    out
}

/// `0640`, `640`, `0o600`: permission bits in octal (at most `0777`), readable by the owner.
pub(crate) fn parse_mode(s: &str) -> Option<u32> {
    let s = s.trim();
    let digits = s.strip_prefix("0o").unwrap_or(s);
    if digits.is_empty() || digits.len() > 4 {
        return None;
    }
    u32::from_str_radix(digits, 8)
        .ok()
        .filter(|m| *m <= 0o777 && m & 0o600 == 0o600)
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

impl Choices {
    /// The rotation and queue settings, with the `PRODLOG_*` file variables applied.
    pub(crate) fn resolve_files(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
        problems: &mut Vec<Problem>,
    ) -> FileSettings {
        let code = self.files;
        let ms = |v: &str| v.trim().parse::<u64>().ok().map(Duration::from_millis);
        FileSettings {
            max_bytes: number(
                env,
                "PRODLOG_MAX_BYTES",
                code.max_bytes,
                "the configured size",
                "a size such as 100M, 512k or 4096 (0: never by size)",
                |v| parse_bytes(v).map(|b| Some(b).filter(|b| *b > 0)),
                problems,
            ),
            max_backups: {
                let n = number(
                    env,
                    "PRODLOG_MAX_BACKUPS",
                    code.max_backups,
                    "the configured count",
                    "a number of files",
                    // Any count parses (saturating), so a huge one is clamped, not refused:
                    // falling back to the default would delete backups the operator keeps.
                    |v| {
                        let v = v.trim();
                        (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                            .then(|| v.parse().unwrap_or(usize::MAX))
                    },
                    problems,
                );
                if n > prodlog_writer::MAX_BACKUPS {
                    problems.push(Problem {
                        error: env_error(
                            "PRODLOG_MAX_BACKUPS",
                            &n.to_string(),
                            "at most 100000 backups",
                        ),
                        fallback: "keeping 100000".to_owned(),
                    });
                }
                n.min(prodlog_writer::MAX_BACKUPS)
            },
            max_total_bytes: number(
                env,
                "PRODLOG_MAX_TOTAL_BYTES",
                code.max_total_bytes,
                "the configured cap",
                "a size such as 1G or 500M (0: no cap)",
                |v| parse_bytes(v).map(|b| Some(b).filter(|b| *b > 0)),
                problems,
            ),
            queue_bytes: number(
                env,
                "PRODLOG_QUEUE_BYTES",
                code.queue_bytes,
                "the configured size",
                "a size such as 8M (at least 4k, at most 1G)",
                |v| {
                    parse_bytes(v)
                        .and_then(|b| usize::try_from(b).ok())
                        .filter(|b| (4096..=prodlog_writer::MAX_QUEUE_BYTES).contains(b))
                },
                problems,
            ),
            rotation: choice(
                env,
                "PRODLOG_ROTATE",
                &[
                    ("never", Rotation::Never),
                    ("minutely", Rotation::Minutely),
                    ("hourly", Rotation::Hourly),
                    ("daily", Rotation::Daily),
                ],
                code.rotation,
                "the configured rotation",
                problems,
            ),
            local_time: {
                let local = choice(
                    env,
                    "PRODLOG_ROTATE_TZ",
                    &[("utc", false), ("local", true)],
                    code.local_time,
                    if code.local_time { "local" } else { "utc" },
                    problems,
                );
                if local && !cfg!(feature = "local-time") {
                    crate::settings::without_feature(
                        "rotation at local-time boundaries",
                        "PRODLOG_ROTATE_TZ",
                        "local-time",
                        "rotating at UTC boundaries",
                        problems,
                    );
                }
                local && cfg!(feature = "local-time")
            },
            compress: {
                let on = flag(env, "PRODLOG_COMPRESS", code.compress, problems);
                if on && !cfg!(feature = "compression") {
                    crate::settings::without_feature(
                        "gzip of rotated files",
                        "PRODLOG_COMPRESS",
                        "compression",
                        "backups stay uncompressed",
                        problems,
                    );
                }
                on && cfg!(feature = "compression")
            },
            flush_on_signal: flag(
                env,
                "PRODLOG_FLUSH_ON_SIGNAL",
                code.flush_on_signal,
                problems,
            ),
            file_mode: number(
                env,
                "PRODLOG_FILE_MODE",
                code.file_mode,
                "the configured mode",
                "octal permission bits such as 0640 or 0600",
                parse_mode,
                problems,
            ),
            queue: choice(
                env,
                "PRODLOG_QUEUE",
                &[("block", QueuePolicy::Block), ("drop", QueuePolicy::Drop)],
                code.queue,
                "the configured policy",
                problems,
            ),
            fsync: number(
                env,
                "PRODLOG_FSYNC_MS",
                code.fsync,
                "the configured interval",
                "milliseconds (0: off)",
                |v| ms(v).map(|d| Some(d).filter(|d| !d.is_zero())),
                problems,
            ),
            shutdown_timeout: number(
                env,
                "PRODLOG_SHUTDOWN_MS",
                code.shutdown_timeout,
                "the configured timeout",
                "milliseconds, at most 3600000",
                |v| ms(v).filter(|d| *d <= MAX_SHUTDOWN),
                problems,
            ),
        }
    }
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
