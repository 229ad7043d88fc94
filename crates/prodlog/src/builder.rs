//! The preset's builder.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use prodlog_context::ContextLayer;
use prodlog_filter::{ContextSpans, TargetFilter};
use prodlog_format::{ConsoleLayer, JsonLayer, JsonSchema, StdoutSink, TimestampLayer};
use prodlog_redact::Redactor;
use tracing_core::{LevelFilter, Subscriber};
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

use crate::error::{InitError, InitErrorKind};
use crate::guard::Guard;
use crate::settings::{
    Choices, ColorMode, ConsoleMode, EnvLookup, Problem, RedactorChoice, Settings,
};

/// Configures the preset: every choice `prodlog::init()` makes, as a setter.
///
/// # Default values
///
/// | setting | default | environment |
/// |---|---|---|
/// | [`directives`](Self::directives) | `info`, noisy dependencies at `warn` | `RUST_LOG` (see [`env_var`](Self::env_var)) |
/// | [`quiet`](Self::quiet) | [`filter::NOISY_TARGETS`](crate::filter::NOISY_TARGETS) | — |
/// | [`directives_file`](Self::directives_file) | none: levels change only through [`Guard::filter`] | `PRODLOG_DIRECTIVES_FILE` |
/// | [`console_level`](Self::console_level) | `trace`: all the directives enable | `PRODLOG_CONSOLE_LEVEL` |
/// | [`file_level`](Self::file_level) | `trace`: all the directives enable | `PRODLOG_FILE_LEVEL` |
/// | [`redactor`](Self::redactor) | [`Redactor::default()`]: secrets and PII redacted in every output | `PRODLOG_REDACT_EMAILS` (on/off: also e-mail addresses) |
/// | [`redact_rules_file`](Self::redact_rules_file) | none | `PRODLOG_REDACT_RULES` (a gitleaks TOML file of extra rules) |
/// | [`log_bridge`](Self::log_bridge) | `true`: `log` records go through the same filter and outputs | — |
/// | [`console`](Self::console) | [`ConsoleMode::Auto`]: human on a terminal, JSON otherwise | `PRODLOG_CONSOLE` |
/// | [`color`](Self::color) | [`ColorMode::Auto`]: on a terminal unless `NO_COLOR` | `PRODLOG_COLOR` |
/// | [`log_dir`](Self::log_dir) | none: no files | `PRODLOG_DIR` |
/// | [`app_name`](Self::app_name) | the executable's name | `PRODLOG_APP` |
/// | [`max_bytes`](Self::max_bytes) | 100 MiB | `PRODLOG_MAX_BYTES` (`100M`, `512k`, `0`: never by size) |
/// | [`max_backups`](Self::max_backups) | 10 | `PRODLOG_MAX_BACKUPS` |
/// | [`max_total_bytes`](Self::max_total_bytes) | no cap | `PRODLOG_MAX_TOTAL_BYTES` |
/// | [`queue_bytes`](Self::queue_bytes) | 8 MiB | `PRODLOG_QUEUE_BYTES` |
/// | [`rotation`](Self::rotation) | by size only | `PRODLOG_ROTATE` (`never`, `minutely`, `hourly`, `daily`) |
/// | [`rotation_local_time`](Self::rotation_local_time) | UTC | `PRODLOG_ROTATE_TZ` (`utc`, `local`; feature `local-time`) |
/// | [`compress`](Self::compress) | off | `PRODLOG_COMPRESS` (`0`/`1`; feature `compression`) |
/// | [`queue_policy`](Self::queue_policy) | block | `PRODLOG_QUEUE` (`block`, `drop`) |
/// | [`fsync_every`](Self::fsync_every) | off | `PRODLOG_FSYNC_MS` |
/// | [`shutdown_timeout`](Self::shutdown_timeout) | 5 s | `PRODLOG_SHUTDOWN_MS` |
/// | [`rate_limit`](Self::rate_limit) | each ERROR/WARN callsite 1000 events/s, burst 10,000 | `PRODLOG_RATE_LIMIT` (`100/s,burst=1000`, `error=50/s+500`, `off`) |
/// | [`file_mode`](Self::file_mode) | `0o640` (directory `0o750`) | `PRODLOG_FILE_MODE` |
/// | [`flush_on_signal`](Self::flush_on_signal) | on | `PRODLOG_FLUSH_ON_SIGNAL` |
/// | [`slow`](Self::slow) | no thresholds | `PRODLOG_SLOW` (`query=100ms,app::http=1s,*=5s`) |
/// | [`timing_report`](Self::timing_report) | slow spans only | `PRODLOG_TIMING` (`off`, `slow`, `all`) |
/// | [`log_latencies_every`](Self::log_latencies_every) | off | `PRODLOG_TIMING_REPORT_S` |
/// | [`error_file`](Self::error_file) | `true` (when there is a log directory) | `PRODLOG_ERROR_FILE` |
/// | [`json_schema`](Self::json_schema) | prodlog's keys | `PRODLOG_JSON_SCHEMA` (`prodlog`, `ecs`, `gcp`, `otel`) |
/// | [`otlp`](Self::otlp) | off | `PRODLOG_OTLP` (on/off), `PRODLOG_OTLP_QUEUE_BYTES`, and every `OTEL_*` variable of a logs exporter (endpoint, headers, certificates, compression, protocol, timeouts, batching, resource; the README's table), honoured or reported as unsupported |
/// | [`otlp_level`](Self::otlp_level) | `trace`: all the directives enable | `PRODLOG_OTLP_LEVEL` |
/// | [`syslog`](Self::syslog) | off | `PRODLOG_SYSLOG` (`udp://host:port`, `tcp://host:port`, `unix:///dev/log`) |
/// | [`syslog_level`](Self::syslog_level) | `trace` | `PRODLOG_SYSLOG_LEVEL` |
/// | [`journald`](Self::journald) | off | `PRODLOG_JOURNALD` (on/off), `PRODLOG_JOURNALD_SOCKET` |
/// | [`journald_level`](Self::journald_level) | `trace` | `PRODLOG_JOURNALD_LEVEL` |
/// | [`from_env`](Self::from_env) | `true` | — |
///
/// A variable that is set and not empty wins over the value set in code, so operators can
/// reconfigure a deployed binary; `from_env(false)` turns the environment off.
///
/// ```
/// # fn main() -> Result<(), prodlog::InitError> {
/// let dir = tempfile::tempdir().unwrap();
/// let _guard = prodlog::builder()
///     .app_name("billing")
///     .log_dir(dir.path())
///     .console(prodlog::ConsoleMode::Off)
///     .directives("info,billing::db=debug")
///     .from_env(false)
///     .try_init()?;
/// tracing::error!(invoice = 7, "payment failed");
/// # drop(_guard);
/// assert!(std::fs::read_to_string(dir.path().join("billing.error.log")).unwrap().contains("payment failed"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `init()`, `try_init()` or `into_layer()`"]
pub struct Builder {
    pub(crate) choices: Choices,
    pub(crate) from_env: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            choices: Choices::default(),
            from_env: true,
        }
    }
}

