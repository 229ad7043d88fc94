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
            "console: {:?}, colour {}, up to {}",
            s.console, s.ansi, s.console_level
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
                    "  rotation: {} bytes, {:?} ({}), {} backups (cap {}), gzip {}; queue {:?} of {} bytes; fsync {:?}; shutdown {:?}",
                    f.max_bytes.map_or("no size limit".to_owned(), |b| b.to_string()),
                    f.rotation,
                    if f.local_time { "local" } else { "UTC" },
                    f.max_backups,
                    f.max_total_bytes.map_or("none".to_owned(), |b| b.to_string()),
                    f.compress,
                    f.queue,
                    f.queue_bytes,
                    f.fsync,
                    f.shutdown_timeout
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
                Some(r) => format!("{r:?}"),
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
            "timing: {:?}, slow thresholds {:?}, latency report every {:?}",
            s.timing.report, s.timing.slow, s.timing.log_every
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
