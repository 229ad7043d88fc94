//! A log storm through `prodlog::init()` in a child process: 1,000,000 identical errors from
//! 4 threads within about a second, plus 1,000 distinct normal events. Every distinct event
//! is written, the storm's lines are bounded, and the summaries add up exactly — in the
//! file, the error-only file and the console. Run with `cargo test --test flood`.

#[path = "../support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Output;

use serde_json::{Map, Value};

const STORM: u64 = 1_000_000;
const DISTINCT: u64 = 1_000;

fn child(scenario: &str) {
    match scenario {
        "storm" => {
            let _guard = prodlog::init();
            let threads: Vec<_> = (0..4)
                .map(|t| {
                    std::thread::spawn(move || {
                        for i in 0..STORM / 4 {
                            tracing::error!(
                                thread = t,
                                attempt = i,
                                "upstream refused the connection"
                            );
                        }
                    })
                })
                .collect();
            for i in 0..DISTINCT {
                tracing::info!(order = i, "order processed");
            }
            for t in threads {
                t.join().unwrap();
            }
        }
        "repeats" => {
            let _guard = prodlog::init();
            for _ in 0..500 {
                tracing::info!(peer = "10.0.0.7", "connection reset");
            }
            tracing::info!(peer = "10.0.0.8", "connection reset");
            for _ in 0..3 {
                tracing::info!(peer = "10.0.0.8", "connection reset");
            }
            tracing::warn!("done");
        }
        "log_storm" => {
            // One crate's `log::error!` storm beside another crate's rare errors.
            let _guard = prodlog::init();
            let storm = std::thread::spawn(|| {
                for i in 0..LOG_STORM {
                    log::error!(target: "noisy_crate::pool", "pool exhausted {i}");
                }
            });
            for i in 0..RARE {
                log::error!(target: "rare_crate::payments", "card declined {i}");
                if i % 100 == 0 {
                    std::thread::yield_now();
                }
            }
            storm.join().unwrap();
        }
        other => panic!("unknown scenario {other}"),
    }
}

const LOG_STORM: u64 = 300_000;

fn text<'a>(line: &'a Map<String, Value>, key: &str) -> &'a str {
    line.get(key).and_then(Value::as_str).unwrap_or("")
}
const RARE: u64 = 1_400;

/// `log` records get a bucket per call (target, level, file, line), not one per level:
/// the storm is limited and counted exactly, the rare errors all written, and a limit
/// rule naming the rare crate's target applies to its records.
fn log_records_have_their_own_buckets() {
    let dir = tempfile::tempdir().unwrap();
    run_scenario("log_storm", dir.path(), &[]);
    let lines = support::read_json_lines(&dir.path().join("svc.log"));
    let rare = lines
        .iter()
        .filter(|l| text(l, "message").starts_with("card declined"))
        .count() as u64;
    assert_eq!(rare, RARE, "every rare error is written");
    let storm_written = lines
        .iter()
        .filter(|l| text(l, "message").starts_with("pool exhausted"))
        .count() as u64;
    let suppressed: u64 = lines
        .iter()
        .filter(|l| text(l, "suppressed_target") == "noisy_crate::pool")
        .map(|l| l["suppressed"].as_u64().unwrap())
        .sum();
    assert!(suppressed > 0, "the storm was limited");
    assert_eq!(
        storm_written + suppressed,
        LOG_STORM,
        "written + suppressed = logged"
    );
    // A rule for the rare crate's target applies to its `log` records.
    let dir = tempfile::tempdir().unwrap();
    run_scenario(
        "log_storm",
        dir.path(),
        &[("PRODLOG_RATE_LIMIT", "rare_crate=10/s+5")],
    );
    let lines = support::read_json_lines(&dir.path().join("svc.log"));
    let rare = lines
        .iter()
        .filter(|l| text(l, "message").starts_with("card declined"))
        .count() as u64;
    assert!(
        rare < RARE,
        "the target rule limits the rare crate's records: {rare}"
    );
}

fn main() {
    support::test_main(
        child,
        &[
            ("a_storm_is_bounded_and_counted_exactly", storm),
            ("limits_come_from_the_environment", limits_from_env),
            (
                "identical_consecutive_events_collapse",
                identical_consecutive_events_collapse,
            ),
            (
                "log_records_have_their_own_buckets",
                log_records_have_their_own_buckets,
            ),
        ],
    );
}

fn run(dir: &Path, vars: &[(&str, &str)]) -> Output {
    run_scenario("storm", dir, vars)
}

fn run_scenario(scenario: &str, dir: &Path, vars: &[(&str, &str)]) -> Output {
    support::run_preset(scenario, dir, vars)
}

