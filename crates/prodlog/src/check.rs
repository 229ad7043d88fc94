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

impl Builder {
    /// Checks this configuration — the builder's choices, with the environment applied —
    /// and installs it: prints the effective configuration, sends one ERROR canary event
    /// through every destination, and looks for it in each file (the last 4 MiB) and in
    /// each network destination's counters.
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
    /// It installs the global subscriber (like `try_init`) and flushes everything
    /// before it returns: call it instead of `init`, then exit.
    pub fn check(self) -> CheckReport {
        use std::fmt::Write as _;
        let description = self.describe();
        let mut text = format!(
            "effective configuration (code defaults, then the environment):\n{}\n",
            description.text
        );
        if !description.problems.is_empty() {
            for p in &description.problems {
                let _ = writeln!(text, "problem: {p}");
            }
            text.push_str("FAIL: fix the problems above (init() would work around them, try_init() refuses)\n");
            return CheckReport { text, ok: false };
        }
        let guard = match self.try_init() {
            Ok(g) => g,
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
        // ERROR reaches every destination, the error-only file included.
        tracing::error!(target: "prodlog::check", canary = %canary, "prodlog check canary (not an error)");
        guard.flush();
        let mut ok = true;
        #[cfg(feature = "network")]
        for (name, stats) in guard.destinations() {
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
        for path in &description.files {
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
        if description.files.is_empty() {
            text.push_str("ok: canary written to the console (no file destinations configured)\n");
        }
        CheckReport { text, ok }
    }
}
