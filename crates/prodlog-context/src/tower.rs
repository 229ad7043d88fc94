//! The request-context middleware for tower services (axum, tonic, hyper): feature `tower`
//! (and `axum` for the route template and the socket's client address).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderName, HeaderValue, Request, Response};
use tracing::Instrument;

use crate::http_meta::{client_from_header, sane_user_agent, TraceParent};
use crate::RequestId;

/// The probe paths that are silent by default (their completion is a DEBUG line).
pub const DEFAULT_PROBES: &[&str] = &[
    "/health",
    "/healthz",
    "/health/*",
    "/livez",
    "/readyz",
    "/live",
    "/ready",
    "/ping",
    "/metrics",
];

/// Wraps a service so that each request runs in a `request` span and ends with one
/// completion line.
///
/// The span carries `method`, `path`, `route` (the route template, `/orders/{id}`, with
/// the `axum` feature when the layer is added with `Router::layer`), `request_id` (the
/// caller's `x-request-id` when it is sane, a fresh UUIDv7 otherwise, echoed in the
/// response) and, when the request carries a valid W3C `traceparent`, `trace_id`,
/// `span_id` (this server's, fresh) and `parent_span_id` — with no OpenTelemetry SDK
/// needed; `traceparent` (with this server's span id) and `tracestate` are echoed.
///
/// The completion event, `request completed`, has `status`, `duration_ms`, `client_addr`
/// and `user_agent`: ERROR for 5xx (WARN when the handler already logged an ERROR inside
/// the request, so one failure is one line of the error-only file), WARN for 4xx, INFO
/// otherwise. A health probe's is DEBUG (WARN on a 5xx), so probes are silent at INFO.
///
/// ```
/// # async fn handler() -> &'static str { "ok" }
/// let app: axum::Router = axum::Router::new()
///     .route("/", axum::routing::get(handler))
///     .layer(prodlog_context::tower::RequestContextLayer::new());
/// ```
///
/// Knobs, each with its variable (a variable that is set and not empty wins over the code):
///
/// | setter | variable | default |
/// |---|---|---|
/// | [`probes`](Self::probes) | `PRODLOG_HTTP_PROBES` (comma-separated; `none`) | [`DEFAULT_PROBES`] |
/// | [`client_ip_header`](Self::client_ip_header) | `PRODLOG_HTTP_CLIENT_IP_HEADER` | none: the socket's address |
/// | [`header`](Self::header) | `PRODLOG_HTTP_REQUEST_ID_HEADER` | `x-request-id` |
#[derive(Debug, Clone)]
pub struct RequestContextLayer {
    config: Arc<Config>,
}

#[derive(Debug, Clone)]
struct Config {
    header: HeaderName,
    /// Exact paths, or prefixes written `/prefix/*`.
    probes: Vec<String>,
    /// Whose last address is the client's: set only behind a proxy that writes it.
    client_ip_header: Option<HeaderName>,
}

impl Default for RequestContextLayer {
    fn default() -> Self {
        RequestContextLayer {
            config: Arc::new(Config {
                header: HeaderName::from_static("x-request-id"),
                probes: DEFAULT_PROBES.iter().map(|p| (*p).to_owned()).collect(),
                client_ip_header: None,
            }),
        }
    }
}

impl RequestContextLayer {
    /// The middleware with the defaults above.
    pub fn new() -> Self {
        RequestContextLayer::default()
    }

    /// Reads and echoes the request id in `header` instead of `x-request-id`.
    pub fn header(mut self, header: HeaderName) -> Self {
        Arc::make_mut(&mut self.config).header = header;
        self
    }

    /// The paths of health probes (replacing [`DEFAULT_PROBES`]; none: every request at
    /// INFO). An entry ending in `/*` is a prefix: `/health/*` covers `/health/live`.
    pub fn probes<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        Arc::make_mut(&mut self.config).probes = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Takes the client's address from `header` (`x-forwarded-for`, `x-real-ip`,
    /// `forwarded`): its last address, the one the proxy in front of the service wrote.
    /// Only set this behind such a proxy: anyone can send the header, so it is never
    /// trusted by default. An address that does not parse is ignored.
    pub fn client_ip_header(mut self, header: HeaderName) -> Self {
        Arc::make_mut(&mut self.config).client_ip_header = Some(header);
        self
    }

    fn with_env(&self) -> Arc<Config> {
        let Some(env) = env_config() else {
            return self.config.clone();
        };
        let mut config = (*self.config).clone();
        if let Some(h) = &env.header {
            config.header = h.clone();
        }
        if let Some(p) = &env.probes {
            config.probes = p.clone();
        }
        if let Some(h) = &env.client_ip_header {
            config.client_ip_header = Some(h.clone());
        }
        Arc::new(config)
    }
}

