//! The plain appending JSON file destination.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use prodlog_format::LineSink;

/// An appending log file behind a 64 KiB buffer.
///
/// Lines are buffered and pushed to the file by [`Flusher`] every 200 ms, by the guard when
/// it drops (which also syncs to disk), or at once when the file is an alerting file
/// (`flush_each_line`) so an error is never left waiting. After the guard is gone every line
/// is written straight through, so nothing logged late in shutdown stays in a buffer.
#[derive(Debug)]
pub(crate) struct AppendFile {
    out: Mutex<BufWriter<File>>,
    write_through: AtomicBool,
    dirty: AtomicBool,
}

impl AppendFile {
    pub(crate) fn open(path: &Path, flush_each_line: bool) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AppendFile {
            out: Mutex::new(BufWriter::with_capacity(64 * 1024, file)),
            write_through: AtomicBool::new(flush_each_line),
            dirty: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> MutexGuard<'_, BufWriter<File>> {
        // A panic while holding the lock cannot leave the buffer half-written: keep going.
        self.out.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Flushes, syncs, and writes every later line straight through.
    pub(crate) fn close(&self) -> io::Result<()> {
        self.write_through.store(true, Ordering::Release);
        let mut out = self.lock();
        out.flush()?;
        out.get_ref().sync_all()
    }
}

impl LineSink for AppendFile {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let mut out = self.lock();
        out.write_all(line)?;
        if self.write_through.load(Ordering::Relaxed) {
            out.flush()
        } else {
            if !self.dirty.load(Ordering::Relaxed) {
                self.dirty.store(true, Ordering::Relaxed);
            }
            Ok(())
        }
    }

    fn flush(&self) -> io::Result<()> {
        self.dirty.store(false, Ordering::Relaxed);
        self.lock().flush()
    }
}

/// A thread that flushes buffered files a few times a second, so a quiet service's lines
/// reach the file without waiting for 64 KiB or for shutdown.
#[derive(Debug)]
pub(crate) struct Flusher {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Flusher {
    pub(crate) fn start(files: Vec<Arc<AppendFile>>, every: Duration) -> Self {
        let (stop, rx) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("prodlog-flush".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                    for f in &files {
                        if f.dirty.load(Ordering::Relaxed) {
                            // A failure here shows up again, counted, on the next write.
                            let _ = f.flush();
                        }
                    }
                }
            })
            .ok();
        Flusher {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
