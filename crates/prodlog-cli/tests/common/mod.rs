//! What the tests of `view`, `trace` and `patterns` share: the binary, and two services'
//! logs written by prodlog's layers.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

pub fn prodlog(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prodlog"));
    for (k, _) in std::env::vars() {
        if k.starts_with("PRODLOG_") || k.starts_with("OTEL_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.args(args).output().unwrap()
}

/// Two services' logs: `api` and `worker` each handle requests `req-0` … `req-59`
/// (interleaved, the worker's lines inside a `job` span), a quarter failing; small files
/// rotated and gzipped. Returns the two directories.
pub fn two_services(root: &Path) -> (PathBuf, PathBuf) {
    let (api, worker) = (root.join("api"), root.join("worker"));
    let make = |dir: &Path, app: &str| {
        prodlog::builder()
            .from_env(false)
            .console(prodlog::ConsoleMode::Off)
            .app_name(app)
            .log_dir(dir)
            .max_bytes(Some(16 * 1024))
            .max_backups(100)
            .compress(true)
            .timing_report(prodlog::timing::Report::All)
            .directives("debug")
            .rate_limit(prodlog::limit::LimitSpec::off())
            .into_layer::<tracing_subscriber::Registry>()
            .unwrap()
    };
    let (api_layer, api_guard) = make(&api, "api");
    let (worker_layer, worker_guard) = make(&worker, "worker");
    let api_sub = tracing::Dispatch::new(tracing_subscriber::registry().with(api_layer));
    let worker_sub = tracing::Dispatch::new(tracing_subscriber::registry().with(worker_layer));
    for n in 0u32..60 {
        let id = format!("req-{n}");
        tracing::dispatcher::with_default(&api_sub, || {
            let span = tracing::info_span!("request", request_id = %id, user_id = n % 7);
            let _g = span.enter();
            tracing::info!(method = "GET", path = %format!("/orders/{n}"), "request started");
            {
                let db = tracing::info_span!("db", table = "orders");
                let _d = db.enter();
                tracing::debug!(rows = n, "query done in {} ms", n * 3);
            }
            // A line of another request that mentions this one: not part of it.
            tracing::info!("previous was req-{}", n.saturating_sub(1));
            if n % 4 == 3 {
                tracing::error!(status = 500u64, "request failed: upstream timeout");
            } else {
                tracing::info!(status = 200u64, "request completed");
            }
        });
        tracing::dispatcher::with_default(&worker_sub, || {
            let span = tracing::info_span!("job", request_id = %id);
            let _g = span.enter();
            tracing::info!(queue = "emails", "job picked");
            tracing::warn!(attempt = 1, "slow mail server");
        });
    }
    drop(api_guard);
    drop(worker_guard);
    (api, worker)
}

/// Every JSON line of every file under `dirs` (gzip read too).
pub fn all_lines(dirs: &[&Path]) -> Vec<String> {
    let mut out = Vec::new();
    for d in dirs {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let mut text = String::new();
            let f = std::fs::File::open(&p).unwrap();
            if p.extension().is_some_and(|x| x == "gz") {
                flate2::read::MultiGzDecoder::new(f)
                    .read_to_string(&mut text)
                    .unwrap();
            } else {
                std::io::BufReader::new(f)
                    .read_to_string(&mut text)
                    .unwrap();
            }
            if p.file_name().unwrap().to_string_lossy().contains(".error.") {
                continue; // the error-only file repeats ERROR lines
            }
            out.extend(text.lines().map(str::to_owned));
        }
    }
    out
}

pub fn parse(l: &str) -> Value {
    serde_json::from_str(l).unwrap()
}

pub fn ts(v: &Value) -> String {
    v["timestamp"].as_str().unwrap().to_owned()
}
