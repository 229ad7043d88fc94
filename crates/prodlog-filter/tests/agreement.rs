//! prodlog-filter against `tracing_subscriber::EnvFilter` on the same directive strings:
//! real events at probe targets and levels go through each, and the sets that get through
//! are compared. Where prodlog differs on purpose, the case says so.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use prodlog_filter::TargetFilter;
use tracing::Level;
use tracing_core::LevelFilter;
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

type Seen = Arc<Mutex<BTreeSet<(String, String)>>>;

struct Record(Seen);

impl<S: tracing::Subscriber> Layer<S> for Record {
    fn on_event(&self, e: &tracing::Event<'_>, _: Context<'_, S>) {
        let m = e.metadata();
        self.0
            .lock()
            .unwrap()
            .insert((m.target().to_owned(), m.level().to_string()));
    }
}

macro_rules! probe {
    ($($t:literal),* $(,)?) => {{
        $(
            tracing::event!(target: $t, Level::ERROR, "p");
            tracing::event!(target: $t, Level::WARN, "p");
            tracing::event!(target: $t, Level::INFO, "p");
            tracing::event!(target: $t, Level::DEBUG, "p");
            tracing::event!(target: $t, Level::TRACE, "p");
        )*
    }};
}

fn probes() {
    probe!(
        "app",
        "app::db",
        "app::db::pool",
        "app::http",
        "appx",
        "app_extra",
        "other",
        "hyper",
        "hyper::client",
        "zed",
        "zed::b",
        "zed::b::c",
        "my-crate",
        "my-crate::x",
        "B::C",
    );
}

fn through_env_filter(spec: &str) -> BTreeSet<(String, String)> {
    let seen = Seen::default();
    let filter = EnvFilter::builder()
        .with_regex(false)
        .parse(spec)
        .expect("EnvFilter accepts it");
    let sub = tracing_subscriber::registry()
        .with(filter)
        .with(Record(seen.clone()));
    tracing::subscriber::with_default(sub, probes);
    let out = seen.lock().unwrap().clone();
    out
}

fn through_prodlog(spec: &str) -> BTreeSet<(String, String)> {
    let seen = Seen::default();
    // EnvFilter has no default level and no quiet table: compare like with like.
    let filter = TargetFilter::builder()
        .default_level(LevelFilter::OFF)
        .without_default_quiet()
        .parse(spec)
        .unwrap_or_else(|e| panic!("prodlog rejects {spec:?}: {e:?}"));
    let sub = tracing_subscriber::registry().with(Record(seen.clone()).with_filter(filter));
    tracing::subscriber::with_default(sub, probes);
    let out = seen.lock().unwrap().clone();
    out
}

/// Specs both accept, with the same answer on every probe.
const AGREE: &[&str] = &[
    "",
    "off",
    "error",
    "warn",
    "info",
    "debug",
    "trace",
    "ERROR",
    "Warn",
    "INFO",
    "dEbUg",
    "TRACE",
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "app=debug",
    "app=trace",
    "app=off",
    "app=error",
    "app=WARN",
    "app=4",
    "info,app=debug",
    "app=debug,info",
    "warn,app::db=trace",
    "app=info,app::db=trace",
    "app::db=trace,app=info",
    "error,app=warn,app::db=debug",
    "app::db::pool=trace,app=error",
    "trace,app=off",
    "off,app=trace",
    "debug,hyper=warn",
    "hyper=warn,debug",
    "info,hyper::client=trace",
    "zed=debug",
    "zed::b=trace,zed=warn",
    "zed=trace,zed::b=off",
    "zed::b::c=info,zed::b=debug,zed=error",
    "my-crate=debug",
    "my-crate::x=trace,info",
    "B::C=trace",
    "debug,app::db=off",
    "info,",
    "warn,other=trace",
    "app=debug,app=warn",
    "app=warn,app=debug",
    "debug,info",
    "info,debug",
    "app::http=debug",
    "app::db=debug,app::http=info,warn",
    "other=debug,app=trace,error",
    "hyper=off,trace",
    "zed::b::c=trace",
    "app=5,other=1",
    "app=0",
    "app=2,app::db=3",
    "app::db::pool=debug",
    "info,zed=debug,zed::b=trace,zed::b::c=error",
    " info , app = debug ",
];

#[test]
fn agrees_with_env_filter() {
    assert!(AGREE.len() >= 60, "{} cases", AGREE.len());
    for spec in AGREE {
        // `appx`/`app_extra` are where the module-boundary rule differs on purpose (below).
        let boundary = |(t, _): &(String, String)| t != "appx" && t != "app_extra";
        let env: BTreeSet<_> = through_env_filter(spec.replace(' ', "").as_str())
            .into_iter()
            .filter(boundary)
            .collect();
        let ours: BTreeSet<_> = through_prodlog(spec).into_iter().filter(boundary).collect();
        assert_eq!(ours, env, "spec {spec:?}");
    }
}

/// Bare targets and module boundaries: EnvFilter matches by plain string prefix, so `app`
/// also covers `appx` and `app_extra`; prodlog stops at module boundaries, on purpose.
#[test]
fn differs_on_purpose_at_module_boundaries() {
    for spec in ["app", "app=debug", "info,app=trace"] {
        let env = through_env_filter(spec);
        let ours = through_prodlog(spec);
        let diff: BTreeSet<String> = env
            .symmetric_difference(&ours)
            .map(|(t, _)| t.clone())
            .collect();
        assert!(
            diff.iter().all(|t| t == "appx" || t == "app_extra"),
            "{spec}: {diff:?}"
        );
        assert!(!diff.is_empty(), "{spec}: expected a difference");
    }
}

#[test]
fn refuses_what_env_filter_reads_differently() {
    for spec in [
        "app=",
        "=debug",
        "[span]=debug",
        "app[span{x=1}]=trace",
        "info,,app=debug",
    ] {
        assert!(
            TargetFilter::builder().parse(spec).is_err(),
            "{spec:?} should be refused"
        );
    }
}

#[test]
fn reload_changes_levels_at_run_time_and_rejects_bad_specs_whole() {
    let seen = Seen::default();
    let filter = TargetFilter::builder().parse("info").unwrap();
    let handle = filter.handle();
    let sub = tracing_subscriber::registry().with(Record(seen.clone()).with_filter(filter));
    tracing::subscriber::with_default(sub, || {
        let emit = || tracing::debug!(target: "app::db", "d");
        emit();
        assert!(seen.lock().unwrap().is_empty(), "debug is off at info");
        handle.set_directives("info,app=debug").unwrap();
        let reload = ("prodlog_filter".to_owned(), "INFO".to_owned());
        assert!(
            seen.lock().unwrap().remove(&reload),
            "a reload leaves a line: {seen:?}"
        );
        emit();
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "the cached callsite interest was rebuilt"
        );
        let errors = handle.set_directives("warn,app=loud").unwrap_err();
        assert_eq!(errors[0].position(), 2);
        seen.lock().unwrap().clear();
        emit();
        assert_eq!(seen.lock().unwrap().len(), 1, "a bad spec changes nothing");
        seen.lock().unwrap().clear();
        handle.set_directives("warn").unwrap();
        assert!(
            seen.lock().unwrap().remove(&reload),
            "a change to quieter levels is logged under the old ones: {seen:?}"
        );
        handle.set_directives("").unwrap();
        seen.lock().unwrap().clear();
        emit();
        assert!(
            seen.lock().unwrap().is_empty(),
            "empty means the default (info)"
        );
    });
}
