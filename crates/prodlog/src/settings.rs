//! Resolving the builder's choices and the `PRODLOG_*` environment into one configuration.

use std::ffi::OsString;
use std::path::PathBuf;

use prodlog_format::stdout_wants_ansi;
use prodlog_redact::Redactor;
use tracing_core::LevelFilter;

use crate::error::{InitError, InitErrorKind};
use crate::file::FileSettings;
use crate::timing_settings::TimingSettings;

/// Where the console goes and in which form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConsoleMode {
    /// Human lines on a terminal, JSON lines when stdout is a pipe or a file (containers).
    #[default]
    Auto,
    /// Always human lines.
    Human,
    /// Always JSON lines (the same bytes as the JSON file).
    Json,
    /// No console output.
    Off,
}

/// Whether human console lines are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ColorMode {
    /// Colours when stdout is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Reads one environment variable (a map in unit tests, the process environment otherwise).
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// A configuration problem `init()` works around: the error, and what it used instead.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) error: InitError,
    pub(crate) fallback: String,
}

/// Everything the preset decided, after the environment had its say.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) app: String,
    pub(crate) dir: Option<PathBuf>,
    /// Auto already resolved to Human or Json.
    pub(crate) console: ConsoleMode,
    pub(crate) ansi: bool,
    pub(crate) error_file: bool,
    pub(crate) directives: String,
    /// Where `directives` came from, for error messages.
    pub(crate) directives_from: String,
    pub(crate) quiet: Vec<String>,
    pub(crate) console_level: LevelFilter,
    pub(crate) file_level: LevelFilter,
    pub(crate) directives_file: Option<PathBuf>,
    pub(crate) log_bridge: bool,
    /// The redactor of every output (`None`: redaction off), `PRODLOG_REDACT_EMAILS` applied.
    pub(crate) redactor: Option<Redactor>,
    pub(crate) files: FileSettings,
    pub(crate) timing: TimingSettings,
    pub(crate) record: prodlog_format::RecordSettings,
    /// The recorder's level was chosen by name (else it follows the directives).
    pub(crate) record_named: bool,
    /// Per-callsite rate limits, `PRODLOG_RATE_LIMIT` applied.
    pub(crate) rate_limit: prodlog_limit::LimitSpec,
    /// The JSON schema and the network destinations.
    pub(crate) network: crate::network::NetworkSettings,
    /// A panic is also printed on stderr the way Rust prints it (message redacted); off
    /// by default when the console is JSON or OTLP is on (the panic is a log line there,
    /// and a multi-line dump would interleave with the stream).
    pub(crate) panic_stderr: bool,
}

/// Which redactor the code chose.
#[derive(Debug, Clone)]
pub(crate) enum RedactorChoice {
    /// The built-in rules; `PRODLOG_REDACT_EMAILS` may add e-mail addresses.
    Default,
    /// The caller's own, kept as it is whatever the environment says.
    Custom(Redactor),
    /// No redaction (only code can choose this).
    Off,
}

/// The values set in code, before the environment.
#[derive(Clone)]
pub(crate) struct Choices {
    pub(crate) app: Option<String>,
    pub(crate) dir: Option<PathBuf>,
    pub(crate) console: ConsoleMode,
    pub(crate) color: ColorMode,
    pub(crate) error_file: bool,
    pub(crate) directives: String,
    pub(crate) env_var: String,
    pub(crate) quiet: Vec<String>,
    pub(crate) console_level: LevelFilter,
    pub(crate) file_level: LevelFilter,
    pub(crate) directives_file: Option<PathBuf>,
    pub(crate) log_bridge: bool,
    pub(crate) redactor: RedactorChoice,
    pub(crate) files: FileSettings,
    pub(crate) timing: TimingSettings,
    /// The flight recorder, and whether its level was set in code.
    pub(crate) record: prodlog_format::RecordSettings,
    pub(crate) record_named: bool,
    /// A gitleaks TOML rules file added to the built-in redaction rules.
    pub(crate) redact_rules: Option<PathBuf>,
    /// Per-callsite rate limits.
    pub(crate) rate_limit: prodlog_limit::LimitSpec,
    /// No files, whatever `log_dir` or `PRODLOG_DIR` say (test captures).
    pub(crate) no_files: bool,
    /// The JSON schema and the network destinations.
    pub(crate) network: crate::network::NetworkChoices,
    /// Extra JSON destinations set in code: (most verbose level, sink).
    pub(crate) sinks: Vec<(
        tracing_core::LevelFilter,
        std::sync::Arc<dyn prodlog_format::LineSink>,
    )>,
}

