//! The OTLP exporter's settings from the environment: every `OTEL_*` variable the
//! specification defines for a logs exporter is honoured, or reported at init as not
//! supported — never silently ignored.

use std::ffi::OsString;
use std::time::Duration;

use prodlog_ship::{Compression, Otlp};
use tracing_core::LevelFilter;

use crate::network::{destination_problem, NetworkChoices};
use crate::settings::{choice, env_error, flag, level, read, Problem};

type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The logs-specific variable (`OTEL_EXPORTER_OTLP_LOGS_X`) wins over the general one
/// (`OTEL_EXPORTER_OTLP_X`); the name of the one that was read comes back with its value.
fn either(
    env: Env<'_>,
    x: &str,
    problems: &mut Vec<Problem>,
    fallback: &str,
) -> Option<(String, String)> {
    for var in [
        format!("OTEL_EXPORTER_OTLP_LOGS_{x}"),
        format!("OTEL_EXPORTER_OTLP_{x}"),
    ] {
        if let Some(v) = read(env, &var, problems, fallback) {
            return Some((var, v));
        }
    }
    None
}

fn unsupported(var: &str, value: &str, why: &str, fallback: &str) -> Problem {
    Problem {
        error: crate::error::InitError::new(
            crate::error::InitErrorKind::InvalidEnv,
            format!("{var}={value:?} is not supported: {why}"),
        ),
        fallback: fallback.to_owned(),
    }
}

fn millis(env: Env<'_>, var: &str, problems: &mut Vec<Problem>, default: &str) -> Option<Duration> {
    let v = read(env, var, problems, default)?;
    match v.parse::<u64>() {
        Ok(ms) => Some(Duration::from_millis(ms)),
        Err(_) => {
            problems.push(Problem {
                error: env_error(var, &v, "milliseconds"),
                fallback: format!("using {default}"),
            });
            None
        }
    }
}

