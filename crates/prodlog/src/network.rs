//! The JSON schema and the network destinations: OTLP, syslog and journald.

use std::ffi::OsString;
#[cfg(feature = "network")]
use std::path::PathBuf;

use prodlog_format::JsonSchema;
#[cfg(feature = "network")]
use prodlog_ship::{Journald, Otlp, Shipper, Syslog};
use tracing_core::LevelFilter;

#[cfg(not(feature = "network"))]
pub(crate) use self::off::Shipper;
#[cfg(not(feature = "network"))]
use self::off::{Journald, Otlp, Syslog};

use crate::builder::Builder;
#[cfg(feature = "network")]
use crate::error::{InitError, InitErrorKind};
#[cfg(feature = "network")]
use crate::settings::level;
use crate::settings::{env_error, flag, read, Problem};

/// The choices made in code.
#[derive(Debug, Clone)]
pub(crate) struct NetworkChoices {
    pub(crate) schema: JsonSchema,
    /// OTLP base endpoint set in code (`Some`: export on).
    pub(crate) otlp: Option<String>,
    pub(crate) otlp_level: LevelFilter,
    pub(crate) service_version: Option<String>,
    pub(crate) syslog: Option<String>,
    pub(crate) syslog_level: LevelFilter,
    pub(crate) journald: bool,
    pub(crate) journald_level: LevelFilter,
}

impl Default for NetworkChoices {
    fn default() -> Self {
        NetworkChoices {
            schema: JsonSchema::Prodlog,
            otlp: None,
            otlp_level: LevelFilter::TRACE,
            service_version: None,
            syslog: None,
            syslog_level: LevelFilter::TRACE,
            journald: false,
            journald_level: LevelFilter::TRACE,
        }
    }
}

/// What the environment made of them: each destination configured, not started yet.
#[derive(Debug, Clone, Default)]
pub(crate) struct NetworkSettings {
    pub(crate) schema: JsonSchema,
    pub(crate) otlp: Option<(Otlp, LevelFilter)>,
    pub(crate) syslog: Option<(Syslog, LevelFilter)>,
    pub(crate) journald: Option<(Journald, LevelFilter)>,
}

#[cfg(feature = "network")]
pub(crate) fn destination_problem(
    what: &str,
    e: impl std::fmt::Display,
    fallback: &str,
) -> Problem {
    Problem {
        error: InitError::new(InitErrorKind::Destination, format!("{what}: {e}")),
        fallback: fallback.to_owned(),
    }
}

impl NetworkChoices {
    pub(crate) fn resolve(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
        app: &str,
        problems: &mut Vec<Problem>,
    ) -> NetworkSettings {
        let schema = match read(env, "PRODLOG_JSON_SCHEMA", problems, self.schema.as_str()) {
            Some(v) => v.parse().unwrap_or_else(|_| {
                problems.push(Problem {
                    error: env_error("PRODLOG_JSON_SCHEMA", &v, "prodlog, ecs, gcp or otel"),
                    fallback: format!("using {}", self.schema),
                });
                self.schema
            }),
            None => self.schema,
        };
        #[cfg(feature = "network")]
        return NetworkSettings {
            schema,
            otlp: self.resolve_otlp(env, app, problems),
            syslog: self.resolve_syslog(env, app, problems),
            journald: self.resolve_journald(env, app, problems),
        };
        #[cfg(not(feature = "network"))]
        {
            let _ = app;
            self.without_network(env, problems);
            NetworkSettings {
                schema,
                ..NetworkSettings::default()
            }
        }
    }

