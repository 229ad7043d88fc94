//! The caller side (a bounded queue of bytes) and the worker thread that drains it.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::roll::{RollOptions, RollingFile};

/// What a caller does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueuePolicy {
    /// Wait until the worker makes room: no line is lost (backpressure).
    #[default]
    Block,
    /// Never wait: the line is dropped, counted, and the count is written into the log as
    /// soon as there is room (`"prodlog dropped 1234 lines"`).
    Drop,
}

/// Counters of one writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Lines dropped because the queue was full (`QueuePolicy::Drop`).
    pub dropped: u64,
    /// Lines lost because the disk kept failing while the queue was full.
    pub lost: u64,
    /// Failed write attempts (ENOSPC, EIO, …), each retried.
    pub failed_writes: u64,
    /// Bytes held in memory now: the queue, and lines waiting for a failed write to be
    /// retried (at most the queue's bound).
    pub held_bytes: u64,
}

/// Above this many queued bytes (or a quarter of the queue) the worker is woken at once
/// rather than at its next tick.
const WAKE_AT: usize = 256 * 1024;
/// How long lines may wait in memory while the worker sleeps.
pub(crate) const TICK: Duration = Duration::from_millis(10);
/// How often a failed write is retried.
pub(crate) const RETRY: Duration = Duration::from_millis(200);

/// The most backups a writer keeps: beyond this, [`WriterBuilder::max_backups`](crate::WriterBuilder::max_backups) clamps
/// (rotation renames every backup, so a larger number only makes rotation slow).
pub const MAX_BACKUPS: usize = 100_000;

/// The largest queue (larger sizes are clamped): 1 GiB.
pub const MAX_QUEUE_BYTES: usize = 1 << 30;

pub(crate) struct State {
    pub(crate) queue: Vec<u8>,
    /// The worker's previous batch, handed back for reuse (no allocation per batch).
    pub(crate) spare: Vec<u8>,
    /// The worker sleeps without a timeout: the next line must wake it.
    pub(crate) deep_sleep: bool,
    pub(crate) woken: bool,
    pub(crate) dropped: u64,
    pub(crate) lost: u64,
    /// A write is failing: callers drop (and count) instead of waiting on a full queue.
    pub(crate) faulted: bool,
    pub(crate) flush_requested: u64,
    pub(crate) flush_done: u64,
    pub(crate) stop: bool,
    /// At shutdown: until when a failing disk is retried before what is left is counted
    /// as lost.
    pub(crate) give_up_at: Option<Instant>,
    /// The worker is gone: lines are written straight through.
    pub(crate) stopped: bool,
    /// A shutdown is over without the worker stopping (its timeout passed): callers queue
    /// again rather than wait for it.
    pub(crate) released: bool,
    /// The process is ending by a signal and the queue could not be written in time: what
    /// is queued was counted as lost, nothing more is written, and a caller waits for the
    /// end (so a line whose call returned is written or counted, never neither).
    pub(crate) frozen: bool,
    /// With a spool: the number the next queued line gets, and the number of the first
    /// line in the queue.
    pub(crate) next_line: u64,
    pub(crate) queue_first: u64,
}

pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) wake: Condvar,
    pub(crate) room: Condvar,
    pub(crate) done: Condvar,
    pub(crate) file: Mutex<RollingFile>,
    pub(crate) capacity: usize,
    /// Queued bytes at which the worker is woken at once.
    pub(crate) wake_at: usize,
    pub(crate) policy: QueuePolicy,
    pub(crate) fsync_every: Option<Duration>,
    pub(crate) dropped_total: AtomicU64,
    pub(crate) lost_total: AtomicU64,
    pub(crate) failed_writes: AtomicU64,
    /// Bytes the worker holds for a retry.
    pub(crate) pending_bytes: AtomicU64,
    /// Lines the worker holds for a retry.
    pub(crate) pending_lines: AtomicU64,
    pub(crate) last_report: Mutex<Option<Instant>>,
    pub(crate) path: PathBuf,
    /// The runs of numbered lines, when spooling.
    pub(crate) spool: Option<Arc<Mutex<crate::spool::Runs>>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every live writer, for [`flush_all`](crate::flush_all) (the panic hook).
static WRITERS: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

