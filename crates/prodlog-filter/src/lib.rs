//! Per-target level filtering for `tracing`, in the `RUST_LOG` syntax Rust users already
//! write, with noisy dependencies quiet by default and errors that say what is wrong.
//!
//! ```
//! use prodlog_filter::TargetFilter;
//! use tracing_core::LevelFilter;
//!
//! let filter = TargetFilter::builder()
//!     .parse("info,my_app::db=debug")
//!     .map_err(|errors| errors[0].to_string())?;
//! assert_eq!(filter.level_for("my_app::db::pool"), LevelFilter::DEBUG);
//! assert_eq!(filter.level_for("hyper::client"), LevelFilter::WARN); // quiet by default
//!
//! let bad = TargetFilter::builder().parse("info,my_app=verbose").unwrap_err();
//! assert_eq!(
//!     bad[0].to_string(),
//!     "directive 2 \"my_app=verbose\" (at byte 5): unknown level \"verbose\": \
//!      expected off, error, warn, info, debug, trace (any case) or 0-5"
//! );
//! # Ok::<(), String>(())
//! ```
//!
//! # Syntax
//!
//! Comma-separated directives: a bare level (`info`) sets the default, `target=level` sets a
//! target and its submodules, a bare target (`my_app`) enables everything for it. Levels in
//! any case or `0`–`5`. The most specific target wins; for the same target the last one
//! does. An empty or blank spec means the defaults, never silence.
//!
//! # Where prodlog differs from `EnvFilter`, on purpose
//!
//! - Targets match at module boundaries: `my_app` covers `my_app::db`, not `my_app_extra`.
//! - `target=` (no level) is an error, not ERROR; `=debug` and empty directives are errors.
//! - Span and field directives (`[span{field=x}]=debug`) are refused with a clear message:
//!   they force per-event span lookups and make every callsite "sometimes" interesting,
//!   which defeats the cached decisions this filter exists for.
//! - Noisy dependencies ([`NOISY_TARGETS`]) are at WARN unless a directive names them or a
//!   parent module; a bare level never makes them louder.
//! - Levels decide which *lines* are written. [`ContextSpans`] keeps INFO (and more
//!   severe) spans enabled whatever the directives say, so an ERROR line inside an INFO
//!   request span keeps the request's context under `RUST_LOG=warn`; the preset uses it.

//!
//! # Changing levels at run time
//!
//! [`TargetFilter::handle`] gives a [`FilterHandle`]: [`FilterHandle::set_directives`]
//! swaps the rules, then rebuilds tracing's callsite interest cache and global max level,
//! so events that were disabled become enabled (and the reverse) with the right max-level
//! hint. This is what `tracing_subscriber::reload` around a per-layer filter gets wrong
//! (tokio-rs/tracing#1629, #2413): here the filter itself is the reloadable part, so its
//! `max_level_hint` always answers for the current rules and nothing is wrapped.
//!
//! [`FilterHandle::watch_file`] applies a file of directives and re-reads it when it
//! changes (polled) and, on Unix, at once on `SIGHUP`: an environment variable cannot
//! change under a running process, a file can (and a Kubernetes ConfigMap is one).
//!
//! # Cost
//!
//! Every decision is cached per callsite, so a disabled event costs tracing's own level
//! check (about 2 ns) and an enabled one pays nothing here. The decision itself (made once
//! per callsite, and again after a reload) looks each `::` prefix of the target up in a
//! hash map instead of scanning every directive: about half of `EnvFilter`'s cost with 50
//! directives (`cargo run --release -p prodlog-bench`, rows `filter-*`).
//!
//! # Dependencies
//!
//! `tracing-core`/`tracing-subscriber` (the `Filter` seam), `tracing` (the reload events),
//! and, on Unix, `signal-hook` (a `SIGHUP` flag set safely from a signal handler). The
//! fast hash for short target strings (rustc's FxHash) is a dozen lines of its own rather
//! than the `rustc-hash` crate.

mod config_file;
mod directive;
mod filter;
mod rules;
mod spans;
mod watch;

pub use directive::{parse_directives, parse_level, Directive, DirectiveError, DirectiveErrorKind};
pub use filter::{FilterBuilder, FilterHandle, TargetFilter};
pub use rules::NOISY_TARGETS;
pub use spans::ContextSpans;
pub use watch::FileWatch;
