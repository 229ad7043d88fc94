//! syslog, RFC 5424, over UDP, TCP (octet counting, RFC 6587) or a unix socket.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

use crate::line::{value_text, Record};
use crate::queue::{QueueSettings, Transport};
use crate::Shipper;

/// The structured-data id of the request context: `prodlog@32473` (32473 is the private
/// enterprise number RFC 5612 reserves for documentation and examples).
pub const SD_ID: &str = "prodlog@32473";

/// A syslog destination.
///
/// ```no_run
/// let shipper = prodlog_ship::Syslog::parse("udp://127.0.0.1:514")?
///     .app_name("billing")
///     .build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a Syslog does nothing until `build()`"]
pub struct Syslog {
    target: Target,
    app: String,
    facility: u8,
    queue_bytes: usize,
}

#[derive(Debug, Clone)]
enum Target {
    Udp(String),
    Tcp(String),
    Unix(PathBuf),
}

impl Syslog {
    /// `udp://host:port`, `tcp://host:port` or `unix:///dev/log` (a datagram socket).
    pub fn parse(spec: &str) -> io::Result<Syslog> {
        let spec = spec.trim();
        let bad = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("syslog destination {spec:?}: {why} (expected udp://host:port, tcp://host:port or unix:///path)"),
            )
        };
        let target = if let Some(a) = spec.strip_prefix("udp://") {
            Target::Udp(host_port(a, 514).map_err(|e| bad(&e))?)
        } else if let Some(a) = spec.strip_prefix("tcp://") {
            Target::Tcp(host_port(a, 601).map_err(|e| bad(&e))?)
        } else if let Some(p) = spec.strip_prefix("unix://") {
            if !p.starts_with('/') {
                return Err(bad("the socket path must be absolute"));
            }
            Target::Unix(PathBuf::from(p))
        } else {
            return Err(bad("unknown scheme"));
        };
        Ok(Syslog {
            target,
            app: "prodlog".to_owned(),
            facility: 1,
            queue_bytes: 4 << 20,
        })
    }

    /// APP-NAME of every message.
    pub fn app_name(mut self, app: impl Into<String>) -> Self {
        self.app = app.into();
        self
    }

    /// The facility number (default 1, `user`; 16–23 are `local0`–`local7`).
    pub fn facility(mut self, facility: u8) -> Self {
        self.facility = facility.min(23);
        self
    }

    /// The most bytes held for the server (default 4 MiB).
    pub fn queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes.clamp(64 * 1024, 1 << 30);
        self
    }

    /// Starts the sending thread (the connection is made there, and remade after errors).
    pub fn build(self) -> io::Result<Shipper> {
        let name = match &self.target {
            Target::Udp(a) => format!("syslog udp://{a}"),
            Target::Tcp(a) => format!("syslog tcp://{a}"),
            Target::Unix(p) => format!("syslog unix://{}", p.display()),
        };
        let transport = SyslogTransport {
            target: self.target,
            header: Header {
                app: sanitize_name(&self.app, 48),
                host: sanitize_name(&crate::otlp::host_name(), 255),
                pid: std::process::id(),
                facility: self.facility,
            },
            conn: None,
            name,
            msg: String::new(),
            delivered: 0,
        };
        Shipper::start(
            Box::new(transport),
            QueueSettings {
                max_bytes: self.queue_bytes,
                linger: Duration::ZERO,
                max_batch_lines: 256,
            },
            None,
        )
    }
}

/// `udp://host:port`, `tcp://…` or `unix:///…`.
impl std::fmt::Display for Syslog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.target {
            Target::Udp(a) => write!(f, "udp://{a}"),
            Target::Tcp(a) => write!(f, "tcp://{a}"),
            Target::Unix(p) => write!(f, "unix://{}", p.display()),
        }
    }
}

fn host_port(a: &str, default_port: u16) -> Result<String, String> {
    let a = a.trim_end_matches('/');
    if a.is_empty() {
        return Err("no host".to_owned());
    }
    let has_port = a
        .rsplit_once(':')
        .is_some_and(|(h, _)| !h.ends_with(':') && !h.is_empty())
        && !(a.starts_with('[') && a.ends_with(']'));
    let with_port = if has_port {
        a.to_owned()
    } else {
        format!("{a}:{default_port}")
    };
    let port = with_port.rsplit_once(':').map(|(_, p)| p).unwrap_or("");
    port.parse::<u16>()
        .map_err(|_| format!("bad port {port:?}"))?;
    Ok(with_port)
}

