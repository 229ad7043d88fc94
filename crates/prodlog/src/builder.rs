//! The preset's builder.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use prodlog_context::ContextLayer;
use prodlog_format::{ConsoleLayer, JsonLayer, StdoutSink};
use tracing_core::{LevelFilter, Subscriber};
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

use crate::error::{InitError, InitErrorKind};
use crate::file::{AppendFile, Flusher};
use crate::guard::Guard;
use crate::settings::{Choices, ColorMode, ConsoleMode, EnvLookup, Problem, Settings};

/// Configures the preset: every choice `prodlog::init()` makes, as a setter.
///
/// # Default values
///
/// | setting | default | environment |
/// |---|---|---|
/// | [`directives`](Self::directives) | `info` | `RUST_LOG` |
/// | [`console`](Self::console) | [`ConsoleMode::Auto`]: human on a terminal, JSON otherwise | `PRODLOG_CONSOLE` |
/// | [`color`](Self::color) | [`ColorMode::Auto`]: on a terminal unless `NO_COLOR` | `PRODLOG_COLOR` |
/// | [`log_dir`](Self::log_dir) | none: no files | `PRODLOG_DIR` |
/// | [`app_name`](Self::app_name) | the executable's name | `PRODLOG_APP` |
/// | [`error_file`](Self::error_file) | `true` (when there is a log directory) | `PRODLOG_ERROR_FILE` |
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
    choices: Choices,
    from_env: bool,
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
    /// `info,my_app::db=debug`). A spec without a bare level keeps `info` for other targets.
    pub fn directives(mut self, directives: impl Into<String>) -> Self {
        self.choices.directives = directives.into();
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
        install(layer)?;
        Ok(guard)
    }

    /// Installs the configuration as the global subscriber, working around any problem.
    ///
    /// Never panics. Each problem (a bad variable, bad directives, an unwritable directory,
    /// a subscriber already set) is printed once on stderr with the fallback used instead.
    pub fn init(self) -> Guard {
        let (layer, guard, problems) = self.compose::<Registry>();
        for p in &problems {
            eprintln!("prodlog: {}; {}", p.error, p.fallback);
        }
        match install(layer) {
            Ok(()) => guard,
            Err(e) => {
                eprintln!("prodlog: {e}; leaving it in place");
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
    fn compose<S>(self) -> (impl Layer<S> + Send + Sync + 'static, Guard, Vec<Problem>)
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let mut problems = Vec::new();
        let read_env = |var: &str| std::env::var_os(var);
        let env: Option<EnvLookup<'_>> = if self.from_env { Some(&read_env) } else { None };
        let settings = self.choices.resolve(env, &mut problems);
        let filter = level_filter(&settings, &mut problems);

        let mut json = JsonLayer::default();
        let mut files = Vec::new();
        if let Some(dir) = &settings.dir {
            match open_files(&settings, dir) {
                Ok(opened) => {
                    for (file, level) in opened {
                        json = json.with_sink(level, file.clone());
                        files.push(file);
                    }
                }
                Err(error) => problems.push(Problem {
                    error,
                    fallback: "writing no log files".to_owned(),
                }),
            }
        }
        let console = match settings.console {
            ConsoleMode::Json => {
                json = json.with_sink(LevelFilter::TRACE, StdoutSink);
                None
            }
            ConsoleMode::Human | ConsoleMode::Auto => {
                Some(ConsoleLayer::new(StdoutSink).with_ansi(settings.ansi))
            }
            _ => None,
        };
        let flusher =
            (!files.is_empty()).then(|| Flusher::start(files.clone(), Duration::from_millis(200)));
        let guard = Guard::new(files, flusher, settings.console != ConsoleMode::Off);
        let layer = ContextLayer::new()
            .and_then(json)
            .and_then(console)
            .with_filter(filter);
        (layer, guard, problems)
    }
}

/// The directives as a filter; on a bad spec the valid directives are kept.
fn level_filter(settings: &Settings, problems: &mut Vec<Problem>) -> EnvFilter {
    let spec = &settings.directives;
    // A spec that names only targets keeps `info` for everything else.
    let has_default = spec
        .split(',')
        .any(|d| !d.trim().is_empty() && !d.contains('=') && !d.contains('['));
    let full = if has_default {
        spec.clone()
    } else {
        format!("info,{spec}")
    };
    let builder = EnvFilter::builder().with_regex(false);
    match builder.parse(&full) {
        Ok(f) => f,
        Err(e) => {
            problems.push(Problem {
                error: InitError::new(
                    InitErrorKind::InvalidDirectives,
                    format!(
                        "invalid level directives {spec:?} in {}",
                        settings.directives_from
                    ),
                )
                .with_source(e),
                fallback: "ignoring the invalid directives".to_owned(),
            });
            let valid: Vec<&str> = full
                .split(',')
                .filter(|d| EnvFilter::builder().with_regex(false).parse(d).is_ok())
                .collect();
            let kept = if valid.is_empty() {
                "info".to_owned()
            } else {
                valid.join(",")
            };
            builder
                .parse(&kept)
                .unwrap_or_else(|_| EnvFilter::new("info"))
        }
    }
}

fn open_files(
    settings: &Settings,
    dir: &std::path::Path,
) -> Result<Vec<(Arc<AppendFile>, LevelFilter)>, InitError> {
    let fail = |what: &str, path: PathBuf, e: std::io::Error| {
        InitError::new(
            InitErrorKind::LogFile,
            format!("cannot {what} {}", path.display()),
        )
        .with_path(path)
        .with_source(e)
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("create log directory", dir.to_owned(), e))?;
    let mut out = Vec::new();
    let main = dir.join(format!("{}.log", settings.app));
    let file = AppendFile::open(&main, false).map_err(|e| fail("open log file", main, e))?;
    out.push((Arc::new(file), LevelFilter::TRACE));
    if settings.error_file {
        let path = dir.join(format!("{}.error.log", settings.app));
        let file = AppendFile::open(&path, true).map_err(|e| fail("open log file", path, e))?;
        out.push((Arc::new(file), LevelFilter::ERROR));
    }
    Ok(out)
}

fn install<L>(layer: L) -> Result<(), InitError>
where
    L: Layer<Registry> + Send + Sync + 'static,
{
    tracing::subscriber::set_global_default(Registry::default().with(layer)).map_err(|e| {
        InitError::new(
            InitErrorKind::AlreadyInitialized,
            "a global tracing subscriber is already set",
        )
        .with_source(e)
    })
}
