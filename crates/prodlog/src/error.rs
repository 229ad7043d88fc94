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
    /// The directives file (`PRODLOG_DIRECTIVES_FILE`) cannot be read or watched.
    DirectivesFile,
    /// A global `tracing` subscriber was already set (a second `init()`).
    AlreadyInitialized,
    /// A redaction rules file (`PRODLOG_REDACT_RULES`) cannot be read or is invalid.
    RedactionRules,
    /// A network destination (OTLP, syslog, journald) is misconfigured or cannot start.
    Destination,
}

/// A configuration problem found at initialization, naming the bad input and where it came from.
#[derive(Debug)]
pub struct InitError {
    kind: InitErrorKind,
    message: String,
    path: Option<PathBuf>,
    source: Option<Box<dyn Error + Send + Sync>>,
    directives: Vec<prodlog_filter::DirectiveError>,
}

impl InitError {
    pub(crate) fn new(kind: InitErrorKind, message: impl Into<String>) -> Self {
        InitError {
            kind,
            message: message.into(),
            path: None,
            source: None,
            directives: Vec::new(),
        }
    }

    pub(crate) fn with_directive_errors(
        mut self,
        errors: Vec<prodlog_filter::DirectiveError>,
    ) -> Self {
        self.directives = errors;
        self
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

    /// The file or directory involved, for [`InitErrorKind::LogFile`] and
    /// [`InitErrorKind::DirectivesFile`].
    pub fn path(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }

    /// Every invalid directive, with its position, for [`InitErrorKind::InvalidDirectives`].
    pub fn directive_errors(&self) -> &[prodlog_filter::DirectiveError] {
        &self.directives
    }
}

/// Shown through the default redactor: a setting is often a secret's neighbour (an
/// `Authorization` header, credentials in an endpoint URL, an `api_key=` query), and the
/// message that quotes a bad one is printed on stderr or logged by the caller.
impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        let mut text = self.message.clone();
        for (i, e) in self.directives.iter().enumerate() {
            text.push_str(if i == 0 { ": " } else { "; " });
            let _ = write!(text, "{e}");
        }
        if let Some(source) = &self.source {
            let _ = write!(text, ": {source}");
        }
        f.write_str(&prodlog_redact::Redactor::default().redact_text(&text))
    }
}

impl Error for InitError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}
