//! Production logging for [`tracing`], good by default.
//!
//! ```
//! // At the top of `main`; hold the guard until main returns: it flushes the files.
//! let _guard = prodlog::init();
//!
//! let request = tracing::info_span!("request", request_id = "r-1", user_id = tracing::field::Empty);
//! let _entered = request.enter();
//! request.record("user_id", 42);
//! tracing::info!(amount = 12, "payment processed"); // carries request_id and user_id
//! ```
//!
//! One call gives a service:
//!
//! - **levels** from `RUST_LOG` (`info,my_app::db=debug`; unset or empty means `info`), with
//!   noisy dependencies (hyper, h2, sqlx, rustls, …) at `warn` unless a directive names them,
//!   `log` records filtered and formatted like `tracing` events, and levels changeable at
//!   run time ([`Guard::filter`], `PRODLOG_DIRECTIVES_FILE`);
//! - **a console** on stdout: human lines on a terminal, JSON lines when stdout is a pipe
//!   (containers), or as `PRODLOG_CONSOLE` says;
//! - **files** when a directory is given (`PRODLOG_DIR`): `<app>.log` with every enabled
//!   event as JSON and `<app>.error.log` with errors only, for alerting; each line is
//!   formatted once and the same bytes go to both;
//! - **span context**: the fields of every enclosing span on every event, including fields
//!   recorded after the span was created;
//! - **redaction** on by default in every output: passwords, API keys, tokens, JWTs,
//!   private keys, credentials in URLs, card numbers and SSNs never reach the console or a
//!   file, whether they come as a field, in the message, in `Debug` output or in span
//!   context ([`redact`]; wrap a value in [`Sensitive`] to hide it whatever its name);
//! - **timing**: every span's `duration_ms`/`busy_ms`/`idle_ms` measured, a WARN event for
//!   spans over their threshold (`PRODLOG_SLOW=query=100ms`), latency percentiles per span
//!   name ([`timing`]; `prodlog::timing::start("query")` times anything else);
//! - **safe output**: every JSON line is valid JSON and every console line is one line,
//!   whatever a value holds (newlines, quotes, terminal escape sequences);
//! - **no panic on bad input**: [`init`] prints what was wrong on stderr and uses a
//!   fallback; [`try_init`] returns an [`InitError`] instead.
//!
//! Every choice is a setter on [`builder()`] and an environment variable (see [`Builder`]).
//!
//! # With a subscriber you already have
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! # fn main() -> Result<(), prodlog::InitError> {
//! let (prodlog_layer, _guard) = prodlog::builder().into_layer()?;
//! tracing_subscriber::registry().with(prodlog_layer).try_init().ok();
//! # Ok(()) }
//! ```
//!
//! # Files, replicas and signals
//!
//! - **Several processes on one directory** (replicas, a restart overlapping its
//!   predecessor, a CLI run of the same binary) share `<app>.log` safely: every write and
//!   rotation happens under an advisory lock (`flock` on the directory), a process reopens the file
//!   when another one rotated it, and each backup is numbered once. No line is lost, torn
//!   or written twice.
//! - **A full disk**: the whole lines that fit are written, the rest wait and are retried
//!   every 200 ms as room appears; what does not fit in memory meanwhile is counted, and
//!   the counts are written into the log and on stderr when writing resumes and at
//!   shutdown.
//! - **A torn last line** (SIGKILL or power loss mid-write) is cut when the file is next
//!   opened, and the cut is reported, so every line of a file parses.
//! - **Modes**: files are created `0640` and a directory prodlog creates `0750` (owner and
//!   group only: logs hold user ids, addresses, and whatever redaction missed); change it
//!   with `PRODLOG_FILE_MODE`. Existing files keep their mode; backups keep their file's.
//!
//! # Signals
//!
//! When SIGTERM or SIGINT still has its default disposition at `init()`, the signal first
//! makes prodlog log one WARN line naming it and drain every file queue (lines logged from
//! then on are written before their call returns), then ends the process as the default
//! disposition would. An application's own handler — installed before `init()`, or after
//! it by tokio::signal, signal-hook or ctrlc — is never changed or reordered: prodlog then
//! does nothing, and the application's shutdown drops the guard, which drains the files.
//! When the queues cannot drain within `PRODLOG_SHUTDOWN_MS`, what is left is counted (on
//! stderr and in the writer's `Stats::lost`) and later callers wait for the end, so every
//! line whose call returned is in a file or in that count. SIGKILL and `abort()` cannot be
//! caught: they lose the lines in memory — those queued since the writer's last batch (a
//! 10 ms tick, or 256 KiB, while the disk keeps up) and the unwritten part of the batch
//! being written. `PRODLOG_FLUSH_ON_SIGNAL=off` (or [`Builder::flush_on_signal`]) installs no
//! handler.
//!
//! # Features
//!
//! The default build is what `init()` needs for a console, files, redaction, levels,
//! context, timing (with the TSC clock, feature `tsc`) and signals: 41 crates, as many as
//! `tracing-subscriber` + `tracing-appender` (`docs/weight/measure.sh`). The rest is
//! opt-in: `network` (OTLP, syslog, journald), `compression` (gzip of backups),
//! `rules-file` (gitleaks TOML rules), `local-time` (rotation at local midnight), `full`
//! (those four and `tsc`); integrations `tower`,
//! `axum`, `tokio`, `opentelemetry`, `anyhow`, `testing`. A variable that needs a feature
//! the build lacks (`PRODLOG_OTLP=on` without `network`) is reported by `init()` as an
//! init problem naming the feature, and the service goes on without it.
//!
//! # Errors located at the caller
//!
//! `log_err()` and `log_error()` are `#[track_caller]`: the caller's file and line are
//! known only at run time, while `tracing` callsites are `'static` values its macros make
//! at the macro's own place. So prodlog makes one callsite per calling place the first
//! time it logs there (a leaked `Metadata`, registered with `tracing-core` like a macro's,
//! found again by the location's address), with the caller's file, line and module as its
//! target. Every schema's source keys, per-module levels and `prodlog view --target` then
//! see the caller, not prodlog. The module comes from the file's path (`src/orders/api.rs`
//! of the program `billing` is `billing::orders::api`); a module declared inline in a file
//! is reported as its file's.
//!
//! # The parts
//!
//! Each part is its own crate, usable alone, and re-exported here as a module:
//! [`format`](mod@format) (the JSON and console formatters), [`context`] (span fields kept for the
//! formatters), [`filter`] (the per-target level filter) and [`redact`] (the redactor).

