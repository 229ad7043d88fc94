//! The guard `init()` returns.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::Duration;

use prodlog_filter::{FileWatch, FilterHandle};
use prodlog_writer::Writer;
use tracing_core::LevelFilter;
use tracing_log::AsLog;

/// Flushes and closes prodlog's destinations when dropped.
///
/// Hold it for the life of the program — `let _guard = prodlog::init();` at the top of
/// `main`. Do **not** write `let _ = prodlog::init();`: that drops the guard at once — the
/// file queues are drained and their workers stopped, and lines logged later are written
/// synchronously (slower).
#[must_use = "the guard flushes the log files when dropped: bind it with `let _guard = …` in main"]
#[derive(Debug)]
pub struct Guard {
    files: Vec<Writer>,
    shutdown_timeout: Duration,
    stdout: bool,
    filter: Option<FilterHandle>,
    watch: Option<FileWatch>,
    ceiling: LevelFilter,
    log_bridge: bool,
    latency_log: Option<prodlog_timing::ReportThread>,
    signal_flush: bool,
    rate_limit: Option<prodlog_limit::RateLimit>,
    #[cfg(feature = "network")]
    shippers: Vec<prodlog_ship::Shipper>,
    recorder: Option<prodlog_format::FlightRecorder>,
    pub(crate) panic_stderr: bool,
}

/// A guard with nothing to flush (what `init()` returns when it installs nothing).
impl Default for Guard {
    fn default() -> Self {
        Guard::new(Vec::new(), Duration::from_secs(5), false)
    }
}

impl Guard {
    pub(crate) fn new(files: Vec<Writer>, shutdown_timeout: Duration, stdout: bool) -> Self {
        Guard {
            files,
            shutdown_timeout,
            stdout,
            filter: None,
            watch: None,
            ceiling: LevelFilter::OFF,
            log_bridge: false,
            latency_log: None,
            signal_flush: false,
            rate_limit: None,
            #[cfg(feature = "network")]
            shippers: Vec::new(),
            recorder: None,
            panic_stderr: true,
        }
    }