impl Builder {
    /// The level directives used when `RUST_LOG` is unset or empty (`RUST_LOG` syntax:
    /// `info,my_app::db=debug`, see [`filter`](crate::filter)). A spec without a bare level
    /// keeps `info` for other targets.
    pub fn directives(mut self, directives: impl Into<String>) -> Self {
        self.choices.directives = directives.into();
        self
    }

    /// The environment variable holding the directives, `RUST_LOG` by default.
    pub fn env_var(mut self, name: impl Into<String>) -> Self {
        self.choices.env_var = name.into();
        self
    }

    /// Adds `target` (and its submodules) to the dependencies kept at `warn` unless a
    /// directive names them.
    pub fn quiet(mut self, target: impl Into<String>) -> Self {
        self.choices.quiet.push(target.into());
        self
    }

    /// A file holding the directives, applied at start and again whenever it changes or
    /// (Unix) the process receives `SIGHUP`; see
    /// [`FilterHandle::watch_file`](crate::filter::FilterHandle::watch_file).
    pub fn directives_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.choices.directives_file = Some(path.into());
        self
    }

    /// The most verbose level the console shows (the directives still apply).
    pub fn console_level(mut self, level: LevelFilter) -> Self {
        self.choices.console_level = level;
        self
    }

    /// The most verbose level `<app>.log` gets (the directives still apply).
    pub fn file_level(mut self, level: LevelFilter) -> Self {
        self.choices.file_level = level;
        self
    }

    /// Starts a new log file when the current one would exceed `bytes` (`None`: never by
    /// size). Default 100 MiB.
    pub fn max_bytes(mut self, bytes: Option<u64>) -> Self {
        self.choices.files.max_bytes = bytes;
        self
    }

    /// Keeps exactly this many rotated files (`<app>.log.1` … `.N`). Default 10.
    pub fn max_backups(mut self, n: usize) -> Self {
        self.choices.files.max_backups = n;
        self
    }

    /// Also deletes the oldest backups while all of them together exceed `bytes`.
    /// Default: no cap.
    pub fn max_total_bytes(mut self, bytes: Option<u64>) -> Self {
        self.choices.files.max_total_bytes = bytes;
        self
    }

    /// The most bytes each file's queue holds before callers wait (or drop). Default 8 MiB.
    pub fn queue_bytes(mut self, bytes: usize) -> Self {
        self.choices.files.queue_bytes = bytes;
        self
    }

    /// Also starts a new file at every minute, hour or day (UTC). Default: by size only.
    pub fn rotation(mut self, rotation: prodlog_writer::Rotation) -> Self {
        self.choices.files.rotation = rotation;
        self
    }

    /// Time rotation at local-time boundaries instead of UTC. Default off (UTC).
    pub fn rotation_local_time(mut self, local: bool) -> Self {
        self.choices.files.local_time = local;
        self
    }

    /// Gzips rotated files on a background thread. Default off.
    pub fn compress(mut self, on: bool) -> Self {
        self.choices.files.compress = on;
        self
    }

    /// What a caller does when the file queue is full: wait (default, no loss) or drop the
    /// line and count it (the count is written into the log).
    pub fn queue_policy(mut self, policy: prodlog_writer::QueuePolicy) -> Self {
        self.choices.files.queue = policy;
        self
    }

    /// Syncs the files to disk at most this often while lines are written. Default: only
    /// when the guard drops.
    pub fn fsync_every(mut self, every: Option<Duration>) -> Self {
        self.choices.files.fsync = every;
        self
    }

    /// How long the guard waits for the file queues to drain when dropped. Default 5 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.choices.files.shutdown_timeout = timeout;
        self
    }

    /// Per-callsite rate limits (default: [`prodlog_limit::DEFAULT_LIMIT`] for every ERROR
    /// and WARN callsite; [`prodlog_limit::LimitSpec::off`] turns limiting off). Held-back events are
    /// counted in summary events (`suppressed=N`) — see the [`limit`](crate::limit) module.
    pub fn rate_limit(mut self, spec: prodlog_limit::LimitSpec) -> Self {
        self.choices.rate_limit = spec;
        self
    }

    /// Permission bits of the files prodlog creates (default `0o640`: owner and group);
    /// a directory it creates gets `x` where the mode has `r` (`0o750`). Files that exist
    /// keep their mode; rotated and gzipped backups keep the mode of the file they were.
    pub fn file_mode(mut self, mode: u32) -> Self {
        self.choices.files.file_mode = mode & 0o777;
        self
    }

    /// Whether `init()` makes SIGTERM and SIGINT flush the files before the process ends,
    /// for signals that still have their default disposition (default on). An
    /// application's own handler, installed before or after `init()`, is never changed:
    /// see the [signals](crate#signals) section of the crate docs.
    pub fn flush_on_signal(mut self, on: bool) -> Self {
        self.choices.files.flush_on_signal = on;
        self
    }

    /// Writes no files, whatever `log_dir` or `PRODLOG_DIR` say.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn without_files(mut self) -> Self {
        self.choices.no_files = true;
        self
    }

    /// Also writes the JSON lines (the same bytes as the file) to `sink`, up to `level`:
    /// a socket, a test capture (see `prodlog::testing`), another file.
    pub fn json_sink(mut self, level: LevelFilter, sink: impl prodlog_format::LineSink) -> Self {
        self.choices.sinks.push((level, std::sync::Arc::new(sink)));
        self
    }

    /// Slow-span thresholds, `NAME=DURATION` entries: a span name, a target (module-path
    /// prefix) or `*`; `query=100ms,app::http=1s`. A span over its threshold logs one WARN
    /// event with `slow = true` and its durations. `PRODLOG_SLOW` wins over this.
    pub fn slow(mut self, thresholds: impl Into<String>) -> Self {
        self.choices.timing.slow = thresholds.into();
        self
    }

    /// Which closing spans log an event: none, the slow ones (default), or all.
    pub fn timing_report(mut self, report: prodlog_timing::Report) -> Self {
        self.choices.timing.report = report;
        self
    }

    /// Logs latency percentiles per span name every `every`, and once more at shutdown.
    pub fn log_latencies_every(mut self, every: Option<Duration>) -> Self {
        self.choices.timing.log_every = every;
        self
    }

    /// Adds the rules of a gitleaks TOML file (the format teams keep for repository
    /// scanning) to the built-in redaction rules. `PRODLOG_REDACT_RULES` wins over it. An
    /// unreadable or invalid file is an init problem (the built-in rules stay); rules that
    /// cannot apply to log lines are skipped and counted on stderr.
    pub fn redact_rules_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.choices.redact_rules = Some(path.into());
        self
    }

    /// The redactor every output uses (console, files, span context):
    /// [`Redactor::default()`] unless set. Build one with custom names, rules or a keyed
    /// hash replacement with [`Redactor::builder()`](crate::redact::Redactor::builder).
    pub fn redactor(mut self, redactor: Redactor) -> Self {
        self.choices.redactor = RedactorChoice::Custom(redactor);
        self
    }

    /// Turns redaction off (for tests of a formatter, or a subscriber that redacts
    /// elsewhere). There is deliberately no environment variable for this.
    pub fn without_redaction(mut self) -> Self {
        self.choices.redactor = RedactorChoice::Off;
        self
    }

    /// Whether [`init`](Self::init) and [`try_init`](Self::try_init) route records of the
    /// `log` crate through prodlog (on by default; a `log` logger already set is kept and
    /// reported on stderr).
    pub fn log_bridge(mut self, on: bool) -> Self {
        self.choices.log_bridge = on;
        self
    }

    /// Where the console goes and in which form.
    pub fn console(mut self, mode: ConsoleMode) -> Self {
        self.choices.console = mode;
        self
    }

    /// Whether human console lines are coloured.
    pub fn color(mut self, mode: ColorMode) -> Self {
        self.choices.color = mode;
        self
    }

    /// Writes `<app>.log` (every enabled event, JSON) and `<app>.error.log` (ERROR only) in
    /// `dir`, creating it if needed.
    pub fn log_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.choices.dir = Some(dir.into());
        self
    }

    /// The `<app>` in the file names.
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.choices.app = Some(name.into());
        self
    }

    /// Whether the error-only file `<app>.error.log` is written.
    pub fn error_file(mut self, on: bool) -> Self {
        self.choices.error_file = on;
        self
    }

    /// Whether `RUST_LOG` and the `PRODLOG_*` variables are read (they are by default).
    pub fn from_env(mut self, read: bool) -> Self {
        self.from_env = read;
        self
    }

    /// Installs the configuration as the global subscriber, or says what is wrong.
    ///
    /// Unlike [`init`](Self::init), any configuration problem is an error, and nothing is
    /// installed.
    pub fn try_init(self) -> Result<Guard, InitError> {
        let (layer, guard, mut problems) = self.compose::<Registry>();
        if !problems.is_empty() {
            return Err(problems.swap_remove(0).error);
        }
        install(layer, &guard)?;
        Ok(guard)
    }

    /// Installs the configuration as the global subscriber, working around any problem.
    ///
    /// Never panics. Each problem (a bad variable, bad directives, an unwritable directory,
    /// a subscriber already set) is printed once on stderr with the fallback used instead.
    pub fn init(self) -> Guard {
        let (layer, guard, problems) = self.compose::<Registry>();
        for p in &problems {
            let _ = writeln!(std::io::stderr(), "prodlog: {}; {}", p.error, p.fallback);
        }
        match install(layer, &guard) {
            Ok(()) => guard,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "prodlog: {e}; leaving it in place");
                Guard::default()
            }
        }
    }

    /// The composed prodlog layer, to add to a subscriber you build yourself:
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// # fn main() -> Result<(), prodlog::InitError> {
    /// let (prodlog_layer, _guard) = prodlog::builder().from_env(false).into_layer()?;
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink)) // yours
    ///     .with(prodlog_layer);
    /// tracing::subscriber::with_default(subscriber, || tracing::info!("both layers see this"));
    /// # Ok(()) }
    /// ```
    ///
    /// The level directives filter only prodlog's outputs (a per-layer filter), never your
    /// other layers. Configuration problems are errors, as with [`try_init`](Self::try_init).
    pub fn into_layer<S>(self) -> Result<(impl Layer<S> + Send + Sync + 'static, Guard), InitError>
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let (layer, guard, mut problems) = self.compose::<S>();
        if !problems.is_empty() {
            return Err(problems.swap_remove(0).error);
        }
        Ok((layer, guard))
    }

    /// Builds the layers, collecting every problem with its fallback.
    pub(crate) fn compose<S>(self) -> (impl Layer<S> + Send + Sync + 'static, Guard, Vec<Problem>)
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let mut problems = Vec::new();
        let read_env = |var: &str| std::env::var_os(var);
        let env: Option<EnvLookup<'_>> = if self.from_env { Some(&read_env) } else { None };
        let settings = self.choices.resolve(env, &mut problems);
        let filter = level_filter(&settings, &mut problems);
        let watch = settings.directives_file.as_ref().and_then(|path| {
            match filter.handle().watch_file(path, Duration::from_secs(1)) {
                Ok(watch) => Some(watch),
                Err(e) => {
                    problems.push(Problem {
                        error: InitError::new(
                            InitErrorKind::DirectivesFile,
                            "cannot watch the directives file",
                        )
                        .with_path(path.clone())
                        .with_source(e),
                        fallback: "levels change only through the guard's filter handle".to_owned(),
                    });
                    None
                }
            }
        });

        let redactor = settings.redactor.clone();
        let mut json = match &redactor {
            Some(r) => JsonLayer::default().with_redactor(r.clone()),
            None => JsonLayer::default().without_redaction(),
        }
        .schema(settings.network.schema);
        // Sinks set in code (test captures) read prodlog's own keys, whatever the schema.
        for (level, sink) in &self.choices.sinks {
            json = json.with_sink_schema(*level, JsonSchema::Prodlog, sink.clone());
        }
        let (with_outputs, files, files_level, shippers) =
            crate::outputs::add_outputs(json, &settings, &mut problems);
        json = with_outputs;
        let console = match settings.console {
            ConsoleMode::Json => {
                json = json.with_sink(settings.console_level, StdoutSink);
                None
            }
            ConsoleMode::Human | ConsoleMode::Auto => Some(
                with_redaction(ConsoleLayer::new(StdoutSink), &redactor)
                    .with_ansi(settings.ansi)
                    .with_max_level(settings.console_level),
            ),
            _ => None,
        };
        // The flight recorder, once every destination is in. It keeps what an INFO
        // configuration drops: under quieter directives (`RUST_LOG=warn`) it is off unless
        // its level was set by name.
        let mut record = settings.record;
        if !settings.record_named && filter.max_level() < LevelFilter::INFO {
            record.level = LevelFilter::OFF;
        }
        json = json.record(record);
        let recorder = json.flight_recorder();
        // No destination wants more than this: a lower max-level hint for tracing.
        let mut ceiling = LevelFilter::OFF;
        for (level, _) in &self.choices.sinks {
            ceiling = ceiling.max(*level);
        }
        for (level, _, _) in &shippers {
            ceiling = ceiling.max(*level);
        }
        if settings.console != ConsoleMode::Off {
            ceiling = ceiling.max(settings.console_level);
        }
        if !files.is_empty() {
            ceiling = ceiling.max(settings.file_level.min(files_level));
        }
        let handle = filter.handle();
        let guard = Guard::new(
            files,
            settings.files.shutdown_timeout,
            settings.console != ConsoleMode::Off,
        )
        .with_filter(handle, watch, ceiling, settings.log_bridge)
        .with_signal_flush(settings.files.flush_on_signal)
        .with_panic_stderr(settings.panic_stderr);
        #[cfg(feature = "network")]
        let guard = guard.with_shippers(shippers.into_iter().map(|(_, s, _)| s).collect());
        let context = match &redactor {
            Some(r) => ContextLayer::new().with_redactor(r.clone()),
            None => ContextLayer::new().without_redaction(),
        };
        let timing = crate::timing_settings::timing_layer(&settings.timing, &mut problems);
        let latencies = timing.latencies();
        let guard = guard.with_latency_log(
            settings
                .timing
                .log_every
                .and_then(|every| latencies.log_every(every).ok()),
        );
        // Every output behind the rate limiter: a storm is held back before any destination.
        let limit = prodlog_limit::RateLimit::new(settings.rate_limit.clone());
        let guard = guard.with_rate_limit(limit.clone());
        let guard = guard.with_recorder(recorder);
        let layer = TimestampLayer
            .and_then(context)
            .and_then(timing)
            .and_then(limit.wrap(json.and_then(console)))
            // Directives decide which lines are written; INFO+ spans stay enabled so their
            // context reaches the lines inside them at any level (ContextSpans' docs).
            .with_filter(
                prodlog_format::RecordFilter::new(
                    ContextSpans::new(filter.clone().and(ceiling)).with_floor(
                        if ceiling == LevelFilter::OFF {
                            LevelFilter::OFF
                        } else {
                            LevelFilter::INFO
                        },
                    ),
                    // Nothing is written anywhere: nothing to record for.
                    if ceiling == LevelFilter::OFF {
                        LevelFilter::OFF
                    } else {
                        record.level
                    },
                )
                // A target below the directives' most verbose level was quieted on purpose.
                .with_quiet_targets(move |target| filter.level_for(target) < filter.max_level()),
            );
        (layer, guard, problems)
    }
}

