//! OTLP over `https://` to a real collector: Rotel on 127.0.0.1 behind a TLS-terminating
//! relay whose certificate comes from a test CA, configured only through the standard
//! `OTEL_*` variables, with gzip.

use super::otlp::otlp_child;
use super::rotel::{start_rotel, wait_received};
use super::tlsd::{serve, Answer, Pki, Shows};
use super::*;

pub(crate) fn otlp_over_https_with_a_private_ca_and_gzip_reaches_a_real_collector() {
    let name = "otlp_over_https_with_a_private_ca_and_gzip_reaches_a_real_collector";
    let dir = tempfile::tempdir().unwrap();
    let rotel = match start_rotel(dir.path(), free_port()) {
        Ok(r) => r,
        Err(why) => return skip(name, &why),
    };
    let pki = Pki::new(dir.path());
    let upstream = rotel.port;
    let relay = serve(Some((&pki, Shows::Good, true)), move |_, _| {
        Answer::Relay(upstream)
    });
    let ca = pki.ca.to_str().unwrap().to_owned();
    let (cert, key) = (
        pki.client_cert.to_str().unwrap().to_owned(),
        pki.client_key.to_str().unwrap().to_owned(),
    );
    let endpoint = format!("https://localhost:{}", relay.port);
    let out = otlp_child(
        rotel.port,
        &[
            ("N", "5"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
            ("OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE", &cert),
            ("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", &key),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=k-123"),
            ("OTEL_SERVICE_NAME", "checkout-tls"),
        ],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("sent=20 dropped=0"), "{stdout}\n{stderr}");
    assert!(!stderr.contains("problem"), "no init problem: {stderr}");
    let records = wait_received(&rotel, 20, Duration::from_secs(15));
    assert_eq!(records.len(), 20, "{records:#?}");
    for r in &records {
        assert!(
            r.resource
                .iter()
                .any(|(k, v)| k == "service.name" && v == "checkout-tls"),
            "{r:?}"
        );
        assert!(
            r.attr("request_id").is_some_and(|v| v.starts_with("req-")),
            "{r:?}"
        );
        assert_eq!(r.attr("user_id"), Some("42"), "{r:?}");
        let text = format!("{r:?}");
        for secret in [SECRET_PW, SECRET_KEY, SECRET_TOKEN] {
            assert!(
                !text.contains(secret),
                "{secret} reached the collector: {r:?}"
            );
        }
    }
    let requests = relay.requests.lock().unwrap();
    assert!(!requests.is_empty());
    for r in requests.iter() {
        assert_eq!(
            r.header("content-encoding"),
            Some("gzip"),
            "{:?}",
            r.headers
        );
        assert_eq!(r.header("x-api-key"), Some("k-123"));
        // What crossed the wire is gzip: no record text in it.
        assert!(!r.body.windows(9).any(|w| w == b"debug det"));
    }
    assert!(
        relay.refused.lock().unwrap().is_empty(),
        "{:?}",
        relay.refused
    );
}
