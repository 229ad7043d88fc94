//! The flight recorder's side of [`JsonLayer`] (the recording itself is `record.rs`):
//! which spans record, which events are kept, which requests are written, and the filter
//! that lets the kept events reach the layer.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tracing_core::span::{Attributes, Id};
use tracing_core::{Event, Level, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::{LookupSpan, Scope};

use crate::buf::with_buf;
use crate::chain::Syntax;
use crate::json::{format_json, JsonLayer};
use crate::record::{RecordSettings, RecordStats, Recorder, Recording, Replayed};
use crate::schema::JsonSchema;
use crate::sink::Destination;

/// On a span inside a recorded request (the request span included): its recording.
struct InRequest(Arc<Recording>);

/// The span named `request` starts a recording; a span opened inside one shares it.
pub(crate) fn new_span<S>(
    recorder: &Recorder,
    attrs: &Attributes<'_>,
    id: &Id,
    ctx: &Context<'_, S>,
) where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    let Some(span) = ctx.span(id) else {
        return;
    };
    let inherited = span
        .parent()
        .and_then(|p| p.extensions().get::<InRequest>().map(|r| r.0.clone()));
    let recording = match inherited {
        Some(r) => Some(r),
        None if attrs.metadata().name() == "request" => recorder.open(),
        None => None,
    };
    if let Some(r) = recording {
        span.extensions_mut().insert(InRequest(r));
    }
}

/// The recording of the request `span` is in.
pub(crate) fn recording_in<'a, R>(
    span: &tracing_subscriber::registry::SpanRef<'a, R>,
) -> Option<Arc<Recording>>
where
    R: LookupSpan<'a>,
{
    span.extensions().get::<InRequest>().map(|r| r.0.clone())
}

fn recording_of<S>(event: &Event<'_>, ctx: &Context<'_, S>) -> Option<Arc<Recording>>
where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    let span = ctx.event_span(event)?;
    let ext = span.extensions();
    ext.get::<InRequest>().map(|r| r.0.clone())
}

impl JsonLayer {
    /// Turns the flight recorder on (see [`RecordSettings`]): inside a span named
    /// `request`, events down to `settings.level` that no destination takes are kept for
    /// the request, and written — marked `"recorded":true` — if it fails (an ERROR event,
    /// a slow span's WARN, [`keep`]) and discarded otherwise. Give the events a way in
    /// with [`RecordFilter`] around the layer's filter. `LevelFilter::OFF`: no recording.
    pub fn record(mut self, settings: RecordSettings) -> Self {
        self.recorder =
            (settings.level > LevelFilter::OFF).then(|| Arc::new(Recorder::new(settings)));
        self
    }

    /// A handle on the recorder (its counters, and the shutdown's write-out), when on.
    /// Take it once every destination is added.
    pub fn flight_recorder(&self) -> Option<FlightRecorder> {
        let recorder = self.recorder.clone()?;
        let handle = FlightRecorder {
            recorder,
            out: Arc::new(Out {
                destinations: self.destinations.clone(),
                schema: self.schema,
                redactor: self.redactor.clone(),
            }),
        };
        let mut all = ALL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        all.retain(|(r, _)| r.strong_count() > 0);
        all.push((
            Arc::downgrade(&handle.recorder),
            Arc::downgrade(&handle.out),
        ));
        Some(handle)
    }

