//! `https://` collectors, gzip and the OTLP retry policy, against servers on 127.0.0.1:
//! TLS with a test CA (good, expired and misnamed certificates, mTLS), answers that ask
//! to retry later, and answers that refuse the data.

#![cfg(all(feature = "tls", feature = "gzip"))]

#[path = "support/tlsd.rs"]
mod tlsd;

use std::time::Duration;

use prodlog_format::LineSink;
use prodlog_ship::{Compression, Otlp, Shipper};
use tlsd::{serve, Answer, Pki, Shows};

fn line(n: usize) -> Vec<u8> {
    format!(
        "{{\"timestamp\":\"2026-12-08T10:00:00.000001Z\",\"level\":\"INFO\",\"target\":\"t\",\"message\":\"record-{n:05} paid\",\"order\":{n}}}\n"
    )
    .into_bytes()
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn send(shipper: &Shipper, lines: usize) {
    for n in 0..lines {
        shipper.write_line(&line(n)).unwrap();
    }
}

/// Waits (at most 20 s) until the shipper has failed at least once, and returns why.
fn failure(shipper: &Shipper) -> String {
    for _ in 0..400 {
        if let Some(e) = shipper.last_error() {
            return e;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no failure in 20 s: {:?}", shipper.stats());
}

#[test]
fn records_arrive_over_https_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let server = serve(Some((&pki, Shows::Good, false)), |_, _| {
        Answer::Status(200, "")
    });
    for host in ["localhost", "127.0.0.1"] {
        let shipper = Otlp::new(format!("https://{host}:{}", server.port))
            .ca_certificate(&pki.ca)
            .header("authorization", "Bearer k")
            .build()
            .unwrap();
        assert!(
            shipper.name().starts_with("otlp https://"),
            "{}",
            shipper.name()
        );
        send(&shipper, 20);
        assert!(
            shipper.shutdown(Duration::from_secs(20)),
            "{:?} {:?}",
            shipper.stats(),
            shipper.last_error()
        );
        assert_eq!(shipper.stats().sent, 20, "{:?}", shipper.stats());
    }
    let requests = server.requests.lock().unwrap();
    let all: Vec<u8> = requests.iter().flat_map(|r| r.decoded()).collect();
    for n in 0..20 {
        assert!(
            find(&all, format!("record-{n:05} paid").as_bytes()),
            "record {n} missing"
        );
    }
    assert!(requests
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer k")));
    assert!(
        server.refused.lock().unwrap().is_empty(),
        "{:?}",
        server.refused
    );
}

#[test]
fn bad_certificates_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let cases = [
        (Shows::Good, Some(&pki.other_ca), "signed by an unknown CA"),
        // Mozilla's and the system's roots do not know the test CA either.
        (Shows::Good, None, "signed by an unknown CA"),
        (Shows::Expired, Some(&pki.ca), "expired"),
        (
            Shows::OtherName,
            Some(&pki.ca),
            "issued for another host name",
        ),
    ];
    for (shows, ca, why) in cases {
        let server = serve(Some((&pki, shows, false)), |_, _| Answer::Status(200, ""));
        let mut otlp = Otlp::new(format!("https://localhost:{}", server.port));
        if let Some(ca) = ca {
            otlp = otlp.ca_certificate(ca);
        }
        let shipper = otlp.build().unwrap();
        send(&shipper, 3);
        let e = failure(&shipper);
        assert!(e.contains(why), "{shows:?} with {ca:?}: {e}");
        let endpoint = format!("https://localhost:{}/v1/logs", server.port);
        assert!(e.contains(&endpoint), "names the endpoint: {e}");
        assert_eq!(shipper.stats().sent, 0);
        assert!(
            server.requests.lock().unwrap().is_empty(),
            "nothing readable was sent"
        );
        let _ = shipper.shutdown(Duration::from_millis(300));
        assert_eq!(
            shipper.stats().dropped,
            3,
            "counted, not sent: {:?}",
            shipper.stats()
        );
    }
}

#[test]
fn mtls_works_with_a_client_certificate_and_is_refused_without() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let server = serve(Some((&pki, Shows::Good, true)), |_, _| {
        Answer::Status(200, "")
    });
    let url = format!("https://localhost:{}", server.port);
    let with = Otlp::new(&url)
        .ca_certificate(&pki.ca)
        .client_certificate(&pki.client_cert, &pki.client_key)
        .build()
        .unwrap();
    send(&with, 5);
    assert!(
        with.shutdown(Duration::from_secs(20)),
        "{:?}",
        with.last_error()
    );
    assert_eq!(with.stats().sent, 5);

    let without = Otlp::new(&url).ca_certificate(&pki.ca).build().unwrap();
    send(&without, 5);
    let e = failure(&without);
    assert!(e.contains("client certificate"), "{e}");
    assert_eq!(without.stats().sent, 0);
    assert_eq!(
        server.requests.lock().unwrap().len(),
        1,
        "only the first client's request"
    );
    let _ = without.shutdown(Duration::from_millis(300));
}

#[test]
fn unreadable_certificate_files_fail_the_build_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pem");
    let e = Otlp::new("https://localhost:1")
        .ca_certificate(&missing)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("nope.pem"), "{e}");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let e = Otlp::new("https://localhost:1")
        .ca_certificate(&junk)
        .build()
        .unwrap_err();
    assert!(
        e.to_string().contains("junk.pem") && e.to_string().contains("no PEM certificate"),
        "{e}"
    );
    let pki = Pki::new(dir.path());
    let e = Otlp::new("https://localhost:1")
        .client_certificate(&pki.client_cert, &junk)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("client key"), "{e}");
}

