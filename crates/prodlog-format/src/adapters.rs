//! Redaction for users who keep `tracing_subscriber::fmt`'s own formatters.

use std::fmt;
use std::io;

use prodlog_redact::Redactor;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FormatFields, MakeWriter};

use crate::buf::with_buf;
use crate::console::ConsoleMessage;
use crate::encode::Console;
use crate::keys::KeySet;
use crate::visitor::FieldVisitor;

/// A [`FormatFields`] for `fmt`'s text formats (`Full`, `Compact`, `Pretty`'s fields): the
/// message, then ` key=value` pairs, every value redacted on its way in — event fields and
/// span fields alike — and control characters escaped.
///
/// ```
/// let subscriber = tracing_subscriber::fmt()
///     .fmt_fields(prodlog_format::RedactingFields::new())
///     .with_writer(std::io::sink)
///     .finish();
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(password = "hunter2", "login"); // ... login password=[REDACTED]
/// });
/// ```
///
/// Cost: the same per-value redaction as prodlog's own formatters (a byte-class pass, then
/// the rules a value could match), no line-wide regex pass.
#[derive(Debug, Clone, Default)]
pub struct RedactingFields {
    redactor: Redactor,
}

impl RedactingFields {
    /// Fields redacted with the default rules.
    pub fn new() -> Self {
        RedactingFields::default()
    }

    /// Fields redacted with `redactor`.
    pub fn with_redactor(redactor: Redactor) -> Self {
        RedactingFields { redactor }
    }
}

impl<'w> FormatFields<'w> for RedactingFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        with_buf(|buf| {
            fields.record(&mut ConsoleMessage {
                buf,
                redactor: Some(&self.redactor),
            });
            let mut keys = KeySet::new();
            let mut visitor = FieldVisitor::<Console>::new(buf, &mut keys, true)
                .with_redactor(Some(&self.redactor));
            visitor.skip_message = true;
            fields.record(&mut visitor);
            writer.write_str(buf.trim_start_matches(' '))
        })
    }
}

/// A [`MakeWriter`] that redacts whole lines before they reach `inner`: the fallback for a
/// formatter whose fields cannot be reached (`fmt().json()`, a third-party layer).
///
/// ```
/// let subscriber = tracing_subscriber::fmt()
///     .json()
///     .with_writer(prodlog_format::RedactingMakeWriter::new(std::io::stdout))
///     .finish();
/// ```
///
/// `fmt` writes each event with one `write` call, so each call is redacted as one text.
/// Cost: each line is scanned whole (the same prefilter, over more bytes) and copied once
/// when it holds a secret; pairs are recognised by their key in the text (`"password":"…"`),
/// which is what a line-level pass can see. Prefer prodlog's formatters or
/// [`RedactingFields`], which redact each value where it is written.
#[derive(Debug, Clone)]
pub struct RedactingMakeWriter<M> {
    inner: M,
    redactor: Redactor,
}

impl<M> RedactingMakeWriter<M> {
    /// Redacts what `inner`'s writers receive, with the default rules.
    pub fn new(inner: M) -> Self {
        RedactingMakeWriter {
            inner,
            redactor: Redactor::default(),
        }
    }

    /// Uses `redactor` instead of the default rules.
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }
}

/// A writer from [`RedactingMakeWriter`].
#[derive(Debug)]
pub struct RedactingWriter<'a, W> {
    inner: W,
    redactor: &'a Redactor,
}

impl<W: io::Write> io::Write for RedactingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner
            .write_all(self.redactor.redact_text(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = RedactingWriter<'a, M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.inner.make_writer(),
            redactor: &self.redactor,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing_core::Metadata<'_>) -> Self::Writer {
        RedactingWriter {
            inner: self.inner.make_writer_for(meta),
            redactor: &self.redactor,
        }
    }
}
