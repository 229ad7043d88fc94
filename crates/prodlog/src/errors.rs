//! Exception boundaries: errors logged with their whole story, and a level above ERROR.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::error::Error;
use std::panic::Location;

/// Logs `err` at ERROR with its whole source chain (`error`, `error_chain`), where it was
/// logged (`location`) and, when backtraces are enabled (`RUST_BACKTRACE` or
/// `RUST_LIB_BACKTRACE`), a `backtrace`. Target `prodlog::error`.
///
/// For an `anyhow::Error`, pass `err.as_ref()`: its context chain is its source chain.
///
/// ```
/// # let _guard = prodlog::builder().from_env(false).console(prodlog::ConsoleMode::Off).init();
/// let err = std::fs::read("/no/such/file").unwrap_err();
/// prodlog::log_error(&err);
/// ```
#[track_caller]
pub fn log_error(err: &(dyn Error + 'static)) {
    let location = Location::caller();
    let backtrace = Backtrace::capture();
    if backtrace.status() == BacktraceStatus::Captured {
        tracing::error!(
            target: "prodlog::error",
            error = err,
            location = %location,
            backtrace = %backtrace,
            "{err}"
        );
    } else {
        tracing::error!(target: "prodlog::error", error = err, location = %location, "{err}");
    }
}

/// `result.log_err()?`: logs the error of a `Result` (see [`log_error`]) and passes the
/// `Result` on unchanged, so an error is never swallowed silently at a boundary.
///
/// ```
/// use prodlog::LogErr;
///
/// fn load() -> std::io::Result<Vec<u8>> {
///     std::fs::read("/no/such/file").log_err()
/// }
/// assert!(load().is_err());
/// ```
pub trait LogErr {
    /// Logs the error, if any, and returns `self`.
    fn log_err(self) -> Self;
}

impl<T, E: Error + 'static> LogErr for Result<T, E> {
    #[track_caller]
    fn log_err(self) -> Self {
        if let Err(e) = &self {
            log_error(e);
        }
        self
    }
}

/// Logs "the application cannot continue": an ERROR event with `severity = "CRITICAL"`,
/// which prodlog's JSON and console show as level `CRITICAL` (and the error-only file
/// receives, as every ERROR). Same syntax as `tracing::error!`.
///
/// ```
/// # let _guard = prodlog::builder().from_env(false).console(prodlog::ConsoleMode::Off).init();
/// prodlog::critical!(db = "orders", "database unreachable after 5 retries: shutting down");
/// prodlog::critical!(target: "app::db", "replica set lost");
/// ```
#[macro_export]
macro_rules! critical {
    (target: $target:expr, $($rest:tt)+) => {
        $crate::__tracing::error!(target: $target, severity = "CRITICAL", $($rest)+)
    };
    ($($rest:tt)+) => {
        $crate::__tracing::error!(severity = "CRITICAL", $($rest)+)
    };
}

thread_local! {
    static IN_HOOK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Logs a panic as an ERROR event (target `panic`) with its message, location, thread and
/// backtrace, inside the panicking thread's spans (so with its request context).
pub(crate) fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    // A panic inside the logging machinery must not recurse into it.
    if IN_HOOK.try_with(|h| h.replace(true)).unwrap_or(true) {
        return;
    }
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a non-string panic payload)".to_owned());
    let location = info.location().map_or_else(
        || "unknown".to_owned(),
        |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
    );
    let thread = std::thread::current();
    let backtrace = Backtrace::force_capture();
    tracing::error!(
        target: "panic",
        panic = true,
        thread = thread.name().unwrap_or("<unnamed>"),
        location = %location,
        backtrace = %backtrace,
        "panicked: {message}"
    );
    let _ = IN_HOOK.try_with(|h| h.set(false));
}
