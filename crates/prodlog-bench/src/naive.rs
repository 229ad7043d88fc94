//! The naive redaction users write: a `MakeWriter` running a list of regexes over every
//! formatted line before it reaches the output.

use std::io::{self, Write};

use regex::Regex;
use tracing_subscriber::fmt::MakeWriter;

/// A writer that redacts whole lines with regexes (the comparison point, not a recommendation).
pub struct NaiveRedactingWriter {
    patterns: Vec<Regex>,
}

impl NaiveRedactingWriter {
    pub fn new() -> Self {
        let patterns = [
            r"AKIA[0-9A-Z]{16}",
            r"gh[pousr]_[A-Za-z0-9]{36,}",
            r"xox[abpors]-[0-9A-Za-z-]{10,}",
            r"sk_live_[0-9A-Za-z]{10,}",
            r"AIza[0-9A-Za-z_-]{35}",
            r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
            r"(?i)bearer [A-Za-z0-9._~+/=-]+",
            r"://[^:/\s]+:[^@/\s]+@",
            r#"(?i)"(password|secret|token|api_key)":"[^"]*""#,
            r"\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b",
        ]
        .iter()
        .map(|p| Regex::new(p).expect("bench regex"))
        .collect();
        NaiveRedactingWriter { patterns }
    }
}

/// One line being written.
pub struct LineWriter<'a> {
    patterns: &'a [Regex],
    line: Vec<u8>,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        let mut text = String::from_utf8_lossy(&self.line).into_owned();
        for p in self.patterns {
            if let std::borrow::Cow::Owned(s) = p.replace_all(&text, "[REDACTED]") {
                text = s;
            }
        }
        let _ = io::sink().write_all(std::hint::black_box(text.as_bytes()));
    }
}

impl<'a> MakeWriter<'a> for NaiveRedactingWriter {
    type Writer = LineWriter<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            patterns: &self.patterns,
            line: Vec::new(),
        }
    }
}
