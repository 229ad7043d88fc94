//! Where formatted lines go.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::MakeWriter;

/// A destination for whole lines (each ends with `\n`).
///
/// Object safe, so one formatted line can be handed to several destinations of different
/// types. Any [`MakeWriter`] becomes one through [`MakeWriterSink`]; prodlog's own writers
/// implement it directly.
pub trait LineSink: Send + Sync + 'static {
    /// Writes one complete line.
    fn write_line(&self, line: &[u8]) -> io::Result<()>;
    /// Writes one complete line formatted from an event with this metadata (callsite,
    /// source file and line). A destination whose protocol has room for the source
    /// location (journald's `CODE_FILE`, OTLP's `code.file.path`) takes it from here; the
    /// default ignores it.
    fn write_line_at(&self, line: &[u8], meta: &tracing_core::Metadata<'_>) -> io::Result<()> {
        let _ = meta;
        self.write_line(line)
    }
    /// Pushes buffered lines to their destination.
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

impl<T: LineSink + ?Sized> LineSink for Arc<T> {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        (**self).write_line(line)
    }
    fn write_line_at(&self, line: &[u8], meta: &tracing_core::Metadata<'_>) -> io::Result<()> {
        (**self).write_line_at(line, meta)
    }
    fn flush(&self) -> io::Result<()> {
        (**self).flush()
    }
}

/// Standard output, one `write` per line through the locked, line-buffered `Stdout`.
///
/// A broken pipe (the reader is gone: a log shipper that died, `| head`) marks standard
/// output dead for the rest of the process: later lines are refused at once (counted by
/// the destination as lost, reported on stderr at most once a minute), never written,
/// never a panic. Rust ignores `SIGPIPE`, so the process is not killed by it either.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdoutSink;

static STDOUT_DEAD: AtomicBool = AtomicBool::new(false);
static STDERR_DEAD: AtomicBool = AtomicBool::new(false);

/// Writes `line` unless the stream is known broken; a broken pipe marks it so.
fn write_std(dead: &AtomicBool, mut out: impl Write, line: &[u8]) -> io::Result<()> {
    if dead.load(Ordering::Relaxed) {
        return Err(io::Error::new(
            io::ErrorKind::BrokenPipe,
            "the standard stream's reader is gone",
        ));
    }
    let result = out.write_all(line);
    if let Err(e) = &result {
        if e.kind() == io::ErrorKind::BrokenPipe {
            dead.store(true, Ordering::Relaxed);
        }
    }
    result
}

impl LineSink for StdoutSink {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        write_std(&STDOUT_DEAD, io::stdout().lock(), line)
    }
    fn flush(&self) -> io::Result<()> {
        io::stdout().lock().flush()
    }
}

/// Standard error.
#[derive(Debug, Default, Clone, Copy)]
pub struct StderrSink;

impl LineSink for StderrSink {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        write_std(&STDERR_DEAD, io::stderr().lock(), line)
    }
}

/// Adapts any `tracing_subscriber` [`MakeWriter`] (a closure returning a writer,
/// `std::io::stdout`, a `tracing_appender` writer, …) into a [`LineSink`].
#[derive(Debug, Clone)]
pub struct MakeWriterSink<M>(pub M);

impl<M> LineSink for MakeWriterSink<M>
where
    M: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        self.0.make_writer().write_all(line)
    }
    fn flush(&self) -> io::Result<()> {
        self.0.make_writer().flush()
    }
}

/// A sink that keeps every line in memory: for tests, and for looking at what a layer
/// writes. Clones share the same lines.
///
/// ```
/// use prodlog_format::{JsonLayer, MemorySink};
/// use tracing_subscriber::prelude::*;
///
/// let lines = MemorySink::default();
/// let subscriber = tracing_subscriber::registry().with(JsonLayer::new(lines.clone()));
/// tracing::subscriber::with_default(subscriber, || tracing::info!("hello"));
/// assert!(lines.lines()[0].contains("\"message\":\"hello\""));
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySink(Arc<std::sync::Mutex<Vec<u8>>>);

impl MemorySink {
    /// Everything written so far (invalid UTF-8 decoded lossily).
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }
}

impl LineSink for MemorySink {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(line);
        Ok(())
    }
}

/// A sink with the lowest level it admits and its own failure count.
#[derive(Clone)]
pub(crate) struct Destination {
    pub(crate) max_level: tracing_core::LevelFilter,
    pub(crate) sink: Arc<dyn LineSink>,
    pub(crate) failures: Arc<WriteFailures>,
    /// Its own key names (the layer's otherwise).
    pub(crate) schema: Option<crate::schema::JsonSchema>,
}

impl Destination {
    pub(crate) fn new(max_level: tracing_core::LevelFilter, sink: Arc<dyn LineSink>) -> Self {
        Destination {
            max_level,
            sink,
            failures: Arc::new(WriteFailures::default()),
            schema: None,
        }
    }

    #[inline]
    pub(crate) fn write(
        &self,
        level: &tracing_core::Level,
        line: &[u8],
        meta: &tracing_core::Metadata<'_>,
    ) {
        if self.max_level >= *level {
            if let Err(e) = self.sink.write_line_at(line, meta) {
                self.failures.record(&e);
            }
        }
    }
}

/// Counts failed writes of one destination and reports them on stderr, at most once a
/// minute, so a failing destination is never silent and never floods.
#[derive(Debug, Default)]
pub struct WriteFailures {
    count: AtomicU64,
    last_report_secs: AtomicU64,
}

impl WriteFailures {
    /// Lines that could not be written since the destination was created.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn record(&self, err: &io::Error) {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.last_report_secs.load(Ordering::Relaxed);
        if (last == 0 || now >= last + 60)
            && self
                .last_report_secs
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let _ = writeln!(
                std::io::stderr(),
                "prodlog: a log destination failed to write: {err} ({n} lines lost so far)"
            );
        }
    }
}
