//! Test servers on 127.0.0.1 for the OTLP exporter: HTTP or HTTPS (rustls, certificates
//! from a test CA made with rcgen), answering each request as a test says — or relaying
//! it to a real collector behind it (a TLS-terminating proxy in front of Rotel).
//!
//! Shared by `crates/prodlog-ship/tests` and the workspace's `tests/network`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The certificates of one test: a CA, the server's certificates (good, expired, for
/// another name) and a client's, as PEM files in `dir`.
pub struct Pki {
    pub dir: PathBuf,
    /// The test CA (what `OTEL_EXPORTER_OTLP_CERTIFICATE` names).
    pub ca: PathBuf,
    /// Another CA, which signed nothing the server shows.
    pub other_ca: PathBuf,
    /// A client certificate and key signed by the CA (mTLS).
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// Which certificate the server shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shows {
    /// For `localhost` and `127.0.0.1`, valid now.
    Good,
    /// For the right names, expired in 2021.
    Expired,
    /// Valid, for `collector.invalid` only.
    OtherName,
}

fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let pem = p.self_signed(&key).unwrap().pem();
    (p, key, pem)
}

fn leaf(
    names: &[&str],
    issuer: &Issuer<'_, KeyPair>,
    client: bool,
    expired: bool,
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    if names.contains(&"localhost") {
        p.subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    }
    p.distinguished_name.push(DnType::CommonName, names[0]);
    p.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    if expired {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = p.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    pub fn new(dir: &Path) -> Pki {
        let (ca_params, ca_key, ca_pem) = ca("prodlog test CA");
        let (_, _, other_pem) = ca("another CA");
        let issuer = Issuer::new(ca_params, ca_key);
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        for (shows, names, expired) in [
            ("good", &["localhost"][..], false),
            ("expired", &["localhost"][..], true),
            ("other-name", &["collector.invalid"][..], false),
        ] {
            let (cert, key) = leaf(names, &issuer, false, expired);
            write(&format!("server-{shows}.pem"), &cert);
            write(&format!("server-{shows}.key"), &key);
        }
        let (cert, key) = leaf(&["prodlog-client"], &issuer, true, false);
        Pki {
            dir: dir.to_owned(),
            ca: write("ca.pem", &ca_pem),
            other_ca: write("other-ca.pem", &other_pem),
            client_cert: write("client.pem", &cert),
            client_key: write("client.key", &key),
        }
    }

    fn server_config(&self, shows: Shows, require_client: bool) -> Arc<rustls::ServerConfig> {
        let name = match shows {
            Shows::Good => "good",
            Shows::Expired => "expired",
            Shows::OtherName => "other-name",
        };
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(self.dir.join(format!("server-{name}.pem")))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
        let key =
            PrivateKeyDer::from_pem_file(self.dir.join(format!("server-{name}.key"))).unwrap();
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if require_client {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(&self.ca).unwrap() {
                roots.add(c.unwrap()).unwrap();
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        Arc::new(builder.with_single_cert(chain, key).unwrap())
    }
}

/// One request the server read.
#[derive(Debug, Clone)]
pub struct Request {
    pub headers: Vec<(String, String)>,
    /// As sent (gzip when `Content-Encoding: gzip`).
    pub body: Vec<u8>,
    pub at: Instant,
    /// Answered with a 2xx status.
    pub ok: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body, gunzipped when it says it is gzip.
    pub fn decoded(&self) -> Vec<u8> {
        if self.header("content-encoding") == Some("gzip") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&self.body[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        } else {
            self.body.clone()
        }
    }
}

/// What the server does with the n-th request (from 0).
pub enum Answer {
    /// This status line and headers (and an empty body).
    Status(u16, &'static str),
    /// Relays the request to a plain HTTP server on this port, and its answer back.
    Relay(u16),
}

/// A running server: its port, what it read, and a switch that stops it.
pub struct Server {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
    /// Failed TLS handshakes, with rustls' reason.
    pub refused: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Starts a server: HTTPS with `tls` (the certificate it shows, and whether it requires
/// a client certificate), plain HTTP without.
pub fn serve(
    pki: Option<(&Pki, Shows, bool)>,
    answer: impl Fn(usize, &Request) -> Answer + Send + Sync + 'static,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = pki.map(|(p, shows, client)| p.server_config(shows, client));
    let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
    let refused: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let answer = Arc::new(answer);
    let (reqs, refs, stopped) = (requests.clone(), refused.clone(), stop.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stopped.load(Ordering::Relaxed) {
                return;
            }
            let Ok(conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
            let (reqs, refs, answer, config) =
                (reqs.clone(), refs.clone(), answer.clone(), config.clone());
            std::thread::spawn(move || match config {
                None => session(conn, &reqs, &*answer),
                Some(config) => {
                    let mut tls = rustls::StreamOwned::new(
                        rustls::ServerConnection::new(config).unwrap(),
                        conn,
                    );
                    while tls.conn.is_handshaking() {
                        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
                            refs.lock().unwrap().push(e.to_string());
                            // Send the alert, as servers do, and let the client read it.
                            let _ = tls.conn.write_tls(&mut tls.sock);
                            let _ = tls.sock.shutdown(std::net::Shutdown::Write);
                            let _ = tls.sock.set_read_timeout(Some(Duration::from_secs(1)));
                            let _ = std::io::copy(&mut tls.sock, &mut std::io::sink());
                            return;
                        }
                    }
                    session(tls, &reqs, &*answer)
                }
            });
        }
    });
    Server {
        port,
        requests,
        refused,
        stop,
    }
}

/// A request's or answer's head: its lines as read, and its headers.
type Head = (Vec<String>, Vec<(String, String)>);

fn read_head(reader: &mut impl BufRead) -> Option<Head> {
    let mut lines = Vec::new();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            return Some((lines, headers));
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        lines.push(line);
    }
}

fn length(headers: &[(String, String)]) -> usize {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap())
}

fn session<S: Read + Write>(
    stream: S,
    requests: &Mutex<Vec<Request>>,
    answer: &(dyn Fn(usize, &Request) -> Answer + Send + Sync),
) {
    let mut reader = BufReader::new(stream);
    loop {
        let Some((head, headers)) = read_head(&mut reader) else {
            return;
        };
        let mut body = vec![0; length(&headers)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut request = Request {
            headers,
            body,
            at: Instant::now(),
            ok: false,
        };
        let n = {
            let mut all = requests.lock().unwrap();
            all.push(request.clone());
            all.len() - 1
        };
        let (code, reply) = match answer(n, &request) {
            Answer::Status(code, headers) => (
                code,
                format!("HTTP/1.1 {code} X\r\n{headers}Content-Length: 0\r\n\r\n").into_bytes(),
            ),
            // The collector behind is away: the connection closes unanswered.
            Answer::Relay(port) => match relay(port, &head, &request.body) {
                Some(r) => r,
                None => return,
            },
        };
        request.ok = (200..300).contains(&code);
        requests.lock().unwrap()[n].ok = request.ok;
        if reader.get_mut().write_all(&reply).is_err() || reader.get_mut().flush().is_err() {
            return;
        }
    }
}

/// One request to a plain server on `port`: its answer's status, and the whole answer.
fn relay(port: u16, head: &[String], body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut up = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let mut out = head.concat().into_bytes();
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    up.write_all(&out).ok()?;
    let mut reader = BufReader::new(up);
    let (lines, headers) = read_head(&mut reader)?;
    let status = lines.first()?.get(9..12)?.parse().ok()?;
    let mut reply = lines.concat().into_bytes();
    reply.extend_from_slice(b"\r\n");
    let mut rest = vec![0; length(&headers)];
    reader.read_exact(&mut rest).ok()?;
    reply.extend_from_slice(&rest);
    Some((status, reply))
}
