//! systemd-journald's native protocol: one datagram of `FIELD=value` lines per entry to
//! `/run/systemd/journal/socket`; an entry too large for a datagram goes in a sealed
//! memfd whose descriptor is passed instead (what `sd_journal_send` does).

use std::io::{self, IoSlice, Write};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

use crate::line::{value_text, Record};
use crate::queue::{QueueSettings, Transport};
use crate::Shipper;

/// The socket journald listens on.
pub const JOURNALD_SOCKET: &str = "/run/systemd/journal/socket";

/// A journald destination.
///
/// Each event becomes one journal entry: `MESSAGE`, `PRIORITY` (syslog numbering),
/// `SYSLOG_IDENTIFIER`, `CODE_FILE`, `CODE_LINE`, `TARGET`, `SPAN`, and every field of the
/// event and its spans upper-cased (`request_id` → `REQUEST_ID`; characters journald
/// does not allow become `_`).
///
/// ```no_run
/// let shipper = prodlog_ship::Journald::new().identifier("billing").build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a Journald does nothing until `build()`"]
pub struct Journald {
    socket: PathBuf,
    identifier: String,
    queue_bytes: usize,
}

impl Default for Journald {
    fn default() -> Self {
        Journald {
            socket: PathBuf::from(JOURNALD_SOCKET),
            identifier: "prodlog".to_owned(),
            queue_bytes: 4 << 20,
        }
    }
}

impl Journald {
    /// To the system journal.
    pub fn new() -> Self {
        Journald::default()
    }

    /// Another socket (a journald run for tests, a namespace's socket).
    pub fn socket(mut self, path: impl Into<PathBuf>) -> Self {
        self.socket = path.into();
        self
    }

    /// `SYSLOG_IDENTIFIER` of every entry (the application's name).
    pub fn identifier(mut self, id: impl Into<String>) -> Self {
        self.identifier = id.into();
        self
    }

    /// The most bytes held for journald (default 4 MiB).
    pub fn queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes.clamp(64 * 1024, 1 << 30);
        self
    }

    /// Starts the sending thread. A socket that is not there yet (journald starting after
    /// the service, a container whose socket is mounted later) is not an error: lines wait
    /// in the bounded queue — dropped and counted when it is full — and the socket is
    /// tried again with the queue's backoff until it appears.
    pub fn build(self) -> io::Result<Shipper> {
        let name = format!("journald {}", self.socket.display());
        Shipper::start(
            Box::new(JournaldTransport {
                socket: self.socket,
                identifier: self.identifier,
                conn: None,
                delivered: 0,
                entry: Vec::new(),
                name,
            }),
            QueueSettings {
                max_bytes: self.queue_bytes,
                linger: Duration::ZERO,
                max_batch_lines: 256,
            },
            None,
        )
    }
}

/// The socket's path.
impl std::fmt::Display for Journald {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.socket.display())
    }
}

struct JournaldTransport {
    socket: PathBuf,
    identifier: String,
    conn: Option<UnixDatagram>,
    /// Entries of the last failed `send` that went out before it failed.
    delivered: usize,
    entry: Vec<u8>,
    name: String,
}

/// A journal field name: `A-Z`, `0-9` and `_`, starting with a letter, at most 64 bytes.
fn field_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_uppercase()) {
        out.insert_str(0, "F_");
    }
    out.truncate(64);
    out
}

/// `NAME=value\n`, or the binary form for a value with a newline.
fn field(entry: &mut Vec<u8>, name: &str, value: &str) {
    entry.extend_from_slice(name.as_bytes());
    if value.contains('\n') {
        entry.push(b'\n');
        entry.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        entry.push(b'=');
    }
    entry.extend_from_slice(value.as_bytes());
    entry.push(b'\n');
}

pub(crate) fn encode(entry: &mut Vec<u8>, identifier: &str, r: &Record) {
    field(entry, "MESSAGE", &r.message);
    field(entry, "PRIORITY", &r.syslog_severity().to_string());
    field(entry, "SYSLOG_IDENTIFIER", identifier);
    if !r.target.is_empty() {
        field(entry, "TARGET", &r.target);
    }
    if let Some(f) = &r.file {
        field(entry, "CODE_FILE", f);
    }
    if let Some(l) = r.line {
        field(entry, "CODE_LINE", &l.to_string());
    }
    if let Some(s) = &r.span {
        field(entry, "SPAN", s);
    }
    if let Some(t) = &r.trace_id {
        field(entry, "TRACE_ID", t);
    }
    if let Some(s) = &r.span_id {
        field(entry, "SPAN_ID", s);
    }
    if r.level == "CRITICAL" {
        field(entry, "LEVEL", "CRITICAL");
    }
    for (k, v) in &r.fields {
        let name = field_name(k);
        // The entry's own fields above are not overwritten by an event field.
        let name = match name.as_str() {
            "MESSAGE" | "PRIORITY" | "SYSLOG_IDENTIFIER" | "CODE_FILE" | "CODE_LINE" | "TARGET"
            | "SPAN" | "TRACE_ID" | "SPAN_ID" | "LEVEL" | "MESSAGE_ID" => {
                format!("F_{name}")
            }
            _ => name,
        };
        field(entry, &name, &value_text(v));
    }
}

impl JournaldTransport {
    fn send_memfd(&self, sock: &UnixDatagram) -> io::Result<()> {
        use rustix::fs::{MemfdFlags, SealFlags};
        use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
        let fd = rustix::fs::memfd_create(
            "prodlog-journal",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )?;
        let mut file = std::fs::File::from(fd);
        file.write_all(&self.entry)?;
        rustix::fs::fcntl_add_seals(
            &file,
            SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE,
        )?;
        let fds = [std::os::fd::AsFd::as_fd(&file)];
        let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(io::Error::other("cannot pass the memfd"));
        }
        rustix::net::sendmsg(sock, &[IoSlice::new(&[])], &mut control, SendFlags::empty())?;
        Ok(())
    }
}

impl Transport for JournaldTransport {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn send(&mut self, lines: &[&[u8]], _stop: &std::sync::atomic::AtomicBool) -> io::Result<()> {
        self.delivered = 0;
        if self.conn.is_none() {
            let s = UnixDatagram::unbound()?;
            s.connect(&self.socket)?;
            s.set_write_timeout(Some(Duration::from_secs(5)))?;
            self.conn = Some(s);
        }
        for (i, line) in lines.iter().enumerate() {
            self.delivered = i;
            let record = Record::parse(line);
            self.entry.clear();
            encode(&mut self.entry, &self.identifier, &record);
            let Some(sock) = self.conn.as_ref() else {
                return Err(io::Error::other("not connected"));
            };
            let result = match sock.send(&self.entry) {
                Ok(_) => Ok(()),
                // EMSGSIZE, or ENOBUFS for a datagram over the socket buffer.
                Err(e) if matches!(e.raw_os_error(), Some(90 | 105)) => self.send_memfd(sock),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                self.conn = None;
                return Err(e);
            }
        }
        Ok(())
    }

    fn delivered_before_error(&mut self) -> usize {
        self.delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_and_binary_values() {
        assert_eq!(field_name("request_id"), "REQUEST_ID");
        assert_eq!(field_name("http.status"), "HTTP_STATUS");
        assert_eq!(field_name("_PID"), "F__PID");
        assert_eq!(field_name("1x"), "F_1X");
        let mut e = Vec::new();
        field(&mut e, "MESSAGE", "a\nb");
        assert_eq!(e, b"MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\n");
    }
}
