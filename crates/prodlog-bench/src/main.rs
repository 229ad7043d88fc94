//! prodlog against its peers, side by side, in one run.
//!
//! ```text
//! cargo run --release -p prodlog-bench            # the table
//! PRODLOG_BENCH_ROUNDS=5 cargo run --release -p prodlog-bench
//! ```
//!
//! Each case runs in a fresh child process (a global subscriber can be set once per process,
//! and a disabled event is only as cheap as the global callsite cache makes it). Cases are
//! interleaved over several rounds and the median is kept, so a noisy neighbour hits every
//! implementation alike; compare the ratios, measured in the same run.

mod alloc;
mod cases;
mod filters;
mod naive;

use std::process::Command;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// (row, what the row measures, events per run, implementations; the first is prodlog).
const ROWS: &[(&str, &str, u64, &[&str])] = &[
    (
        "disabled",
        "event filtered out (debug! at info)",
        20_000_000,
        &["prodlog", "prodlog-init", "fmt-json", "json-subscriber"],
    ),
    (
        "sink",
        "event + 5 fields in 2 spans, JSON to io::sink",
        300_000,
        &["prodlog", "fmt-json", "json-subscriber"],
    ),
    (
        "file",
        "same event to a file, until on disk",
        300_000,
        &["prodlog", "fmt-json", "json-subscriber"],
    ),
    (
        "redact",
        "sink event, redaction on (clean values) vs off",
        300_000,
        &["prodlog", "prodlog-off", "naive-regex-writer"],
    ),
    (
        "redact-secret",
        "sink event with a token in a field value",
        300_000,
        &["prodlog", "prodlog-off", "naive-regex-writer"],
    ),
    (
        "filter-off",
        "50 directives: debug! filtered out",
        20_000_000,
        &["prodlog", "env-filter", "targets"],
    ),
    (
        "filter-on",
        "50 directives: info! reaches a no-op layer",
        5_000_000,
        &["prodlog", "env-filter", "targets"],
    ),
    (
        "filter-decide",
        "50 directives: one uncached decision (callsite_enabled)",
        5_000_000,
        &["prodlog", "env-filter", "targets"],
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let (Some(flag), Some(case), Some(n), Some(dir)) =
        (args.get(1), args.get(2), args.get(3), args.get(4))
    {
        if flag == "--case" {
            let n: u64 = n.parse().expect("event count");
            match cases::run(case, n, std::path::Path::new(dir)) {
                Some(m) => println!("{} {}", m.ns_per_event, m.allocs_per_event),
                None => std::process::exit(2),
            }
            return;
        }
    }
    let rounds: usize = std::env::var("PRODLOG_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let scale: f64 = std::env::var("PRODLOG_BENCH_SCALE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1.0);
    let exe = std::env::current_exe().expect("own path");
    let dir = tempfile::tempdir().expect("temp dir");

    println!("prodlog-bench: {rounds} rounds, median of each, one process per case\n");
    println!(
        "| row | implementation | ns/event | allocs/event | time vs prodlog |\n|---|---|---:|---:|---:|"
    );
    for (row, what, n, imps) in ROWS {
        let n = ((*n as f64) * scale).max(1000.0) as u64;
        let mut results: Vec<Vec<(f64, f64)>> = vec![Vec::new(); imps.len()];
        for round in 0..rounds {
            for (i, imp) in imps.iter().enumerate() {
                let case_dir = dir.path().join(format!("{row}-{imp}-{round}"));
                std::fs::create_dir_all(&case_dir).expect("case dir");
                let out = Command::new(&exe)
                    .args(["--case", &format!("{row}/{imp}"), &n.to_string()])
                    .arg(&case_dir)
                    .output()
                    .expect("run case");
                let text = String::from_utf8_lossy(&out.stdout);
                let mut it = text
                    .split_whitespace()
                    .map(|v| v.parse::<f64>().unwrap_or(f64::NAN));
                if let (Some(ns), Some(al)) = (it.next(), it.next()) {
                    results[i].push((ns, al));
                } else {
                    eprintln!(
                        "{row}/{imp} failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                let _ = std::fs::remove_dir_all(&case_dir);
            }
        }
        let medians: Vec<(f64, f64)> = results.iter().map(|r| median(r)).collect();
        let base = medians[0].0;
        for (imp, (ns, al)) in imps.iter().zip(&medians) {
            println!(
                "| {row}: {what} | {imp} | {ns:.2} | {al:.2} | {:.2}x |",
                ns / base
            );
        }
    }
}

fn median(v: &[(f64, f64)]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut ns: Vec<f64> = v.iter().map(|x| x.0).collect();
    let mut al: Vec<f64> = v.iter().map(|x| x.1).collect();
    ns.sort_by(f64::total_cmp);
    al.sort_by(f64::total_cmp);
    (ns[ns.len() / 2], al[al.len() / 2])
}
