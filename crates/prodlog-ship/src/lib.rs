//! Network log destinations for prodlog: OTLP/HTTP export, syslog (RFC 5424) and
//! journald, each behind a bounded queue that never blocks the caller.
//!
//! A [`Shipper`] is a [`LineSink`]: it receives the JSON lines the files get — already
//! redacted, with the request context of the spans, in any of the
//! [`JsonSchema`](prodlog_format::JsonSchema)s — with the event's source location, and
//! its own thread translates them into the destination's protocol and sends them. The
//! line is formatted once for the files and every destination. So every destination is redacted and
//! carries the context by construction, has its own level (the level of the sink in the
//! [`JsonLayer`](prodlog_format::JsonLayer)), and costs the caller one copy into a queue.
//!
//! ```no_run
//! use prodlog_format::JsonLayer;
//! use tracing_subscriber::prelude::*;
//! use tracing::level_filters::LevelFilter;
//!
//! let otlp = prodlog_ship::Otlp::new("http://127.0.0.1:4318").service_name("billing").build()?;
//! let subscriber = tracing_subscriber::registry()
//!     .with(prodlog_context::ContextLayer::new())
//!     .with(JsonLayer::default().with_sink(LevelFilter::INFO, otlp.clone()));
//! tracing::subscriber::with_default(subscriber, || tracing::info!(order = 7, "paid"));
//! otlp.shutdown(std::time::Duration::from_secs(5));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Failures
//!
//! - **Never blocking.** Callers append to a queue bounded in bytes. When it is full, an
//!   OTLP destination whose log file is its spool ([`Spooled`], [`Otlp::spool`]) reads the
//!   lines back from the file instead (`spool.rs`: each line once, in order, and a
//!   checkpoint across restarts); otherwise the line is dropped and counted
//!   ([`Stats::dropped`]), and the count is sent in-band as a WARN record (`prodlog dropped
//!   N lines for …`) as soon as the destination takes lines again.
//! - **An unreachable destination** is retried with backoff (100 ms doubling to 5 s, with
//!   jitter), or after the `Retry-After` it asked for; the lines wait meanwhile. Failures
//!   are reported on stderr at most once a minute (and in [`Shipper::last_error`]), and
//!   again when sending resumes. The OTLP policy is the specification's: 429, 502, 503 and
//!   504 are retried; any other answer means the collector refused the data, and the batch
//!   is counted in [`Stats::rejected`] rather than retried.
//! - **TLS** (`https://`): always verified; a refused certificate is an error naming the
//!   endpoint and why (`tls.rs`).
//! - **Shutdown** ([`Shipper::shutdown`], or the preset's guard) sends what is queued,
//!   waiting at most the timeout; lines still unsent are counted as dropped and reported.
//!
//! # Design, and why not the OpenTelemetry SDK
//!
//! The OTLP issue asked for the SDK's batching (`opentelemetry_sdk`'s
//! `BatchLogProcessor` with `opentelemetry-otlp`). It was set aside for three reasons:
//! the SDK builds an owned `LogRecord` from each event on the caller's thread (the
//! attributes are allocated there); its processor drops on a full queue without a count an
//! application can read, where prodlog reads the line back from the log file or counts it; and its HTTP exporters need
//! `reqwest` or `hyper` with a tokio runtime. Here the caller pays what a file line costs
//! (one copy into the queue, see `docs/benchmarks.md`) and the protobuf is built on the
//! sending thread from the redacted line.
//!
//! # Dependencies
//!
//! `prodlog-format` (the [`LineSink`] seam and the schema of the lines), `prodlog-writer`
//! (the file as the spool), `serde_json` (reading the lines back on the sending thread),
//! `rustix` (journald: `memfd_create`, seals and `SCM_RIGHTS`, which std cannot send; the
//! checkpoint's `flock`). Feature `tls` (default): `rustls` with the `ring` provider,
//! `webpki-roots` (Mozilla's roots, compiled in) and `rustls-native-certs` (the system's) —
//! a blocking TLS stream under the hand-written POST, without an async runtime or OpenSSL.
//! Feature `gzip` (default): `flate2` (`OTEL_EXPORTER_OTLP_COMPRESSION`). The protobuf
//! messages (`proto.rs`) and the HTTP/1.1 POST (`http.rs`) are written here: together a few
//! hundred lines, against `prost` + `opentelemetry-proto` + an HTTP client stack
//! (`reqwest` or `hyper`, tokio, and their TLS stack).

mod http;
mod journald;
mod line;
mod otlp;
mod proto;
mod queue;
mod retry;
mod spool;
mod syslog;
#[cfg(feature = "tls")]
mod tls;

use std::io;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

pub use journald::{Journald, JOURNALD_SOCKET};
pub use otlp::{Compression, Otlp, DEFAULT_OTLP_ENDPOINT};
use prodlog_format::LineSink;
/// The spool of a log file (re-exported from `prodlog-writer`).
pub use prodlog_writer::Spool;
pub use syslog::{Syslog, SD_ID};

/// Counters of one destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Lines the destination accepted.
    pub sent: u64,
    /// Lines dropped: the queue was full, or they were still unsent at shutdown.
    pub dropped: u64,
    /// Attempts to send that failed (and were retried).
    pub failed_sends: u64,
    /// Lines the destination refused (an HTTP 4xx answer): not retried.
    pub rejected: u64,
}