/// A rotating, non-blocking log file. Cheap to clone; every clone writes to the same file.
///
/// Callers copy each line into a queue bounded in bytes and return; one worker thread writes
/// the queue in batches (one `write` for many lines), rotates between lines, and reports what
/// it could not write. Build one with [`Writer::builder`].
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("path", &self.shared.path)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Writer {
    /// Opens the file and starts the worker (see [`WriterBuilder::build`](crate::WriterBuilder::build)).
    pub(crate) fn start(
        path: PathBuf,
        roll: RollOptions,
        clock: Arc<dyn Clock>,
        queue_bytes: usize,
        policy: QueuePolicy,
        fsync_every: Option<Duration>,
        spool: bool,
    ) -> io::Result<Writer> {
        let max_files = roll.max_backups + 1;
        let mut file = RollingFile::open(path.clone(), roll, clock)?;
        let spool = spool.then(|| crate::spool::new_runs(max_files));
        if let Some(runs) = &spool {
            lock(runs).origin = file.position();
        }
        file.spool = spool.clone();
        // The bound covers the lines queued and the batch being written together: each of
        // the two buffers holds half of it.
        let half = queue_bytes / 2;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                // Both buffers are reserved once, at their bound, by this thread: callers
                // never grow them, so no caller thread's malloc arena ends up holding freed
                // copies (that kept RSS at 90+ MB under an 8-thread flood with an 8 MiB
                // queue). Pages are only touched as lines arrive.
                queue: Vec::with_capacity(half),
                spare: Vec::with_capacity(half),
                deep_sleep: false,
                woken: false,
                dropped: 0,
                lost: 0,
                faulted: false,
                flush_requested: 0,
                flush_done: 0,
                stop: false,
                give_up_at: None,
                stopped: false,
                released: false,
                frozen: false,
                next_line: 0,
                queue_first: 0,
            }),
            wake: Condvar::new(),
            room: Condvar::new(),
            done: Condvar::new(),
            file: Mutex::new(file),
            capacity: half,
            wake_at: WAKE_AT.min(half / 4),
            policy,
            fsync_every,
            dropped_total: AtomicU64::new(0),
            lost_total: AtomicU64::new(0),
            failed_writes: AtomicU64::new(0),
            pending_bytes: AtomicU64::new(0),
            pending_lines: AtomicU64::new(0),
            last_report: Mutex::new(None),
            path,
            spool,
        });
        let worker = shared.clone();
        std::thread::Builder::new()
            .name("prodlog-writer".into())
            .spawn(move || worker.run())?;
        let mut all = lock(&WRITERS);
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&shared));
        Ok(Writer { shared })
    }

    /// Queues one or more whole lines (each ending in `\n`).
    pub fn write_line(&self, line: &[u8]) {
        self.write_line_numbered(line);
    }

    /// Queues one whole line, as [`write_line`](Self::write_line), and returns its number
    /// when the writer [spools](crate::WriterBuilder::spool) and the line was queued (not
    /// dropped, not written straight through at shutdown).
    pub fn write_line_numbered(&self, line: &[u8]) -> Option<u64> {
        let s = &*self.shared;
        let mut st = lock(&s.state);
        loop {
            if st.frozen {
                // The process is about to end (see `shutdown_all`): this line is never
                // reported as logged.
                drop(st);
                loop {
                    std::thread::park();
                }
            }
            if st.stopped {
                drop(st);
                s.write_through(line);
                return None;
            }
            if st.stop && !st.released {
                // Shutting down: the queue only shrinks now, and this line is written
                // straight through once it is empty — after this thread's earlier lines.
                st = s.done.wait(st).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            if st.queue.len() + line.len() <= s.capacity || st.queue.is_empty() {
                st.queue.extend_from_slice(line);
                let number = match s.spool {
                    Some(_) => {
                        let n = st.next_line;
                        st.next_line += memchr::memchr_iter(b'\n', line).count() as u64;
                        Some(n)
                    }
                    None => None,
                };
                if st.deep_sleep || (st.queue.len() >= s.wake_at && !st.woken) {
                    st.deep_sleep = false;
                    st.woken = true;
                    s.wake.notify_one();
                }
                return number;
            }
            if st.faulted {
                st.lost += 1;
                s.lost_total.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            match s.policy {
                QueuePolicy::Drop => {
                    st.dropped += 1;
                    s.dropped_total.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                QueuePolicy::Block => {
                    if !st.woken {
                        st.woken = true;
                        s.wake.notify_one();
                    }
                    st = s.room.wait(st).unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }

    /// The numbered lines of a writer built with
    /// [`spool`](crate::WriterBuilder::spool), for a reader that fell behind.
    pub fn spool(&self) -> Option<crate::Spool> {
        self.shared.spool.as_ref().map(|runs| crate::Spool {
            runs: runs.clone(),
            writer: Arc::downgrade(&self.shared),
        })
    }

    /// Writes everything queued so far to the file (not synced), waiting at most `timeout`.
    /// Returns `false` when the time ran out.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.shared.flush(timeout)
    }

    /// Drains the queue, stops the worker, and syncs the file, waiting at most `timeout` for
    /// the queue. Lines written afterwards go straight to the file; lines logged while it
    /// drains wait for it, then go straight to the file too.
    pub fn shutdown(&self, timeout: Duration) -> io::Result<()> {
        self.shutdown_inner(timeout, false)
    }

    fn shutdown_inner(&self, timeout: Duration, ending: bool) -> io::Result<()> {
        let s = &*self.shared;
        let deadline = Instant::now().checked_add(timeout);
        let lost_before = s.lost_total.load(Ordering::Relaxed);
        let drained = s.flush(timeout);
        let mut st = lock(&s.state);
        st.stop = true;
        st.released = false;
        st.give_up_at = deadline;
        s.wake.notify_one();
        while !st.stopped {
            let left = deadline.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(Instant::now())
            });
            if left.is_zero() {
                break;
            }
            st = s
                .done
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let stopped = st.stopped;
        if !stopped && !ending {
            st.released = true;
            s.done.notify_all();
        }
        drop(st);
        if !stopped && ending {
            return Err(self.freeze(timeout));
        }
        // A worker that did not stop in time may be in a long rotation holding the file: its
        // sync is skipped rather than waited for.
        let until = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        if stopped {
            lock(&s.file).close(until)?;
        } else if let Ok(mut file) = s.file.try_lock() {
            file.close(until)?;
        }
        let lost = s.lost_total.load(Ordering::Relaxed) - lost_before;
        if drained && stopped && lost == 0 {
            Ok(())
        } else if stopped {
            Err(io::Error::other(format!(
                "{lost} lines could not be written to {} (the disk kept failing)",
                s.path.display()
            )))
        } else {
            let queued = lock(&s.state).queue.iter().filter(|&&b| b == b'\n').count();
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "log queue of {} not drained in {timeout:?}: {queued} lines still queued",
                    s.path.display()
                ),
            ))
        }
    }

    /// The process is ending and the queue was not written in time: waits for the batch
    /// being written (one write; the worker holds the file while it writes), then counts
    /// what is queued or held for a retry as lost and stops every later write. Callers
    /// that log from now on wait for the end of the process, so every line whose call
    /// returned is in the file or in this count.
    fn freeze(&self, timeout: Duration) -> io::Error {
        let s = &*self.shared;
        let file = lock(&s.file);
        let mut st = lock(&s.state);
        st.frozen = true;
        let left = st.queue.iter().filter(|&&b| b == b'\n').count() as u64
            + s.pending_lines.load(Ordering::Relaxed);
        st.queue.clear();
        s.lost_total.fetch_add(left, Ordering::Relaxed);
        s.done.notify_all();
        s.wake.notify_one();
        drop(st);
        drop(file);
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "log queue of {} not drained in {timeout:?}: {left} lines still queued, lost as the process ends",
                s.path.display()
            ),
        )
    }

    /// The file written now: the configured path, or this process's own
    /// [`per_process_path`](crate::per_process_path) after a fall-back (the shared lock
    /// was held by another process past its wait, or the name held a symlink, a FIFO or
    /// another user's file).
    pub fn path(&self) -> PathBuf {
        lock(&self.shared.file).path().to_owned()
    }

    /// The writer's counters.
    pub fn stats(&self) -> Stats {
        let s = &*self.shared;
        let queued = lock(&s.state).queue.len() as u64;
        Stats {
            dropped: s.dropped_total.load(Ordering::Relaxed),
            lost: s.lost_total.load(Ordering::Relaxed),
            failed_writes: s.failed_writes.load(Ordering::Relaxed),
            held_bytes: queued + s.pending_bytes.load(Ordering::Relaxed),
        }
    }
}

