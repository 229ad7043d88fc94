//! Spans that carry context stay enabled whatever level the events are filtered at.

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{LevelFilter, Metadata};
use tracing_subscriber::layer::{Context, Filter};

/// Wraps a filter so that spans at `floor` (INFO by default) or more severe are always
/// enabled, while events — and more verbose spans — are decided by the inner filter.
///
/// A level filter normally decides spans and events alike, so `RUST_LOG=warn` disables the
/// INFO `request` span, and the ERROR events inside it lose `request_id`, `user_id`,
/// `method` and `path` (tracing-subscriber's `fmt` with `EnvFilter` has the same flaw).
/// Levels are about which *lines* are written; a span writes no line, it gives context to
/// the lines inside it and a duration to the timing layer, so the spans a service binds its
/// request context on (INFO and above, by convention) are kept. DEBUG and TRACE spans —
/// the ones dependencies create by the thousand — still follow the directives.
///
/// ```
/// use prodlog_filter::{ContextSpans, TargetFilter};
/// use tracing_subscriber::prelude::*;
///
/// let filter = TargetFilter::builder().parse("warn").unwrap();
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer().with_filter(ContextSpans::new(filter)));
/// tracing::subscriber::with_default(subscriber, || {
///     let _request = tracing::info_span!("request", request_id = "r-1").entered();
///     tracing::error!("carries request_id"); // the INFO span is enabled under `warn`
/// });
/// ```
///
/// Cost: an INFO span under `RUST_LOG=warn` is created, entered, exited and closed like any
/// enabled span (a `prodlog-bench` row measures it); an INFO *event* under `warn` still
/// stops at its callsite's cached `never`.
#[derive(Debug, Clone)]
pub struct ContextSpans<F> {
    inner: F,
    floor: LevelFilter,
}

impl<F> ContextSpans<F> {
    /// Spans at INFO, WARN and ERROR always enabled.
    pub fn new(inner: F) -> Self {
        ContextSpans {
            inner,
            floor: LevelFilter::INFO,
        }
    }

    /// Spans at `floor` or more severe always enabled (`LevelFilter::OFF`: none, the inner
    /// filter decides everything).
    pub fn with_floor(mut self, floor: LevelFilter) -> Self {
        self.floor = floor;
        self
    }

    /// The wrapped filter.
    pub fn inner(&self) -> &F {
        &self.inner
    }

    fn keeps(&self, meta: &Metadata<'_>) -> bool {
        meta.is_span() && self.floor >= *meta.level()
    }
}

impl<S, F: Filter<S>> Filter<S> for ContextSpans<F> {
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        self.keeps(meta) || self.inner.enabled(meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.keeps(meta) {
            Interest::always()
        } else {
            self.inner.callsite_enabled(meta)
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint().map(|hint| hint.max(self.floor))
    }

    fn event_enabled(&self, event: &tracing_core::Event<'_>, cx: &Context<'_, S>) -> bool {
        self.inner.event_enabled(event, cx)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx);
    }
}