struct Header {
    app: String,
    host: String,
    pid: u32,
    facility: u8,
}

enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Unix(UnixDatagram),
}

struct SyslogTransport {
    target: Target,
    header: Header,
    conn: Option<Conn>,
    name: String,
    msg: String,
    /// Lines of the last failed `send` that went out before it failed.
    delivered: usize,
}

/// How long one batch may take to be written to a TCP server that does not read.
const TCP_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest datagram sent; longer messages are cut (at a character boundary) and
/// marked `…[truncated]`. TCP has no limit.
const MAX_DATAGRAM: usize = 60 * 1024;

impl SyslogTransport {
    fn connect(&self) -> io::Result<Conn> {
        Ok(match &self.target {
            Target::Udp(a) => {
                let addr = a
                    .to_socket_addrs()?
                    .next()
                    .ok_or_else(|| io::Error::other("no address"))?;
                let bind = if addr.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let s = UdpSocket::bind(bind)?;
                s.connect(addr)?;
                Conn::Udp(s)
            }
            Target::Tcp(a) => {
                let addr = a
                    .to_socket_addrs()?
                    .next()
                    .ok_or_else(|| io::Error::other("no address"))?;
                let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
                // Short writes, so a send notices a shutdown; the batch as a whole gets
                // `TCP_WRITE_TIMEOUT`.
                s.set_write_timeout(Some(Duration::from_millis(100)))?;
                Conn::Tcp(s)
            }
            Target::Unix(p) => {
                let s = UnixDatagram::unbound()?;
                s.connect(p)?;
                Conn::Unix(s)
            }
        })
    }
}

impl Transport for SyslogTransport {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn send(&mut self, lines: &[&[u8]], stop: &std::sync::atomic::AtomicBool) -> io::Result<()> {
        self.delivered = 0;
        if self.conn.is_none() {
            self.conn = Some(self.connect()?);
        }
        let mut tcp_batch = Vec::new();
        // Where each line's frame ends in `tcp_batch`.
        let mut frame_ends = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let record = Record::parse(line);
            self.msg.clear();
            format_5424(&mut self.msg, &self.header, &record);
            let result = match self.conn.as_mut() {
                Some(Conn::Udp(s)) => s.send(truncate(&self.msg).as_bytes()).map(drop),
                Some(Conn::Unix(s)) => s.send(truncate(&self.msg).as_bytes()).map(drop),
                Some(Conn::Tcp(_)) => {
                    // RFC 6587 octet counting: `LEN SP MSG`.
                    tcp_batch.extend_from_slice(self.msg.len().to_string().as_bytes());
                    tcp_batch.push(b' ');
                    tcp_batch.extend_from_slice(self.msg.as_bytes());
                    frame_ends.push(tcp_batch.len());
                    Ok(())
                }
                None => Err(io::Error::other("not connected")),
            };
            if let Err(e) = result {
                self.conn = None;
                self.delivered = i;
                return Err(e);
            }
        }
        if let Some(Conn::Tcp(s)) = self.conn.as_mut() {
            // A line is sent once the kernel took all of its frame. A server that stops
            // reading fills the socket buffers, the write times out, and the lines whose
            // frames went out whole are counted as sent; the rest (and the connection,
            // which holds a cut frame) are dropped and tried again.
            let mut written = 0;
            let deadline = std::time::Instant::now() + TCP_WRITE_TIMEOUT;
            while written < tcp_batch.len() {
                if stop.load(std::sync::atomic::Ordering::Relaxed)
                    || std::time::Instant::now() >= deadline
                {
                    self.delivered = frame_ends.iter().take_while(|&&end| end <= written).count();
                    self.conn = None;
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the syslog server stopped reading",
                    ));
                }
                match s.write(&tcp_batch[written..]) {
                    Ok(0) => break,
                    Ok(n) => written += n,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::Interrupted
                                | io::ErrorKind::WouldBlock
                                | io::ErrorKind::TimedOut
                        ) => {}
                    Err(e) => {
                        self.delivered =
                            frame_ends.iter().take_while(|&&end| end <= written).count();
                        self.conn = None;
                        return Err(e);
                    }
                }
            }
            if written < tcp_batch.len() {
                self.delivered = frame_ends.iter().take_while(|&&end| end <= written).count();
                self.conn = None;
                return Err(io::Error::from(io::ErrorKind::WriteZero));
            }
        }
        Ok(())
    }

    fn delivered_before_error(&mut self) -> usize {
        self.delivered
    }
}

