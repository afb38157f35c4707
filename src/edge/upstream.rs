//! Sending an admitted request to the origin and passing its response back.
//!
//! Invariants: without `sign_body` the body is streamed, never buffered;
//! with it, at most `max_signed_body` bytes are kept and a larger body is
//! refused (`413`); the headers [`is_stripped`] names (keys, client-sent
//! `Keygate-*`, hop-by-hop), those [`Drops`] names (`Expect`, headers named
//! by `Connection`, untrusted proxy headers) and those the plan drops are
//! removed, and the
//! plan's headers (identity, `Signature`, `Signature-Input`) replace any a
//! client sent; the request is fetched with `cache: "no-store"` unless the
//! product opts in to its origin's caching; the origin's status, headers
//! and body come back unchanged, except that no `Keygate-*` header passes,
//! no `Set-Cookie` for one of keygate's cookies passes
//! ([`crate::forward::sets_own_cookie`]; the others pass intact, each
//! its own header), and an interim (1xx) status is refused as `502`;
//! redirects are returned to the client, not followed.

use worker::{
    console_error, js_sys,
    wasm_bindgen::{JsCast, JsValue},
    wasm_bindgen_futures::JsFuture,
    web_sys,
};

use crate::config::Config;
use crate::credential::HeaderLookup;
use crate::forward::{is_reserved, is_stripped, sets_own_cookie, BodyFacts, ForwardPlan};
use crate::policy::Authorized;
use crate::proxy_headers::Drops;
use crate::signature::content_digest;
use crate::Error;

/// What the origin will receive as the body.
pub(super) enum Body {
    /// The client's stream, untouched (or none).
    Streamed(Option<web_sys::ReadableStream>),
    /// The whole body, read to sign its digest.
    Buffered(Vec<u8>),
}

/// The body to forward and what its signature covers.
pub(super) struct Prepared {
    pub body: Body,
    content_type: Option<String>,
    content_length: Option<u64>,
    digest: Option<String>,
}

impl Prepared {
    /// The facts for [`crate::forward::plan`].
    pub fn facts(&self) -> BodyFacts<'_> {
        BodyFacts {
            content_type: self.content_type.as_deref(),
            content_length: self.content_length,
            content_digest: self.digest.as_deref(),
        }
    }
}

/// The body to forward and the facts its signature covers. Reads the body
/// only when the product signs bodies.
pub(super) async fn prepare_body(
    config: &Config,
    req: &web_sys::Request,
    client_headers: &[(String, String)],
    authorized: &Authorized<'_>,
) -> Result<Prepared, Error> {
    let get = |name: &str| client_headers.header(name);
    // Signed only when it is forwarded as is.
    let drops = Drops::new(client_headers, authorized.product().trust_forwarded);
    let content_type = get("Content-Type")
        .filter(|v| !is_stripped(config, authorized, "Content-Type", v))
        .filter(|_| !drops.drops("Content-Type"));
    let declared = get("Content-Length").and_then(|v| canonical_length(&v));
    let signing = authorized.product().signing;
    if !signing.sign_body {
        let stream = req.body();
        // workerd keeps a streamed body's Content-Length (an e2e test
        // checks); a chunked upload has none, and nothing is signed then.
        let length = declared.filter(|n| *n > 0 && stream.is_some());
        return Ok(Prepared {
            body: Body::Streamed(stream),
            content_type,
            content_length: length,
            digest: None,
        });
    }
    if declared.is_some_and(|n| n > signing.max_signed_body) {
        return Err(too_large(signing.max_signed_body));
    }
    let body = match req.body() {
        Some(stream) => read_limited(&stream, signing.max_signed_body).await?,
        None => Vec::new(),
    };
    let digest = content_digest(&body);
    let length = (!body.is_empty()).then_some(body.len() as u64);
    Ok(Prepared {
        body: Body::Buffered(body),
        content_type,
        content_length: length,
        digest: Some(digest),
    })
}

