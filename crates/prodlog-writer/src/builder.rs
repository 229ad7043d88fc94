//! Configuring a [`Writer`].

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::roll::{RollOptions, Rotation};
use crate::writer::{QueuePolicy, Writer, MAX_BACKUPS, MAX_QUEUE_BYTES};

/// Configures a [`Writer`].
///
/// # Default values
///
/// | setting | default |
/// |---|---|
/// | [`max_bytes`](Self::max_bytes) | 100 MiB |
/// | [`max_backups`](Self::max_backups) | 10 |
/// | [`max_total_bytes`](Self::max_total_bytes) | none |
/// | [`rotation`](Self::rotation) | [`Rotation::Never`] (size only), in UTC ([`local_time`](Self::local_time) for local) |
/// | [`compress`](Self::compress) | `false` |
/// | [`queue_bytes`](Self::queue_bytes) | 8 MiB |
/// | [`policy`](Self::policy) | [`QueuePolicy::Block`] |
/// | [`fsync_every`](Self::fsync_every) | none (fsync at shutdown only) |
/// | [`file_mode`](Self::file_mode) | `0o640` (directory `0o750`) |
#[derive(Clone)]
#[must_use]
pub struct WriterBuilder {
    path: PathBuf,
    roll: RollOptions,
    queue_bytes: usize,
    policy: QueuePolicy,
    fsync_every: Option<Duration>,
    clock: Arc<dyn Clock>,
    spool: bool,
}

impl std::fmt::Debug for WriterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterBuilder")
            .field("path", &self.path)
            .field("roll", &self.roll)
            .field("queue_bytes", &self.queue_bytes)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl WriterBuilder {
    /// Starts a new file when the current one would exceed `bytes` (`None`: never by size).
    pub fn max_bytes(mut self, bytes: Option<u64>) -> Self {
        self.roll.max_bytes = bytes.filter(|b| *b > 0);
        self
    }

    /// Keeps exactly this many rotated files (`app.log.1` newest … `app.log.N`), at most
    /// [`MAX_BACKUPS`]. Each rotation renames every backup (logrotate's numbering), so
    /// thousands of small backups make rotation, and a shutdown that waits for it, slow.
    pub fn max_backups(mut self, n: usize) -> Self {
        self.roll.max_backups = n.min(MAX_BACKUPS);
        self
    }

    /// Also deletes the oldest backups while all of them together exceed `bytes`.
    pub fn max_total_bytes(mut self, bytes: Option<u64>) -> Self {
        self.roll.max_total_bytes = bytes;
        self
    }

    /// Starts a new file at every minute, hour or day boundary.
    pub fn rotation(mut self, rotation: Rotation) -> Self {
        self.roll.rotation = rotation;
        self
    }

    /// Time boundaries in local time instead of UTC. Needs the `local-time` feature;
    /// without it the boundaries stay in UTC (prodlog's preset reports the setting as an
    /// init problem).
    pub fn local_time(mut self, local: bool) -> Self {
        self.roll.local_time = local && cfg!(feature = "local-time");
        self
    }

    /// Gzips each rotated file on a background thread (`app.log.1.gz`). Needs the
    /// `compression` feature; without it, backups stay uncompressed (prodlog's preset
    /// reports the setting as an init problem).
    pub fn compress(mut self, on: bool) -> Self {
        self.roll.compress = on && cfg!(feature = "compression");
        self
    }

    /// The most bytes of lines held in memory: half queued by callers, half in the batch
    /// being written. Between 4 KiB and [`MAX_QUEUE_BYTES`].
    pub fn queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes.clamp(4096, MAX_QUEUE_BYTES);
        self
    }

    /// What callers do when the queue is full.
    pub fn policy(mut self, policy: QueuePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Syncs the file to disk at most this often while lines are written.
    pub fn fsync_every(mut self, every: Option<Duration>) -> Self {
        self.fsync_every = every;
        self
    }

    /// Permission bits of the files this writer creates (the lock file and backups too);
    /// the directory, when it must be created, gets `x` where the mode has `r` (0640 →
    /// 0750). The process umask still applies. A file that exists keeps its mode, and
    /// rotated or gzipped backups keep the mode of the file they were.
    pub fn file_mode(mut self, mode: u32) -> Self {
        self.roll.mode = mode & 0o7777;
        self
    }

    /// Numbers the lines and records where they land, so that a reader that fell behind
    /// (a network destination whose collector was away) reads them back from the files:
    /// see [`Writer::spool`] and [`Spool`](crate::Spool). Costs a count of each line's
    /// newlines on the caller and a small record per write on the worker.
    pub fn spool(mut self, on: bool) -> Self {
        self.spool = on;
        self
    }

    /// The clock for time rotation (tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }
    /// Opens (creating the directory if needed) and starts the worker. Fails when the
    /// directory or the file cannot be created or opened.
    pub fn build(self) -> io::Result<Writer> {
        Writer::start(
            self.path,
            self.roll,
            self.clock,
            self.queue_bytes,
            self.policy,
            self.fsync_every,
            self.spool,
        )
    }
}

impl Writer {
    /// A builder for a writer of the file at `path` (the current file; backups are
    /// `path.1`, `path.2`, …).
    pub fn builder(path: impl Into<PathBuf>) -> WriterBuilder {
        WriterBuilder {
            path: path.into(),
            roll: RollOptions {
                max_bytes: Some(100 * 1024 * 1024),
                max_backups: 10,
                max_total_bytes: None,
                rotation: Rotation::Never,
                local_time: false,
                compress: false,
                mode: 0o640,
            },
            queue_bytes: 8 * 1024 * 1024,
            policy: QueuePolicy::Block,
            fsync_every: None,
            clock: Arc::new(SystemClock),
            spool: false,
        }
    }
}
