//! `Builder::check`: the configuration, then a canary event through it, looked for in
//! every destination.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::builder::Builder;

/// What [`Builder::check`] found: print it (`Display`), exit non-zero when not
/// [`ok`](Self::ok).
#[derive(Debug)]
#[non_exhaustive]
pub struct CheckReport {
    /// The effective configuration and one `ok:` or `FAIL:` line per check.
    pub text: String,
    /// Every check passed.
    pub ok: bool,
}

impl std::fmt::Display for CheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The last `MAX_TAIL` bytes of a regular file are searched for the canary: never a
/// device, never more than that whatever the file.
const MAX_TAIL: u64 = 4 << 20;

fn tail_contains(path: &Path, needle: &str) -> Result<bool, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let start = meta.len().saturating_sub(MAX_TAIL);
    f.seek(SeekFrom::Start(start)).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    f.take(MAX_TAIL)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    Ok(memchr::memmem::find(&buf, needle.as_bytes()).is_some())
}

/// Whether `path` can be appended to, found without changing it: opened for append (never
/// created) and given a write of zero bytes.
fn appendable(path: &Path) -> Result<(), String> {
    use std::io::Write as _;
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    f.write_all(b"").map_err(|e| e.to_string())
}

impl Builder {
    /// Checks this configuration — the builder's choices, with the environment applied —
    /// and installs it: prints the effective configuration, sends one canary event (INFO,
    /// with `prodlog_check = true`) through the main file and every network destination,
    /// looks for it in the file (the last 4 MiB) and in each destination's counters, and
    /// checks that the ERROR-only file can be appended to without writing to it (alerting
    /// watches that file: a canary there would page someone). Every destination is
    /// checked and reported, whatever failed before.
    ///
    /// For a service's own `--check-logging` flag, so the check sees the service's code
    /// defaults (the `prodlog check` binary only knows the environment):
    ///
    /// ```no_run
    /// if std::env::args().any(|a| a == "--check-logging") {
    ///     let report = prodlog::builder().app_name("billing").check();
    ///     print!("{report}");
    ///     std::process::exit(if report.ok { 0 } else { 1 });
    /// }
    /// ```
    ///
    /// It installs the global subscriber (like `init`, working around a bad setting) and
    /// flushes everything before it returns: call it instead of `init`, then exit.
    pub fn check(self) -> CheckReport {
        use std::fmt::Write as _;
        let description = self.describe();
        let mut text = format!(
            "effective configuration (code defaults, then the environment):\n{}\n",
            description.text
        );
        let mut ok = true;
        for p in &description.problems {
            let _ = writeln!(text, "problem: {p}");
        }
        if !description.problems.is_empty() {
            ok = false;
            text.push_str("FAIL: fix the problems above (init() works around them, try_init() refuses); the destinations are checked as init() would set them\n");
        }
        // The ERROR-only file: looked at, never written to.
        let (error_files, main_files): (Vec<_>, Vec<_>) = description
            .files
            .iter()
            .partition(|p| p.to_string_lossy().ends_with(".error.log"));
        // As `init` does, with its problems in the report (each destination that could
        // not start is one), and every other destination checked all the same.
        let (layer, guard, problems) = self.compose::<tracing_subscriber::Registry>();
        for p in &problems {
            if !description
                .problems
                .iter()
                .any(|d| d.to_string() == p.error.to_string())
            {
                ok = false;
                let _ = writeln!(text, "FAIL: {}; {}", p.error, p.fallback);
            }
        }
        let guard = match crate::builder::install(layer, &guard) {
            Ok(()) => guard,
            Err(e) => {
                let _ = writeln!(text, "FAIL: {e}");
                return CheckReport { text, ok: false };
            }
        };
        let canary = format!(
            "canary-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        // At INFO, or WARN when the directives keep INFO of this target out: never ERROR.
        let sent = if tracing::enabled!(target: "prodlog::check", tracing::Level::INFO) {
            tracing::info!(target: "prodlog::check", canary = %canary, prodlog_check = true, "prodlog check canary");
            true
        } else if tracing::enabled!(target: "prodlog::check", tracing::Level::WARN) {
            tracing::warn!(target: "prodlog::check", canary = %canary, prodlog_check = true, "prodlog check canary (not a problem)");
            true
        } else {
            ok = false;
            text.push_str("FAIL: no INFO or WARN line of target prodlog::check reaches a destination (the directives keep them out, or none could be opened): no canary sent (an ERROR one would reach the alerting file)\n");
            false
        };
        guard.flush();
        #[cfg(feature = "network")]
        for (name, stats) in guard.destinations() {
            if !sent {
                break;
            }
            if stats.sent >= 1 && stats.dropped == 0 && stats.rejected == 0 {
                if name.starts_with("syslog udp://") {
                    // A datagram leaves whether or not anything listens: nothing to confirm.
                    let _ = writeln!(
                        text,
                        "ok: canary sent to {name}, not confirmed (UDP has no acknowledgement: look for it at the server)"
                    );
                } else {
                    let _ = writeln!(text, "ok: canary accepted by {name}");
                }
            } else {
                ok = false;
                let _ = writeln!(
                    text,
                    "FAIL: the canary did not reach {name} ({} sent, {} dropped, {} refused, {} failed attempts)",
                    stats.sent, stats.dropped, stats.rejected, stats.failed_sends
                );
            }
        }
        match guard.recorder() {
            Some(r) => {
                let _ = writeln!(
                    text,
                    "ok: flight recorder on: {} events recorded, {} written (failed requests), {} discarded, {} dropped by its bounds, {} requests refused for the budget",
                    r.recorded, r.written, r.discarded, r.dropped, r.refused
                );
            }
            None => text.push_str("ok: flight recorder off (PRODLOG_RECORD=off)\n"),
        }
        drop(guard);
        for path in main_files.iter().filter(|_| sent) {
            let shown = path.display();
            match tail_contains(path, &canary) {
                Ok(true) => {
                    let _ = writeln!(text, "ok: canary arrived in {shown}");
                }
                Ok(false) => {
                    ok = false;
                    let _ = writeln!(text, "FAIL: the canary did not arrive in {shown}");
                }
                Err(e) => {
                    ok = false;
                    let _ = writeln!(text, "FAIL: cannot read {shown}: {e}");
                }
            }
        }
        for path in &error_files {
            let shown = path.display();
            match appendable(path) {
                Ok(()) => {
                    let _ = writeln!(
                        text,
                        "ok: {shown} can be appended to (nothing written: it is the file alerting watches)"
                    );
                }
                Err(e) => {
                    ok = false;
                    let _ = writeln!(text, "FAIL: {shown} cannot be appended to: {e}");
                }
            }
        }
        if description.files.is_empty() {
            text.push_str("ok: canary written to the console (no file destinations configured)\n");
        }
        CheckReport { text, ok }
    }
}
