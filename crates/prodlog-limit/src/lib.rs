//! Per-callsite rate limiting for `tracing`: a log storm — a retry loop logging the same
//! error a hundred thousand times a second — neither fills the disk nor pushes the first,
//! interesting lines out of the rotated files, and every event held back is counted in the
//! log itself.
//!
//! ```
//! use prodlog_limit::{LimitSpec, RateLimit};
//! use tracing_subscriber::prelude::*;
//!
//! let limit = RateLimit::new(LimitSpec::parse("100/s,burst=1000,error=50/s+500")?);
//! let subscriber = tracing_subscriber::registry()
//!     .with(limit.wrap(tracing_subscriber::fmt::layer().with_writer(std::io::sink)));
//! # let _ = subscriber;
//! # Ok::<(), prodlog_limit::SpecError>(())
//! ```
//!
//! # What it does
//!
//! - **Per callsite and level**: each `error!`/`info!`/… in the code has its own token
//!   bucket (`rate` per second, `burst` at once). A callsite that logs normally is never
//!   touched; one that floods keeps its first `burst` events in full — so the first errors of
//!   a storm are all there — then `rate` per second.
//! - **Summaries in the log**: for each callsite that had events held back, one event at the
//!   callsite's own level, target `prodlog::limit`: `"suppressed N events"` with
//!   `suppressed=N`, `suppressed_message` (the callsite's message), `suppressed_target`,
//!   `suppressed_callsite` (file:line),
//!   `first_suppressed`/`last_suppressed` (RFC 3339), and `last_fields`: the fields of a
//!   recent held-back event (redacted like any value by prodlog's formatters). Written when
//!   the callsite calms down (200 ms without a held-back event), every 5 s while it does
//!   not, and at shutdown ([`RateLimit::flush`]). The counts are exact: lines written plus
//!   the `suppressed` of the summaries equal the events logged.
//! - **Identical consecutive events** (the same callsite with the same field values) can be
//!   collapsed into one line and a `"repeated N times"` summary with
//!   `repeated=N` ([`LimitSpec::with_collapse`], `PRODLOG_COLLAPSE=on`; off by default).
//! - **Every destination**: it wraps the output layers, so the files, the error-only file
//!   and the console are protected alike.
//!
//! # Defaults and configuration
//!
//! [`LimitSpec::default()`]: every ERROR and WARN callsite at [`DEFAULT_LIMIT`], 1000 events
//! per second with a burst of 10,000; INFO and more verbose callsites unlimited (the floods
//! that fill disks are errors; a busy access log is wanted whole). Every level, level and
//! target can have its own ([`LimitSpec::parse`]: `100/s,burst=1000`, `error=50/s+500`,
//! `app::db=off`, `off`).
//!
//! # Cost, and why our own
//!
//! The bucket is the generic cell rate algorithm on one `AtomicU64` per callsite, in a
//! fixed table keyed by the callsite's address: a callsite that is not flooding pays a
//! table probe and one compare-and-swap; the time comes from a coarse clock advanced by a
//! background thread every 10 ms (reading the system clock per event would cost more than
//! the rest). A held-back event formats nothing. `governor` (the usual Rust rate limiter)
//! keeps keyed buckets in a concurrent map and reads a clock on every check, and no tracing
//! crate summarises what it dropped (tokio-rs/tracing#291): hence this crate.
//!
//! # Dependencies
//!
//! `tracing`/`tracing-core`/`tracing-subscriber` (the `Filter` seam, the summary events) and
//! (RFC 3339 timestamps in the summaries are a few lines of its own, as in prodlog-format,
//! rather than a date library.)

mod clock;
mod limiter;
mod spec;
mod summary;
mod time;

pub use limiter::{Limited, RateLimit, Stats, SUMMARY_TARGET};
pub use spec::{Limit, LimitSpec, SpecError, DEFAULT_LIMIT};
pub use summary::flush_all;
