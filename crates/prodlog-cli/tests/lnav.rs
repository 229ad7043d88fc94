//! `docs/lnav/prodlog.json` with the real lnav (Debian package; `.ci/run` installs it):
//! lnav recognises prodlog's lines, their levels and times, and `request_id` as the
//! operation id. Skipped with a message when lnav is not installed.

use std::path::Path;
use std::process::Command;

use tracing_subscriber::layer::SubscriberExt;

#[test]
fn lnav_reads_prodlog_lines_with_levels_times_and_request_ids() {
    if Command::new("lnav").arg("-V").output().is_err() {
        println!("skipped: lnav is not installed (apt-get install lnav)");
        return;
    }
    let format = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lnav/prodlog.json");
    let home = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (layer, guard) = prodlog::builder()
        .from_env(false)
        .console(prodlog::ConsoleMode::Off)
        .app_name("svc")
        .log_dir(logs.path())
        .error_file(false)
        .into_layer::<tracing_subscriber::Registry>()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("request", request_id = "req-7");
        let _g = span.enter();
        tracing::info!(amount = 12, "payment processed");
        tracing::warn!("retrying");
        tracing::error!("payment failed");
        prodlog::critical!("ledger out of balance");
    });
    drop(guard);
    let install = Command::new("lnav")
        .env("HOME", home.path())
        .arg("-i")
        .arg(&format)
        .output()
        .unwrap();
    assert!(install.status.success(), "{install:?}");
    let out = Command::new("lnav")
        .env("HOME", home.path())
        .args([
            "-n",
            "-c",
            ";SELECT log_level, log_opid, target, log_body FROM prodlog_log",
        ])
        .arg(logs.path().join("svc.log"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows.len(),
        4,
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let levels: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(levels, ["info", "warning", "error", "fatal"], "{text}");
    assert!(
        rows.iter().all(|r| r[1] == "req-7" && r[2] == "lnav"),
        "{text}"
    );
    assert!(
        text.contains("payment processed") && text.contains("ledger out of balance"),
        "{text}"
    );
    // Times come from the lines, in order (lnav would show 1970 or the file time otherwise).
    let times = Command::new("lnav")
        .env("HOME", home.path())
        .args(["-n", "-c", ";SELECT log_time FROM prodlog_log"])
        .arg(logs.path().join("svc.log"))
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&times.stdout);
    let year = t.lines().nth(1).unwrap_or("").trim().get(..4).unwrap_or("");
    assert!(year.parse::<u32>().is_ok_and(|y| y >= 2025), "{t}");
}