/// (storm lines written, suppressed according to the summaries, distinct events written).
fn tally(lines: &[Map<String, Value>]) -> (u64, u64, u64) {
    let (mut written, mut suppressed, mut distinct) = (0, 0, 0);
    for l in lines {
        match l["message"].as_str().unwrap() {
            "upstream refused the connection" => written += 1,
            "order processed" => distinct += 1,
            m if m.starts_with("suppressed ") || m.starts_with("repeated ") => {
                assert_eq!(l["target"], "prodlog::limit");
                assert_eq!(l["level"], "ERROR", "at the storm's own level");
                assert_eq!(l["suppressed_target"], "flood");
                assert_eq!(
                    l["suppressed_message"], "upstream refused the connection",
                    "{m}"
                );
                assert!(
                    l["last_fields"].as_str().unwrap().contains("attempt="),
                    "{l:?}"
                );
                assert!(
                    support::is_rfc3339_micros(l["timestamp"].as_str().unwrap()),
                    "not an RFC 3339 time with microseconds: {l:?}"
                );
                suppressed += l["suppressed"].as_u64().unwrap();
            }
            other => panic!("unexpected line {other:?}"),
        }
    }
    (written, suppressed, distinct)
}

fn storm() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &[("PRODLOG_CONSOLE", "json")]);
    let console: Vec<_> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(support::parse)
        .collect();
    let file = support::read_json_lines(&dir.path().join("svc.log"));
    let errors = support::read_json_lines(&dir.path().join("svc.error.log"));
    for (name, lines, distinct_expected) in [
        ("console", &console, DISTINCT),
        ("svc.log", &file, DISTINCT),
        ("svc.error.log", &errors, 0),
    ] {
        let (written, suppressed, distinct) = tally(lines);
        println!("    {name}: {written} storm lines written, {suppressed} suppressed, {distinct} distinct");
        assert_eq!(distinct, distinct_expected, "{name}: every distinct event");
        assert_eq!(
            written + suppressed,
            STORM,
            "{name}: written + suppressed = logged"
        );
        // The burst (10,000) and at most 1,000 a second for the seconds the storm lasted.
        assert!(
            written <= 10_000 + 1_000 * 10,
            "{name}: {written} storm lines"
        );
        assert!(
            written >= 10_000,
            "{name}: the first errors of the storm are all there"
        );
    }
    let bytes = std::fs::metadata(dir.path().join("svc.log")).unwrap().len();
    assert!(bytes < 10 << 20, "the storm's bytes are bounded: {bytes}");
}

fn limits_from_env() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            ("PRODLOG_CONSOLE", "off"),
            ("PRODLOG_RATE_LIMIT", "100/s,error=50/s+500"),
        ],
    );
    let (written, suppressed, distinct) =
        tally(&support::read_json_lines(&dir.path().join("svc.log")));
    assert_eq!(distinct, DISTINCT, "under the default's burst of 1000");
    assert_eq!(written + suppressed, STORM);
    assert!((500..=500 + 50 * 10).contains(&written), "{written}");

    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            ("PRODLOG_CONSOLE", "off"),
            ("PRODLOG_RATE_LIMIT", "off"),
            ("PRODLOG_MAX_BYTES", "0"),
        ],
    );
    let (written, suppressed, _) = tally(&support::read_json_lines(&dir.path().join("svc.log")));
    assert_eq!(
        (written, suppressed),
        (STORM, 0),
        "off lets everything through"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[("PRODLOG_CONSOLE", "off"), ("PRODLOG_RATE_LIMIT", "lots")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PRODLOG_RATE_LIMIT=\"lots\" is not valid"),
        "{err}"
    );
}

fn identical_consecutive_events_collapse() {
    let dir = tempfile::tempdir().unwrap();
    run_scenario(
        "repeats",
        dir.path(),
        &[("PRODLOG_CONSOLE", "off"), ("PRODLOG_COLLAPSE", "on")],
    );
    let lines = support::read_json_lines(&dir.path().join("svc.log"));
    let written = |peer: &str| {
        lines
            .iter()
            .filter(|l| l["message"] == "connection reset" && l["peer"] == peer)
            .count() as u64
    };
    let repeated = |peer: &str| -> u64 {
        lines
            .iter()
            .filter(|l| l["target"] == "prodlog::limit")
            .filter(|l| l["last_fields"].as_str().unwrap().contains(peer))
            .map(|l| l["repeated"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(written("10.0.0.7"), 1, "{lines:?}");
    assert_eq!(written("10.0.0.7") + repeated("10.0.0.7"), 500);
    assert_eq!(written("10.0.0.8") + repeated("10.0.0.8"), 4);
    assert!(
        lines.iter().any(|l| l["message"] == "repeated 499 times"
            && l["suppressed_message"] == "connection reset"),
        "saw {:?}",
        &lines
    );
    assert!(
        lines.iter().any(|l| l["message"] == "done"),
        "saw {:?}",
        &lines
    );

    // Off by default: every line is there.
    let dir = tempfile::tempdir().unwrap();
    run_scenario("repeats", dir.path(), &[("PRODLOG_CONSOLE", "off")]);
    let lines = support::read_json_lines(&dir.path().join("svc.log"));
    assert_eq!(lines.len(), 505);
}