/// A network destination: a [`LineSink`] with a bounded queue and a sending thread.
/// Clones share the destination.
#[derive(Clone)]
pub struct Shipper {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<queue::Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Shipper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shipper")
            .field("destination", &self.inner.shared.name)
            .field("stats", &self.stats())
            .finish()
    }
}

fn registry() -> &'static Mutex<Vec<Weak<Inner>>> {
    static ALL: OnceLock<Mutex<Vec<Weak<Inner>>>> = OnceLock::new();
    ALL.get_or_init(Default::default)
}

impl Shipper {
    fn start(
        transport: Box<dyn queue::Transport>,
        settings: queue::QueueSettings,
        feeder: Option<spool::Feeder>,
    ) -> io::Result<Shipper> {
        let (shared, handle) = queue::start(transport, settings, feeder)?;
        let inner = Arc::new(Inner {
            shared,
            thread: Mutex::new(Some(handle)),
        });
        let mut all = registry().lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&inner));
        Ok(Shipper { inner })
    }

    /// `otlp http://…`, `syslog udp://…`, `journald /run/…`.
    pub fn name(&self) -> &str {
        &self.inner.shared.name
    }

    /// The destination's counters.
    pub fn stats(&self) -> Stats {
        self.inner.shared.stats()
    }

    /// Why the last attempt to send failed (a refused certificate, a connection refused,
    /// an HTTP 503…), until an attempt succeeds: what `prodlog check` and a test show.
    pub fn last_error(&self) -> Option<String> {
        self.inner
            .shared
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until every line queued so far is sent, at most `timeout`; false when some
    /// are still waiting.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.inner.shared.flush(timeout)
    }

    /// Stops taking lines (later ones are dropped and counted), sends what is queued (at
    /// most `timeout`) and stops the thread. False when lines were left unsent.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        self.inner.shutdown(timeout)
    }
}

impl Inner {
    fn shutdown(&self, timeout: Duration) -> bool {
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match handle {
            Some(h) => queue::close(&self.shared, h, timeout),
            None => true,
        }
    }
}

impl LineSink for Shipper {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        self.inner.shared.push(line, None, None);
        Ok(())
    }

    fn write_line_at(&self, line: &[u8], meta: &tracing_core::Metadata<'_>) -> io::Result<()> {
        let source = meta.file().zip(meta.line());
        self.inner.shared.push(line, source, None);
        Ok(())
    }
}

/// A log file and a destination that uses it as its spool, as one [`LineSink`]: each line
/// goes to the file (at the file's level) and then, with the number the file gave it, to
/// the destination (at its own level). Build the writer with
/// [`spool(true)`](prodlog_writer::WriterBuilder::spool) and the destination with
/// [`Otlp::spool`]; the preset does both when OTLP export and files are on.
#[derive(Debug, Clone)]
pub struct Spooled {
    file: prodlog_writer::Writer,
    file_level: tracing_core::LevelFilter,
    shipper: Shipper,
    ship_level: tracing_core::LevelFilter,
}

impl Spooled {
    /// The file at `file_level`, the destination at `ship_level` (give the sink the more
    /// verbose of the two).
    pub fn new(
        file: prodlog_writer::Writer,
        file_level: tracing_core::LevelFilter,
        shipper: Shipper,
        ship_level: tracing_core::LevelFilter,
    ) -> Spooled {
        Spooled {
            file,
            file_level,
            shipper,
            ship_level,
        }
    }
}

impl LineSink for Spooled {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let number = self.file.write_line_numbered(line);
        self.shipper.inner.shared.push(line, None, number);
        Ok(())
    }

    fn write_line_at(&self, line: &[u8], meta: &tracing_core::Metadata<'_>) -> io::Result<()> {
        let number = if self.file_level >= *meta.level() {
            self.file.write_line_numbered(line)
        } else {
            None
        };
        if self.ship_level >= *meta.level() {
            let source = meta.file().zip(meta.line());
            self.shipper.inner.shared.push(line, source, number);
        }
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        self.file.flush(std::time::Duration::from_secs(5));
        Ok(())
    }
}

fn all() -> Vec<Arc<Inner>> {
    registry()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .collect()
}

/// Flushes every destination of this process (the preset calls it on panic), at most
/// `timeout` each.
pub fn flush_all(timeout: Duration) {
    for inner in all() {
        inner.shared.flush(timeout);
    }
}

/// Shuts every destination of this process down (the preset calls it on SIGTERM and
/// SIGINT, before the signal ends the process): lines logged from then on are counted,
/// not queued, so the queue drains even while threads go on logging; what is queued is
/// sent within `timeout`. Each destination that lost lines says so on stderr.
pub fn shutdown_all(timeout: Duration) {
    for inner in all() {
        // A shutdown that runs out of time says how many lines it counted as dropped.
        inner.shutdown(timeout);
        let late = inner
            .shared
            .after_close
            .load(std::sync::atomic::Ordering::Relaxed);
        if late > 0 {
            let _ = writeln!(
                std::io::stderr(),
                "prodlog: {}: {late} lines logged during shutdown were not sent",
                inner.shared.name
            );
        }
    }
}
