//! OTLP/HTTP log export (protobuf).

use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::http::{Client, Url};
use crate::line::Record;
use crate::queue::{QueueSettings, Transport};
use crate::Shipper;

/// Where and how logs are exported over OTLP/HTTP.
///
/// ```no_run
/// let shipper = prodlog_ship::Otlp::new("http://127.0.0.1:4318")
///     .service_name("billing")
///     .header("x-tenant", "acme")
///     .build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "an Otlp does nothing until `build()`"]
pub struct Otlp {
    url: String,
    headers: Vec<(String, String)>,
    resource: Vec<(String, String)>,
    queue_bytes: usize,
    timeout: Duration,
    compression: Compression,
    #[cfg(feature = "tls")]
    tls: crate::tls::TlsFiles,
    linger: Duration,
    max_batch: usize,
    spool: Option<(prodlog_writer::Spool, tracing_core::LevelFilter)>,
}

/// How request bodies are compressed (`OTEL_EXPORTER_OTLP_COMPRESSION`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// As they are (the default).
    #[default]
    None,
    /// `Content-Encoding: gzip` (feature `gzip`, on by default). Fewer bytes on the wire
    /// for some CPU on the sending thread, never on the caller's: see the bench's
    /// `otlp wire` rows.
    Gzip,
}

impl std::str::FromStr for Compression {
    type Err = String;
    /// `gzip` or `none`, the values of `OTEL_EXPORTER_OTLP_COMPRESSION`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Ok(Compression::None),
            "gzip" if cfg!(feature = "gzip") => Ok(Compression::Gzip),
            "gzip" => Err("gzip needs prodlog-ship's `gzip` feature".to_owned()),
            other => Err(format!("{other:?} is not gzip or none")),
        }
    }
}

/// The OTLP/HTTP port collectors listen on.
pub const DEFAULT_OTLP_ENDPOINT: &str = "http://localhost:4318";

impl Otlp {
    /// Exports to the collector at `endpoint`, a base URL (`http://collector:4318`, to
    /// which `/v1/logs` is added, as `OTEL_EXPORTER_OTLP_ENDPOINT` is read).
    pub fn new(endpoint: impl AsRef<str>) -> Self {
        let base = endpoint.as_ref().trim().trim_end_matches('/');
        Otlp::logs_url(format!("{base}/v1/logs"))
    }

    /// Exports to exactly this URL (as `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` is read).
    pub fn logs_url(url: impl Into<String>) -> Self {
        Otlp {
            url: url.into(),
            headers: Vec::new(),
            resource: vec![("host.name".to_owned(), host_name())],
            queue_bytes: 4 << 20,
            timeout: Duration::from_secs(5),
            compression: Compression::None,
            #[cfg(feature = "tls")]
            tls: crate::tls::TlsFiles::default(),
            linger: Duration::from_millis(200),
            max_batch: 512,
            spool: None,
        }
    }

    /// Uses the lines of this log file as the spool (see [`Spooled`](crate::Spooled)):
    /// when the memory queue is full, lines are read back from the file rather than
    /// dropped, and a checkpoint beside the file carries the position across restarts.
    /// `level` is the most verbose level exported (lines of the file above it are skipped).
    pub fn spool(mut self, spool: prodlog_writer::Spool, level: tracing_core::LevelFilter) -> Self {
        self.spool = Some((spool, level));
        self
    }

    /// Compresses request bodies (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Trusts the CA certificates of this PEM file instead of the public and system roots
    /// (`OTEL_EXPORTER_OTLP_CERTIFICATE`): a collector with a private CA. Read by
    /// [`build`](Self::build), which fails when it cannot be.
    #[cfg(feature = "tls")]
    pub fn ca_certificate(mut self, pem_file: impl Into<std::path::PathBuf>) -> Self {
        self.tls.ca = Some(pem_file.into());
        self
    }

    /// Presents this certificate chain and private key, PEM files, to a collector that
    /// asks for one (mTLS: `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and
    /// `OTEL_EXPORTER_OTLP_CLIENT_KEY`).
    #[cfg(feature = "tls")]
    pub fn client_certificate(
        mut self,
        cert_pem: impl Into<std::path::PathBuf>,
        key_pem: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.tls.client = Some((cert_pem.into(), key_pem.into()));
        self
    }

    /// How long the thread waits for more records before it sends a batch (default
    /// 200 ms; `OTEL_BLRP_SCHEDULE_DELAY`).
    pub fn schedule_delay(mut self, delay: Duration) -> Self {
        self.linger = delay.min(Duration::from_secs(60));
        self
    }

    /// The most records in one request (default 512; `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`).
    pub fn max_batch(mut self, records: usize) -> Self {
        self.max_batch = records.clamp(1, 100_000);
        self
    }

    /// Adds a header to every request (`authorization`, a tenant id).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Headers in `OTEL_EXPORTER_OTLP_HEADERS` form: `k1=v1,k2=v2`, values URL-encoded.
    pub fn headers_spec(mut self, spec: &str) -> io::Result<Self> {
        for (k, v) in parse_pairs(spec, "OTEL_EXPORTER_OTLP_HEADERS")? {
            if k.bytes().any(|b| !b.is_ascii_graphic() || b == b':')
                || v.bytes().any(|b| b.is_ascii_control())
            {
                return Err(invalid(format!(
                    "OTEL_EXPORTER_OTLP_HEADERS: header {k:?} is not a valid HTTP header"
                )));
            }
            self.headers.push((k, v));
        }
        Ok(self)
    }