    pub(crate) fn record_event<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let Some(recorder) = &self.recorder else {
            return;
        };
        if recorder.settings.level < *event.metadata().level() {
            return;
        }
        let time = crate::time::event_time(event);
        if !self.mixed {
            // The chain of the span knows its request's recording: no registry lookup.
            let taken = self.frames.take(event, ctx, Syntax::Json(self.schema));
            if let Some(chain) = taken.as_ref().and_then(|t| t.shared()) {
                if let Some(recording) = &chain.recording {
                    recorder.capture(recording, event, Some(chain), time);
                }
                return;
            }
        }
        if let Some(recording) = recording_of(event, ctx) {
            recorder.capture(&recording, event, None, time);
        }
    }

    /// An ERROR event, or a slow span's WARN: its request is written when it closes.
    pub(crate) fn mark_failed<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let meta = event.metadata();
        let failed = *meta.level() == Level::ERROR || meta.fields().field("slow").is_some();
        if failed {
            if let Some(r) = recording_of(event, ctx) {
                r.keep.store(true, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn record_close<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let (Some(recorder), Some(span)) = (&self.recorder, ctx.span(id)) else {
            return;
        };
        if span.name() != "request" {
            return;
        }
        let Some(recording) = span.extensions_mut().remove::<InRequest>() else {
            return;
        };
        // The request span's own recording (a nested `request` shares its parent's).
        let own = span
            .parent()
            .is_none_or(|p| p.extensions().get::<InRequest>().is_none());
        if !own {
            return;
        }
        let dispatch = self.dispatch.get().and_then(|d| d.upgrade());
        recorder.close(&recording.0, |r| {
            write_replayed::<S>(
                r,
                &self.destinations,
                self.schema,
                self.redactor.as_ref(),
                dispatch.as_ref(),
            );
        });
    }
}

/// Writes one recorded event (or the note of the dropped ones) to the destinations that
/// take its level: by default the main file and the network ones (their level is what the
/// directives enable), never an ERROR-only file, nor one set to a level above it.
fn write_replayed<S>(
    r: Replayed<'_>,
    destinations: &[Destination],
    layer_schema: JsonSchema,
    redactor: Option<&prodlog_redact::Redactor>,
    dispatch: Option<&tracing::Dispatch>,
) where
    S: for<'l> LookupSpan<'l>,
{
    match r {
        Replayed::Event { event, time, chain } => {
            // The destinations that take the event's level (not an ERROR-only file, not
            // one whose level was set above it).
            let level = *event.metadata().level();
            let wants = |d: &&Destination| d.max_level >= level;
            crate::time::set_event_time(event, time);
            let mut done = 0u8;
            for d in destinations.iter().filter(wants) {
                let schema = d.schema.unwrap_or(layer_schema);
                if done & (1 << schema as u8) != 0 {
                    continue;
                }
                done |= 1 << schema as u8;
                with_buf(|buf| {
                    let chain = chain.filter(|_| schema == layer_schema);
                    format_json::<S>(
                        buf,
                        event,
                        chain,
                        || None::<Scope<'_, S>>,
                        redactor,
                        dispatch,
                        schema,
                    );
                    mark(buf);
                    for d in destinations.iter().filter(wants) {
                        if d.schema.unwrap_or(layer_schema) == schema {
                            let _ = d.sink.write_line_at(buf.as_bytes(), event.metadata());
                        }
                    }
                });
            }
        }
        Replayed::Dropped(n) => {
            let wants = |d: &&Destination| d.max_level > LevelFilter::ERROR;
            let mut line = String::from("{\"timestamp\":\"");
            crate::time::write_rfc3339(&mut line, std::time::SystemTime::now());
            line.push_str(&format!(
                "\",\"level\":\"WARN\",\"target\":\"prodlog\",\"message\":\"prodlog dropped the {n} oldest recorded events of this request (the recorder's bound)\",\"dropped\":{n},\"recorded\":true}}\n"
            ));
            for d in destinations.iter().filter(wants) {
                let _ = d.sink.write_line(line.as_bytes());
            }
        }
    }
}

/// `,"recorded":true` before the line's closing brace.
fn mark(buf: &mut String) {
    let end = buf.trim_end_matches('\n').len();
    if buf[..end].ends_with('}') {
        buf.insert_str(end - 1, ",\"recorded\":true");
    }
}

struct Out {
    destinations: Vec<Destination>,
    schema: JsonSchema,
    redactor: Option<prodlog_redact::Redactor>,
}

/// A handle on a [`JsonLayer`]'s flight recorder: its counters, and the shutdown's
/// write-out of the requests that failed and are still open.
#[derive(Clone)]
pub struct FlightRecorder {
    recorder: Arc<Recorder>,
    out: Arc<Out>,
}

impl std::fmt::Debug for FlightRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightRecorder")
            .field("stats", &self.stats())
            .finish()
    }
}

impl FlightRecorder {
    /// The counters.
    pub fn stats(&self) -> RecordStats {
        self.recorder.stats()
    }

    /// The settings in use.
    pub fn settings(&self) -> RecordSettings {
        self.recorder.settings
    }

    /// At shutdown: the requests still open that already failed are written, the others
    /// discarded (and counted).
    pub fn close_all(&self) {
        let out = &self.out;
        self.recorder.close_all(|r| {
            write_replayed::<tracing_subscriber::Registry>(
                r,
                &out.destinations,
                out.schema,
                out.redactor.as_ref(),
                None,
            );
        });
    }
}

