//! [`Writer`] as a `tracing_subscriber` `MakeWriter`.

use std::io;

use tracing_subscriber::fmt::MakeWriter;

use crate::writer::Writer;

/// The per-event writer `fmt` gets: it collects what the formatter writes and queues it as
/// one piece when dropped, so lines of different threads never interleave.
#[derive(Debug)]
pub struct LineWriter<'a> {
    writer: &'a Writer,
    buf: Vec<u8>,
}

impl io::Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        // The common case: the whole event in one call, queued without a copy of our own.
        if self.buf.is_empty() && bytes.ends_with(b"\n") {
            self.writer.write_line(bytes);
        } else {
            self.buf.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            if !self.buf.ends_with(b"\n") {
                self.buf.push(b'\n');
            }
            self.writer.write_line(&self.buf);
        }
    }
}

impl<'a> MakeWriter<'a> for Writer {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            writer: self,
            buf: Vec::new(),
        }
    }
}
