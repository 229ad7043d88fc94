//! The human console format, as a layer and as a `tracing_subscriber::fmt` event formatter.

use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use std::sync::Arc;

use prodlog_redact::Redactor;
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Level, LevelFilter, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::{format::Writer, FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, Scope};

use crate::buf::with_buf;
use crate::buf::with_scratch;
use crate::chain::{Chain, Frames, Syntax, Taken};
use crate::encode::Console;
use crate::escape::{console_escape_into, ConsoleEscaper};
use crate::keys::KeySet;
use crate::sink::{Destination, LineSink, StdoutSink, WriteFailures};
use crate::span_fields::SpanFields;
use crate::time::{event_time, write_rfc3339};
use crate::visitor::FieldVisitor;

const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

fn level_style(level: &Level) -> (&'static str, &'static str) {
    match *level {
        Level::ERROR => ("ERROR", "\x1b[31m"),
        Level::WARN => (" WARN", "\x1b[33m"),
        Level::INFO => (" INFO", "\x1b[32m"),
        Level::DEBUG => ("DEBUG", "\x1b[34m"),
        _ => ("TRACE", "\x1b[35m"),
    }
}

/// Appends one human line: `time LEVEL target: message key=value … span_key=value …`.
///
/// Every control character and terminal escape sequence coming from a value, the message
/// or a target is written as a visible escape (`\n`, `\x1b`), so a line is always one line.
/// `ansi` colours only what prodlog itself writes.
pub(crate) fn format_console<'a, S>(
    buf: &mut String,
    event: &Event<'_>,
    chain: Option<&Chain>,
    scope: impl FnOnce() -> Option<Scope<'a, S>>,
    ansi: bool,
    redactor: Option<&Redactor>,
) where
    S: for<'l> LookupSpan<'l> + 'a,
{
    let normalized = event.normalized_metadata();
    let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
    let (level, color) = if crate::callsite::level_label(event, meta) == "CRITICAL" {
        (" CRIT", "\x1b[1;31m")
    } else {
        level_style(meta.level())
    };
    if ansi {
        buf.push_str(DIM);
    }
    write_rfc3339(buf, event_time(event));
    if ansi {
        buf.push_str(RESET);
        buf.push(' ');
        buf.push_str(color);
        buf.push_str(level);
        buf.push_str(RESET);
        buf.push(' ');
        buf.push_str(DIM);
    } else {
        buf.push(' ');
        buf.push_str(level);
        buf.push(' ');
    }
    console_escape_into(
        buf,
        &crate::callsite::shown_target(meta.target(), normalized.is_some(), redactor),
        false,
    );
    buf.push(':');
    if ansi {
        buf.push_str(RESET);
    }
    buf.push(' ');
    event.record(&mut ConsoleMessage { buf, redactor });
    let mut keys = KeySet::new();
    let mut tail = String::new();
    let mut visitor = FieldVisitor::<Console>::new(buf, &mut keys, true).with_redactor(redactor);
    visitor.skip_message = true;
    visitor.skip_log_fields = normalized.is_some();
    visitor.tail = Some(&mut tail);
    visitor.sensitive =
        redactor.map(|r| crate::callsite::sensitive_fields(r, event.metadata().fields()));
    event.record(&mut visitor);
    match chain {
        // The spans' pairs rendered once (see `crate::chain`).
        Some(chain) if !keys.may_hold_any(chain.mask) => buf.push_str(&chain.text),
        _ => {
            for span in scope().into_iter().flatten() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    fields.write_console(buf, &mut keys);
                }
            }
        }
    }
    buf.push_str(&tail);
    buf.push('\n');
}

/// Should a console on standard output be coloured? Only on a terminal, and only when
/// `NO_COLOR` is unset or empty (<https://no-color.org>).
pub fn stdout_wants_ansi() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A [`Layer`] writing each event as one human-readable line.
///
/// ```
/// use prodlog_format::ConsoleLayer;
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry()
///     .with(prodlog_context::ContextLayer::new())
///     .with(ConsoleLayer::stdout());
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::warn!(user = "ada\u{1b}[2J", "escape sequences are shown, never obeyed");
/// });
/// ```
pub struct ConsoleLayer {
    destination: Destination,
    ansi: bool,
    redactor: Option<Redactor>,
    /// Asks the JSON formatter to remember the values it found clean.
    _verdicts: crate::verdict::Reader,
    /// The spans entered on each thread, with their rendered chains (`crate::chain`).
    frames: Frames,
}