/// Flushes every live writer of the process, each waiting at most `timeout` (the panic
/// hook's and `std::process::exit` callers' way to keep the last lines).
pub fn flush_all(timeout: Duration) {
    let writers: Vec<Arc<Shared>> = lock(&WRITERS).iter().filter_map(Weak::upgrade).collect();
    for w in writers {
        w.flush(timeout);
    }
}

/// Drains and stops every live writer of the process, each waiting at most `timeout`:
/// lines written afterwards go straight to their file before `write_line` returns. For a
/// process about to end (a signal) only: a queue that cannot be written in time is counted
/// as lost ([`Stats::lost`], stderr), and callers that log after that wait for the end —
/// so every line whose call returned is on disk or counted, never neither.
pub fn shutdown_all(timeout: Duration) {
    let writers: Vec<Arc<Shared>> = lock(&WRITERS).iter().filter_map(Weak::upgrade).collect();
    for shared in writers {
        let writer = Writer { shared };
        if let Err(e) = writer.shutdown_inner(timeout, true) {
            crate::safe::warn(&e.to_string());
        }
    }
}

impl Shared {
    fn flush(&self, timeout: Duration) -> bool {
        let mut st = lock(&self.state);
        if st.stopped {
            return lock(&self.file).flush().is_ok();
        }
        st.flush_requested += 1;
        let target = st.flush_requested;
        st.deep_sleep = false;
        self.wake.notify_one();
        let deadline = Instant::now().checked_add(timeout);
        while st.flush_done < target && !st.stopped {
            let left = deadline.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(Instant::now())
            });
            if left.is_zero() {
                return false;
            }
            st = self
                .done
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// After shutdown: straight to the file, under its lock.
    fn write_through(&self, line: &[u8]) {
        let mut file = lock(&self.file);
        if let Err((e, _)) = file.write_lines(line) {
            self.failed(&e, 1);
        }
        let _ = file.flush();
    }

    pub(crate) fn failed(&self, e: &io::Error, waiting_lines: usize) {
        let n = self.failed_writes.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = lock(&self.last_report);
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            *last = Some(Instant::now());
            crate::safe::warn(&format!(
                "cannot write {}: {e} ({n} failed writes so far, {waiting_lines} lines waiting, {} lost); retrying",
                self.path.display(),
                self.lost_total.load(Ordering::Relaxed)
            ));
        }
    }
}
