//! Scratch micro-measurements.
use std::hint::black_box;
use std::time::Instant;
fn main() {
    let r = prodlog_redact::Redactor::default();
    let n = 2_000_000;
    for text in [
        "payment processed",
        "alice",
        "a much longer message about an order 12345 shipped to the warehouse",
    ] {
        let t = Instant::now();
        for _ in 0..n {
            black_box(r.redact_text(black_box(text)));
        }
        println!(
            "redact_text {:?}: {:.1} ns",
            text,
            t.elapsed().as_nanos() as f64 / n as f64
        );
    }
    let t = Instant::now();
    for _ in 0..n {
        black_box(r.is_sensitive_name_static(black_box("customer")));
    }
    println!(
        "name static: {:.1} ns",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        black_box(r.is_sensitive_name(black_box("customer")));
    }
    println!("name: {:.1} ns", t.elapsed().as_nanos() as f64 / n as f64);
}
#[allow(dead_code)]
fn ac() {}