    pub(crate) fn with_rate_limit(mut self, limit: prodlog_limit::RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// The rate limiter's counters (`None` from a guard whose `init()` installed nothing).
    pub fn rate_limit(&self) -> Option<prodlog_limit::Stats> {
        self.rate_limit
            .as_ref()
            .map(prodlog_limit::RateLimit::stats)
    }

    pub(crate) fn with_recorder(
        mut self,
        recorder: Option<prodlog_format::FlightRecorder>,
    ) -> Self {
        self.recorder = recorder;
        self
    }

    /// The flight recorder's counters (`None` when it is off): events recorded, written
    /// (their request failed or was slow), discarded, dropped by a bound, and requests
    /// refused for the budget.
    pub fn recorder(&self) -> Option<prodlog_format::RecordStats> {
        self.recorder
            .as_ref()
            .map(prodlog_format::FlightRecorder::stats)
    }

    #[cfg(feature = "network")]
    pub(crate) fn with_shippers(mut self, shippers: Vec<prodlog_ship::Shipper>) -> Self {
        self.shippers = shippers;
        self
    }

    /// The network destinations (OTLP, syslog, journald) and their counters: lines sent,
    /// dropped, refused (feature `network`).
    #[cfg(feature = "network")]
    pub fn destinations(&self) -> Vec<(String, prodlog_ship::Stats)> {
        self.shippers
            .iter()
            .map(|s| (s.name().to_owned(), s.stats()))
            .collect()
    }

    pub(crate) fn with_panic_stderr(mut self, on: bool) -> Self {
        self.panic_stderr = on;
        self
    }

    pub(crate) fn with_signal_flush(mut self, on: bool) -> Self {
        self.signal_flush = on;
        self
    }

    /// SIGTERM/SIGINT flush the files first (see `signals`), when asked and where the
    /// signals still have their default disposition.
    pub(crate) fn install_signal_flush(&self) {
        #[cfg(unix)]
        if self.signal_flush {
            crate::signals::install(self.shutdown_timeout);
        }
    }

    pub(crate) fn with_latency_log(mut self, log: Option<prodlog_timing::ReportThread>) -> Self {
        self.latency_log = log;
        self
    }

    pub(crate) fn with_filter(
        mut self,
        filter: FilterHandle,
        watch: Option<FileWatch>,
        ceiling: LevelFilter,
        log_bridge: bool,
    ) -> Self {
        self.filter = Some(filter);
        self.watch = watch;
        self.ceiling = ceiling;
        self.log_bridge = log_bridge;
        self
    }

    /// Routes `log` records through the installed subscriber, with `log`'s own max level
    /// kept at the filter's, so a disabled `log::debug!` stops in the `log` crate.
    pub(crate) fn bridge_log(&self) {
        let Some(handle) = self.filter.as_ref().filter(|_| self.log_bridge) else {
            return;
        };
        let ceiling = self.ceiling;
        let max = handle.filter().max_level().min(ceiling);
        let installed = tracing_log::LogTracer::builder()
            .with_max_level(max.as_log())
            .init()
            .map(|()| LOG_TRACER_INSTALLED.store(true, Ordering::Relaxed));
        // A capture of `prodlog::testing` earlier in the process installed the same bridge.
        let installed = installed.or_else(|e| {
            if LOG_TRACER_INSTALLED.load(Ordering::Relaxed) {
                log::set_max_level(max.as_log());
                Ok(())
            } else {
                Err(e)
            }
        });
        match installed {
            Ok(()) => handle
                .filter()
                .on_change(move |max| log::set_max_level(max.min(ceiling).as_log())),
            Err(_) => drop(writeln!(std::io::stderr(),
                "prodlog: a `log` logger is already set; records of the `log` crate go there, not through prodlog"
            )),
        }
    }

    /// The handle that changes the level directives of prodlog's outputs while the program
    /// runs (`None` from a guard whose `init()` installed nothing):
    ///
    /// ```
    /// let guard = prodlog::builder().from_env(false).init();
    /// if let Some(levels) = guard.filter() {
    ///     levels.set_directives("info,my_app::db=debug").expect("valid directives");
    /// }
    /// ```
    pub fn filter(&self) -> Option<&FilterHandle> {
        self.filter.as_ref()
    }

    /// Pushes every queued line to its file now (for example before `std::process::exit`,
    /// which skips destructors), waiting at most the shutdown timeout.
    pub fn flush(&self) {
        for f in &self.files {
            if !f.flush(self.shutdown_timeout) {
                let _ = writeln!(
                    std::io::stderr(),
                    "prodlog: a log file did not flush within {:?}",
                    self.shutdown_timeout
                );
            }
        }
        #[cfg(feature = "network")]
        for s in &self.shippers {
            if !s.flush(self.shutdown_timeout) {
                let _ = writeln!(
                    std::io::stderr(),
                    "prodlog: {} did not flush within {:?}",
                    s.name(),
                    self.shutdown_timeout
                );
            }
        }
        if self.stdout {
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // The last latency report and the pending summaries go out before the files close.
        drop(self.latency_log.take());
        if let Some(limit) = &self.rate_limit {
            limit.flush();
        }
        drop(self.watch.take());
        // Requests still open that already failed are written; the rest discarded.
        if let Some(r) = &self.recorder {
            r.close_all();
        }
        for f in &self.files {
            if let Err(e) = f.shutdown(self.shutdown_timeout) {
                let _ = writeln!(std::io::stderr(), "prodlog: closing a log file failed: {e}");
            }
        }
        #[cfg(feature = "network")]
        for s in &self.shippers {
            // A shutdown that runs out of time says on stderr how many lines it dropped.
            s.shutdown(self.shutdown_timeout);
        }
        if self.stdout {
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
    }
}

/// `tracing-log`'s `LogTracer` is the `log` crate's logger (installed by `init()` or by a
/// capture of `prodlog::testing`).
pub(crate) static LOG_TRACER_INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs (once) a panic hook that logs the panic as an ERROR event (with the request
/// context of the panicking thread), pushes every log file's queue to disk, then runs the
/// hook that was there before — so the panic and the lines before it survive even when
/// the process aborts.
///
/// When the hook before was Rust's default one, prodlog prints what it would have printed
/// instead — unless `PRODLOG_PANIC_STDERR` is off (the default with a JSON console or
/// OTLP: the panic is a structured line there) — with the message through the redactor: a panic message is often built from a
/// value (`panic!("cannot connect to {url}")`), and stderr is a log like any other. An
/// application's own hook (Sentry, a custom one) runs as it was, with the message as it is.
pub(crate) fn install_panic_flush(print: bool) {
    PANIC_STDERR.store(print, std::sync::atomic::Ordering::Relaxed);
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        // `take_hook` leaves the default hook installed and hands out a new box of it each
        // time: a second box with the same address and vtable means the first was the
        // default one too (a hook of the application's is another type, or on the heap).
        let probe = std::panic::take_hook();
        #[allow(ambiguous_wide_pointer_comparisons)]
        let default = std::ptr::eq(&*previous, &*probe);
        drop(probe);
        std::panic::set_hook(Box::new(move |info| {
            crate::errors::log_panic_once(info, || {
                crate::flush();
                if default {
                    if PANIC_STDERR.load(std::sync::atomic::Ordering::Relaxed) {
                        print_redacted(info);
                    }
                } else {
                    previous(info);
                }
            });
        }));
    });
}

/// Whether the panic hook prints Rust's panic message on stderr (`PRODLOG_PANIC_STDERR`).
static PANIC_STDERR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Rust's default panic message, with the message redacted; best effort (stderr may be
/// closed or a broken pipe).
fn print_redacted(info: &std::panic::PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    let redactor = prodlog_redact::Redactor::default();
    let message = redactor.redact_text(message);
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    let location = info.location().map_or_else(String::new, |l| {
        format!(" at {}:{}:{}", l.file(), l.line(), l.column())
    });
    let backtrace = std::backtrace::Backtrace::capture();
    let tail = match backtrace.status() {
        std::backtrace::BacktraceStatus::Captured => format!("stack backtrace:\n{backtrace}"),
        _ => "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
            .to_owned(),
    };
    let _ = write!(
        std::io::stderr(),
        "\nthread '{name}' panicked{location}:\n{message}\n{tail}"
    );
}
