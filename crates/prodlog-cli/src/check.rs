//! `prodlog check`: the configuration the preset would use with this environment, then a
//! canary event sent through it and looked for in every file destination.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn main() -> ExitCode {
    let description = prodlog::builder().describe();
    println!(
        "effective configuration (code defaults, then the environment):\n{}",
        description.text
    );
    if !description.problems.is_empty() {
        for p in &description.problems {
            println!("problem: {p}");
        }
        println!("FAIL: fix the problems above (prodlog::init() would work around them, try_init() refuses)");
        return ExitCode::from(1);
    }
    let guard = match prodlog::builder().try_init() {
        Ok(g) => g,
        Err(e) => {
            println!("FAIL: {e}");
            return ExitCode::from(1);
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
    // Network destinations: the canary was accepted by the server, or not.
    guard.flush();
    let mut ok = true;
    for (name, stats) in guard.destinations() {
        if stats.sent >= 1 && stats.dropped == 0 && stats.rejected == 0 {
            println!("ok: canary accepted by {name}");
        } else {
            ok = false;
            println!(
                "FAIL: the canary did not reach {name} ({} sent, {} dropped, {} refused, {} failed attempts)",
                stats.sent, stats.dropped, stats.rejected, stats.failed_sends
            );
        }
    }
    drop(guard);
    for path in &description.files {
        let shown = path.display();
        match std::fs::read_to_string(path) {
            Ok(text) if text.contains(&canary) => println!("ok: canary arrived in {shown}"),
            Ok(_) => {
                ok = false;
                println!("FAIL: the canary did not arrive in {shown}");
            }
            Err(e) => {
                ok = false;
                println!("FAIL: cannot read {shown}: {e}");
            }
        }
    }
    if description.files.is_empty() {
        println!("ok: canary written to the console (no file destinations configured)");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
