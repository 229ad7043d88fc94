//! A minimal HTTP/1.1 client: `POST` one body over a kept-alive connection, plain or over
//! TLS (`tls.rs`).
//!
//! An OTLP/HTTP export is one POST with a protobuf body, and the answer only matters by
//! its status (and its `Retry-After`). The exporters of `opentelemetry-otlp` need
//! `reqwest` or `hyper` with a tokio runtime; a blocking POST on the sending thread needs
//! neither.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The TLS configuration of an `https://` client.
#[cfg(feature = "tls")]
pub(crate) type TlsConfig = std::sync::Arc<rustls::ClientConfig>;
/// Without the `tls` feature there is none (an https URL is refused by [`Url::parse`]).
#[cfg(not(feature = "tls"))]
pub(crate) type TlsConfig = std::convert::Infallible;

/// An `http://host:port/path` URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// `https://`: never sent in plain text.
    pub(crate) tls: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path: String,
}

impl Url {
    pub(crate) fn parse(url: &str) -> Result<Url, String> {
        let url = url.trim();
        let lower = url.get(..8).unwrap_or("").to_ascii_lowercase();
        let (tls, rest) = if lower.starts_with("http://") {
            (false, &url[7..])
        } else if lower == "https://" {
            if cfg!(not(feature = "tls")) {
                return Err(format!(
                    "{url:?}: https needs prodlog-ship's `tls` feature (on by default)"
                ));
            }
            (true, &url[8..])
        } else {
            return Err(format!("{url:?} is not an http:// or https:// URL"));
        };
        let default_port = if tls { "443" } else { "80" };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(format!(
                "{url:?}: credentials belong in OTEL_EXPORTER_OTLP_HEADERS, not the URL"
            ));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6
                .find(']')
                .ok_or_else(|| format!("{url:?}: unclosed '['"))?;
            let port = match &v6[end + 1..] {
                "" => default_port,
                rest => rest
                    .strip_prefix(':')
                    .ok_or_else(|| format!("{url:?}: {rest:?} after the address"))?,
            };
            (format!("[{}]", &v6[..end]), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p),
                None => (authority.to_owned(), default_port),
            }
        };
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("{url:?}: bad port {port:?}"))?;
        if host.is_empty() || host.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(format!("{url:?}: bad host"));
        }
        if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(format!("{url:?}: bad path"));
        }
        Ok(Url {
            tls,
            host,
            port,
            path: path.to_owned(),
        })
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}:{}{}", self.host, self.port, self.path)
    }
}

pub(crate) struct Client {
    url: Url,
    headers: String,
    timeout: Duration,
    tls: Option<TlsConfig>,
    conn: Option<BufReader<Conn>>,
    /// The `Retry-After` of the last answer that asked to retry (429, 503).
    retry_after: Option<Duration>,
}

/// A connection, plain or TLS, over one [`Timed`] stream.
pub(crate) enum Conn {
    Plain(Timed),
    #[cfg(feature = "tls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, Timed>>),
}

impl Conn {
    fn timed(&mut self) -> &mut Timed {
        match self {
            Conn::Plain(t) => t,
            #[cfg(feature = "tls")]
            Conn::Tls(t) => &mut t.sock,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.read(buf),
            #[cfg(feature = "tls")]
            Conn::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.write(buf),
            #[cfg(feature = "tls")]
            Conn::Tls(t) => t.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(t) => t.flush(),
            #[cfg(feature = "tls")]
            Conn::Tls(t) => t.flush(),
        }
    }
}

/// A connection whose every read and write ends by one deadline: the export's timeout
/// bounds the whole request — connect, send, and the answer however slowly it trickles
/// in — not each system call.
pub(crate) struct Timed {
    stream: TcpStream,
    deadline: Instant,
}

impl Timed {
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(timed_out())
        } else {
            Ok(left)
        }
    }
}

/// The error of a request past its deadline. A socket timeout comes back as `EAGAIN`
/// ("Resource temporarily unavailable") on Linux: said plainly instead.
fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the export request took longer than its timeout",
    )
}

