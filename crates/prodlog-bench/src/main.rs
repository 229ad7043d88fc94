//! prodlog against its peers, side by side, in one run.
//!
//! ```text
//! cargo run --release -p prodlog-bench            # the table
//! PRODLOG_BENCH_ROUNDS=5 cargo run --release -p prodlog-bench
//! PRODLOG_BENCH_ONLY=filter cargo run --release -p prodlog-bench   # rows starting with `filter`
//! ```
//!
//! Each case runs in a fresh child process (a global subscriber can be set once per process,
//! and a disabled event is only as cheap as the global callsite cache makes it). Cases are
//! interleaved over several rounds and the median is kept, so a noisy neighbour hits every
//! implementation alike; compare the ratios, measured in the same run.

mod adversarial;
mod alloc;
mod audit;
mod cases;
mod collector;
mod filters;
mod latency;
mod naive;
mod record;
mod timing;
mod wire;
mod writers;

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
        "poll",
        "enter a span, the sink event, exit: an instrumented future's poll",
        300_000,
        &["prodlog", "fmt-json", "json-subscriber"],
    ),
    (
        "console",
        "the sink event as a JSON line and a console line: one redactor (each value scanned once) vs two (scanned twice)",
        300_000,
        &["prodlog", "prodlog-rescan", "fmt-json+fmt"],
    ),
    (
        "file",
        "same event to a file, until on disk",
        1_000_000,
        &["prodlog", "fmt-json", "json-subscriber"],
    ),
    (
        "redact",
        "sink event, redaction on (clean values) vs off",
        300_000,
        &["prodlog", "prodlog-off", "naive-regex-writer"],
    ),
    (
        "redact-text",
        "a 300-byte message with a URL and a header dump, redaction on vs off",
        300_000,
        &["prodlog", "prodlog-off"],
    ),
    (
        "redact-gitleaks",
        "sink event with gitleaks' 222 default rules loaded (clean values) vs redaction off",
        300_000,
        &["prodlog", "prodlog-off"],
    ),
    (
        "redact-secret",
        "sink event with a token in a field value",
        300_000,
        &["prodlog", "prodlog-off", "naive-regex-writer"],
    ),
    (
        "schema",
        "sink event through each JSON schema (prodlog's keys, ECS, Cloud Logging, OTel)",
        300_000,
        &["prodlog", "ecs", "gcp", "otel"],
    ),
    (
        "otlp",
        "sink event with OTLP export on (to a collector on 127.0.0.1 that discards) vs off: the caller's cost",
        300_000,
        &["prodlog-otlp", "prodlog-otlp-tls-gzip", "prodlog"],
    ),
    (
        "otlp-spool",
        "sink event to a file and OTLP: the file as the exporter's spool (lines numbered) vs not",
        300_000,
        &["prodlog-spooled", "prodlog-unspooled"],
    ),
    (
        "record",
        "a DEBUG event in a request under RUST_LOG=info (20 per request, the span's cost included): kept by the flight recorder and discarded with its request, vs written at debug, vs filtered out (recorder off), vs filtered out in a span that is not a request (recorder on)",
        300_000,
        &["prodlog-recorded", "prodlog-written", "prodlog-filtered", "prodlog-outside"],
    ),
    (
        "limit-pass",
        "sink event through the rate limiter, not flooding: a limited callsite (one bucket CAS), an INFO callsite under the default limits (no lookup: nothing limits INFO), no limiter",
        300_000,
        &["prodlog-limited", "prodlog-default-limits", "prodlog"],
    ),
    (
        "storm",
        "the same error 1,000,000 times: held back by the limiter vs formatted",
        1_000_000,
        &["prodlog-limited", "prodlog", "fmt-json"],
    ),
    (
        "span-enter",
        "enter + exit of a live span",
        5_000_000,
        &["prodlog-timing", "no-timing", "fmt-timing"],
    ),
    (
        "span-life",
        "create, enter, exit, close a span (histogram update)",
        1_000_000,
        &["prodlog-timing", "no-timing", "fmt-timing"],
    ),
    (
        "span-warn",
        "create, enter, exit, close an INFO request span under RUST_LOG=warn",
        1_000_000,
        &[
            "prodlog-context-spans",
            "prodlog-spans-off",
            "fmt-envfilter",
        ],
    ),
    (
        "log-err",
        "result.log_err() on an error with a cause, to io::sink",
        20_000,
        &["prodlog", "prodlog-backtrace"],
    ),
    (
        "span-histogram",
        "record one duration in the latency aggregate",
        5_000_000,
        &["prodlog-timing"],
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
        if flag == "--writer" {
            let n: usize = n.parse().expect("line count");
            match writers::run(case, n, std::path::Path::new(dir)) {
                Some(r) => println!(
                    "{} {} {} {} {}",
                    r.lines_per_sec, r.p50, r.p99, r.p999, r.on_disk
                ),
                None => std::process::exit(2),
            }
            return;
        }
        if flag == "--latency" {
            let n: usize = n.parse().expect("event count");
            let (imp, threads) = case.split_once('/').unwrap_or((case.as_str(), "1"));
            match latency::run(
                imp,
                threads.parse().unwrap_or(1),
                n,
                std::path::Path::new(dir),
            ) {
                Some(r) => println!("{} {} {} {}", r.events_per_sec, r.p50, r.p99, r.p999),
                None => std::process::exit(2),
            }
            return;
        }
        if flag == "--record-memory" {
            let (per_event, per_request) = record::memory();
            println!(
                "flight recorder memory: {per_event:.1} bytes per recorded bench event (values, callsite, time, chain index), {per_request} bytes per open request besides"
            );
            return;
        }
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
    let only: Option<String> = std::env::var("PRODLOG_BENCH_ONLY").ok();

    println!("prodlog-bench: {rounds} rounds, median of each, one process per case");
    println!(
        "redaction: {} formats built in, {} with gitleaks' default rules loaded\n",
        prodlog::redact::Redactor::default().format_count(),
        cases::gitleaks_redactor().map_or(0, |r| r.format_count())
    );
    println!(
        "| row | implementation | ns/event | allocs/event | time vs prodlog |\n|---|---|---:|---:|---:|"
    );
    for (row, what, n, imps) in ROWS {
        if only.as_deref().is_some_and(|o| !row.starts_with(o)) {
            continue;
        }
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
    if only
        .as_deref()
        .is_none_or(|o| "writer".starts_with(o) || o == "writer")
    {
        writer_table(&exe, dir.path(), rounds, scale);
    }
    if only.as_deref().is_none_or(|o| "latency".starts_with(o)) {
        latency_table(&exe, dir.path(), rounds, scale);
    }
    if only.as_deref().is_none_or(|o| "audit".starts_with(o)) {
        audit::table(&exe, dir.path(), rounds, scale);
    }
    if only.as_deref().is_none_or(|o| "record".starts_with(o)) {
        let out = Command::new(&exe)
            .args(["--record-memory", "x", "0", "x"])
            .output()
            .expect("run");
        println!("\n{}", String::from_utf8_lossy(&out.stdout).trim());
    }
    if only.as_deref().is_none_or(|o| "wire".starts_with(o)) {
        wire::table(rounds, scale);
    }
    if only.as_deref().is_none_or(|o| "adversarial".starts_with(o)) {
        adversarial::table(rounds);
    }
}

/// One `info!` through `init()` into a file, each call timed: 1 thread and 2 at once.
fn latency_table(exe: &std::path::Path, dir: &std::path::Path, rounds: usize, scale: f64) {
    const CASES: &[&str] = &["prodlog/1", "fmt-json/1", "prodlog/2", "fmt-json/2"];
    let n = ((400_000f64) * scale).max(1000.0) as usize;
    println!(
        "\nlatency: {n} `info!` events (4 fields, in a span) into a file, each call timed (clock cost taken off), until on disk\n\n| implementation | threads | events/s | caller p50 ns | p99 ns | p99.9 ns |\n|---|---:|---:|---:|---:|---:|"
    );
    for case in CASES {
        let mut runs: Vec<Vec<f64>> = Vec::new();
        for round in 0..rounds {
            let case_dir = dir.join(format!("latency-{}-{round}", case.replace('/', "-")));
            runs.extend(figures(exe, "--latency", case, n, &case_dir, 4));
        }
        let med = |k| median_at(&runs, k);
        let (imp, threads) = case.split_once('/').unwrap_or((case, "1"));
        println!(
            "| {imp} | {threads} | {:.0} | {:.0} | {:.0} | {:.0} |",
            med(0),
            med(1),
            med(2),
            med(3)
        );
    }
}

/// Runs one case in a process of its own (`exe FLAG CASE N DIR`) and reads the `count`
/// numbers it prints; `None` (said on stderr) when it failed.
fn figures(
    exe: &std::path::Path,
    flag: &str,
    case: &str,
    n: usize,
    case_dir: &std::path::Path,
    count: usize,
) -> Option<Vec<f64>> {
    std::fs::create_dir_all(case_dir).expect("case dir");
    let out = Command::new(exe)
        .args([flag, case, &n.to_string()])
        .arg(case_dir)
        .output()
        .expect("run case");
    let _ = std::fs::remove_dir_all(case_dir);
    let v: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() == count {
        return Some(v);
    }
    eprintln!(
        "{flag} {case} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    None
}

/// The median of the `k`-th figure of each run.
fn median_at(runs: &[Vec<f64>], k: usize) -> f64 {
    let mut v: Vec<f64> = runs.iter().map(|x| x[k]).collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The writers alone: lines/s until on disk, caller latency, lines on disk.
fn writer_table(exe: &std::path::Path, dir: &std::path::Path, rounds: usize, scale: f64) {
    const IMPS: &[&str] = &[
        "prodlog-block",
        "prodlog-drop",
        "appender-blocking",
        "appender-lossy",
    ];
    let n = ((1_000_000f64) * scale).max(1000.0) as usize;
    println!(
        "\nwriters: {n} pre-formatted 258-byte lines from one thread, until on disk\n\n| writer | lines/s | caller p50 ns | p99 ns | p99.9 ns | lines on disk | throughput vs prodlog-block |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    let mut results: Vec<Vec<Vec<f64>>> = vec![Vec::new(); IMPS.len()];
    for round in 0..rounds {
        for (i, imp) in IMPS.iter().enumerate() {
            let case_dir = dir.join(format!("writer-{imp}-{round}"));
            results[i].extend(figures(exe, "--writer", imp, n, &case_dir, 5));
        }
    }
    let med = |r: &Vec<Vec<f64>>, k| median_at(r, k);
    let base = med(&results[0], 0);
    for (imp, r) in IMPS.iter().zip(&results) {
        println!(
            "| {imp} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2}x |",
            med(r, 0),
            med(r, 1),
            med(r, 2),
            med(r, 3),
            med(r, 4),
            med(r, 0) / base
        );
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
