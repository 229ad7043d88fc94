//! The error `try_init()` returns.

use std::error::Error;
use std::fmt;
use std::path::PathBuf;

/// What kind of configuration problem an [`InitError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InitErrorKind {
    /// A `PRODLOG_*` environment variable holds a value that is not allowed.
    InvalidEnv,
    /// The level directives (`RUST_LOG` or `builder().directives(..)`) do not parse.
    InvalidDirectives,
    /// The log directory or a log file in it cannot be created or opened.
    LogFile,
    /// A global `tracing` subscriber was already set (a second `init()`).
    AlreadyInitialized,
}

/// A configuration problem found at initialization, naming the bad input and where it came from.
#[derive(Debug)]
pub struct InitError {
    kind: InitErrorKind,
    message: String,
    path: Option<PathBuf>,
    source: Option<Box<dyn Error + Send + Sync>>,
}

impl InitError {
    pub(crate) fn new(kind: InitErrorKind, message: impl Into<String>) -> Self {
        InitError {
            kind,
            message: message.into(),
            path: None,
            source: None,
        }
    }

    pub(crate) fn with_path(mut self, path: PathBuf) -> Self {
        self.path = Some(path);
        self
    }

    pub(crate) fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> InitErrorKind {
        self.kind
    }

    /// The file or directory involved, for [`InitErrorKind::LogFile`].
    pub fn path(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl Error for InitError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}