impl ConsoleLayer {
    /// A console on standard output, coloured when [`stdout_wants_ansi`].
    pub fn stdout() -> Self {
        Self::new(StdoutSink).with_ansi(stdout_wants_ansi())
    }

    /// A console writing to `sink`, without colours.
    pub fn new(sink: impl LineSink) -> Self {
        ConsoleLayer {
            destination: Destination::new(LevelFilter::TRACE, Arc::new(sink)),
            ansi: false,
            redactor: Some(Redactor::default()),
            _verdicts: crate::verdict::Reader::new(),
            frames: Frames::default(),
        }
    }

    /// Turns ANSI colours on or off.
    pub fn with_ansi(mut self, ansi: bool) -> Self {
        self.ansi = ansi;
        self
    }

    /// Writes only events at `max_level` and more severe ones (all by default), so the
    /// console can be terser than a file fed by the same filter.
    pub fn with_max_level(mut self, max_level: LevelFilter) -> Self {
        self.destination.max_level = max_level;
        self
    }

    crate::redaction_setters!();

    /// The destination's failure counter.
    pub fn failures(&self) -> Arc<WriteFailures> {
        self.destination.failures.clone()
    }
}

impl fmt::Debug for ConsoleLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleLayer")
            .field("ansi", &self.ansi)
            .finish()
    }
}

impl<S> Layer<S> for ConsoleLayer
where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    fn on_enter(&self, id: &tracing_core::span::Id, _ctx: Context<'_, S>) {
        self.frames.enter(id);
    }

    fn on_exit(&self, id: &tracing_core::span::Id, _ctx: Context<'_, S>) {
        self.frames.exit(id);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if self.destination.max_level < *event.metadata().level()
            || crate::record_layer::record_only(event.metadata())
        {
            return;
        }
        let chain = self.frames.take(event, &ctx, Syntax::Console);
        with_buf(|buf| {
            format_console(
                buf,
                event,
                chain.as_ref().and_then(Taken::chain),
                || ctx.event_scope(event),
                self.ansi,
                self.redactor.as_ref(),
            );
            self.destination
                .write(event.metadata().level(), buf.as_bytes(), event.metadata());
        });
    }
}

/// The console format as an event formatter for `tracing_subscriber::fmt`; colours follow
/// the writer's `with_ansi` setting. Redacts with the default rules unless told otherwise.
#[derive(Debug, Clone)]
pub struct ConsoleFormat {
    redactor: Option<Redactor>,
    _verdicts: crate::verdict::Reader,
}

impl Default for ConsoleFormat {
    fn default() -> Self {
        ConsoleFormat {
            redactor: Some(Redactor::default()),
            _verdicts: crate::verdict::Reader::new(),
        }
    }
}

impl ConsoleFormat {
    /// The console format, redacting with the default rules.
    pub fn new() -> Self {
        ConsoleFormat::default()
    }

    crate::redaction_setters!();
}

impl<S, N> FormatEvent<S, N> for ConsoleFormat
where
    S: Subscriber + for<'l> LookupSpan<'l>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ansi = writer.has_ansi_escapes();
        with_buf(|buf| {
            format_console(
                buf,
                event,
                None,
                || ctx.event_scope(),
                ansi,
                self.redactor.as_ref(),
            );
            writer.write_str(buf)
        })
    }
}

/// Finds the message of an event and writes it console-escaped (and redacted).
pub(crate) struct ConsoleMessage<'a> {
    pub(crate) buf: &'a mut String,
    pub(crate) redactor: Option<&'a Redactor>,
}

impl ConsoleMessage<'_> {
    fn write(&mut self, field: &Field, text: &str) {
        match self.redactor {
            // The JSON line's redactor saw this very text (`crate::verdict`).
            Some(r) if crate::verdict::known_clean(field.index(), text, r) => {
                console_escape_into(self.buf, text, false);
            }
            Some(r) => console_escape_into(self.buf, &r.redact_text(text), false),
            None => console_escape_into(self.buf, text, false),
        }
    }
}

impl Visit for ConsoleMessage<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.write(field, value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() != "message" {
            return;
        }
        if self.redactor.is_none() {
            let _ = write!(ConsoleEscaper(self.buf), "{value:?}");
            return;
        }
        with_scratch(|s| {
            let _ = write!(s, "{value:?}");
            self.write(field, s);
        });
    }
}
