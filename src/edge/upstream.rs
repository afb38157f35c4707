//! Sending an admitted request to the origin and passing its response back.
//!
//! Invariants: the body is streamed, never buffered; the headers
//! [`is_stripped`] names (keys, client-sent `Keygate-*`, hop-by-hop) are
//! removed; the request is fetched with `cache: "no-store"` unless the
//! product opts in to its origin's caching; the origin's status, headers
//! and body come back unchanged, except that no `Keygate-*` header passes;
//! redirects are returned to the client, not followed.

use worker::{
    console_error, js_sys, wasm_bindgen::JsCast, wasm_bindgen::JsValue,
    wasm_bindgen_futures::JsFuture, web_sys,
};

use crate::config::Config;
use crate::forward::{is_reserved, is_stripped, ForwardPlan};
use crate::policy::Authorized;
use crate::Error;

/// Forwards `req` as `plan` says, with the client's `headers` less those
/// [`is_stripped`] names. Only an [`Authorized`] request can get here.
pub(super) async fn send(
    config: &Config,
    req: &web_sys::Request,
    client_headers: &[(String, String)],
    authorized: &Authorized<'_>,
    plan: &ForwardPlan,
) -> Result<web_sys::Response, Error> {
    let unavailable = || Error::UpstreamUnavailable {
        product: authorized.product().name.clone(),
    };
    let headers = web_sys::Headers::new().map_err(|_| unavailable())?;
    for (name, value) in client_headers {
        if is_stripped(config, authorized, name, value) {
            continue;
        }
        headers.append(name, value).map_err(|_| unavailable())?;
    }
    for (name, value) in &plan.set_headers {
        headers.set(name, value).map_err(|_| unavailable())?;
    }

    let init = web_sys::RequestInit::new();
    init.set_method(&plan.method);
    init.set_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if !authorized.product().origin_cache {
        // Never let a cache share one key's response with another key.
        init.set_cache(web_sys::RequestCache::NoStore);
    }
    if let Some(body) = req.body() {
        init.set_body(&body);
    }
    let upstream = web_sys::Request::new_with_str_and_init(&plan.url, &init).map_err(|e| {
        console_error!("cannot build the upstream request: {e:?}");
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
    without_reserved_headers(response).map_err(|_| unavailable())
}

/// The origin's response without any `Keygate-*` header: those are
/// keygate's to send, and a client must never take one from an origin for
/// keygate's. The response is rebuilt (its headers are immutable) only
/// when it carries one.
fn without_reserved_headers(response: web_sys::Response) -> Result<web_sys::Response, JsValue> {
    let reserved: Vec<String> = response
        .headers()
        .keys()
        .into_iter()
        .filter_map(|name| name.ok()?.as_string())
        .filter(|name| is_reserved(name))
        .collect();
    if reserved.is_empty() {
        return Ok(response);
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(response.status());
    init.set_status_text(&response.status_text());
    let headers = web_sys::Headers::new_with_headers(&response.headers())?;
    for name in &reserved {
        headers.delete(name)?;
    }
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_readable_stream_and_init(response.body().as_ref(), &init)
}
