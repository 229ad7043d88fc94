//! The per-target level filter and its reload handle.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tracing_core::subscriber::Interest;
use tracing_core::{LevelFilter, Metadata};
use tracing_subscriber::layer::{Context, Filter};

use crate::directive::{parse_directives, Directive, DirectiveError};
use crate::rules::{Rules, NOISY_TARGETS};

/// A level per target, from `RUST_LOG`-style directives, with noisy dependencies quiet by
/// default. Use it as a per-layer filter (`layer.with_filter(filter)`) or a global one.
///
/// Decisions are made once per callsite (`callsite_enabled` answers `always` or `never`,
/// cached by tracing) and `max_level_hint` lets a disabled `debug!` stop at tracing's own
/// level check. Changing the directives through a [`FilterHandle`] rebuilds that cache.
#[derive(Debug, Clone)]
pub struct TargetFilter {
    rules: Arc<RwLock<Arc<Rules>>>,
    config: Arc<Config>,
}

type Listener = Box<dyn Fn(LevelFilter) + Send + Sync>;

struct Config {
    quiet: Vec<String>,
    default: LevelFilter,
    /// The valid directives the filter was built from, for [`FilterHandle::reset`].
    initial: Vec<Directive>,
    listeners: Mutex<Vec<Listener>>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("quiet", &self.quiet)
            .field("default", &self.default)
            .field("initial", &self.initial)
            .finish_non_exhaustive()
    }
}

/// Builds a [`TargetFilter`].
///
/// # Default values
///
/// | setting | default |
/// |---|---|
/// | [`default_level`](Self::default_level) | `INFO` |
/// | quiet targets | [`NOISY_TARGETS`](crate::NOISY_TARGETS) at `WARN` ([`quiet`](Self::quiet) adds, [`without_default_quiet`](Self::without_default_quiet) clears) |
#[derive(Debug, Clone)]
#[must_use]
pub struct FilterBuilder {
    default: LevelFilter,
    quiet: Vec<String>,
}