fn plain(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timed_out(),
        _ => e,
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        self.stream.read(buf).map_err(plain)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        self.stream.write(buf).map_err(plain)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Client {
    /// A client of `url`; `tls` is the configuration for an `https://` one (required
    /// there: never plain text to an https URL).
    pub(crate) fn new(
        url: Url,
        headers: &[(String, String)],
        timeout: Duration,
        tls: Option<TlsConfig>,
    ) -> Client {
        let mut h = String::new();
        for (k, v) in headers {
            h.push_str(k);
            h.push_str(": ");
            h.push_str(v);
            h.push_str("\r\n");
        }
        Client {
            url,
            headers: h,
            timeout,
            tls,
            conn: None,
            retry_after: None,
        }
    }

    /// The `Retry-After` of the last answer, when it asked to retry later.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    fn connect(&self, deadline: Instant) -> io::Result<BufReader<Conn>> {
        let host = self.url.host.trim_start_matches('[').trim_end_matches(']');
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for addr in (host, self.url.port).to_socket_addrs()? {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    let timed = Timed { stream, deadline };
                    return self.secure(timed).map(BufReader::new);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The connection to use: TLS, handshake done (so a refused certificate is the error
    /// of this request, said plainly), for an `https://` URL.
    fn secure(&self, timed: Timed) -> io::Result<Conn> {
        if !self.url.tls {
            return Ok(Conn::Plain(timed));
        }
        #[cfg(feature = "tls")]
        {
            let config = self.tls.clone().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "https without a TLS configuration",
                )
            })?;
            let name = crate::tls::server_name(&self.url.host)?;
            let conn = rustls::ClientConnection::new(config, name)
                .map_err(|e| crate::tls::explain(io::Error::other(e), &self.url.to_string()))?;
            let mut stream = rustls::StreamOwned::new(conn, timed);
            while stream.conn.is_handshaking() {
                stream
                    .conn
                    .complete_io(&mut stream.sock)
                    .map_err(|e| crate::tls::explain(e, &self.url.to_string()))?;
            }
            Ok(Conn::Tls(Box::new(stream)))
        }
        #[cfg(not(feature = "tls"))]
        match self.tls {
            Some(never) => match never {},
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "https needs prodlog-ship's `tls` feature",
            )),
        }
    }

    /// POSTs `body` (already compressed with `encoding`, when some); Ok for a 2xx answer.
    ///
    /// The retry policy of the OTLP specification: 429, 502, 503 and 504 (and failures to
    /// connect or to get an answer) are errors worth retrying, with the answer's
    /// `Retry-After` kept for [`Client::retry_after`]; any other answer is
    /// [`io::ErrorKind::InvalidData`]: the collector refused the data, and sending it again
    /// would not help.
    pub(crate) fn post(
        &mut self,
        content_type: &str,
        encoding: Option<&str>,
        body: &[u8],
    ) -> io::Result<()> {
        self.retry_after = None;
        // One deadline for the whole request, the retry on a fresh connection included.
        let deadline = Instant::now() + self.timeout;
        // A kept-alive connection the server closed fails on first use: one fresh retry.
        for attempt in 0..2 {
            let reused = self.conn.is_some();
            let mut conn = match self.conn.take() {
                Some(mut c) => {
                    c.get_mut().timed().deadline = deadline;
                    c
                }
                None => self.connect(deadline)?,
            };
            match self.exchange(&mut conn, content_type, encoding, body) {
                Ok(answer) => {
                    let status = answer.status;
                    if answer.keep {
                        self.conn = Some(conn);
                    }
                    return match status {
                        200..=299 => Ok(()),
                        429 | 502 | 503 | 504 => {
                            self.retry_after = answer.retry_after;
                            Err(io::Error::other(match answer.retry_after {
                                Some(after) => format!(
                                    "the collector answered HTTP {status}, retry after {after:?}"
                                ),
                                None => format!("the collector answered HTTP {status}"),
                            }))
                        }
                        300..=399 => Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "the collector answered HTTP {status}, a redirect (not followed): check the endpoint {}",
                                self.url
                            ),
                        )),
                        _ => Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("the collector answered HTTP {status}"),
                        )),
                    };
                }
                Err(e) if reused && attempt == 0 && e.kind() != io::ErrorKind::TimedOut => {
                    let _ = e;
                    continue;
                }
                // A server that refuses this client's certificate says so after the
                // handshake (TLS 1.3): in plain words too.
                #[cfg(feature = "tls")]
                Err(e) if self.url.tls => {
                    // The request may have failed to go out (a broken pipe) because the
                    // server closed after its alert: the alert says why.
                    let e = match alert(&mut conn) {
                        Some(alert) => alert,
                        // Closed by the server right after a fresh handshake: what a
                        // server that wants a client certificate does (TLS 1.3 checks it
                        // after the client's side of the handshake is done).
                        None if !reused
                            && matches!(
                                e.kind(),
                                io::ErrorKind::BrokenPipe
                                    | io::ErrorKind::ConnectionReset
                                    | io::ErrorKind::UnexpectedEof
                            ) =>
                        {
                            io::Error::new(
                                e.kind(),
                                format!(
                                    "TLS: {} closed the connection after the handshake ({e}): does it want a client certificate (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY)?",
                                    self.url
                                ),
                            )
                        }
                        None => e,
                    };
                    return Err(crate::tls::explain(e, &self.url.to_string()));
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("unreachable"))
    }

    fn exchange(
        &self,
        conn: &mut BufReader<Conn>,
        content_type: &str,
        encoding: Option<&str>,
        body: &[u8],
    ) -> io::Result<Answer> {
        let encoding = match encoding {
            Some(e) => format!("Content-Encoding: {e}\r\n"),
            None => String::new(),
        };
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: {content_type}\r\n{encoding}Content-Length: {}\r\nUser-Agent: prodlog/{}\r\n{}\r\n",
            self.url.path,
            self.url.host,
            self.url.port,
            body.len(),
            env!("CARGO_PKG_VERSION"),
            self.headers
        );
        let stream = conn.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        // Status line and headers (bounded).
        let mut line = String::new();
        let mut status = None;
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut keep = true;
        let mut retry_after = None;
        let mut header_bytes = 0usize;
        loop {
            line.clear();
            let n = read_line(conn, 16 * 1024, &mut line)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the collector closed the connection",
                ));
            }
            header_bytes += n;
            if header_bytes > 64 * 1024 {
                return Err(io::Error::other("response headers too large"));
            }
            let l = line.trim_end();
            if status.is_none() {
                let code = l
                    .strip_prefix("HTTP/1.")
                    .and_then(|r| r.get(2..5))
                    .and_then(|c| c.parse::<u16>().ok())
                    .ok_or_else(|| io::Error::other(format!("not an HTTP response: {l:?}")))?;
                status = Some(code);
                continue;
            }
            if l.is_empty() {
                // `100 Continue` and other interim answers: their headers end here, and the
                // real answer follows.
                if status.is_some_and(|c| (100..200).contains(&c)) {
                    status = None;
                    continue;
                }
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim(), v.trim());
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.parse().ok();
                } else if k.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = v.to_ascii_lowercase().contains("chunked");
                } else if k.eq_ignore_ascii_case("connection") {
                    keep = !v.eq_ignore_ascii_case("close");
                } else if k.eq_ignore_ascii_case("retry-after") {
                    retry_after = crate::retry::parse_retry_after(v, std::time::SystemTime::now());
                }
            }
        }
        let status = status.unwrap_or(0);
        // Read the body away so the connection can be reused (bounded).
        const MAX_BODY: u64 = 1 << 20;
        if chunked {
            loop {
                line.clear();
                read_line(conn, 1024, &mut line)?;
                let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| io::Error::other("bad chunk size"))?;
                if size > MAX_BODY {
                    keep = false;
                    break;
                }
                if size == 0 {
                    // The trailer: header lines up to an empty one (left unread, the next
                    // answer would start with them).
                    loop {
                        line.clear();
                        let n = read_line(conn, 16 * 1024, &mut line)?;
                        header_bytes += n;
                        if n == 0 || line.trim_end().is_empty() || header_bytes > 64 * 1024 {
                            break;
                        }
                    }
                    break;
                }
                io::copy(&mut conn.by_ref().take(size + 2), &mut io::sink())?;
            }
        } else if let Some(len) = length {
            if len > MAX_BODY {
                keep = false;
            } else {
                io::copy(&mut conn.by_ref().take(len), &mut io::sink())?;
            }
        } else {
            keep = false;
        }
        Ok(Answer {
            status,
            keep,
            retry_after,
        })
    }
}

