//! TLS for `https://` endpoints: rustls with the `ring` provider.
//!
//! Why rustls over a client stack: the HTTP/1.1 POST of `http.rs` only needs a stream
//! that reads and writes, and `rustls::StreamOwned` is one — no async runtime, no
//! `reqwest`/`hyper`, no OpenSSL (so no system library to match at run time). `ring` is
//! the provider because it builds with `cc` alone (aws-lc-rs, rustls' default, needs
//! cmake).
//!
//! Verification is always on: the server's chain must lead to a trusted root and name the
//! endpoint's host. The trusted roots are Mozilla's (`webpki-roots`, compiled in) and the
//! system's (`rustls-native-certs`: `/etc/ssl/certs`, `SSL_CERT_FILE`), or — when a CA file
//! is given (`OTEL_EXPORTER_OTLP_CERTIFICATE`) — that file's certificates alone, the way a
//! private CA is meant: a public certificate for the same name is then refused.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// Where the trust and the client's identity come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// PEM file of the CA certificates to trust instead of the public and system roots.
    pub(crate) ca: Option<PathBuf>,
    /// PEM files of the client's certificate chain and private key (mTLS).
    pub(crate) client: Option<(PathBuf, PathBuf)>,
}

fn bad(path: &Path, what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{}: {what}: {e}", path.display()),
    )
}

/// A PEM file's bytes: a regular file of at most 1 MiB (a FIFO or `/dev/zero` named by
/// mistake would block or never end).
fn pem_bytes(path: &Path, what: &str) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| bad(path, what, e))?;
    let meta = file.metadata().map_err(|e| bad(path, what, e))?;
    if !meta.is_file() {
        return Err(bad(path, what, "not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(1 << 20 | 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(path, what, e))?;
    if bytes.len() > 1 << 20 {
        return Err(bad(path, what, "larger than 1 MiB: not a PEM file"));
    }
    Ok(bytes)
}

fn certificates(path: &Path, what: &str) -> io::Result<Vec<CertificateDer<'static>>> {
    let bytes = pem_bytes(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(path, what, e))?;
    if certs.is_empty() {
        return Err(bad(path, what, "no PEM certificate in the file"));
    }
    Ok(certs)
}

/// The client configuration of `files`: every file read and checked now, so a missing or
/// malformed one is an error of `build()`, not of the first export.
pub(crate) fn config(files: &TlsFiles) -> io::Result<Arc<rustls::ClientConfig>> {
    // Deprecated in rustls 0.23.48 only because ring has no post-quantum key exchange
    // (aws-lc-rs has; it needs cmake to build, which the issue ruled out).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match &files.ca {
        Some(path) => {
            for cert in certificates(path, "CA certificate (OTEL_EXPORTER_OTLP_CERTIFICATE)")? {
                roots
                    .add(cert)
                    .map_err(|e| bad(path, "CA certificate (OTEL_EXPORTER_OTLP_CERTIFICATE)", e))?;
            }
        }
        None => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            // The system's roots too (a company CA installed there): unreadable ones are
            // skipped, Mozilla's are enough to go on.
            let native = rustls_native_certs::load_native_certs();
            let _ = roots.add_parsable_certificates(native.certs);
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots);
    let mut config = match &files.client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = certificates(
                cert,
                "client certificate (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)",
            )?;
            let what = "client key (OTEL_EXPORTER_OTLP_CLIENT_KEY)";
            let key = PrivateKeyDer::from_pem_slice(&pem_bytes(key, what)?)
                .map_err(|e| bad(key, what, e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| bad(cert, "client certificate and key", e))?
        }
    };
    // HTTP/1.1 only: the POST is written by hand.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The name the server's certificate must carry: a DNS name or an IP address.
pub(crate) fn server_name(host: &str) -> io::Result<ServerName<'static>> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{host:?} is not a name a TLS certificate can carry: {e}"),
        )
    })
}

/// A TLS failure said plainly: the endpoint, and what was wrong with its certificate.
pub(crate) fn explain(e: io::Error, endpoint: &str) -> io::Error {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    match tls {
        Some(rustls::Error::InvalidCertificate(why)) => io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!(
                "TLS: the certificate of {endpoint} is refused ({}); it must be valid, name the host and lead to a trusted CA (OTEL_EXPORTER_OTLP_CERTIFICATE for a private one)",
                certificate_problem(&why)
            ),
        ),
        Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::UnknownCA,
        )) => io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!(
                "TLS: {endpoint} refused this client (it wants a client certificate it trusts: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY)"
            ),
        ),
        Some(other) => io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!("TLS with {endpoint} failed: {other}"),
        ),
        None => e,
    }
}

fn certificate_problem(e: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match e {
        C::Expired | C::ExpiredContext { .. } => "expired".to_owned(),
        C::NotValidYet | C::NotValidYetContext { .. } => "not valid yet".to_owned(),
        C::UnknownIssuer => "signed by an unknown CA".to_owned(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "issued for another host name".to_owned()
        }
        C::Revoked => "revoked".to_owned(),
        C::BadSignature => "bad signature".to_owned(),
        other => format!("{other:?}"),
    }
}
