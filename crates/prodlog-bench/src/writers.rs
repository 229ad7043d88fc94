//! The writers alone: the same pre-formatted lines through prodlog-writer and through
//! `tracing_appender::non_blocking` over `tracing_appender::rolling::never`.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

/// One writer case's figures.
pub struct WriterRun {
    /// Lines per second, from the first line until all are on disk.
    pub lines_per_sec: f64,
    /// Caller-side latency of one write, in nanoseconds.
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub on_disk: u64,
}

const LINE: &[u8] = b"{\"timestamp\":\"2026-11-25T01:34:45.123456Z\",\"level\":\"INFO\",\"target\":\"prodlog_bench::cases\",\"message\":\"payment processed\",\"customer\":\"alice\",\"amount\":1299,\"attempt\":-3,\"ratio\":0.875,\"approved\":true,\"request_id\":\"req-7f3a9c\",\"user_id\":42,\"db_table\":\"payments\",\"span\":\"db\"}\n";

fn percentile(sorted: &[u32], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i])
}

fn timed(n: usize, mut write: impl FnMut()) -> (Vec<u32>, Instant) {
    let mut lat = vec![0u32; n];
    let t0 = Instant::now();
    for slot in lat.iter_mut() {
        let s = Instant::now();
        write();
        *slot = u32::try_from(s.elapsed().as_nanos()).unwrap_or(u32::MAX);
    }
    (lat, t0)
}

/// Runs one writer case: `imp` is `prodlog-block`, `prodlog-drop`, `appender-blocking` or
/// `appender-lossy`.
pub fn run(imp: &str, n: usize, dir: &Path) -> Option<WriterRun> {
    let path = dir.join("w.log");
    let (mut lat, t0) = match imp {
        "prodlog-block" | "prodlog-drop" => {
            let policy = if imp == "prodlog-block" {
                prodlog::writer::QueuePolicy::Block
            } else {
                prodlog::writer::QueuePolicy::Drop
            };
            let w = prodlog::writer::Writer::builder(&path)
                .max_bytes(None)
                .policy(policy)
                .build()
                .ok()?;
            let (lat, t0) = timed(n, || w.write_line(LINE));
            w.shutdown(Duration::from_secs(60)).ok()?;
            (lat, t0)
        }
        "appender-blocking" | "appender-lossy" => {
            let file = tracing_appender::rolling::never(dir, "w.log");
            let (nb, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(imp == "appender-lossy")
                .finish(file);
            let (lat, t0) = timed(n, || {
                let _ = nb.make_writer().write_all(LINE);
            });
            drop(guard);
            std::fs::File::open(&path).and_then(|f| f.sync_all()).ok()?;
            (lat, t0)
        }
        _ => return None,
    };
    let elapsed = t0.elapsed();
    lat.sort_unstable();
    let on_disk = std::fs::read(&path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64)
        .unwrap_or(0);
    Some(WriterRun {
        lines_per_sec: n as f64 / elapsed.as_secs_f64(),
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
        p999: percentile(&lat, 0.999),
        on_disk,
    })
}
