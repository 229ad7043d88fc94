//! `prodlog audit` throughput on a documented clean log: 300 MB of JSON lines as a busy
//! service writes them (HTTP requests with request and trace ids, routes, cache keys,
//! durations; levels and targets mixed), generated here with a fixed seed, then scanned
//! by the real binary with 1 and with 2 threads. The binary is built first
//! (`cargo build --release -p prodlog-cli`, through the `CARGO` that runs this bench).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One line of the documented log, from a 64-bit counter-based generator.
fn line(i: u64, out: &mut String) {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const LEVELS: [&str; 6] = ["INFO", "INFO", "INFO", "WARN", "DEBUG", "ERROR"];
    const TARGETS: [&str; 4] = ["app::http", "app::db", "app::cache", "tower_http::trace"];
    const MESSAGES: [&str; 6] = [
        "request completed",
        "cache miss",
        "payment processed",
        "user logged in",
        "query done",
        "upstream slow",
    ];
    let (a, b, c, d) = (next(), next(), next(), next());
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "{{\"timestamp\":\"2026-11-30T10:{:02}:{:02}.{:06}Z\",\"level\":\"{}\",\"target\":\"{}\",\"message\":\"{}\",\"method\":\"{}\",\"path\":\"/api/v1/orders/{}\",\"status\":{},\"duration_ms\":{}.{:03},\"request_id\":\"{:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}\",\"trace_id\":\"{:016x}{:016x}\",\"user_id\":{},\"cache_key\":\"orders:user:{}\",\"span\":\"request\"}}",
        i / 60_000 % 60,
        i / 1000 % 60,
        i % 1_000_000,
        LEVELS[(a % 6) as usize],
        TARGETS[(a >> 8) as usize % 4],
        MESSAGES[(a >> 16) as usize % 6],
        if a >> 24 & 1 == 0 { "GET" } else { "POST" },
        b % 1_000_000,
        [200, 200, 201, 404, 500][(b >> 20) as usize % 5],
        c % 300,
        c >> 10 & 0x3ff,
        c >> 32 & 0xffff_ffff,
        d & 0xffff,
        d >> 16 & 0xfff,
        d >> 28 & 0xfff,
        d >> 8 & 0xffff_ffff_ffff,
        a,
        b,
        c % 1_000_000,
        d % 1_000_000,
    );
}

fn write_log(path: &Path, bytes: u64) -> std::io::Result<()> {
    let mut f = BufWriter::new(std::fs::File::create(path)?);
    let (mut written, mut i, mut buf) = (0u64, 0u64, String::new());
    while written < bytes {
        buf.clear();
        line(i, &mut buf);
        f.write_all(buf.as_bytes())?;
        written += buf.len() as u64;
        i += 1;
    }
    f.flush()
}

fn build_cli(exe: &Path) -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO")?;
    let ok = Command::new(cargo)
        .args(["build", "--release", "-q", "-p", "prodlog-cli"])
        .status()
        .ok()?
        .success();
    let bin = exe.parent()?.join("prodlog");
    (ok && bin.exists()).then_some(bin)
}

/// Runs the audit rows: MB/s with 1 and 2 threads (median of `rounds`).
pub fn table(exe: &Path, dir: &Path, rounds: usize, scale: f64) {
    let Some(cli) = build_cli(exe) else {
        println!("\naudit: skipped (the prodlog binary could not be built from here)");
        return;
    };
    let bytes = (300e6 * scale).max(1e6) as u64;
    let log = dir.join("audit-clean.log");
    if let Err(e) = write_log(&log, bytes) {
        println!("\naudit: skipped (cannot write the log: {e})");
        return;
    }
    println!(
        "\naudit: `prodlog audit` over {:.0} MB of clean JSON lines (a busy service's HTTP traffic)\n\n| threads | MB/s | lines flagged |\n|---:|---:|---:|",
        bytes as f64 / 1e6
    );
    for threads in [1, 2] {
        let mut rates = Vec::new();
        let mut flagged = String::from("?");
        for _ in 0..rounds {
            let Ok(out) = Command::new(&cli)
                .args(["audit", "--threads", &threads.to_string()])
                .arg(&log)
                .output()
            else {
                continue;
            };
            let text = String::from_utf8_lossy(&out.stdout);
            if let Some(rate) = text
                .split('(')
                .nth(1)
                .and_then(|r| r.split(" MB/s").next())
                .and_then(|r| r.trim().parse::<f64>().ok())
            {
                rates.push(rate);
            }
            flagged = if text.contains("no leaked secrets found") {
                "0".to_owned()
            } else {
                text.lines()
                    .filter(|l| l.contains(": "))
                    .count()
                    .to_string()
            };
        }
        rates.sort_by(f64::total_cmp);
        let median = rates.get(rates.len() / 2).copied().unwrap_or(f64::NAN);
        println!("| {threads} | {median:.0} | {flagged} |");
    }
    let _ = std::fs::remove_file(&log);
}
