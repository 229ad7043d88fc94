//! A minimal HTTP/1.1 client: `POST` one body over a kept-alive connection.
//!
//! An OTLP/HTTP export is one POST with a protobuf body, and the answer only matters by
//! its status. The exporters of `opentelemetry-otlp` need `reqwest` or `hyper` with a
//! tokio runtime; a blocking POST on the sending thread needs neither. Plain `http://`
//! only: a collector or agent next to the service (the usual deployment) is reached
//! without TLS.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// An `http://host:port/path` URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path: String,
}

impl Url {
    pub(crate) fn parse(url: &str) -> Result<Url, String> {
        let url = url.trim();
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") {
            return Err(format!(
                "{url:?}: https is not supported; send to a collector or agent over http:// (e.g. http://127.0.0.1:4318)"
            ));
        } else {
            return Err(format!("{url:?} is not an http:// URL"));
        };
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
            let port = v6[end + 1..].strip_prefix(':').unwrap_or("80");
            (format!("[{}]", &v6[..end]), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p),
                None => (authority.to_owned(), "80"),
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
            host,
            port,
            path: path.to_owned(),
        })
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}:{}{}", self.host, self.port, self.path)
    }
}

pub(crate) struct Client {
    url: Url,
    headers: String,
    timeout: Duration,
    conn: Option<BufReader<TcpStream>>,
}

impl Client {
    pub(crate) fn new(url: Url, headers: &[(String, String)], timeout: Duration) -> Client {
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
            conn: None,
        }
    }

    fn connect(&self) -> io::Result<BufReader<TcpStream>> {
        let host = self.url.host.trim_start_matches('[').trim_end_matches(']');
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for addr in (host, self.url.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(s) => {
                    s.set_read_timeout(Some(self.timeout))?;
                    s.set_write_timeout(Some(self.timeout))?;
                    let _ = s.set_nodelay(true);
                    return Ok(BufReader::new(s));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// POSTs `body`; Ok for a 2xx answer. A 4xx other than 408/429 is
    /// [`io::ErrorKind::InvalidData`] (retrying would not help).
    pub(crate) fn post(&mut self, content_type: &str, body: &[u8]) -> io::Result<()> {
        // A kept-alive connection the server closed fails on first use: one fresh retry.
        for attempt in 0..2 {
            let reused = self.conn.is_some();
            let mut conn = match self.conn.take() {
                Some(c) => c,
                None => self.connect()?,
            };
            match self.exchange(&mut conn, content_type, body) {
                Ok((status, keep)) => {
                    if keep {
                        self.conn = Some(conn);
                    }
                    return match status {
                        200..=299 => Ok(()),
                        408 | 429 | 500..=599 => Err(io::Error::other(format!(
                            "the collector answered HTTP {status}"
                        ))),
                        _ => Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("the collector answered HTTP {status}"),
                        )),
                    };
                }
                Err(e) if reused && attempt == 0 => {
                    let _ = e;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("unreachable"))
    }

    fn exchange(
        &self,
        conn: &mut BufReader<TcpStream>,
        content_type: &str,
        body: &[u8],
    ) -> io::Result<(u16, bool)> {
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nUser-Agent: prodlog/{}\r\n{}\r\n",
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
        let mut header_bytes = 0usize;
        loop {
            line.clear();
            let n = conn.by_ref().take(16 * 1024).read_line(&mut line)?;
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
                if code == 100 {
                    continue;
                }
                status = Some(code);
                continue;
            }
            if l.is_empty() {
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
                }
            }
        }
        let status = status.unwrap_or(0);
        // Read the body away so the connection can be reused (bounded).
        const MAX_BODY: u64 = 1 << 20;
        if chunked {
            loop {
                line.clear();
                conn.by_ref().take(1024).read_line(&mut line)?;
                let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| io::Error::other("bad chunk size"))?;
                if size > MAX_BODY {
                    return Ok((status, false));
                }
                io::copy(&mut conn.by_ref().take(size + 2), &mut io::sink())?;
                if size == 0 {
                    break;
                }
            }
        } else if let Some(len) = length {
            if len > MAX_BODY {
                return Ok((status, false));
            }
            io::copy(&mut conn.by_ref().take(len), &mut io::sink())?;
        } else {
            keep = false;
        }
        Ok((status, keep))
    }
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
        assert!(Url::parse("https://x").unwrap_err().contains("https"));
        assert!(Url::parse("ftp://x").is_err());
        assert!(Url::parse("http://u:p@x/")
            .unwrap_err()
            .contains("credentials"));
        assert!(Url::parse("http://x:99999/").is_err());
        assert!(Url::parse("http://x/a b").is_err());
    }
}