/// The TLS alert a server sent before it closed, if one is waiting to be read.
#[cfg(feature = "tls")]
fn alert(conn: &mut BufReader<Conn>) -> Option<io::Error> {
    let Conn::Tls(tls) = conn.get_mut() else {
        return None;
    };
    let mut byte = [0u8; 1];
    match tls.read(&mut byte) {
        Err(e) if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) => Some(e),
        _ => None,
    }
}

/// What an answer said, as far as the client cares.
struct Answer {
    status: u16,
    /// The connection can carry the next request.
    keep: bool,
    retry_after: Option<Duration>,
}

/// One line of an answer's head, at most `max` bytes, as text whatever its bytes (a header
/// that is not UTF-8 is an odd answer, not an error that would discard the batch).
fn read_line(conn: &mut BufReader<Conn>, max: u64, line: &mut String) -> io::Result<usize> {
    let mut bytes = Vec::new();
    let n = conn.by_ref().take(max).read_until(b'\n', &mut bytes)?;
    line.push_str(&String::from_utf8_lossy(&bytes));
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Url::parse("http://127.0.0.1:4318/v1/logs").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 4318, "/v1/logs")
        );
        assert_eq!(Url::parse("http://collector").unwrap().port, 80);
        assert_eq!(Url::parse("http://[::1]:4318/x").unwrap().host, "[::1]");
        let https = Url::parse("HTTPS://collector.example/v1/logs");
        if cfg!(feature = "tls") {
            let u = https.unwrap();
            assert!(u.tls && u.port == 443, "{u:?}");
            assert_eq!(u.to_string(), "https://collector.example:443/v1/logs");
        } else {
            assert!(https.unwrap_err().contains("tls"));
        }
        assert!(Url::parse("ftp://x").is_err());
        assert!(Url::parse("http://u:p@x/")
            .unwrap_err()
            .contains("credentials"));
        assert!(Url::parse("http://x:99999/").is_err());
        assert!(Url::parse("http://x/a b").is_err());
        assert!(Url::parse("http://[::1]junk:4318").is_err());
        assert_eq!(Url::parse("http://[::1]/x").unwrap().port, 80);
    }
}

#[cfg(test)]
#[path = "http_answers.rs"]
mod answers;
