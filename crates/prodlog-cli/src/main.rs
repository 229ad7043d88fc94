//! `prodlog`: audit log files for secrets that escaped, and check the effective logging
//! configuration.
//!
//! ```text
//! prodlog audit [--json] [--threads N] PATH...   scan files and directories (.gz too)
//! prodlog check                                 show the configuration, send a canary
//! ```
//!
//! `audit` exits with 1 when a leak is found (so it can gate a deploy), 2 on a usage or I/O
//! error, 0 otherwise. Findings are `path:line: kind`, never the secret.
//!
//! Arguments are parsed by hand: two subcommands and three flags do not justify a parser
//! crate's compile time. Dependencies: `prodlog-redact` (the redaction layer's detectors),
//! `serde_json` (line validation, `--json`), `flate2` (rotated `.gz` files), `indicatif`
//! (progress on long scans, only on a terminal).

mod audit;
mod check;
mod walk;

use std::process::ExitCode;

const USAGE: &str = "usage:
  prodlog audit [--json] [--threads N] PATH...   find secrets that escaped into log files
  prodlog check                                 show the effective configuration, send a canary";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("audit") => audit::main(&args[1..]),
        Some("check") => check::main(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