impl Default for FilterBuilder {
    fn default() -> Self {
        FilterBuilder {
            default: LevelFilter::INFO,
            quiet: NOISY_TARGETS.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl FilterBuilder {
    /// The level for targets no directive names.
    pub fn default_level(mut self, level: LevelFilter) -> Self {
        self.default = level;
        self
    }

    /// Adds a target (and its submodules) to the quiet-by-default table.
    pub fn quiet(mut self, target: impl Into<String>) -> Self {
        self.quiet.push(target.into());
        self
    }

    /// Empties the quiet-by-default table.
    pub fn without_default_quiet(mut self) -> Self {
        self.quiet.clear();
        self
    }

    /// A filter from `spec`, or every invalid directive in it.
    pub fn parse(self, spec: &str) -> Result<TargetFilter, Vec<DirectiveError>> {
        let (filter, errors) = self.parse_lossy(spec);
        if errors.is_empty() {
            Ok(filter)
        } else {
            Err(errors)
        }
    }

    /// A filter from the valid directives of `spec`, and the invalid ones.
    pub fn parse_lossy(self, spec: &str) -> (TargetFilter, Vec<DirectiveError>) {
        let (directives, errors) = parse_directives(spec);
        let rules = Rules::new(&directives, self.quiet.iter().cloned(), self.default);
        let filter = TargetFilter {
            rules: Arc::new(RwLock::new(Arc::new(rules))),
            config: Arc::new(Config {
                quiet: self.quiet,
                default: self.default,
                initial: directives,
                listeners: Mutex::new(Vec::new()),
            }),
        };
        (filter, errors)
    }
}

impl TargetFilter {
    /// A builder with the defaults.
    pub fn builder() -> FilterBuilder {
        FilterBuilder::default()
    }

    /// The most verbose level enabled for `target`.
    pub fn level_for(&self, target: &str) -> LevelFilter {
        self.current().level_for(target)
    }

    /// A handle that changes this filter's directives at run time.
    pub fn handle(&self) -> FilterHandle {
        FilterHandle {
            filter: self.clone(),
        }
    }

    /// The most verbose level any target has now (the filter's `max_level_hint`).
    pub fn max_level(&self) -> LevelFilter {
        self.current().max_level()
    }

    /// Calls `listener` with the new [`max_level`](Self::max_level) after every change made
    /// through a [`FilterHandle`] (for example to keep `log::set_max_level` in step).
    pub fn on_change(&self, listener: impl Fn(LevelFilter) + Send + Sync + 'static) {
        self.config
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(listener));
    }

    fn current(&self) -> Arc<Rules> {
        self.rules
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn is_enabled(&self, meta: &Metadata<'_>) -> bool {
        let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        rules.level_for(meta.target()) >= *meta.level()
    }
}

impl<S> Filter<S> for TargetFilter {
    fn enabled(&self, meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        self.is_enabled(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.is_enabled(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.current().max_level())
    }
}

/// Where a change of directives came from, for the line it leaves.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    Handle,
    File(&'a std::path::Path),
    Signal(&'a std::path::Path),
}

/// Changes a [`TargetFilter`]'s directives while the program runs.
#[derive(Debug, Clone)]
pub struct FilterHandle {
    filter: TargetFilter,
}

impl FilterHandle {
    /// Replaces the directives. On any invalid directive nothing changes and every error is
    /// returned. Callsite caches and the global max level are rebuilt, so the change takes
    /// effect for events that were disabled before as well.
    ///
    /// A blank spec means the defaults: a bare `info` and the quiet table, as at start.
    pub fn set_directives(&self, spec: &str) -> Result<(), Vec<DirectiveError>> {
        self.set_directives_from(spec, Source::Handle)
    }

    pub(crate) fn set_directives_from(
        &self,
        spec: &str,
        source: Source<'_>,
    ) -> Result<(), Vec<DirectiveError>> {
        let (directives, errors) = parse_directives(spec);
        if !errors.is_empty() {
            return Err(errors);
        }
        self.apply(&directives, source);
        Ok(())
    }

    /// Goes back to the (valid) directives the filter was built with.
    pub fn reset(&self) {
        self.reset_from(Source::Handle);
    }

    pub(crate) fn reset_from(&self, source: Source<'_>) {
        self.apply(&self.filter.config.initial, source);
    }

    /// Every change leaves an INFO line (target `prodlog_filter`) with the `old` and `new`
    /// directives and its `source` (`handle`, `file`, `signal`): written under the old
    /// levels when they show it, else under the new ones — so a change from `warn` to
    /// `debug` is on record as well as one from `debug` to `warn`.
    fn apply(&self, directives: &[Directive], source: Source<'_>) {
        let config = &self.filter.config;
        let rules = Rules::new(directives, config.quiet.iter().cloned(), config.default);
        let max = rules.max_level();
        let old = self.filter.current();
        let say = |old: &Rules, new: &Rules| {
            let (source, path) = match source {
                Source::Handle => ("handle", None),
                Source::File(p) => ("file", Some(p.display())),
                Source::Signal(p) => ("signal", Some(p.display())),
            };
            tracing::info!(
                target: "prodlog_filter",
                old = %old.spec,
                new = %new.spec,
                source,
                path = path.map(tracing::field::display),
                "log levels changed"
            );
        };
        let before = old.level_for("prodlog_filter") >= LevelFilter::INFO;
        let rules = Arc::new(rules);
        if before {
            say(&old, &rules);
        }
        *self
            .filter
            .rules
            .write()
            .unwrap_or_else(PoisonError::into_inner) = rules.clone();
        tracing_core::callsite::rebuild_interest_cache();
        for listener in config
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            listener(max);
        }
        if !before {
            say(&old, &rules);
        }
    }

    /// The filter this handle changes.
    pub fn filter(&self) -> &TargetFilter {
        &self.filter
    }
}
