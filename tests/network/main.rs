//! Network destinations and aggregator schemas through `prodlog::init()`, against real
//! servers started here on 127.0.0.1 and stopped by PID: an OTLP collector (Rotel),
//! rsyslog (imudp, imtcp) and systemd-journald. A server that cannot start skips its
//! tests with a message saying why (`.ci/run` installs them).

#[path = "../support/mod.rs"]
mod support;

mod faults;
mod journald;
mod otlp;
mod rotel;
mod schemas;
mod spool;
mod syslog;
mod tls;
#[path = "../../crates/prodlog-ship/tests/support/tlsd.rs"]
mod tlsd;

use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::child_command;

fn main() {
    support::test_main(
        child,
        &[
            (
                "otlp_timeout_bounds_a_trickling_answer",
                faults::otlp_timeout_bounds_a_trickling_answer,
            ),
            (
                "otlp_backoff_holds_while_lines_arrive",
                faults::otlp_backoff_holds_while_lines_arrive,
            ),
            (
                "journald_socket_that_appears_later",
                journald::journald_socket_that_appears_later,
            ),
            (
                "syslog_tcp_server_that_stops_reading",
                syslog::syslog_tcp_server_that_stops_reading,
            ),
            (
                "otlp_records_reach_a_real_collector_redacted_with_context",
                otlp::otlp_records_reach_a_real_collector_redacted_with_context,
            ),
            (
                "otlp_collector_that_goes_away_and_comes_back",
                otlp::otlp_collector_that_goes_away_and_comes_back,
            ),
            (
                "otlp_sigterm_delivers_every_logged_line",
                otlp::otlp_sigterm_delivers_every_logged_line,
            ),
            (
                "otlp_unreachable_collector_never_blocks_and_is_reported",
                otlp::otlp_unreachable_collector_never_blocks_and_is_reported,
            ),
            (
                "otlp_over_https_with_a_private_ca_and_gzip_reaches_a_real_collector",
                tls::otlp_over_https_with_a_private_ca_and_gzip_reaches_a_real_collector,
            ),
            (
                "otlp_collector_away_during_a_burst_loses_nothing",
                spool::otlp_collector_away_during_a_burst_loses_nothing,
            ),
            (
                "otlp_restart_mid_catch_up_resumes_from_the_checkpoint",
                spool::otlp_restart_mid_catch_up_resumes_from_the_checkpoint,
            ),
            (
                "otlp_bad_configuration_is_a_clear_init_problem",
                otlp::otlp_bad_configuration_is_a_clear_init_problem,
            ),
            (
                "syslog_udp_and_tcp_reach_rsyslog",
                syslog::syslog_udp_and_tcp_reach_rsyslog,
            ),
            (
                "syslog_unix_socket_gets_one_rfc5424_datagram_per_event",
                syslog::syslog_unix_socket_gets_one_rfc5424_datagram_per_event,
            ),
            (
                "journald_entries_with_fields_and_a_large_entry",
                journald::journald_entries_with_fields_and_a_large_entry,
            ),
            (
                "ecs_and_gcp_files_carry_the_platform_field_names",
                schemas::ecs_and_gcp_files_carry_the_platform_field_names,
            ),
        ],
    );
}

const SECRET_PW: &str = "hunter2-Sup3rSecret";
const SECRET_KEY: &str = "AKIAZ7QW3RTY5UIOPASD";
const SECRET_TOKEN: &str = "ghp_R2d2C3poBb8Yoda1Luke2Leia3Han4Chewie5";

/// What every scenario logs: a request with context, a secret in each place, levels.
fn log_request(n: usize) {
    let span = tracing::info_span!(
        "request",
        request_id = %format!("req-{n}"),
        user_id = 42,
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
        span_id = "00f067aa0ba902b7",
        order_id = tracing::field::Empty,
    );
    let _e = span.enter();
    // Recorded after the span was created (opentelemetry-rust#3315: the OTel bridge misses these).
    span.record("order_id", 1000 + n);
    tracing::debug!(n, "debug detail");
    tracing::info!(n, password = SECRET_PW, "login ok with key {SECRET_KEY}");
    tracing::warn!(n, header = %format!("Authorization: Bearer {SECRET_TOKEN}"), "slow upstream");
    tracing::error!(n, "line one\nline two \u{1b}[31m");
}

fn child(scenario: &str) {
    match scenario {
        "requests" => {
            let guard = prodlog::init();
            let count: usize = std::env::var("N")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let pause: u64 = std::env::var("PAUSE_MS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            for n in 0..count {
                log_request(n);
                if pause > 0 {
                    std::thread::sleep(Duration::from_millis(pause));
                }
                if std::env::var_os("MARKERS").is_some() {
                    println!("logged {n}");
                }
            }
            let started = Instant::now();
            guard.flush();
            for (name, stats) in guard.destinations() {
                println!(
                    "STATS {name} sent={} dropped={} failed={} rejected={}",
                    stats.sent, stats.dropped, stats.failed_sends, stats.rejected
                );
            }
            println!("FLUSH_MS {}", started.elapsed().as_millis());
        }
        "burst" => {
            // As fast as it goes, whatever the collector does; then the guard's drop,
            // which sends what is left within PRODLOG_SHUTDOWN_MS.
            let guard = prodlog::init();
            let n: u64 = std::env::var("N").unwrap().parse().unwrap();
            let from: u64 = std::env::var("SEQ_FROM").map_or(0, |v| v.parse().unwrap());
            let pad = "p".repeat(120);
            let started = Instant::now();
            for seq in from..from + n {
                tracing::info!(seq, pad = pad.as_str(), "burst-{seq:07}-end");
            }
            println!("LOGGED {}", started.elapsed().as_millis());
            // Runs on (a service) until told to stop.
            let mut go = String::new();
            let _ = std::io::stdin().read_line(&mut go);
            let started = Instant::now();
            drop(guard);
            println!("SHUTDOWN {}", started.elapsed().as_millis());
        }
        "flood_then_shutdown" => {
            // Lines as fast as they come, then the destinations' shutdown (as on SIGTERM),
            // then the counts: final once the shutdown returned.
            let guard = prodlog::init();
            let n: u64 = std::env::var("N").unwrap().parse().unwrap();
            let pad = "p".repeat(200);
            for seq in 0..n {
                tracing::info!(seq, pad = pad.as_str(), "flood line");
            }
            prodlog::ship::shutdown_all(Duration::from_millis(1000));
            for (name, stats) in guard.destinations() {
                println!(
                    "STATS {name} sent={} dropped={} failed={} rejected={}",
                    stats.sent, stats.dropped, stats.failed_sends, stats.rejected
                );
            }
        }
        "big" => {
            let _guard = prodlog::init();
            let big = "x".repeat(300 * 1024);
            tracing::info!(size = big.len(), "{big}");
            tracing::info!("after the big one");
        }
        other => panic!("unknown scenario {other}"),
    }
}

/// Reads the child's stdout into `seen` until it holds `marker`.
fn read_until(stdout: &mut impl std::io::Read, seen: &mut String, marker: &str) {
    let mut buf = [0u8; 4096];
    while !seen.contains(marker) {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "child ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_tcp(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A server child, killed by its PID when dropped.
struct Server {
    child: Child,
}

impl Server {
    fn kill(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // SIGKILL by PID, then reap.
        let _ = Command::new("kill")
            .arg("-9")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn skip(test: &str, why: &str) {
    println!("test {test} ... skipped: {why}");
}
