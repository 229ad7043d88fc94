//! `prodlog check`: the configuration `prodlog::init()` would use with this environment
//! (and prodlog's own code defaults), then a canary event sent through it and looked for
//! in every destination. A service checks its own configuration — its code defaults
//! included — with `prodlog::Builder::check` behind its own flag.
//!
//! Safe on a live service's directory: the canary is an INFO line (never in the
//! ERROR-only file, which is only checked for being appendable), and no file is created
//! that the service would not create. Without `PRODLOG_APP` the files' name is the
//! service's executable, which this tool cannot know: the one `<app>.log` of the directory
//! is taken when there is exactly one; otherwise the files are not written to, and the
//! check says how to name them.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

/// The applications whose main file is in `dir`: `<app>.log`, not `<app>.error.log`, not
/// hidden.
fn apps_in(dir: &Path) -> Vec<String> {
    let mut apps: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.') && !n.ends_with(".error.log"))
                .filter_map(|n| n.strip_suffix(".log").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    apps.sort();
    apps.dedup();
    apps
}

/// Whether this process may create files in `dir` (found without creating one).
fn writable(dir: &Path) -> bool {
    rustix::fs::access(
        dir,
        rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
    )
    .is_ok()
}

pub(crate) fn main() -> ExitCode {
    let mut builder = prodlog::builder();
    let mut preface = String::new();
    let mut ok = true;
    let dir: Option<OsString> = std::env::var_os("PRODLOG_DIR").filter(|d| !d.is_empty());
    if let (None, Some(dir)) = (std::env::var_os("PRODLOG_APP"), dir) {
        let dir = Path::new(&dir);
        match apps_in(dir).as_slice() {
            [one] => {
                preface = format!(
                    "note: PRODLOG_APP is not set: checking {one}, the only application logging in {} (set PRODLOG_APP to choose)\n",
                    dir.display()
                );
                builder = builder.app_name(one.clone());
            }
            apps => {
                ok = false;
                preface = format!(
                    "FAIL: PRODLOG_APP is not set, and {} holds {} (a service names its files after its executable, which this tool cannot know): the files are not checked, and none is created; set PRODLOG_APP to the service's name\n{}",
                    dir.display(),
                    if apps.is_empty() {
                        "no <app>.log".to_owned()
                    } else {
                        format!("several applications' logs ({})", apps.join(", "))
                    },
                    if writable(dir) {
                        format!("ok: {} is writable\n", dir.display())
                    } else {
                        format!("FAIL: {} is not writable by this user\n", dir.display())
                    }
                );
                // The check runs without files: nothing lands in the service's directory.
                std::env::remove_var("PRODLOG_DIR");
            }
        }
    }
    let report = builder.check();
    print!("{preface}{report}");
    if report.ok && ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