impl std::fmt::Debug for Choices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Choices")
            .field("app", &self.app)
            .field("dir", &self.dir)
            .field("console", &self.console)
            .field("directives", &self.directives)
            .field("sinks", &self.sinks.len())
            .finish_non_exhaustive()
    }
}

impl Default for Choices {
    fn default() -> Self {
        Choices {
            app: None,
            dir: None,
            console: ConsoleMode::Auto,
            color: ColorMode::Auto,
            error_file: true,
            directives: "info".to_owned(),
            env_var: "RUST_LOG".to_owned(),
            quiet: Vec::new(),
            console_level: LevelFilter::TRACE,
            file_level: LevelFilter::TRACE,
            directives_file: None,
            log_bridge: true,
            redactor: RedactorChoice::Default,
            files: FileSettings::default(),
            timing: TimingSettings::default(),
            record: prodlog_format::RecordSettings::default(),
            record_named: false,
            sinks: Vec::new(),
            redact_rules: None,
            rate_limit: prodlog_limit::LimitSpec::default(),
            no_files: false,
            network: Default::default(),
        }
    }
}

pub(crate) fn env_error(var: &str, value: &str, expected: &str) -> InitError {
    InitError::new(
        InitErrorKind::InvalidEnv,
        format!("{var}={value:?} is not valid: expected {expected}"),
    )
}

/// Reads one variable through `env`; a non-UTF-8 value is a problem, an empty one is unset.
pub(crate) fn read(
    env: &dyn Fn(&str) -> Option<OsString>,
    var: &str,
    problems: &mut Vec<Problem>,
    fallback: &str,
) -> Option<String> {
    let raw = env(var)?;
    match raw.into_string() {
        Ok(s) if s.trim().is_empty() => None,
        Ok(s) => Some(s.trim().to_owned()),
        Err(raw) => {
            problems.push(Problem {
                error: env_error(var, &raw.to_string_lossy(), "valid UTF-8"),
                fallback: format!("using {fallback}"),
            });
            None
        }
    }
}

/// Parses a variable with a closed set of values, reporting anything else.
pub(crate) fn choice<T: Copy>(
    env: &dyn Fn(&str) -> Option<OsString>,
    var: &'static str,
    options: &[(&str, T)],
    default: T,
    default_name: &str,
    problems: &mut Vec<Problem>,
) -> T {
    let Some(value) = read(env, var, problems, default_name) else {
        return default;
    };
    if let Some((_, v)) = options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&value))
    {
        return *v;
    }
    let expected = options
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ");
    problems.push(Problem {
        error: env_error(var, &value, &format!("one of {expected}")),
        fallback: format!("using {default_name}"),
    });
    default
}

/// A setting asked for (`what`, by `var` or in code) that this build cannot honour: it was
/// compiled without `feature`. An init problem that names both, never a silent no-op.
pub(crate) fn without_feature(
    what: &str,
    var: &'static str,
    feature: &str,
    fallback: &str,
    problems: &mut Vec<Problem>,
) {
    problems.push(Problem {
        error: InitError::new(
            InitErrorKind::InvalidEnv,
            format!(
                "{what} ({var}) needs prodlog's `{feature}` cargo feature, and this program \
                 was built without it: add `features = [\"{feature}\"]` to its prodlog dependency"
            ),
        ),
        fallback: fallback.to_owned(),
    });
}

/// The spellings every on/off variable accepts (case-insensitive).
pub(crate) const BOOLS: &[(&str, bool)] = &[
    ("on", true),
    ("off", false),
    ("1", true),
    ("0", false),
    ("true", true),
    ("false", false),
    ("yes", true),
    ("no", false),
];

/// Parses an on/off variable: one set of spellings everywhere ([`BOOLS`]).
pub(crate) fn flag(
    env: &dyn Fn(&str) -> Option<OsString>,
    var: &'static str,
    default: bool,
    problems: &mut Vec<Problem>,
) -> bool {
    let name = if default { "on" } else { "off" };
    choice(env, var, BOOLS, default, name, problems)
}