type Handles = Vec<(std::sync::Weak<Recorder>, std::sync::Weak<Out>)>;

/// Every flight recorder of this process, for [`write_failed_requests`].
static ALL: std::sync::Mutex<Handles> = std::sync::Mutex::new(Vec::new());

/// Every flight recorder of the process writes its open requests that already failed and
/// discards the others (a signal is about to end the process: the preset calls it before
/// it drains the files).
pub fn write_failed_requests() {
    let all: Vec<FlightRecorder> = ALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter_map(|(r, o)| {
            Some(FlightRecorder {
                recorder: r.upgrade()?,
                out: o.upgrade()?,
            })
        })
        .collect();
    for r in all {
        r.close_all();
    }
}

/// Marks the current request to be written when it closes, with the events recorded for
/// it, whatever happens (`prodlog::context::keep()`). False when there is no recorded
/// request here.
pub fn keep() -> bool {
    let Some(id) = tracing::Span::current().id() else {
        return false;
    };
    tracing::dispatcher::get_default(|d| {
        let Some(registry) = d.downcast_ref::<tracing_subscriber::Registry>() else {
            return false;
        };
        let Some(span) = registry.span(&id) else {
            return false;
        };
        let ext = span.extensions();
        match ext.get::<InRequest>() {
            Some(r) => {
                r.0.keep.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    })
}

/// A filter that also lets through, inside a recorded request, the events the flight
/// recorder keeps (down to its level), around the layer's own filter `F`. Outside a
/// request such an event costs one look at the current span.
#[derive(Clone)]
pub struct RecordFilter<F> {
    inner: F,
    level: LevelFilter,
    /// The callsites `inner` never wants, for this filter alone (another subscriber of the
    /// process may want them).
    never: Arc<NeverSet>,
    /// The callsites `inner` always wants (written, never recorded), and those of quieted
    /// targets (never recorded): per filter too.
    always: Arc<NeverSet>,
    quieted: Arc<NeverSet>,
    /// Whether the directives quieted a target on purpose (a noisy dependency): its events
    /// are not recorded either.
    quiet: Option<Quiet>,
}

/// Whether the directives quieted a target.
type Quiet = Arc<dyn Fn(&str) -> bool + Send + Sync>;

impl<F: std::fmt::Debug> std::fmt::Debug for RecordFilter<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordFilter")
            .field("inner", &self.inner)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

impl<F> RecordFilter<F> {
    /// `inner`, plus the events at `level` and above inside a recorded request.
    pub fn new(inner: F, level: LevelFilter) -> Self {
        RecordFilter {
            inner,
            level,
            never: Arc::default(),
            always: Arc::default(),
            quieted: Arc::default(),
            quiet: None,
        }
    }

    /// Targets the directives quieted on purpose (noisy dependencies: `hyper=warn` under
    /// `info`) are not recorded either: `quiet` says which.
    pub fn with_quiet_targets(
        mut self,
        quiet: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.quiet = Some(Arc::new(quiet));
        self
    }

    /// An event the recorder may keep: DEBUG or TRACE (what an INFO configuration drops,
    /// never INFO or above), down to the recorder's level, a `tracing` event (a `log`
    /// record's callsite is shared by every record of its level: not kept).
    fn recordable(&self, meta: &Metadata<'_>) -> bool {
        meta.is_event()
            && *meta.level() >= Level::DEBUG
            && self.level >= *meta.level()
            && meta.name() != "log record"
            && meta.name() != "log event"
    }
}

/// The callsites whose interest from the outputs' filter is `never`: a direct-mapped
/// table of their addresses (a collision only means asking the filter).
struct NeverSet([std::sync::atomic::AtomicUsize; 4096]);

impl Default for NeverSet {
    fn default() -> Self {
        NeverSet([const { std::sync::atomic::AtomicUsize::new(0) }; 4096])
    }
}

impl std::fmt::Debug for NeverSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NeverSet")
    }
}

impl NeverSet {
    fn slot(&self, meta: &Metadata<'_>) -> &std::sync::atomic::AtomicUsize {
        let addr = std::ptr::from_ref(meta) as usize;
        &self.0[(addr >> 4 ^ addr >> 16) & 4095]
    }