fn truncate(msg: &str) -> std::borrow::Cow<'_, str> {
    if msg.len() <= MAX_DATAGRAM {
        return msg.into();
    }
    let mut end = MAX_DATAGRAM - 16;
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[truncated]", &msg[..end]).into()
}

/// PRINTUSASCII without `=`, ` `, `]`, `"`, at most `max` bytes; `-` when empty.
fn sanitize_name(s: &str, max: usize) -> String {
    let out: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"'))
        .take(max)
        .collect();
    if out.is_empty() {
        "-".to_owned()
    } else {
        out
    }
}

/// One RFC 5424 message: header, the request context and fields as structured data, and
/// the message (control characters escaped, so one event stays one line downstream).
fn format_5424(out: &mut String, h: &Header, r: &Record) {
    let pri = u32::from(h.facility) * 8 + u32::from(r.syslog_severity());
    let time = if r.time_ns == 0 {
        "-".to_owned()
    } else {
        crate::line::rfc3339(
            r.time_ns / 1_000_000_000,
            ((r.time_ns % 1_000_000_000) / 1000) as u32,
        )
    };
    let msgid = sanitize_name(&r.target, 32);
    let _ = write!(
        out,
        "<{pri}>1 {time} {} {} {} {msgid} ",
        h.host, h.app, h.pid
    );
    let mut params: Vec<(String, std::borrow::Cow<'_, str>)> = Vec::new();
    for (k, v) in &r.fields {
        params.push((sanitize_name(k, 32), value_text(v)));
    }
    if let Some(t) = &r.trace_id {
        params.push(("trace_id".to_owned(), t.as_str().into()));
    }
    if let Some(s) = &r.span_id {
        params.push(("span_id".to_owned(), s.as_str().into()));
    }
    if let Some(s) = &r.span {
        params.push(("span".to_owned(), s.as_str().into()));
    }
    if r.level == "CRITICAL" {
        params.push(("level".to_owned(), "CRITICAL".into()));
    }
    if params.is_empty() {
        out.push('-');
    } else {
        out.push('[');
        out.push_str(SD_ID);
        for (k, v) in &params {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            for c in v.chars() {
                match c {
                    '"' | '\\' | ']' => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if c.is_control() => {
                        let _ = write!(out, "\\u{{{:x}}}", c as u32);
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        out.push(']');
    }
    if !r.message.is_empty() {
        out.push(' ');
        for c in r.message.chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push('\t'),
                c if c.is_control() => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5424_with_structured_data() {
        let r = Record::parse(
            br#"{"timestamp":"2026-11-25T01:34:45.123456Z","level":"WARN","target":"app::db","message":"slow\nquery","request_id":"r\"1]","n":3}"#,
        );
        let h = Header {
            app: "billing".into(),
            host: "h1".into(),
            pid: 42,
            facility: 1,
        };
        let mut s = String::new();
        format_5424(&mut s, &h, &r);
        assert_eq!(
            s,
            r#"<12>1 2026-11-25T01:34:45.123456Z h1 billing 42 app::db [prodlog@32473 n="3" request_id="r\"1\]"] slow\nquery"#
        );
    }

    #[test]
    fn destinations_parse() {
        assert!(Syslog::parse("udp://127.0.0.1:514").is_ok());
        assert!(Syslog::parse("tcp://localhost").is_ok());
        assert!(Syslog::parse("unix:///dev/log").is_ok());
        assert!(Syslog::parse("unix://dev/log").is_err());
        assert!(Syslog::parse("http://x").is_err());
        assert!(Syslog::parse("udp://x:notaport").is_err());
        assert!(Syslog::parse("udp://").is_err());
    }
}
