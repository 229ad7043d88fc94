//! The guard `init()` returns.

use std::sync::Arc;

use prodlog_format::LineSink;

use crate::file::{AppendFile, Flusher};

/// Flushes and closes prodlog's destinations when dropped.
///
/// Hold it for the life of the program — `let _guard = prodlog::init();` at the top of
/// `main`. Do **not** write `let _ = prodlog::init();`: that drops the guard at once, and
/// lines logged later are written unbuffered (slower), and no longer synced at exit.
#[must_use = "the guard flushes the log files when dropped: bind it with `let _guard = …` in main"]
#[derive(Debug, Default)]
pub struct Guard {
    files: Vec<Arc<AppendFile>>,
    flusher: Option<Flusher>,
    stdout: bool,
}

impl Guard {
    pub(crate) fn new(files: Vec<Arc<AppendFile>>, flusher: Option<Flusher>, stdout: bool) -> Self {
        Guard {
            files,
            flusher,
            stdout,
        }
    }

    /// Pushes every buffered line to its destination now (for example before
    /// `std::process::exit`, which skips destructors).
    pub fn flush(&self) {
        for f in &self.files {
            if let Err(e) = f.flush() {
                eprintln!("prodlog: flushing a log file failed: {e}");
            }
        }
        if self.stdout {
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        drop(self.flusher.take());
        for f in &self.files {
            if let Err(e) = f.close() {
                eprintln!("prodlog: closing a log file failed: {e}");
            }
        }
        if self.stdout {
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
    }
}