    fn contains(&self, meta: &Metadata<'_>) -> bool {
        self.slot(meta).load(Ordering::Relaxed) == std::ptr::from_ref(meta) as usize
    }

    fn set(&self, meta: &Metadata<'_>, never: bool) {
        let addr = std::ptr::from_ref(meta) as usize;
        let slot = self.slot(meta);
        if never {
            slot.store(addr, Ordering::Relaxed);
        } else {
            let _ = slot.compare_exchange(addr, 0, Ordering::Relaxed, Ordering::Relaxed);
        }
    }
}

thread_local! {
    /// The spans entered on this thread (by the layer of the recorder), innermost last,
    /// each with whether it is inside a recorded request: 0 not known yet, 1 yes, 2 no.
    /// The filter looks at the innermost instead of the registry (known after the first
    /// event in it).
    static ENTERED: std::cell::RefCell<Vec<(u64, u8)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The layer entered `id` on this thread.
pub(crate) fn entered(id: &Id) {
    let _ = ENTERED.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            e.push((id.into_u64(), 0));
        }
    });
}

/// The layer left `id` on this thread.
pub(crate) fn exited(id: &Id) {
    let id = id.into_u64();
    let _ = ENTERED.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            if let Some(at) = e.iter().rposition(|(i, _)| *i == id) {
                e.remove(at);
            }
        }
    });
}

/// Whether the innermost span entered on this thread is in a recorded request.
fn in_request<S>(cx: &Context<'_, S>) -> bool
where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    ENTERED
        .try_with(|e| {
            let Ok(mut e) = e.try_borrow_mut() else {
                return false;
            };
            let Some((id, state)) = e.last_mut() else {
                return false;
            };
            if *state == 0 {
                let yes = cx
                    .span(&Id::from_u64(*id))
                    .is_some_and(|s| s.extensions().get::<InRequest>().is_some());
                *state = if yes { 1 } else { 2 };
            }
            *state == 1
        })
        .unwrap_or(false)
}

thread_local! {
    /// The callsite of the event this thread is dispatching that only the recorder wants
    /// (the outputs' filter said no): the layers under the filter keep it, not write it.
    static RECORD_ONLY: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether the event of `meta` being dispatched was let through for the recorder only.
#[inline]
pub(crate) fn record_only(meta: &Metadata<'_>) -> bool {
    RECORD_ONLY
        .try_with(|c| c.get() == std::ptr::from_ref(meta) as usize)
        .unwrap_or(false)
}

fn set_record_only(addr: usize) {
    let _ = RECORD_ONLY.try_with(|c| c.set(addr));
}

impl<S, F> Filter<S> for RecordFilter<F>
where
    S: Subscriber + for<'l> LookupSpan<'l>,
    F: Filter<S>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        // A callsite the outputs' filter never wants (known from its interest): no need
        // to ask it again per event (its directives match targets by string).
        let never = self.recordable(meta) && self.never.contains(meta);
        if !never && self.inner.enabled(meta, cx) {
            return true;
        }
        self.recordable(meta) && !self.quieted.contains(meta) && in_request(cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> tracing_core::Interest {
        let inner = self.inner.callsite_enabled(meta);
        // Asked again for every callsite when the directives change: kept in step.
        let recordable = self.recordable(meta);
        let quiet = recordable
            && self
                .quiet
                .as_ref()
                .is_some_and(|quiet| quiet(meta.target()));
        self.quieted.set(meta, quiet);
        self.never.set(meta, recordable && inner.is_never());
        self.always.set(meta, recordable && inner.is_always());
        if recordable && !quiet && !inner.is_always() {
            tracing_core::Interest::sometimes()
        } else {
            inner
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint().map(|h| h.max(self.level))
    }

    /// Called for every event this filter let through, whatever the callsite's cached
    /// interest (another subscriber of the process may have made it `sometimes`, or
    /// `always`): the event is marked record-only here, for the layers under the filter,
    /// and only for this event.
    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        let meta = event.metadata();
        let record_only = self.recordable(meta)
            && !self.always.contains(meta)
            && !self.quieted.contains(meta)
            && (self.never.contains(meta) || !self.inner.enabled(meta, cx))
            && in_request(cx);
        set_record_only(if record_only {
            std::ptr::from_ref(meta) as usize
        } else {
            0
        });
        record_only || self.inner.event_enabled(event, cx)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &tracing_core::span::Record<'_>, ctx: Context<'_, S>) {
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