    /// A build without the `network` feature: a destination asked for, in code or by its
    /// variable, is an init problem that says what to add, never silently dropped.
    #[cfg(not(feature = "network"))]
    fn without_network(&self, env: &dyn Fn(&str) -> Option<OsString>, problems: &mut Vec<Problem>) {
        let otlp = flag(env, "PRODLOG_OTLP", self.otlp.is_some(), problems);
        let syslog = match read(env, "PRODLOG_SYSLOG", problems, "unset") {
            Some(v) => !v.eq_ignore_ascii_case("off"),
            None => self.syslog.is_some(),
        };
        let journald = flag(env, "PRODLOG_JOURNALD", self.journald, problems);
        for (on, what, var, fallback) in [
            (
                otlp,
                "OTLP export",
                "PRODLOG_OTLP",
                "not exporting over OTLP",
            ),
            (syslog, "syslog", "PRODLOG_SYSLOG", "not sending to syslog"),
            (
                journald,
                "journald",
                "PRODLOG_JOURNALD",
                "not sending to journald",
            ),
        ] {
            if on {
                crate::settings::without_feature(what, var, "network", fallback, problems);
            }
        }
    }

    #[cfg(feature = "network")]
    fn resolve_syslog(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
        app: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<(Syslog, LevelFilter)> {
        let spec =
            read(env, "PRODLOG_SYSLOG", problems, "no syslog").or_else(|| self.syslog.clone())?;
        if matches!(
            spec.to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no"
        ) {
            return None;
        }
        match Syslog::parse(&spec) {
            Ok(s) => Some((
                s.app_name(app),
                level(env, "PRODLOG_SYSLOG_LEVEL", self.syslog_level, problems),
            )),
            Err(e) => {
                problems.push(Problem {
                    error: InitError::new(InitErrorKind::Destination, e.to_string()),
                    fallback: "not sending to syslog".to_owned(),
                });
                None
            }
        }
    }

    #[cfg(feature = "network")]
    fn resolve_journald(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
        app: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<(Journald, LevelFilter)> {
        if !flag(env, "PRODLOG_JOURNALD", self.journald, problems) {
            return None;
        }
        let mut j = Journald::new().identifier(app);
        if let Some(path) = read(
            env,
            "PRODLOG_JOURNALD_SOCKET",
            problems,
            prodlog_ship::JOURNALD_SOCKET,
        ) {
            j = j.socket(PathBuf::from(path));
        }
        Some((
            j,
            level(env, "PRODLOG_JOURNALD_LEVEL", self.journald_level, problems),
        ))
    }
}

#[cfg(feature = "network")]
impl NetworkSettings {
    /// Whether the OTLP destination will use the main file (written at `file_level`) as
    /// its spool: it must take no line the file does not.
    pub(crate) fn spools(&self, file_level: LevelFilter) -> bool {
        self.otlp
            .as_ref()
            .is_some_and(|(_, level)| *level <= file_level && *level > LevelFilter::OFF)
    }

    /// Starts each destination; one that cannot start is a problem, the others go on.
    /// The OTLP one uses `main_file` (the writer and its level) as its spool when it can;
    /// the third member says so.
    pub(crate) fn start(
        &self,
        main_file: Option<&(prodlog_writer::Writer, LevelFilter)>,
        problems: &mut Vec<Problem>,
    ) -> Vec<(LevelFilter, Shipper, bool)> {
        let mut out = Vec::new();
        if let Some((otlp, level)) = &self.otlp {
            let spool = main_file
                .filter(|(_, file_level)| *level <= *file_level)
                .and_then(|(w, _)| w.spool());
            let spools = spool.is_some();
            let otlp = match spool {
                Some(spool) => otlp.clone().spool(spool, *level),
                None => otlp.clone(),
            };
            match otlp.build() {
                Ok(s) => out.push((*level, s, spools)),
                Err(e) => problems.push(destination_problem(
                    "OTLP export",
                    e,
                    "not exporting over OTLP",
                )),
            }
        }
        if let Some((syslog, level)) = &self.syslog {
            match syslog.clone().build() {
                Ok(s) => out.push((*level, s, false)),
                Err(e) => problems.push(destination_problem("syslog", e, "not sending to syslog")),
            }
        }
        if let Some((journald, level)) = &self.journald {
            match journald.clone().build() {
                Ok(s) => out.push((*level, s, false)),
                Err(e) => problems.push(destination_problem(
                    "journald",
                    e,
                    "not sending to journald",
                )),
            }
        }
        out
    }
}

/// Without the `network` feature: nothing to start (a destination asked for was reported
/// by `resolve`).
#[cfg(not(feature = "network"))]
impl NetworkSettings {
    pub(crate) fn start(
        &self,
        _: Option<&(prodlog_writer::Writer, LevelFilter)>,
        _: &mut Vec<Problem>,
    ) -> Vec<(LevelFilter, Shipper, bool)> {
        Vec::new()
    }

    pub(crate) fn spools(&self, _: LevelFilter) -> bool {
        false
    }
}

/// Stand-ins for the destinations' types in a build without the `network` feature: none
/// can exist.
#[cfg(not(feature = "network"))]
mod off {
    macro_rules! never {
        ($($name:ident),*) => {$(
            #[derive(Debug, Clone)]
            pub(crate) enum $name {}
            impl std::fmt::Display for $name {
                fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    match *self {}
                }
            }
        )*};
    }
    never!(Otlp, Syslog, Journald, Shipper);
}

/// The JSON schema and the network destinations, as [`Builder`] setters. The destinations
/// need the `network` feature; without it, asking for one is an init problem that says so.
impl Builder {
    /// The key names of the JSON lines (files and JSON console): prodlog's own (default),
    /// or `ecs`, `gcp`, `otel` for an aggregator that reads its own names — see
    /// [`JsonSchema`](crate::format::JsonSchema). `PRODLOG_JSON_SCHEMA` wins over this.
    pub fn json_schema(mut self, schema: JsonSchema) -> Self {
        self.choices.network.schema = schema;
        self
    }