/// A name usable as a file name stem: letters, digits, `.`, `_`, `-`, not starting with `.`.
pub(crate) fn valid_app_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A destination level from `var`, or `code` when unset; a bad value is reported.
pub(crate) fn level(
    env: &dyn Fn(&str) -> Option<OsString>,
    var: &'static str,
    code: LevelFilter,
    problems: &mut Vec<Problem>,
) -> LevelFilter {
    let code_name = code.to_string().to_lowercase();
    let Some(value) = read(env, var, problems, &code_name) else {
        return code;
    };
    prodlog_filter::parse_level(&value).unwrap_or_else(|| {
        problems.push(Problem {
            error: env_error(
                var,
                &value,
                "off, error, warn, info, debug or trace (any case) or 0-5",
            ),
            fallback: format!("using {code_name}"),
        });
        code
    })
}

/// A number from `var` (through `parse`), or `code` when unset; a bad value is reported.
pub(crate) fn number<T: Copy>(
    env: &dyn Fn(&str) -> Option<OsString>,
    var: &'static str,
    code: T,
    code_name: &str,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
    problems: &mut Vec<Problem>,
) -> T {
    let Some(value) = read(env, var, problems, code_name) else {
        return code;
    };
    parse(&value).unwrap_or_else(|| {
        problems.push(Problem {
            error: env_error(var, &value, expected),
            fallback: format!("using {code_name}"),
        });
        code
    })
}

fn exe_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|n| valid_app_name(n))
        .unwrap_or_else(|| "app".to_owned())
}