#[derive(Debug, Default)]
struct EnvConfig {
    header: Option<HeaderName>,
    probes: Option<Vec<String>>,
    client_ip_header: Option<HeaderName>,
}

/// The `PRODLOG_HTTP_*` variables, read once; a bad header name is reported on stderr
/// and ignored.
fn env_config() -> Option<&'static EnvConfig> {
    static ENV: OnceLock<Option<EnvConfig>> = OnceLock::new();
    ENV.get_or_init(|| {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let header = |name: &str| {
            let v = var(name)?;
            match HeaderName::from_bytes(v.trim().as_bytes()) {
                Ok(h) => Some(h),
                Err(_) => {
                    eprintln!("prodlog: {name}={v:?} is not a header name; ignored");
                    None
                }
            }
        };
        let env = EnvConfig {
            header: header("PRODLOG_HTTP_REQUEST_ID_HEADER"),
            probes: var("PRODLOG_HTTP_PROBES").map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty() && !p.eq_ignore_ascii_case("none"))
                    .map(str::to_owned)
                    .collect()
            }),
            client_ip_header: header("PRODLOG_HTTP_CLIENT_IP_HEADER"),
        };
        let any = env.header.is_some() || env.probes.is_some() || env.client_ip_header.is_some();
        any.then_some(env)
    })
    .as_ref()
}

impl Config {
    fn is_probe(&self, path: &str) -> bool {
        self.probes.iter().any(|p| match p.strip_suffix("/*") {
            Some(prefix) => path
                .strip_prefix(prefix)
                .is_some_and(|r| r.starts_with('/')),
            None => p == path,
        })
    }
}

impl<S> tower_layer::Layer<S> for RequestContextLayer {
    type Service = RequestContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestContextService {
            inner,
            config: self.with_env(),
        }
    }
}

/// The service [`RequestContextLayer`] makes.
#[derive(Debug, Clone)]
pub struct RequestContextService<S> {
    inner: S,
    config: Arc<Config>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The route template axum matched (`/orders/{id}`).
fn route<B>(req: &Request<B>) -> Option<String> {
    #[cfg(feature = "axum")]
    if let Some(m) = req.extensions().get::<axum::extract::MatchedPath>() {
        return Some(m.as_str().to_owned());
    }
    let _ = req;
    None
}

/// The peer's address from the connection (axum's `ConnectInfo`).
fn socket_addr<B>(req: &Request<B>) -> Option<std::net::SocketAddr> {
    #[cfg(feature = "axum")]
    if let Some(c) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        return Some(c.0);
    }
    let _ = req;
    None
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for RequestContextService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<ResBody>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let config = self.config.clone();
        let headers = req.headers();
        let id = headers
            .get(&config.header)
            .and_then(|v| v.to_str().ok())
            .and_then(RequestId::accept)
            .unwrap_or_else(RequestId::generate);
        let trace = TraceParent::from_headers(headers);
        let client = config
            .client_ip_header
            .as_ref()
            .and_then(|h| client_from_header(headers, h))
            .or_else(|| socket_addr(&req).map(|a| a.to_string()));
        let user_agent = headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(sane_user_agent);
        let probe = config.is_probe(req.uri().path());
        let route = route(&req);
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            route = route.as_deref(),
            request_id = %id,
            trace_id = trace.as_ref().map(|t| t.trace_id()),
            span_id = trace.as_ref().map(|t| t.span_id()),
            parent_span_id = trace.as_ref().map(|t| t.parent_id()),
        );
        let start = Instant::now();
        let fut = span.in_scope(|| self.inner.call(req));
        Box::pin(async move {
            let result = fut.instrument(span.clone()).await;
            let _entered = span.enter();
            let duration_ms = start.elapsed().as_micros() as f64 / 1000.0;
            let client_addr = client.as_deref();
            let user_agent = user_agent.as_deref();
            let mut response = match result {
                Ok(response) => response,
                Err(e) => {
                    tracing::error!(
                        duration_ms,
                        client_addr,
                        user_agent,
                        "request failed before a response"
                    );
                    return Err(e);
                }
            };
            let status = response.status().as_u16();
            let out = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(id.as_str()) {
                out.insert(config.header.clone(), value);
            }
            if let Some(t) = &trace {
                t.echo(out);
            }
            macro_rules! done {
                ($level:ident) => {
                    tracing::$level!(
                        status,
                        duration_ms,
                        client_addr,
                        user_agent,
                        "request completed"
                    )
                };
            }
            match status {
                // A probe is the orchestrator's to report: never a line of the error file.
                500.. if probe => done!(warn),
                _ if probe => done!(debug),
                // The handler already logged why: the error file gets one line.
                500.. if crate::error_logged(&span) => done!(warn),
                500.. => done!(error),
                400..=499 => done!(warn),
                _ => done!(info),
            }
            Ok(response)
        })
    }
}