/// A `Content-Length` of digits only, as the origin will read it.
fn canonical_length(value: &str) -> Option<u64> {
    let value = value.trim();
    let n = value.parse::<u64>().ok()?;
    (value.bytes().all(|b| b.is_ascii_digit()) && n.to_string() == value).then_some(n)
}

fn too_large(limit: u64) -> Error {
    Error::BodyTooLarge {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    }
}

/// Bytes past the limit that are read and dropped before the stream is
/// cancelled, so the client's connection stays usable.
const DRAIN_LIMIT: u64 = 1 << 20;

/// Reads at most `limit` bytes; more is `413 body_too_large`.
pub(super) async fn read_limited(
    stream: &web_sys::ReadableStream,
    limit: u64,
) -> Result<Vec<u8>, Error> {
    let unreadable = |e: JsValue| {
        console_error!("the request body could not be read: {e:?}");
        Error::InvalidField {
            field: "body".to_owned(),
            reason: "could not be read in full; send it again".to_owned(),
        }
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = Vec::new();
    let mut seen = 0u64;
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(unreadable)?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done")).map_err(unreadable)?;
        if done.as_bool().unwrap_or(true) {
            return if seen > limit {
                Err(too_large(limit))
            } else {
                Ok(body)
            };
        }
        let value =
            js_sys::Reflect::get(&chunk, &JsValue::from_str("value")).map_err(unreadable)?;
        let bytes: js_sys::Uint8Array = value.dyn_into().map_err(unreadable)?;
        seen = seen.saturating_add(u64::from(bytes.length()));
        if seen <= limit {
            body.extend_from_slice(&bytes.to_vec());
        } else if seen > limit.saturating_add(DRAIN_LIMIT) {
            let _ = reader.cancel();
            return Err(too_large(limit));
        } else {
            body = Vec::new();
        }
    }
}

/// Forwards the request as `plan` says, with the client's `headers` less
/// those [`is_stripped`] names. Only an [`Authorized`] request can get here.
///
/// The upstream request is built from the incoming request's own `Headers`
/// (copied inside the runtime, not header by header across the JS
/// boundary); then the few names [`dropped`] lists are deleted and the
/// plan's headers set.
pub(super) async fn send(
    config: &Config,
    req: &web_sys::Request,
    client_headers: &[(String, String)],
    authorized: &Authorized<'_>,
    plan: &ForwardPlan,
    body: Body,
) -> Result<web_sys::Response, Error> {
    let unavailable = || Error::UpstreamUnavailable {
        product: authorized.product().name.clone(),
    };
    let init = web_sys::RequestInit::new();
    init.set_method(&plan.method);
    init.set_headers(&req.headers());
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if !authorized.product().origin_cache {
        // Never let a cache share one key's response with another key.
        init.set_cache(web_sys::RequestCache::NoStore);
    }
    match body {
        Body::Streamed(Some(stream)) => init.set_body(&stream),
        Body::Streamed(None) => {}
        Body::Buffered(bytes) if bytes.is_empty() => {}
        Body::Buffered(bytes) => init.set_body(&js_sys::Uint8Array::from(bytes.as_slice())),
    }
    let upstream = web_sys::Request::new_with_str_and_init(&plan.url, &init).map_err(|e| {
        console_error!("cannot build the upstream request: {e:?}");
        unavailable()
    })?;
    let headers = upstream.headers();
    let edit = || -> Result<(), JsValue> {
        for name in dropped(config, client_headers, authorized, plan, |_| false) {
            headers.delete(name)?;
        }
        for (name, value) in &plan.set_headers {
            headers.set(name, value)?;
        }
        Ok(())
    };
    edit().map_err(|e| {
        console_error!("cannot set the upstream request's headers: {e:?}");
        unavailable()
    })?;
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: web_sys::Response = JsFuture::from(global.fetch_with_request(&upstream))
        .await
        .map_err(|e| {
            console_error!("origin fetch failed: {e:?}");
            unavailable()
        })?
        .dyn_into()
        .map_err(|_| unavailable())?;
    if (100..200).contains(&response.status()) {
        // An interim answer is never a final one (a Response cannot even
        // be built with it): the origin misbehaved.
        console_error!("origin answered {} as a final response", response.status());
        return Err(unavailable());
    }
    without_reserved_headers(response).map_err(|_| unavailable())
}

