//! The request-context middleware for tower services (axum, tonic, hyper): feature `tower`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderName, HeaderValue, Request, Response};
use tracing::Instrument;

use crate::RequestId;

/// Wraps a service so that each request runs in a `request` span with `method`, `path`
/// and `request_id` — the caller's `x-request-id` when it is sane, a fresh UUIDv7
/// otherwise — echoes the id in the response header, and logs one completion event with
/// `status` and `duration_ms` (ERROR for 5xx — WARN when the handler already logged an
/// ERROR inside the request, so one failure is one line of the error-only file — WARN for
/// 4xx, INFO otherwise).
///
/// ```
/// # async fn handler() -> &'static str { "ok" }
/// let app: axum::Router = axum::Router::new()
///     .route("/", axum::routing::get(handler))
///     .layer(prodlog_context::tower::RequestContextLayer::new());
/// ```
#[derive(Debug, Clone)]
pub struct RequestContextLayer {
    header: HeaderName,
}

impl Default for RequestContextLayer {
    fn default() -> Self {
        RequestContextLayer {
            header: HeaderName::from_static("x-request-id"),
        }
    }
}

impl RequestContextLayer {
    /// The middleware reading and writing `x-request-id`.
    pub fn new() -> Self {
        RequestContextLayer::default()
    }

    /// Reads and echoes the request id in `header` instead.
    pub fn header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }
}

impl<S> tower_layer::Layer<S> for RequestContextLayer {
    type Service = RequestContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestContextService {
            inner,
            header: self.header.clone(),
        }
    }
}

/// The service [`RequestContextLayer`] makes.
#[derive(Debug, Clone)]
pub struct RequestContextService<S> {
    inner: S,
    header: HeaderName,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

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
        let id = req
            .headers()
            .get(&self.header)
            .and_then(|v| v.to_str().ok())
            .and_then(RequestId::accept)
            .unwrap_or_else(RequestId::generate);
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %id
        );
        let start = Instant::now();
        let fut = span.in_scope(|| self.inner.call(req));
        let header = self.header.clone();
        Box::pin(async move {
            let result = fut.instrument(span.clone()).await;
            let _entered = span.enter();
            let duration_ms = start.elapsed().as_micros() as f64 / 1000.0;
            match result {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
                        response.headers_mut().insert(header, value);
                    }
                    match status {
                        // The handler already logged why: the error file gets one line.
                        500.. if crate::error_logged(&span) => {
                            tracing::warn!(status, duration_ms, "request completed")
                        }
                        500.. => tracing::error!(status, duration_ms, "request completed"),
                        400..=499 => tracing::warn!(status, duration_ms, "request completed"),
                        _ => tracing::info!(status, duration_ms, "request completed"),
                    }
                    Ok(response)
                }
                Err(e) => {
                    tracing::error!(duration_ms, "request failed before a response");
                    Err(e)
                }
            }
        })
    }
}