#[test]
fn gzip_bodies_say_so_and_decode_to_the_records() {
    let server = serve(None, |_, _| Answer::Status(200, ""));
    let shipper = Otlp::new(format!("http://127.0.0.1:{}", server.port))
        .compression(Compression::Gzip)
        .build()
        .unwrap();
    send(&shipper, 300);
    assert!(shipper.shutdown(Duration::from_secs(20)));
    let requests = server.requests.lock().unwrap();
    assert!(requests
        .iter()
        .all(|r| r.header("content-encoding") == Some("gzip")));
    let (wire, plain): (usize, usize) = requests
        .iter()
        .map(|r| (r.body.len(), r.decoded().len()))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!(wire * 3 < plain, "gzip: {wire} bytes for {plain}");
    let all: Vec<u8> = requests.iter().flat_map(|r| r.decoded()).collect();
    assert!((0..300).all(|n| find(&all, format!("record-{n:05} paid").as_bytes())));
}

#[test]
fn retry_after_is_honoured() {
    let server = serve(None, |n, _| match n {
        0 => Answer::Status(429, "Retry-After: 2\r\n"),
        _ => Answer::Status(200, ""),
    });
    let shipper = Otlp::new(format!("http://127.0.0.1:{}", server.port))
        .build()
        .unwrap();
    send(&shipper, 4);
    assert!(
        shipper.flush(Duration::from_secs(30)),
        "{:?}",
        shipper.stats()
    );
    let requests = server.requests.lock().unwrap();
    assert_eq!(requests.len(), 2, "one 429, one retry");
    let waited = requests[1].at - requests[0].at;
    // At least what the collector asked (the backoff alone would be 50–100 ms).
    assert!(
        waited >= Duration::from_millis(1950),
        "retried after {waited:?}"
    );
    for r in &requests[..] {
        assert!(
            find(&r.decoded(), b"record-00003 paid"),
            "the same batch, again"
        );
    }
    assert_eq!(shipper.stats().sent, 4);
}

/// The OTLP specification's policy: 429, 502, 503 and 504 are retried; any other answer
/// means the collector refused the data, which is counted as rejected, not retried.
#[test]
fn only_the_retryable_answers_are_retried() {
    for (code, retried) in [
        (429, true),
        (502, true),
        (503, true),
        (504, true),
        (500, false),
        (400, false),
        (401, false),
        (413, false),
    ] {
        let server = serve(None, move |n, _| {
            Answer::Status(if n == 0 { code } else { 200 }, "")
        });
        let shipper = Otlp::new(format!("http://127.0.0.1:{}", server.port))
            .build()
            .unwrap();
        send(&shipper, 3);
        assert!(shipper.flush(Duration::from_secs(30)));
        let stats = shipper.stats();
        let requests = server.requests.lock().unwrap().len();
        if retried {
            assert_eq!(
                (requests, stats.sent, stats.rejected),
                (2, 3, 0),
                "{code}: {stats:?}"
            );
        } else {
            assert_eq!(
                (requests, stats.sent, stats.rejected),
                (1, 0, 3),
                "{code}: {stats:?}"
            );
            assert!(shipper.last_error().unwrap().contains(&code.to_string()));
        }
    }
}
