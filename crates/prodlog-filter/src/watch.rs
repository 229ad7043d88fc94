//! Reloading the directives from a file while the program runs: polled, and at once on
//! `SIGHUP` (Unix).
//!
//! An environment variable cannot change under a running process, so "reload `RUST_LOG`"
//! means reading its value from a file the operator can edit (or a Kubernetes ConfigMap
//! mounts). The file is polled because that is what works everywhere — in containers where
//! nobody sends signals, and for ConfigMaps, which swap a symlink rather than write the
//! file — and `SIGHUP` makes the change immediate, the way daemons reload configuration.

use std::io;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::filter::{FilterHandle, Source};

/// The directives in a filter file: one or more per line (commas or newlines), `#` starts a
/// comment, blank means "the directives the filter started with".
fn file_spec(text: &str) -> String {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// Watches a directives file; stops when dropped. See [`FilterHandle::watch_file`].
#[derive(Debug)]
#[must_use = "the watch stops when dropped"]
pub struct FileWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    #[cfg(unix)]
    sighup: Option<signal_hook::SigId>,
}

impl Drop for FileWatch {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(id) = self.sighup.take() {
            signal_hook::low_level::unregister(id);
        }
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// What the watcher last saw, so each change is applied and each problem reported once.
#[derive(PartialEq)]
enum Seen {
    Text(String),
    Unreadable(io::ErrorKind),
}

struct Watcher {
    handle: FilterHandle,
    path: PathBuf,
    seen: Seen,
}

impl Watcher {
    fn check(&mut self, signalled: bool) {
        let now = match crate::config_file::read(&self.path) {
            Ok(text) => Seen::Text(text),
            Err(e) => Seen::Unreadable(e.kind()),
        };
        if now == self.seen {
            return;
        }
        let source = if signalled {
            Source::Signal(&self.path)
        } else {
            Source::File(&self.path)
        };
        match &now {
            Seen::Text(text) => apply(&self.handle, source, text),
            Seen::Unreadable(kind) => {
                let e = io::Error::from(*kind);
                report(
                    &self.path,
                    &format!("cannot be read ({e}); levels unchanged"),
                );
            }
        }
        self.seen = now;
    }
}

fn report(path: &Path, what: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "prodlog: level file {}: {what}",
        path.display()
    );
    tracing::warn!(target: "prodlog_filter", path = %path.display(), "level file {what}");
}

fn apply(handle: &FilterHandle, source: Source<'_>, text: &str) {
    let spec = file_spec(text);
    if spec.is_empty() {
        // Back to the starting directives; the filter logs the change.
        handle.reset_from(source);
        return;
    }
    if let Err(errors) = handle.set_directives_from(&spec, source) {
        let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let (Source::File(path) | Source::Signal(path)) = source else {
            return;
        };
        report(path, &format!("ignored: {}", all.join("; ")));
    }
}

impl FilterHandle {
    /// Applies the directives in the file at `path` now, then again whenever its contents
    /// change (checked every `interval`) and, on Unix, at once when the process receives
    /// `SIGHUP`.
    ///
    /// The file holds directives separated by commas or newlines; `#` starts a comment; a
    /// blank file means the directives the filter was built with. A file with an invalid
    /// directive is not applied: the errors go to stderr and to a WARN event (target
    /// `prodlog_filter`) and the levels stay as they were; so does a file that disappears.
    /// Each change applied is logged at INFO.
    ///
    /// Fails only when the file cannot be read at start. On Unix, watching replaces
    /// `SIGHUP`'s default action (terminating the process) for as long as the returned
    /// [`FileWatch`] lives.
    pub fn watch_file(
        &self,
        path: impl Into<PathBuf>,
        interval: Duration,
    ) -> io::Result<FileWatch> {
        let path = path.into();
        let text = crate::config_file::read(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot read level file {}: {e}", path.display()),
            )
        })?;
        apply(self, Source::File(&path), &text);
        let mut watcher = Watcher {
            handle: self.clone(),
            path,
            seen: Seen::Text(text),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let hup = Arc::new(AtomicBool::new(false));
        #[cfg(unix)]
        let sighup = Some(signal_hook::flag::register(
            signal_hook::consts::SIGHUP,
            hup.clone(),
        )?);
        let thread_stop = stop.clone();
        // A signal handler may not wake a thread, so the flag is looked at every 50 ms.
        let step = interval.min(Duration::from_millis(50));
        let thread = std::thread::Builder::new()
            .name("prodlog-level-file".into())
            .spawn(move || {
                let mut next = Instant::now() + interval;
                while !thread_stop.load(Ordering::Acquire) {
                    std::thread::park_timeout(step);
                    let signalled = hup.swap(false, Ordering::AcqRel);
                    if signalled || Instant::now() >= next {
                        watcher.check(signalled);
                        next = Instant::now() + interval;
                    }
                }
            })?;
        Ok(FileWatch {
            stop,
            thread: Some(thread),
            #[cfg(unix)]
            sighup,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::file_spec;

    #[test]
    fn file_spec_joins_lines_and_drops_comments() {
        let text = "# levels for billing\ninfo\n\nbilling::db=debug  # noisy today\n hyper=info,h2=warn \n";
        assert_eq!(file_spec(text), "info,billing::db=debug,hyper=info,h2=warn");
        assert_eq!(file_spec("  \n# nothing\n"), "");
    }
}