/// The client's header names that never reach the origin: those
/// [`is_stripped`] names, those [`Drops`] names (`Expect`, hop-by-hop
/// headers named by `Connection`, untrusted proxy headers), those the plan
/// drops and those `also_drop` names. (The runtime joins repeated names
/// into one entry, so each name comes once.)
fn dropped<'h>(
    config: &'h Config,
    client_headers: &'h [(String, String)],
    authorized: &'h Authorized<'_>,
    plan: &'h ForwardPlan,
    also_drop: impl Fn(&str) -> bool + 'h,
) -> impl Iterator<Item = &'h str> + 'h {
    let drops = Drops::new(client_headers, authorized.product().trust_forwarded);
    client_headers
        .iter()
        .filter(move |(name, value)| {
            is_stripped(config, authorized, name, value)
                || drops.drops(name)
                || also_drop(name)
                || plan
                    .drop_headers
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(name))
        })
        .map(|(name, _)| name.as_str())
}

/// The headers the origin receives: the client's less those [`dropped`]
/// names; then the plan's.
pub(super) fn upstream_headers(
    config: &Config,
    client_headers: &[(String, String)],
    authorized: &Authorized<'_>,
    plan: &ForwardPlan,
    also_drop: impl Fn(&str) -> bool,
) -> Result<web_sys::Headers, JsValue> {
    let drop: Vec<&str> = dropped(config, client_headers, authorized, plan, also_drop).collect();
    let headers = web_sys::Headers::new()?;
    for (name, value) in client_headers {
        if drop.iter().any(|d| std::ptr::eq(*d, name.as_str())) {
            continue;
        }
        headers.append(name, value)?;
    }
    for (name, value) in &plan.set_headers {
        headers.set(name, value)?;
    }
    Ok(headers)
}

/// The origin's response without any `Keygate-*` header, and without any
/// `Set-Cookie` for one of keygate's own cookies: those are keygate's to
/// send, and a client must never take one from an origin for keygate's
/// (the API Keys page may share the origin's host). The response is
/// rebuilt (its headers are immutable) only when it carries one; the
/// other `Set-Cookie` headers are kept, each as its own header.
pub(super) fn without_reserved_headers(
    response: web_sys::Response,
) -> Result<web_sys::Response, JsValue> {
    let reserved: Vec<String> = response
        .headers()
        .keys()
        .into_iter()
        .filter_map(|name| name.ok()?.as_string())
        .filter(|name| is_reserved(name))
        .collect();
    let cookies = set_cookies(&response.headers())?;
    let own_cookie = cookies.iter().any(|c| sets_own_cookie(c));
    if reserved.is_empty() && !own_cookie {
        return Ok(response);
    }
    let headers = web_sys::Headers::new_with_headers(&response.headers())?;
    for name in &reserved {
        headers.delete(name)?;
    }
    if own_cookie {
        headers.delete("Set-Cookie")?;
        for cookie in cookies.iter().filter(|c| !sets_own_cookie(c)) {
            headers.append("Set-Cookie", cookie)?;
        }
    }
    super::cors::rebuild(&response, &headers)
}

/// Each `Set-Cookie` value of `headers`, one per header as the origin sent
/// them (`Headers.getSetCookie()`: they are never joined, since a cookie's
/// `Expires` holds a comma).
fn set_cookies(headers: &web_sys::Headers) -> Result<Vec<String>, JsValue> {
    if !headers.has("Set-Cookie")? {
        return Ok(Vec::new());
    }
    let get: js_sys::Function =
        js_sys::Reflect::get(headers, &JsValue::from_str("getSetCookie"))?.dyn_into()?;
    let values: js_sys::Array = get.call0(headers)?.dyn_into()?;
    Ok(values.iter().filter_map(|v| v.as_string()).collect())
}
