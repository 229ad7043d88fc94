//! `Builder::describe`: the effective configuration, for `prodlog check` and for people.

use std::path::PathBuf;

use crate::builder::{level_filter, Builder};
use crate::error::InitError;
use crate::settings::EnvLookup;

/// What [`Builder::describe`] found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Description {
    /// The effective configuration, one `key: value` line per setting.
    pub text: String,
    /// The log files the configuration writes.
    pub files: Vec<PathBuf>,
    /// Every configuration problem.
    pub problems: Vec<InitError>,
}

impl Builder {
    /// The effective configuration — the builder's choices with the environment applied —
    /// for people, the files it would write, and every problem found (as `try_init` would
    /// report them). Installs nothing; `prodlog check` prints it.
    pub fn describe(&self) -> Description {
        use std::fmt::Write as _;
        let mut problems = Vec::new();
        let read_env = |var: &str| std::env::var_os(var);
        let env: Option<EnvLookup<'_>> = if self.from_env { Some(&read_env) } else { None };
        let s = self.choices.resolve(env, &mut problems);
        let filter = level_filter(&s, &mut problems);
        let _ = crate::timing_settings::timing_layer(&s.timing, &mut problems);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "levels: {:?} (from {})",
            s.directives, s.directives_from
        );
        let _ = writeln!(out, "  max level: {}", filter.max_level());
        let mut quiet: Vec<&str> = prodlog_filter::NOISY_TARGETS.to_vec();
        quiet.extend(s.quiet.iter().map(String::as_str));
        let _ = writeln!(out, "  quiet unless named (warn): {}", quiet.join(", "));
        let _ = writeln!(
            out,
            "console: {}, {}, up to {}",
            match s.console {
                crate::ConsoleMode::Json => "JSON lines",
                crate::ConsoleMode::Off => "off",
                _ => "human lines",
            },
            if s.ansi { "coloured" } else { "no colour" },
            s.console_level
        );
        match &s.dir {
            Some(dir) => {
                let f = &s.files;
                let _ = writeln!(
                    out,
                    "files: {}/{}.log up to {}",
                    dir.display(),
                    s.app,
                    s.file_level
                );
                if s.error_file {
                    let _ = writeln!(
                        out,
                        "  and {}/{}.error.log (ERROR only)",
                        dir.display(),
                        s.app
                    );
                }
                let _ = writeln!(
                    out,
                    "  rotation: {}, {}; {} backups kept{}, {}",
                    f.max_bytes.map_or("never by size".to_owned(), |b| format!(
                        "at {}",
                        human_bytes(b)
                    )),
                    match f.rotation {
                        prodlog_writer::Rotation::Never => "never by time".to_owned(),
                        other => format!(
                            "{} ({})",
                            format!("{other:?}").to_lowercase(),
                            if f.local_time { "local time" } else { "UTC" }
                        ),
                    },
                    f.max_backups,
                    f.max_total_bytes.map_or(String::new(), |b| format!(
                        " (at most {} together)",
                        human_bytes(b)
                    )),
                    if f.compress {
                        "gzipped"
                    } else {
                        "not compressed"
                    },
                );
                let _ = writeln!(
                    out,
                    "  queue: {} per file, {} when full; fsync {}; shutdown waits up to {}; mode {:o}",
                    human_bytes(f.queue_bytes as u64),
                    match f.queue {
                        prodlog_writer::QueuePolicy::Drop => "drop and count",
                        _ => "wait",
                    },
                    f.fsync
                        .map_or("at shutdown".to_owned(), |d| format!("every {}", human_duration(d))),
                    human_duration(f.shutdown_timeout),
                    f.file_mode,
                );
            }
            None => {
                let _ = writeln!(out, "files: none (set PRODLOG_DIR)");
            }
        }
        let _ = writeln!(
            out,
            "redaction: {}",
            match &s.redactor {
                None => "off".to_owned(),
                Some(r) => format!(
                    "on, {} secret formats{}",
                    r.format_count(),
                    match r.file_rule_count() {
                        0 => String::new(),
                        n => format!(" ({n} from the rules file)"),
                    }
                ),
            }
        );
        let net = &s.network;
        let _ = writeln!(out, "json schema: {}", net.schema);
        match &net.otlp {
            Some((o, level)) => {
                let _ = writeln!(out, "otlp: {o} up to {level}");
            }
            None => {
                let _ = writeln!(out, "otlp: off (PRODLOG_OTLP=on)");
            }
        }
        if let Some((sl, level)) = &net.syslog {
            let _ = writeln!(out, "syslog: {sl} up to {level}");
        }
        if let Some((j, level)) = &net.journald {
            let _ = writeln!(out, "journald: {j} up to {level}");
        }
        let _ = writeln!(
            out,
            "timing: {}, slow thresholds: {}, latency report: {}",
            match s.timing.report {
                prodlog_timing::Report::Off => "no span events",
                prodlog_timing::Report::All => "an event for every closing span",
                _ => "an event for slow spans",
            },
            if s.timing.slow.is_empty() {
                "none"
            } else {
                s.timing.slow.as_str()
            },
            s.timing
                .log_every
                .map_or("off".to_owned(), |d| format!("every {}", human_duration(d))),
        );
        let mut files = Vec::new();
        if let Some(dir) = &s.dir {
            files.push(dir.join(format!("{}.log", s.app)));
            if s.error_file {
                files.push(dir.join(format!("{}.error.log", s.app)));
            }
        }
        Description {
            text: out,
            files,
            problems: problems.into_iter().map(|p| p.error).collect(),
        }
    }
}

/// `100 MiB`, `512 KiB`, `37 B`.
pub(crate) fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `5 s`, `200 ms`, `2 min`.
pub(crate) fn human_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_as_people_write_them() {
        assert_eq!(human_bytes(100 * 1024 * 1024), "100 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(37), "37 B");
        assert_eq!(human_duration(std::time::Duration::from_secs(5)), "5 s");
        assert_eq!(
            human_duration(std::time::Duration::from_millis(200)),
            "200 ms"
        );
        assert_eq!(human_duration(std::time::Duration::from_secs(120)), "2 min");
    }
}