impl NetworkChoices {
    pub(crate) fn resolve_otlp(
        &self,
        env: Env<'_>,
        app: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<(Otlp, LevelFilter)> {
        let mut on = flag(env, "PRODLOG_OTLP", self.otlp.is_some(), problems);
        if let Some(exporter) = read(env, "OTEL_LOGS_EXPORTER", problems, "prodlog's choice") {
            // A list in the specification (`otlp,console`): prodlog's console is its own.
            for name in exporter.split(',').map(str::trim) {
                match name {
                    "otlp" => on = true,
                    "none" => on = false,
                    other => problems.push(unsupported(
                        "OTEL_LOGS_EXPORTER",
                        other,
                        "prodlog exports over otlp, or not at all (none); its console is PRODLOG_CONSOLE",
                        "ignoring that exporter",
                    )),
                }
            }
        }
        let sdk_disabled = choice(
            env,
            "OTEL_SDK_DISABLED",
            &[("true", true), ("false", false)],
            false,
            "false",
            problems,
        );
        if !on || sdk_disabled {
            return None;
        }
        if let Some((var, p)) = either(env, "PROTOCOL", problems, "http/protobuf") {
            if p != "http/protobuf" {
                // Never a silent switch: a gRPC endpoint (port 4317) would take nothing.
                problems.push(unsupported(
                    &var,
                    &p,
                    "prodlog exports OTLP over http/protobuf only; set it to http/protobuf and point the endpoint at the collector's OTLP/HTTP port (4318)",
                    "not exporting over OTLP",
                ));
                return None;
            }
        }
        let mut otlp = if let Some(url) = read(
            env,
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            problems,
            "the default endpoint",
        ) {
            Otlp::logs_url(url)
        } else if let Some(base) = read(
            env,
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            problems,
            "the default endpoint",
        ) {
            Otlp::new(base)
        } else {
            Otlp::new(
                self.otlp
                    .as_deref()
                    .unwrap_or(prodlog_ship::DEFAULT_OTLP_ENDPOINT),
            )
        };
        let https = otlp
            .to_string()
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        for var in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        ] {
            if let Some(spec) = read(env, var, problems, "no headers") {
                match otlp.clone().headers_spec(&spec) {
                    Ok(o) => otlp = o,
                    Err(e) => {
                        problems.push(destination_problem(var, e, "sending without those headers"))
                    }
                }
            }
        }
        otlp = self.otlp_tls(env, otlp, https, problems);
        if let Some((var, c)) = either(env, "COMPRESSION", problems, "none") {
            match c.parse::<Compression>() {
                Ok(c) => otlp = otlp.compression(c),
                Err(e) => problems.push(Problem {
                    error: env_error(&var, &c, &format!("gzip or none ({e})")),
                    fallback: "sending uncompressed".to_owned(),
                }),
            }
        }
        otlp = otlp.service_name(app);
        if let Some(v) = &self.service_version {
            otlp = otlp.resource_attribute("service.version", v.clone());
        }
        if let Some(spec) = read(env, "OTEL_RESOURCE_ATTRIBUTES", problems, "no attributes") {
            match otlp.clone().resource_spec(&spec) {
                Ok(o) => otlp = o,
                Err(e) => problems.push(destination_problem(
                    "OTEL_RESOURCE_ATTRIBUTES",
                    e,
                    "ignoring those attributes",
                )),
            }
        }
        if let Some(name) = read(env, "OTEL_SERVICE_NAME", problems, "the app name") {
            otlp = otlp.service_name(name);
        }
        for var in [
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "OTEL_BLRP_EXPORT_TIMEOUT",
        ] {
            if let Some(t) = millis(env, var, problems, "5000 ms") {
                otlp = otlp.timeout(t);
                break;
            }
        }
        if let Some(t) = millis(env, "OTEL_BLRP_SCHEDULE_DELAY", problems, "200 ms") {
            otlp = otlp.schedule_delay(t);
        }
        if let Some(v) = read(env, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", problems, "512") {
            match v.parse::<usize>() {
                Ok(n) if n > 0 => otlp = otlp.max_batch(n),
                _ => problems.push(Problem {
                    error: env_error("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", &v, "a count of records"),
                    fallback: "using 512".to_owned(),
                }),
            }
        }
        if let Some(v) = read(env, "PRODLOG_OTLP_QUEUE_BYTES", problems, "4 MiB") {
            match crate::file::parse_bytes(&v).and_then(|b| usize::try_from(b).ok()) {
                Some(n) => otlp = otlp.queue_bytes(n),
                None => problems.push(Problem {
                    error: env_error(
                        "PRODLOG_OTLP_QUEUE_BYTES",
                        &v,
                        "a size such as 4M (at least 64k)",
                    ),
                    fallback: "using 4 MiB".to_owned(),
                }),
            }
        }
        for (var, why, fallback) in [
            (
                "OTEL_BLRP_MAX_QUEUE_SIZE",
                "the queue is bounded in bytes, not records: PRODLOG_OTLP_QUEUE_BYTES",
                "using PRODLOG_OTLP_QUEUE_BYTES",
            ),
            (
                "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                "prodlog sends each value whole",
                "sending values whole",
            ),
            (
                "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                "prodlog sends each value whole",
                "sending values whole",
            ),
            (
                "OTEL_ATTRIBUTE_COUNT_LIMIT",
                "prodlog sends every field of an event",
                "sending every field",
            ),
            (
                "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
                "prodlog sends every field of an event",
                "sending every field",
            ),
        ] {
            if let Some(v) = read(env, var, problems, fallback) {
                problems.push(unsupported(var, &v, why, fallback));
            }
        }
        let level = level(env, "PRODLOG_OTLP_LEVEL", self.otlp_level, problems);
        Some((otlp, level))
    }

    /// The certificates: a private CA and the client's for mTLS, for an `https://`
    /// endpoint; set for an `http://` one, they are reported (nothing would use them).
    fn otlp_tls(
        &self,
        env: Env<'_>,
        mut otlp: Otlp,
        https: bool,
        problems: &mut Vec<Problem>,
    ) -> Otlp {
        let ca = either(env, "CERTIFICATE", problems, "the public and system roots");
        let cert = either(env, "CLIENT_CERTIFICATE", problems, "no client certificate");
        let key = either(env, "CLIENT_KEY", problems, "no client certificate");
        if let Some((var, v)) = either(env, "INSECURE", problems, "false") {
            if v.eq_ignore_ascii_case("true") {
                problems.push(unsupported(
                    &var,
                    &v,
                    "certificates are always verified; the endpoint's scheme says whether TLS is used (http:// for plain text)",
                    "verifying certificates",
                ));
            }
        }
        if !https {
            for (var, v) in [&ca, &cert, &key].into_iter().flatten() {
                problems.push(unsupported(
                    var,
                    v,
                    "the endpoint is http://, which uses no TLS",
                    "not used",
                ));
            }
            return otlp;
        }
        if let Some((_, ca)) = ca {
            otlp = otlp.ca_certificate(ca);
        }
        match (cert, key) {
            (Some((_, cert)), Some((_, key))) => otlp = otlp.client_certificate(cert, key),
            (None, None) => {}
            (Some((var, v)), None) | (None, Some((var, v))) => problems.push(unsupported(
                &var,
                &v,
                "mTLS needs both OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY",
                "presenting no client certificate",
            )),
        }
        otlp
    }
}
