//! The `otlp wire` table: what export costs away from the caller — body bytes on the wire
//! and CPU of the sending thread per 1,000 records — plain, gzip, TLS, TLS + gzip. The
//! caller's side is the `otlp` row of the main table (its `-tls-gzip` case).

use std::sync::atomic::Ordering;
use std::time::Duration;

use prodlog::format::LineSink;

/// CPU time of this process's thread named `name`, from `/proc` (ns).
fn thread_cpu_ns(name: &str) -> Option<u64> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == name {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            return stat.split_whitespace().next()?.parse().ok();
        }
    }
    None
}

/// A realistic prodlog line: request context, a few fields, a message.
fn line(n: u64) -> Vec<u8> {
    format!(
        "{{\"timestamp\":\"2026-12-08T10:00:{:02}.{:06}Z\",\"level\":\"INFO\",\"target\":\"checkout::orders\",\"span\":\"request\",\"request_id\":\"req-{:08x}\",\"user_id\":{},\"message\":\"order paid\",\"order_id\":{},\"amount_cents\":{},\"duration_ms\":{}.{:03}}}\n",
        n % 60,
        n % 1_000_000,
        n.wrapping_mul(2_654_435_761) & 0xffff_ffff,
        n % 5000,
        100_000 + n,
        n * 37 % 100_000,
        n % 900,
        n % 1000
    )
    .into_bytes()
}

pub fn table(rounds: usize, scale: f64) {
    let n = ((100_000f64) * scale).max(1000.0) as u64;
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = crate::collector::start();
    let (tls_port, ca) = crate::collector::start_tls(dir.path());
    println!(
        "\n### otlp wire: {n} records sent by the exporting thread (median of {rounds}; the caller's cost is the `otlp` row)\n"
    );
    println!("| export | body bytes per record | bytes vs plain | sending thread CPU per 1,000 records |\n|---|---:|---:|---:|");
    let mut base = None;
    for (name, tls, gzip) in [
        ("http", false, false),
        ("http + gzip", false, true),
        ("https", true, false),
        ("https + gzip", true, true),
    ] {
        let mut runs = Vec::new();
        for _ in 0..rounds {
            let mut otlp = if tls {
                prodlog::ship::Otlp::new(format!("https://localhost:{tls_port}"))
                    .ca_certificate(&ca)
            } else {
                prodlog::ship::Otlp::new(format!("http://127.0.0.1:{plain}"))
            };
            if gzip {
                otlp = otlp.compression(prodlog::ship::Compression::Gzip);
            }
            let shipper = otlp.queue_bytes(256 << 20).build().expect("exporter");
            let before = crate::collector::BODY_BYTES.load(Ordering::Relaxed);
            for i in 0..n {
                let _ = shipper.write_line(&line(i));
            }
            shipper.flush(Duration::from_secs(120));
            let cpu = thread_cpu_ns("prodlog-ship").unwrap_or(0);
            let bytes = crate::collector::BODY_BYTES.load(Ordering::Relaxed) - before;
            assert_eq!(shipper.stats().sent, n, "every record sent");
            shipper.shutdown(Duration::from_secs(10));
            runs.push((bytes as f64 / n as f64, cpu as f64 / n as f64));
        }
        runs.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (bytes, cpu) = runs[runs.len() / 2];
        let base = *base.get_or_insert(bytes);
        println!(
            "| {name} | {bytes:.1} | {:.2}x | {:.2} ms |",
            bytes / base,
            cpu * 1000.0 / 1e6
        );
    }
}
