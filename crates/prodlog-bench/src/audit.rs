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
    read_table(&cli, dir, &log, bytes, rounds);
    let _ = std::fs::remove_file(&log);
}

/// Median seconds of `rounds` runs of `cmd` (stdout discarded; `None` if it cannot run).
fn timed(rounds: usize, mut cmd: impl FnMut() -> Command) -> Option<f64> {
    let mut secs = Vec::new();
    for _ in 0..rounds.max(1) {
        let started = std::time::Instant::now();
        let out = cmd().stdout(std::process::Stdio::piped()).output().ok()?;
        let elapsed = started.elapsed().as_secs_f64();
        // Consume stdout as a pager would (it was captured in full).
        let _ = out.stdout.len();
        secs.push(elapsed);
    }
    secs.sort_by(f64::total_cmp);
    secs.get(secs.len() / 2).copied()
}

/// `prodlog trace`, `view` and `patterns` over the same documented log: trace against
/// `grep -F` over four links of it (1.2 GB at the default scale) and against
/// `zcat | grep -F` on its gzip; view and patterns in MB/s.
fn read_table(cli: &Path, dir: &Path, log: &Path, bytes: u64, rounds: usize) {
    // An id from the middle of the file: line 1,000,000's request id.
    let mut id = String::new();
    line(1_000_000.min(bytes / 500), &mut id);
    let Some(id) = id
        .split("\"request_id\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_owned)
    else {
        return;
    };
    let set = dir.join("trace-set");
    let _ = std::fs::create_dir_all(&set);
    let mut links = Vec::new();
    for i in 0..4 {
        let p = set.join(format!("svc.log.{i}"));
        if std::fs::hard_link(log, &p).is_err() && std::fs::copy(log, &p).is_err() {
            return;
        }
        links.push(p);
    }
    let gz = dir.join("svc.log.1.gz");
    let gz_ok = (|| -> std::io::Result<()> {
        let mut enc =
            flate2::write::GzEncoder::new(std::fs::File::create(&gz)?, flate2::Compression::fast());
        std::io::copy(&mut std::fs::File::open(log)?, &mut enc)?;
        enc.finish()?;
        Ok(())
    })()
    .is_ok();
    let total = bytes * 4;
    println!(
        "\nread: `prodlog trace ID` over {:.1} GB (4 links of the log above) and its gzip, against grep; `view` and `patterns` over the log\n\n| command | seconds | MB/s | vs grep |\n|---|---:|---:|---:|",
        total as f64 / 1e9
    );
    let trace = timed(rounds, || {
        let mut c = Command::new(cli);
        c.args(["trace", &id, "--json"]).arg(&set);
        c
    });
    let grep = timed(rounds, || {
        let mut c = Command::new("grep");
        c.args(["-F", "-c", "-r", &id]).arg(&set);
        c
    });
    let row = |name: &str, secs: Option<f64>, bytes: u64, base: Option<f64>| match secs {
        Some(s) => println!(
            "| {name} | {s:.2} | {:.0} | {} |",
            bytes as f64 / 1e6 / s.max(1e-9),
            base.map_or("-".to_owned(), |b| format!("{:.2}x", s / b))
        ),
        None => println!("| {name} | - | - | - |"),
    };
    row("prodlog trace (1 thread)", trace, total, grep);
    row("grep -F -c -r", grep, total, grep);
    if gz_ok {
        let zgrep = timed(rounds, || {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("zcat '{}' | grep -F -c '{id}'", gz.display()));
            c
        });
        let tgz = timed(rounds, || {
            let mut c = Command::new(cli);
            c.args(["trace", &id, "--json"]).arg(&gz);
            c
        });
        row("prodlog trace on .gz", tgz, bytes, zgrep);
        row("zcat | grep -F -c", zgrep, bytes, zgrep);
    }
    let view = timed(rounds, || {
        let mut c = Command::new(cli);
        c.args(["view", "--color", "never"]).arg(log);
        c
    });
    row("prodlog view (every line rendered)", view, bytes, None);
    let patterns = timed(rounds, || {
        let mut c = Command::new(cli);
        c.args(["patterns"]).arg(log);
        c
    });
    row("prodlog patterns", patterns, bytes, None);
    let _ = std::fs::remove_dir_all(&set);
    let _ = std::fs::remove_file(&gz);
}
