//! Redaction of values built to be slow: 1 MB of shapes that make a naive scanner rescan
//! from every position (a token full of prefilter hits, a key that never ends, look-alike
//! letters in one endless word, escapes, digit groups, headers), against 1 MB of ordinary
//! service log text (URLs, headers, ids: what every rule looks at) and 1 MB of prose (what
//! the prefilter skips). Each must take time proportional to its size: the ratio to the
//! service text is the figure to watch.

use std::time::Instant;

/// The shapes, each repeated to `len` bytes.
fn shapes(len: usize) -> Vec<(&'static str, String)> {
    let fill = |unit: &str| unit.repeat(len / unit.len());
    let b64: String = (0..len - 2)
        .map(|i| {
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            char::from(alphabet[(i * 7 + i / 3) % 64])
        })
        .collect();
    vec![
        (
            "service log text (the baseline)",
            fill(
                "upstream call failed: GET https://api.partner.example.com/v2/orders/8812?page=3&sort=desc \
                 headers: accept=application/json user-agent=svc/1.4.2 \
                 x-request-id=3f2b8c1e-8a1c-4f3e-9b7c-0f3e2b7c9d10 retry-after=30 took 1523 ms ",
            ),
        ),
        ("prose", fill("payment processed for order ")),
        ("base64url run ending in ==", format!("{b64}==")),
        ("session=<1 MB token>", format!("session={}", &b64[..len - 10])),
        ("c…c=x (a key that never ends)", format!("{}=x", "c".repeat(len - 2))),
        ("password=password=…", fill("password=")),
        ("look-alike letters in one word", fill("pа")),
        ("%3D escapes", fill("%3D")),
        ("card-like digit groups", fill("4111 ")),
        ("Authorization: Bearer …", fill("Authorization: Bearer ")),
        ("key: value pairs", fill("token: ")),
        ("unclosed quotes", fill("password=\"")),
    ]
}

/// Times each shape (the median of `rounds`) and prints the table.
pub fn table(rounds: usize) {
    let redactor = prodlog::redact::Redactor::default();
    let len = prodlog::redact::MAX_SCAN_BYTES - 64;
    println!(
        "\nadversarial values: one 1 MB value through `Redactor::redact_text`, median of {rounds}\n\n| shape | ms | ns/byte | vs service text |\n|---|---:|---:|---:|"
    );
    let mut base = None;
    for (name, text) in shapes(len) {
        let mut times: Vec<f64> = (0..rounds.max(1))
            .map(|_| {
                let t = Instant::now();
                let out = redactor.redact_text(std::hint::black_box(&text));
                std::hint::black_box(out.len());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let ms = times[times.len() / 2];
        let base = *base.get_or_insert(ms);
        println!(
            "| {name} | {ms:.2} | {:.1} | {:.1}x |",
            ms * 1e6 / text.len() as f64,
            ms / base
        );
    }
}
