//! An OTLP/HTTP collector that answers 200 and discards, plain or over TLS (a test CA made
//! with rcgen): the far end of the `otlp` rows. It counts the body bytes it received.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Body bytes received by every collector of this process.
pub static BODY_BYTES: AtomicU64 = AtomicU64::new(0);

/// Starts the collector on a free port of 127.0.0.1 and returns the port.
pub fn start() -> u16 {
    serve(None)
}

/// Starts a TLS collector for `localhost`; returns its port and the CA's PEM file (in
/// `dir`), for [`prodlog::ship::Otlp::ca_certificate`].
pub fn start_tls(dir: &Path) -> (u16, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key).expect("ca").pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("cert");
    let ca_path = dir.join("bench-ca.pem");
    std::fs::write(&ca_path, ca_pem).expect("write the CA");
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("key der"),
        )
        .expect("server config");
    (serve(Some(Arc::new(config))), ca_path)
}

fn serve(tls: Option<Arc<rustls::ServerConfig>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("port").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let tls = tls.clone();
            std::thread::spawn(move || match tls {
                None => session(conn),
                Some(config) => {
                    let Ok(server) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    session(rustls::StreamOwned::new(server, conn));
                }
            });
        }
    });
    port
}

fn session(stream: impl Read + Write) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        let mut len = 0u64;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        match std::io::copy(&mut (&mut reader).take(len), &mut std::io::sink()) {
            Ok(n) => BODY_BYTES.fetch_add(n, Ordering::Relaxed),
            Err(_) => return,
        };
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        if reader.get_mut().write_all(ok).is_err() || reader.get_mut().flush().is_err() {
            return;
        }
    }
}
