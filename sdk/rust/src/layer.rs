//! The `tower` layer: verifies every request before the inner service sees
//! it, and puts the [`Identity`] in the request's extensions (axum:
//! `Extension<Identity>`).
//!
//! Invariant: the inner service is called only for a request that
//! verified; any other gets `401` and a problem+json body naming the rule.
//! The body is buffered (up to a limit) only when a `Content-Digest` is
//! signed, and handed on unchanged.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full, Limited};
use tower_layer::Layer;
use tower_service::Service;

use crate::{Error, Identity, Received, Rule, Verifier};

/// Longest body buffered by default to check its digest (16 MiB).
pub const DEFAULT_MAX_BODY: usize = 16 << 20;

/// Wraps a service in [`Keygate`].
#[derive(Debug, Clone)]
pub struct KeygateLayer {
    verifier: Arc<Verifier>,
    max_body: usize,
}

impl KeygateLayer {
    /// A layer checking with `verifier`.
    pub fn new(verifier: Verifier) -> Self {
        KeygateLayer {
            verifier: Arc::new(verifier),
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// The longest body buffered to check a digest; a longer one is
    /// refused ([`Rule::BodyUnavailable`]).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
}

impl<S> Layer<S> for KeygateLayer {
    type Service = Keygate<S>;

    fn layer(&self, inner: S) -> Keygate<S> {
        Keygate {
            inner,
            verifier: self.verifier.clone(),
            max_body: self.max_body,
        }
    }
}

/// The service [`KeygateLayer`] makes.
#[derive(Debug, Clone)]
pub struct Keygate<S> {
    inner: S,
    verifier: Arc<Verifier>,
    max_body: usize,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The 401 answer: problem+json naming the rule, nothing else.
fn refusal(error: &Error) -> Response<Full<Bytes>> {
    let body = format!(
        "{{\"type\":\"about:blank\",\"title\":\"keygate signature refused\",\"status\":401,\"code\":\"{}\"}}",
        error.rule.code()
    );
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = StatusCode::UNAUTHORIZED;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    res
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Checks `parts` and `body` with `verifier` at `now`.
fn check(
    verifier: &Verifier,
    parts: &http::request::Parts,
    body: &[u8],
    now: i64,
) -> Result<Identity, Error> {
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or("\u{fffd}")))
        .collect();
    let authority = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    verifier.verify(
        &Received {
            method: parts.method.as_str(),
            authority,
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers,
            body,
        },
        now,
    )
}

impl<S, B, ResBody> Service<Request<B>> for Keygate<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Body + From<Bytes> + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Either<ResBody, Full<Bytes>>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        let max_body = self.max_body;
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let names = parts
                .headers
                .iter()
                .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)));
            let (verdict, body) = if verifier.needs_body(names) {
                match Limited::new(body, max_body).collect().await {
                    Ok(collected) => {
                        let bytes = collected.to_bytes();
                        (check(&verifier, &parts, &bytes, unix_now()), B::from(bytes))
                    }
                    Err(_) => {
                        let error = Error::new(
                            Rule::BodyUnavailable,
                            format!("the body could not be read within {max_body} bytes"),
                        );
                        return Ok(refusal(&error).map(Either::Right));
                    }
                }
            } else {
                (check(&verifier, &parts, &[], unix_now()), body)
            };
            match verdict {
                Ok(identity) => {
                    parts.extensions.insert(identity);
                    let response = inner.call(Request::from_parts(parts, body)).await?;
                    Ok(response.map(Either::Left))
                }
                Err(error) => Ok(refusal(&error).map(Either::Right)),
            }
        })
    }
}