mod builder;
mod check;
mod describe;
mod error;
mod errors;
mod file;
mod guard;
mod network;
#[cfg(feature = "network")]
mod otlp_settings;
mod outputs;
mod record_settings;
mod redaction_settings;
mod settings;
#[cfg(unix)]
#[allow(unsafe_code)]
mod signals;
mod sites;
mod timing_settings;

#[cfg(feature = "testing")]
pub mod testing;

pub use builder::Builder;
pub use check::CheckReport;
pub use describe::Description;
pub use error::{InitError, InitErrorKind};
#[cfg(feature = "anyhow")]
pub use errors::AnyhowError;
pub use errors::{log_error, BoxedError, LogErr, StdError};

pub use guard::Guard;
pub use settings::{ColorMode, ConsoleMode};
#[doc(hidden)]
pub use tracing as __tracing;

#[doc(inline)]
pub use prodlog_context as context;
#[doc(inline)]
pub use prodlog_filter as filter;
#[doc(inline)]
pub use prodlog_format as format;
#[doc(inline)]
pub use prodlog_limit as limit;
#[doc(inline)]
pub use prodlog_redact as redact;
pub use prodlog_redact::Sensitive;
#[cfg(feature = "network")]
#[doc(inline)]
pub use prodlog_ship as ship;
#[doc(inline)]
pub use prodlog_timing as timing;
#[doc(inline)]
pub use prodlog_writer as writer;

/// Pushes every queued log line to its file (and to the network destinations) and flushes
/// stdout, waiting at most 5 s per file. The preset already does this at
/// `std::process::exit` (an `atexit` hook: no destructor runs there), on panic and on
/// SIGTERM/SIGINT; call it before any other way out that skips destructors.
pub fn flush() {
    prodlog_limit::flush_all();
    prodlog_writer::flush_all(std::time::Duration::from_secs(5));
    #[cfg(feature = "network")]
    prodlog_ship::flush_all(std::time::Duration::from_secs(2));
    let _ = std::io::Write::flush(&mut std::io::stdout());
}

/// A builder for the preset, starting from the defaults (see [`Builder`]).
pub fn builder() -> Builder {
    Builder::default()
}

/// Installs the preset as the global subscriber. Never panics: a configuration problem is
/// printed on stderr with the fallback used (see [`Builder::init`]).
///
/// Keep the returned [`Guard`] alive until `main` returns.
pub fn init() -> Guard {
    builder().init()
}

/// Installs the preset, or returns what is wrong with the configuration.
pub fn try_init() -> Result<Guard, InitError> {
    builder().try_init()
}
