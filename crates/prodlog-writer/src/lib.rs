//! A rotating, non-blocking log file writer that never silently loses a line.
//!
//! ```
//! use prodlog_writer::{QueuePolicy, Rotation, Writer};
//! use std::time::Duration;
//!
//! let dir = tempfile::tempdir()?;
//! let writer = Writer::builder(dir.path().join("app.log"))
//!     .max_bytes(Some(100 * 1024 * 1024))
//!     .max_backups(10)
//!     .rotation(Rotation::Daily)
//!     .policy(QueuePolicy::Block)
//!     .build()?;
//! writer.write_line(b"{\"message\":\"hello\"}\n");
//! writer.shutdown(Duration::from_secs(5))?; // drains, stops the worker, fsyncs
//! assert!(std::fs::read_to_string(dir.path().join("app.log"))?.contains("hello"));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! With `tracing_subscriber::fmt`, a [`Writer`] is a `MakeWriter`:
//! `tracing_subscriber::fmt().with_writer(writer.clone())`.
//!
//! # How it works, and why not `tracing_appender::non_blocking`
//!
//! Callers append each line to one queue — a `Vec<u8>` behind a mutex, bounded in
//! **bytes** — and return; the worker thread swaps the whole queue out and writes it with
//! one `write` call, so a burst of lines costs one syscall instead of one per line. The
//! two buffers are reused, so a steady state allocates nothing.
//!
//! `tracing_appender::non_blocking` was the reference: it sends each line as its own
//! `Vec<u8>` through a channel bounded in *lines* (so memory depends on line size), writes
//! one line per syscall, and in lossy mode only counts drops in memory, where nobody sees
//! them. Those are the three things this crate exists to do differently, so it is written
//! from scratch rather than built on it.
//!
//! # Guarantees
//!
//! - **Whole lines.** Rotation happens between lines. When the disk takes only part of a
//!   batch (full), the whole lines it took stay and only the line cut short is truncated
//!   away; the rest waits for room. A file found ending mid-line when opened (a process
//!   killed mid-write, power loss) has the fragment cut, and the cut is reported.
//! - **Several processes, one file.** Every write, rotation and backup rename happens under
//!   an exclusive `flock` on the file's directory; a process that finds the file
//!   rotated by another reopens it; the gzip thread finds its backup by inode. Replicas
//!   sharing a directory and name lose, tear and duplicate nothing, and each backup is
//!   numbered once. (The lock is released by the kernel when a process dies.)
//! - **Hostile directories.** Every file is opened without following symlinks and checked
//!   on its descriptor: a symlink, a FIFO, a device, a file of another user or with other
//!   hard links at a name the writer uses is refused and never written, truncated or
//!   chmodded; gzip temporaries have unpredictable names and are created with `O_EXCL`. The
//!   shared lock is tried for at most 2 s. In either case the writer stops sharing and
//!   falls back to [`per_process_path`] (`app.<pid>.log`), says so on stderr and in that
//!   file, and keeps writing ([`Writer::path`] tells which file). A directory others may
//!   write to without the sticky bit is warned about. See `safe.rs`.
//! - **Modes.** Files are created with [`file_mode`](WriterBuilder::file_mode)
//!   (`0640`), a directory the writer creates with `x` added (`0750`); backups keep their
//!   file's mode.
//! - **Bounded memory.** The lines queued and the batch being written together hold at most
//!   [`queue_bytes`](WriterBuilder::queue_bytes) (half each).
//! - **No silent loss.** With [`QueuePolicy::Block`] a full queue makes callers wait. With
//!   [`QueuePolicy::Drop`] they never wait; each dropped line is counted and the count is
//!   written into the log as soon as there is room: `"prodlog dropped 1234 lines"`.
//! - **Faults.** A failing write (ENOSPC, EIO) never panics: the lines wait in memory and
//!   are retried every 200 ms, each retry writing the whole lines there is room for; while
//!   the disk fails, callers neither wait nor grow memory — lines that do not fit are
//!   counted and reported in the log once writing works again. Failures are reported on
//!   stderr at most once a minute, and again when writing resumes. At shutdown a failing
//!   disk is retried until the timeout; what is still unwritten is counted in
//!   [`Stats::lost`], on stderr and in `shutdown`'s error.
//! - **Outside tools.** A file moved or deleted (logrotate `create`) is reopened under its
//!   name; a file truncated in place (`copytruncate`) is written at its new end (append
//!   mode: no hole of NULs).
//! - **Shutdown.** [`Writer::shutdown`] drains with a timeout and fsyncs;
//!   [`flush_all`] (for a panic hook or `std::process::exit`) pushes every writer's queue to
//!   the file; [`shutdown_all`] (for a signal about to end the process) drains and stops
//!   them all, so later lines are written before their call returns — or, when the queue
//!   cannot be written in time, counts it as lost and holds later callers until the
//!   process ends, so a line whose call returned is in the file or in the count.
//! - **Memory.** Both buffers are reserved once at their bound by the thread that builds
//!   the writer and never regrown by callers: peak RSS under an 8-thread flood through the
//!   preset with the 8 MiB queue is about 20 MB (it was 90–97 MB when caller threads grew
//!   the queue in their own malloc arenas).
//!
//! # Rotation and names
//!
//! `app.log` is always the current file; `app.log.1` is the newest backup, `app.log.N` the
//! oldest; with compression `app.log.1.gz`. This is logrotate's scheme: shippers that tail
//! `app.log` by name (Filebeat, Vector, Fluent Bit, Promtail) follow the renamed file to its
//! end and pick up the new one, and "the last N files" are easy to find. Exactly
//! `max_backups` backups are kept, also across restarts (extra ones are deleted at start).
//!
//! # Dependencies
//!
//! `memchr` (counting the lines of a spooling writer), `flate2` (gzip of rotated files), `chrono` with the `local-time` feature (local-time boundaries; UTC needs no library),
//! `tracing-subscriber` (the `MakeWriter` trait).

mod backups;
mod builder;
mod clock;
mod lock;
mod make_writer;
mod roll;
mod safe;
mod spool;
mod time;
mod worker;
mod writer;

pub use builder::WriterBuilder;
pub use clock::{Clock, ManualClock, SystemClock};
pub use make_writer::LineWriter;
pub use roll::{create_dir, Rotation};
pub use safe::{is_refused, per_process_path};
pub use spool::{Position, Spool};
pub use writer::{
    flush_all, shutdown_all, QueuePolicy, Stats, Writer, MAX_BACKUPS, MAX_QUEUE_BYTES,
};
