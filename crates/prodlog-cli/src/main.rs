//! `prodlog`: read, search and check the logs prodlog writes (and other JSON-lines logs).
//!
//! ```text
//! prodlog view [OPTIONS] [PATHS]...      logs as coloured lines, merged in time order, filtered
//! prodlog trace ID [PATHS]...            one request's lines across files, as a span tree
//! prodlog patterns [OPTIONS] [PATHS]...  messages grouped into templates; what is new or spiking
//! prodlog audit [--json] PATHS...        secrets that escaped into log files
//! prodlog check                          the effective configuration, and a canary through it
//! ```
//!
//! Paths are files or directories (walked; rotated backups and `.gz` included). A path that
//! cannot be read — unreadable, a symlink loop, a device — is reported and skipped.
//!
//! Exit codes: 0 success; 1 `audit` found a leak, `trace` found no line, `check` failed;
//! 2 usage error; 3 a path was skipped (the result is incomplete).
//!
//! Dependencies: `clap` (subcommands, `--help` at every level, `--version`),
//! `prodlog-redact` (the redaction layer's detectors), `serde_json` (reading lines),
//! `regex` (`--grep`, template masks), `memchr` (the literal search of `trace`, line
//! splitting), `flate2` (`.gz` backups), `indicatif` (progress on long audits).

mod audit;
mod check;
mod files;
mod follow;
mod miner;
mod patterns;
mod record;
mod render;
mod trace;
mod view;
mod walk;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "prodlog", version, about = "Read, search and check the logs prodlog writes", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    fn ansi(self) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Show logs as coloured lines, merged in time order across files, filtered.
    View {
        /// Files or directories (default: the current directory).
        paths: Vec<PathBuf>,
        /// Only this level and more severe (trace, debug, info, warn, error).
        #[arg(long)]
        level: Option<String>,
        /// Only this target and its submodules (repeatable).
        #[arg(long)]
        target: Vec<String>,
        /// From this time: 2026-11-30T10:00:00Z, or 15m, 2h, 1d ago.
        #[arg(long)]
        since: Option<String>,
        /// Until this time (same forms as --since).
        #[arg(long)]
        until: Option<String>,
        /// Only lines whose field KEY equals VALUE (repeatable): --field request_id=r-7.
        #[arg(long, value_name = "KEY=VALUE")]
        field: Vec<String>,
        /// Only lines matching this regular expression (on the raw line).
        #[arg(long)]
        grep: Option<String>,
        /// Only the lines of this template (its id from `prodlog patterns`; the
        /// templates are mined from the same files first).
        #[arg(long, value_name = "ID")]
        template: Option<String>,
        /// Keep reading the live files as they grow, across rotation.
        #[arg(short, long)]
        follow: bool,
        /// Print the matching lines unchanged (JSON), not as coloured lines.
        #[arg(long)]
        json: bool,
        /// Colours.
        #[arg(long, value_enum, default_value = "auto")]
        color: Color,
    },
    /// Every line of one request (request_id or trace_id), in order, as a span tree.
    Trace {
        /// The request id or trace id.
        id: String,
        /// Files or directories (default: the current directory).
        paths: Vec<PathBuf>,
        /// Print the request's lines unchanged (JSON), in time order.
        #[arg(long)]
        json: bool,
        /// Colours.
        #[arg(long, value_enum, default_value = "auto")]
        color: Color,
    },
    /// Group messages into templates; with --since, flag what is new or spiking.
    Patterns {
        /// Files or directories (default: the current directory).
        paths: Vec<PathBuf>,
        /// The start of the window compared with everything before it (a baseline).
        #[arg(long)]
        since: Option<String>,
        /// How many templates to show.
        #[arg(long, default_value_t = 50)]
        top: usize,
        /// A JSON report.
        #[arg(long)]
        json: bool,
        /// For every input line, in order, one JSON object with its `template_id` and
        /// `template` (the templates mined from all the input first).
        #[arg(long)]
        assign: bool,
    },
    /// Find secrets that escaped into log files (exit 1 when one is found).
    Audit {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A JSON report.
        #[arg(long)]
        json: bool,
        /// Scanning threads (at most twice the cores).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
        threads: u64,
    },
    /// Show the configuration prodlog::init() would use here, and send a canary through it.
    Check,
}

fn or_here(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    }
}

/// SIGPIPE ends the process at once with status 0 (`_exit`, async-signal-safe).
#[cfg(unix)]
fn quiet_on_closed_pipe() {
    extern "C" fn on_sigpipe(_: libc::c_int) {
        // SAFETY: `_exit` is async-signal-safe; nothing else runs in the handler.
        #[allow(unsafe_code)]
        unsafe {
            libc::_exit(0)
        }
    }
    // SAFETY: installing a handler for SIGPIPE at the start of `main`, before any thread
    // exists; the handler only calls `_exit`.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(
            libc::SIGPIPE,
            on_sigpipe as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // Rust ignores SIGPIPE, so a closed pipe (`prodlog patterns --json | head`) would make
    // every `println!` panic, and a follower that ignores write errors would run on. A
    // reader that has what it wants ends the tool quietly and successfully, as `head`'s
    // writer is expected to end. Not for `check`: its network destinations write to
    // sockets, where a closed connection is an error to report, not the end.
    #[cfg(unix)]
    if !matches!(cli.command, Command::Check) {
        quiet_on_closed_pipe();
    }
    match cli.command {
        Command::View {
            paths,
            level,
            target,
            since,
            until,
            field,
            grep,
            template,
            follow,
            json,
            color,
        } => view::main(&view::Args {
            paths: or_here(paths),
            level,
            target,
            since,
            until,
            field,
            grep,
            template,
            follow,
            json,
            ansi: color.ansi(),
        }),
        Command::Trace {
            id,
            paths,
            json,
            color,
        } => trace::main(&trace::Args {
            id,
            paths: or_here(paths),
            json,
            ansi: color.ansi(),
        }),
        Command::Patterns {
            paths,
            since,
            top,
            json,
            assign,
        } => patterns::main(&patterns::Args {
            paths: or_here(paths),
            since,
            json,
            top: top.max(1),
            assign,
        }),
        Command::Audit {
            paths,
            json,
            threads,
        } => audit::main(audit::Options {
            json,
            threads: usize::try_from(threads).unwrap_or(usize::MAX),
            paths,
        }),
        Command::Check => check::main(),
    }
}