impl Choices {
    /// `PRODLOG_RATE_LIMIT` over the code's limits.
    fn resolve_rate_limit(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
        problems: &mut Vec<Problem>,
    ) -> prodlog_limit::LimitSpec {
        match read(env, "PRODLOG_RATE_LIMIT", problems, "the configured limits") {
            None => self.rate_limit.clone(),
            Some(spec) => prodlog_limit::LimitSpec::parse(&spec).unwrap_or_else(|e| {
                problems.push(Problem {
                    error: InitError::new(
                        InitErrorKind::InvalidEnv,
                        format!("PRODLOG_RATE_LIMIT={spec:?} is not valid: {e}"),
                    ),
                    fallback: "using the configured limits".to_owned(),
                });
                self.rate_limit.clone()
            }),
        }
    }
    /// Applies the environment (when `env` is given) over the choices made in code.
    pub(crate) fn resolve(
        &self,
        env: Option<EnvLookup<'_>>,
        problems: &mut Vec<Problem>,
    ) -> Settings {
        let none = |_: &str| None;
        let env: &dyn Fn(&str) -> Option<OsString> = env.unwrap_or(&none);

        let console_name = format!("{:?}", self.console).to_lowercase();
        let console = choice(
            env,
            "PRODLOG_CONSOLE",
            &[
                ("auto", ConsoleMode::Auto),
                ("human", ConsoleMode::Human),
                ("json", ConsoleMode::Json),
                ("off", ConsoleMode::Off),
            ],
            self.console,
            &console_name,
            problems,
        );
        let color_name = format!("{:?}", self.color).to_lowercase();
        let color = choice(
            env,
            "PRODLOG_COLOR",
            &[
                ("auto", ColorMode::Auto),
                ("always", ColorMode::Always),
                ("never", ColorMode::Never),
            ],
            self.color,
            &color_name,
            problems,
        );
        let error_file = flag(env, "PRODLOG_ERROR_FILE", self.error_file, problems);
        let dir = read(env, "PRODLOG_DIR", problems, "no log files")
            .map(PathBuf::from)
            .or_else(|| self.dir.clone())
            .filter(|_| !self.no_files);

        let code_app = self.app.clone().filter(|a| {
            let ok = valid_app_name(a);
            if !ok {
                problems.push(Problem {
                    error: InitError::new(
                        InitErrorKind::InvalidEnv,
                        format!("app name {a:?} is not valid: expected 1-64 letters, digits, '.', '_' or '-', not starting with '.'"),
                    ),
                    fallback: "using the executable's name".to_owned(),
                });
            }
            ok
        });
        let app = match read(env, "PRODLOG_APP", problems, "the executable's name") {
            Some(a) if valid_app_name(&a) => a,
            Some(a) => {
                problems.push(Problem {
                    error: env_error(
                        "PRODLOG_APP",
                        &a,
                        "1-64 letters, digits, '.', '_' or '-', not starting with '.'",
                    ),
                    fallback: "using the executable's name".to_owned(),
                });
                code_app.unwrap_or_else(exe_name)
            }
            None => code_app.unwrap_or_else(exe_name),
        };

        let (directives, directives_from) =
            match read(env, &self.env_var, problems, "the default levels") {
                Some(d) => (d, self.env_var.clone()),
                None => (self.directives.clone(), "builder().directives()".to_owned()),
            };
        let console_level = level(env, "PRODLOG_CONSOLE_LEVEL", self.console_level, problems);
        let file_level = level(env, "PRODLOG_FILE_LEVEL", self.file_level, problems);
        let directives_file = read(
            env,
            "PRODLOG_DIRECTIVES_FILE",
            problems,
            "no directives file",
        )
        .map(PathBuf::from)
        .or_else(|| self.directives_file.clone());

        let stdout_tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
        let console = match console {
            ConsoleMode::Auto if stdout_tty => ConsoleMode::Human,
            ConsoleMode::Auto => ConsoleMode::Json,
            other => other,
        };
        let ansi = match color {
            ColorMode::Auto => stdout_wants_ansi(),
            ColorMode::Always => true,
            ColorMode::Never => false,
        };
        let network = self.network.resolve(env, &app, problems);
        let structured = console == ConsoleMode::Json || network.otlp.is_some();
        let panic_stderr = flag(env, "PRODLOG_PANIC_STDERR", !structured, problems);
        let (record, record_named) = self.resolve_record(env, problems);
        Settings {
            panic_stderr,
            app,
            dir,
            console,
            ansi,
            error_file,
            directives,
            directives_from,
            quiet: self.quiet.clone(),
            console_level,
            file_level,
            directives_file,
            log_bridge: self.log_bridge,
            network,
            files: self.resolve_files(env, problems),
            timing: self.resolve_timing(env, problems),
            record,
            record_named,
            rate_limit: {
                let spec = self.resolve_rate_limit(env, problems);
                let collapse = flag(env, "PRODLOG_COLLAPSE", spec.collapses(), problems);
                spec.with_collapse(collapse)
            },
            redactor: match &self.redactor {
                RedactorChoice::Off => None,
                RedactorChoice::Custom(r) => Some(r.clone()),
                RedactorChoice::Default => {
                    let emails = flag(env, "PRODLOG_REDACT_EMAILS", false, problems);
                    let rules = read(env, "PRODLOG_REDACT_RULES", problems, "no rules file")
                        .map(PathBuf::from)
                        .or_else(|| self.redact_rules.clone());
                    Some(crate::redaction_settings::default_redactor(
                        emails,
                        rules.as_deref(),
                        problems,
                    ))
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(vars: &[(&str, &str)]) -> (Settings, Vec<Problem>) {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        let env = move |k: &str| map.get(k).cloned();
        let mut problems = Vec::new();
        let s = Choices::default().resolve(Some(&env), &mut problems);
        (s, problems)
    }

    #[test]
    fn env_overrides_code_and_bad_values_fall_back() {
        let (s, p) = resolve(&[
            ("PRODLOG_CONSOLE", "JSON"),
            ("PRODLOG_APP", "billing"),
            ("PRODLOG_DIR", "/tmp/x"),
            ("RUST_LOG", "debug"),
        ]);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.console, ConsoleMode::Json);
        assert_eq!(s.app, "billing");
        assert_eq!(s.dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(s.directives, "debug");

        let (s, p) = resolve(&[
            ("PRODLOG_CONSOLE", "fancy"),
            ("PRODLOG_APP", "../etc/passwd"),
            ("PRODLOG_ERROR_FILE", "maybe"),
            ("RUST_LOG", "   "),
        ]);
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(
            p[0].error.to_string(),
            "PRODLOG_CONSOLE=\"fancy\" is not valid: expected one of auto, human, json, off"
        );
        assert!(p[1]
            .error
            .to_string()
            .starts_with("PRODLOG_ERROR_FILE=\"maybe\""));
        assert!(p[2]
            .error
            .to_string()
            .starts_with("PRODLOG_APP=\"../etc/passwd\""));
        assert_ne!(s.app, "../etc/passwd");
        assert!(s.error_file);
        assert_eq!(s.directives, "info", "blank RUST_LOG means the default");
    }

    #[test]
    fn app_names() {
        assert!(valid_app_name("my-app_2.1"));
        for bad in ["", ".hidden", "a/b", "a b", "x\n", &"a".repeat(65)] {
            assert!(!valid_app_name(bad), "{bad:?}");
        }
    }
}