    /// Exports every event the preset writes to an OpenTelemetry collector over OTLP/HTTP
    /// at `endpoint` (a base URL: `http://collector:4318`). The standard `OTEL_EXPORTER_OTLP_*`
    /// variables win over it; `PRODLOG_OTLP=on` turns export on without code (to
    /// `http://localhost:4318` unless a variable says otherwise), `off` turns it off.
    pub fn otlp(mut self, endpoint: impl Into<String>) -> Self {
        self.choices.network.otlp = Some(endpoint.into());
        self
    }

    /// The most verbose level exported over OTLP (`PRODLOG_OTLP_LEVEL`).
    pub fn otlp_level(mut self, level: LevelFilter) -> Self {
        self.choices.network.otlp_level = level;
        self
    }

    /// `service.version` of the OTLP resource (say `env!("CARGO_PKG_VERSION")`).
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.choices.network.service_version = Some(version.into());
        self
    }

    /// Also sends every event to a syslog server, RFC 5424 with the context as structured
    /// data: `udp://127.0.0.1:514`, `tcp://host:601` (octet counting) or `unix:///dev/log`.
    /// `PRODLOG_SYSLOG` wins over it (`off` turns it off).
    pub fn syslog(mut self, destination: impl Into<String>) -> Self {
        self.choices.network.syslog = Some(destination.into());
        self
    }

    /// The most verbose level sent to syslog (`PRODLOG_SYSLOG_LEVEL`).
    pub fn syslog_level(mut self, level: LevelFilter) -> Self {
        self.choices.network.syslog_level = level;
        self
    }

    /// Also sends every event to systemd-journald with its fields as journal fields
    /// (`PRODLOG_JOURNALD`).
    pub fn journald(mut self, on: bool) -> Self {
        self.choices.network.journald = on;
        self
    }

    /// The most verbose level sent to journald (`PRODLOG_JOURNALD_LEVEL`).
    pub fn journald_level(mut self, level: LevelFilter) -> Self {
        self.choices.network.journald_level = level;
        self
    }
}
