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

mod directive;
mod filter;
mod rules;
mod watch;

pub use directive::{parse_directives, parse_level, Directive, DirectiveError, DirectiveErrorKind};
pub use filter::{FilterBuilder, FilterHandle, TargetFilter};
pub use rules::NOISY_TARGETS;
pub use watch::FileWatch;
