//! `prodlog check`: the configuration `prodlog::init()` would use with this environment
//! (and prodlog's own code defaults), then a canary event sent through it and looked for
//! in every destination. A service checks its own configuration — its code defaults
//! included — with `prodlog::Builder::check` behind its own flag.

use std::process::ExitCode;

pub(crate) fn main() -> ExitCode {
    let report = prodlog::builder().check();
    print!("{report}");
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
