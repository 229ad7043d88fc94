//! Exception boundaries: errors logged with their whole story, and a level above ERROR.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::error::Error;
use std::panic::Location;

/// Logs `err` at ERROR: its message as the event's `message`, its causes as
/// `error_chain` (each redacted), where it was logged (`location`) and, when backtraces are
/// enabled (`RUST_BACKTRACE` or `RUST_LIB_BACKTRACE`), a `backtrace`: an array of frames in
/// JSON (the runtime's and std's own frames left out), a few indented lines on the console.
///
/// The event is the caller's: its file and line (ECS `log.origin.file.*`, Cloud Logging
/// `sourceLocation`, OTel `code.*`, journald `CODE_FILE`) and its target, the caller's
/// module as the file's path spells it (`src/orders/api.rs` of the program `billing` is
/// `billing::orders::api`; see the crate docs), so per-module levels and
/// `prodlog view --target` find it. The error's type (`error_type`) and backtrace are
/// written under each schema's error keys (ECS `error.*`, OTel `exception.*`, Cloud
/// Logging's Error Reporting fields).
///
/// ```
/// # let _guard = prodlog::builder().from_env(false).console(prodlog::ConsoleMode::Off).init();
/// let err = std::fs::read("/no/such/file").unwrap_err();
/// prodlog::log_error(&err);
/// ```
///
/// For an `anyhow::Error` (or a `Box<dyn Error + Send + Sync>`), use
/// [`LogErr::log_err`] on its `Result`, or pass `err.as_ref()` here.
#[track_caller]
pub fn log_error(err: &(dyn Error + 'static)) {
    log_error_at(err, None, None, Location::caller());
}

/// One capture per error: the error's own backtrace when it carries one (anyhow captures
/// one when backtraces are enabled), else one captured here.
fn log_error_at(
    err: &(dyn Error + 'static),
    type_name: Option<&'static str>,
    carried: Option<&Backtrace>,
    location: &'static Location<'static>,
) {
    let captured;
    let backtrace = match carried.filter(|b| b.status() == BacktraceStatus::Captured) {
        Some(b) => Some(b),
        None => {
            captured = Backtrace::capture();
            (captured.status() == BacktraceStatus::Captured).then_some(&captured)
        }
    };
    let frames = backtrace.map(frames);
    let frames = frames.as_deref();
    let site = crate::sites::error_site(location);
    let source = err.source();
    site.emit([
        Some(&format_args!("{err}")),
        type_name
            .as_ref()
            .map(|t| t as &dyn tracing_core::field::Value),
        source
            .as_ref()
            .map(|s| s as &dyn tracing_core::field::Value),
        Some(&format_args!("{location}")),
        frames
            .as_ref()
            .map(|f| f as &dyn tracing_core::field::Value),
    ]);
}

/// A backtrace as one frame per line, `symbol (file:line:col)`, without the frames of
/// the capture itself, of std, core, alloc, the async runtime and prodlog, and nothing
/// past the program's entry point: what is left is the application's (and its
/// libraries') code, usually a handful of frames instead of a hundred.
pub(crate) fn frames(backtrace: &Backtrace) -> String {
    const NOISE: &[&str] = &[
        "std::",
        "core::",
        "alloc::",
        "backtrace::",
        "anyhow::",
        "tokio::",
        "futures_",
        "tracing::",
        "tracing_core::",
        "prodlog::",
        "prodlog_",
        "__",
        "rust_",
    ];
    const ENTRY: &[&str] = &["main", "_start", "start_thread", "clone", "clone3"];
    let text = backtrace.to_string();
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    let mut kept = 0;
    while let Some(line) = lines.next() {
        let Some((number, symbol)) = line.trim().split_once(": ") else {
            continue;
        };
        if !number.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let at = lines
            .next_if(|l| l.trim_start().starts_with("at "))
            .map(|l| l.trim_start().trim_start_matches("at ").trim());
        if symbol.contains("__rust_begin_short_backtrace") || symbol.starts_with("std::rt::") {
            break;
        }
        // `<T as app::Trait>::method` is the application's: keep trait impls on own types.
        let glue = if symbol.starts_with('<') {
            symbol_is_runtime(symbol)
        } else {
            NOISE.iter().any(|p| symbol.starts_with(p))
        };
        let is_noise = ENTRY.contains(&symbol) || glue;
        if is_noise || kept == 64 {
            continue;
        }
        kept += 1;
        out.push_str(symbol);
        if let Some(at) = at {
            out.push_str(" (");
            out.push_str(at.strip_prefix("./").unwrap_or(at));
            out.push(')');
        }
        out.push('\n');
    }
    out
}

/// `<F as core::future::Future>::poll` and the like: glue of std or the runtime.
fn symbol_is_runtime(symbol: &str) -> bool {
    let inner = symbol.trim_start_matches('<');
    [
        "core::",
        "alloc::",
        "std::",
        "tokio::",
        "futures_",
        "tracing::",
        "F as ",
        "T as core::",
        "T as alloc::",
    ]
    .iter()
    .any(|p| inner.starts_with(p))
        || symbol.contains(" as core::future::")
        || symbol.contains(" as core::ops::function::")
}

/// `result.log_err()?`: logs the error of a `Result` (see [`log_error`]) and passes the
/// `Result` on unchanged, so an error is never swallowed silently at a boundary.
///
/// Works on `Result`s of any `std::error::Error`, of `Box<dyn Error + Send + Sync>`
/// (and `Box<dyn Error>`), and, with the `anyhow` feature, of `anyhow::Error` — whose own
/// backtrace is used instead of capturing a second one.
///
/// ```
/// use prodlog::LogErr;
///
/// fn load() -> std::io::Result<Vec<u8>> {
///     std::fs::read("/no/such/file").log_err()
/// }
/// assert!(load().is_err());
///
/// fn parse() -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
///     Ok("x".parse::<u8>()?)
/// }
/// assert!(parse().log_err().is_err());
/// ```
///
/// The type parameter only tells the kinds of error apart (it is inferred; nobody writes
/// it): one trait covers them all without overlapping impls.
pub trait LogErr<Kind = StdError> {
    /// Logs the error, if any, and returns `self`.
    fn log_err(self) -> Self;
}

/// [`LogErr`] for a `Result` of a `std::error::Error`.
#[derive(Debug)]
pub enum StdError {}

/// [`LogErr`] for a `Result` of a boxed `dyn Error`.
#[derive(Debug)]
pub enum BoxedError {}

/// [`LogErr`] for a `Result` of an `anyhow::Error`.
#[cfg(feature = "anyhow")]
#[derive(Debug)]
pub enum AnyhowError {}

impl<T, E: Error + 'static> LogErr<StdError> for Result<T, E> {
    #[track_caller]
    fn log_err(self) -> Self {
        if let Err(e) = &self {
            log_error_at(
                e,
                Some(std::any::type_name::<E>()),
                None,
                Location::caller(),
            );
        }
        self
    }
}

impl<T> LogErr<BoxedError> for Result<T, Box<dyn Error + Send + Sync>> {
    #[track_caller]
    fn log_err(self) -> Self {
        if let Err(e) = &self {
            log_error_at(&**e, None, None, Location::caller());
        }
        self
    }
}

impl<T> LogErr<BoxedError> for Result<T, Box<dyn Error>> {
    #[track_caller]
    fn log_err(self) -> Self {
        if let Err(e) = &self {
            log_error_at(&**e, None, None, Location::caller());
        }
        self
    }
}

#[cfg(feature = "anyhow")]
impl<T> LogErr<AnyhowError> for Result<T, anyhow::Error> {
    #[track_caller]
    fn log_err(self) -> Self {
        if let Err(e) = &self {
            log_error_at(e.as_ref(), None, Some(e.backtrace()), Location::caller());
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
    /// How many of prodlog's panic hooks are running on this thread (the preset's and a
    /// capture's may be chained): the outermost logs the panic, once.
    static HOOK_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Logs the panic unless a prodlog hook further out on this thread already did, then runs
/// `rest` (what the hook does after logging).
pub(crate) fn log_panic_once(info: &std::panic::PanicHookInfo<'_>, rest: impl FnOnce()) {
    let depth = HOOK_DEPTH.try_with(|d| d.replace(d.get() + 1)).unwrap_or(1);
    if depth == 0 {
        log_panic(info);
    }
    rest();
    let _ = HOOK_DEPTH.try_with(|d| d.set(depth));
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
    let backtrace = frames(&Backtrace::force_capture());
    let (file, line) = info.location().map_or(("", 0), |l| (l.file(), l.line()));
    let site = crate::sites::site(crate::sites::SiteKind::Panic, file, line, "panic");
    site.emit([
        Some(&format_args!("panicked: {message}")),
        Some(&"panic"),
        Some(&true),
        Some(&thread.name().unwrap_or("<unnamed>")),
        Some(&format_args!("{location}")),
        Some(&backtrace.as_str()),
    ]);
    let _ = IN_HOOK.try_with(|h| h.set(false));
}