fn with_redaction(console: ConsoleLayer, redactor: &Option<Redactor>) -> ConsoleLayer {
    match redactor {
        Some(r) => console.with_redactor(r.clone()),
        None => console.without_redaction(),
    }
}

/// The directives as a filter; on a bad spec the valid directives are kept.
pub(crate) fn level_filter(settings: &Settings, problems: &mut Vec<Problem>) -> TargetFilter {
    let mut builder = TargetFilter::builder();
    for target in &settings.quiet {
        builder = builder.quiet(target.clone());
    }
    let (filter, errors) = builder.parse_lossy(&settings.directives);
    if !errors.is_empty() {
        problems.push(Problem {
            error: InitError::new(
                InitErrorKind::InvalidDirectives,
                format!(
                    "invalid level directives {:?} in {}",
                    settings.directives, settings.directives_from
                ),
            )
            .with_directive_errors(errors),
            fallback: "keeping the valid directives".to_owned(),
        });
    }
    filter
}

pub(crate) fn install<L>(layer: L, guard: &Guard) -> Result<(), InitError>
where
    L: Layer<Registry> + Send + Sync + 'static,
{
    tracing::subscriber::set_global_default(Registry::default().with(layer)).map_err(|e| {
        InitError::new(
            InitErrorKind::AlreadyInitialized,
            "a global tracing subscriber is already set",
        )
        .with_source(e)
    })?;
    guard.bridge_log();
    guard.install_signal_flush();
    #[cfg(unix)]
    crate::signals::install_exit_flush();
    crate::guard::install_panic_flush(guard.panic_stderr);
    Ok(())
}