    /// `service.name` of the resource.
    pub fn service_name(self, name: impl Into<String>) -> Self {
        self.resource_attribute("service.name", name)
    }

    /// Adds (or replaces) a resource attribute (`service.version`, `deployment.environment`).
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.resource.retain(|(k, _)| *k != key);
        self.resource.push((key, value.into()));
        self
    }

    /// Resource attributes in `OTEL_RESOURCE_ATTRIBUTES` form.
    pub fn resource_spec(mut self, spec: &str) -> io::Result<Self> {
        for (k, v) in parse_pairs(spec, "OTEL_RESOURCE_ATTRIBUTES")? {
            self = self.resource_attribute(k, v);
        }
        Ok(self)
    }

    /// The most bytes of lines held for the collector (default 4 MiB); beyond, lines are
    /// dropped and counted.
    pub fn queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes.clamp(64 * 1024, 1 << 30);
        self
    }

    /// Connect, write and read timeout of one request (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.clamp(Duration::from_millis(10), Duration::from_secs(60));
        self
    }

    /// Starts the exporting thread. Fails on a URL that is not
    /// `http[s]://host[:port]/path`, and on certificate or key files that cannot be read.
    pub fn build(self) -> io::Result<Shipper> {
        let url = Url::parse(&self.url).map_err(invalid)?;
        #[cfg(feature = "tls")]
        let tls = if url.tls {
            Some(crate::tls::config(&self.tls)?)
        } else {
            None
        };
        #[cfg(not(feature = "tls"))]
        let tls = None;
        let name = format!("otlp {url}");
        let feeder = self
            .spool
            .map(|(spool, level)| crate::spool::Feeder::new(spool, level, &name));
        let transport = OtlpTransport {
            client: Client::new(url, &self.headers, self.timeout, tls),
            resource: self.resource,
            name,
            compression: self.compression,
            body: Vec::new(),
            wire: Vec::new(),
        };
        Shipper::start(
            Box::new(transport),
            QueueSettings {
                max_bytes: self.queue_bytes,
                linger: self.linger,
                max_batch_lines: self.max_batch,
            },
            feeder,
        )
    }
}

/// The logs URL.
impl std::fmt::Display for Otlp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

/// `k1=v1,k2=v2` with percent-decoded values (the OpenTelemetry environment syntax).
fn parse_pairs(spec: &str, var: &str) -> io::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| invalid(format!("{var}: {item:?} is not key=value")))?;
        let (k, v) = (percent_decode(k.trim()), percent_decode(v.trim()));
        if k.is_empty() {
            return Err(invalid(format!("{var}: empty key in {item:?}")));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // Bytes, not `&str` slices: a `%` before a multi-byte character is kept as it is.
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// This machine's name, for `host.name`.
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

struct OtlpTransport {
    client: Client,
    resource: Vec<(String, String)>,
    name: String,
    compression: Compression,
    /// Reused between batches: the protobuf, and its gzip.
    body: Vec<u8>,
    wire: Vec<u8>,
}

impl Transport for OtlpTransport {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn send(&mut self, lines: &[&[u8]], _stop: &std::sync::atomic::AtomicBool) -> io::Result<()> {
        let records: Vec<Record> = lines.iter().map(|l| Record::parse(l)).collect();
        let observed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        self.body = crate::proto::export_request(&self.resource, &records, observed);
        match self.compression {
            Compression::None => self.client.post("application/x-protobuf", None, &self.body),
            Compression::Gzip => {
                gzip(&self.body, &mut self.wire)?;
                self.client
                    .post("application/x-protobuf", Some("gzip"), &self.wire)
            }
        }
    }

    fn retry_after(&mut self) -> Option<Duration> {
        self.client.retry_after()
    }
}

/// `body` gzipped into `out`, at flate2's fast level: log records are repetitive, and the
/// bench's `otlp wire` table measures 0.18x the bytes for about 7% more CPU on the
/// exporting thread.
#[cfg(feature = "gzip")]
pub(crate) fn gzip(body: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    use std::io::Write as _;
    out.clear();
    let mut enc = flate2::write::GzEncoder::new(std::mem::take(out), flate2::Compression::fast());
    enc.write_all(body)?;
    *out = enc.finish()?;
    Ok(())
}

#[cfg(not(feature = "gzip"))]
pub(crate) fn gzip(_: &[u8], _: &mut Vec<u8>) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "gzip needs prodlog-ship's `gzip` feature",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_resource_specs() {
        let o = Otlp::new("http://x:1")
            .headers_spec("api-key=a%20b, x-tenant = t ")
            .unwrap();
        assert_eq!(o.headers[0], ("api-key".to_owned(), "a b".to_owned()));
        assert_eq!(o.headers[1], ("x-tenant".to_owned(), "t".to_owned()));
        assert!(Otlp::new("http://x:1").headers_spec("novalue").is_err());
        assert!(Otlp::new("http://x:1").headers_spec("bad key=1").is_err());
        let o = Otlp::new("http://x:1/")
            .resource_spec("service.version=1.2,deployment.environment=prod")
            .unwrap();
        assert!(o
            .resource
            .iter()
            .any(|(k, v)| k == "service.version" && v == "1.2"));
        assert_eq!(o.url, "http://x:1/v1/logs");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%41%4"), "A%4");
        assert_eq!(percent_decode("%é1"), "%é1");
        assert_eq!(percent_decode("a%1é"), "a%1é");
        assert_eq!(percent_decode("%+1"), "%+1");
    }
}
