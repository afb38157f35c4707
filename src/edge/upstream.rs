//! Sending an admitted request to the origin and passing its response back.
//!
//! Invariants: the body is streamed, never buffered; the headers
//! [`is_stripped`] names (keys, client-sent `Keygate-*`, hop-by-hop) are
//! removed; the
//! origin's status, headers and body come back unchanged; redirects are
//! returned to the client, not followed.

use worker::{
    console_error, js_sys, wasm_bindgen::JsCast, wasm_bindgen_futures::JsFuture, web_sys,
};

use crate::config::Config;
use crate::forward::{is_stripped, ForwardPlan};
use crate::policy::Authorized;
use crate::Error;

/// Forwards `req` as `plan` says. Only an [`Authorized`] request can get here.
pub(super) async fn send(
    config: &Config,
    req: &web_sys::Request,
    authorized: &Authorized<'_>,
    plan: &ForwardPlan,
) -> Result<web_sys::Response, Error> {
    let unavailable = || Error::UpstreamUnavailable {
        product: authorized.product().name.clone(),
    };
    let headers = web_sys::Headers::new().map_err(|_| unavailable())?;
    for entry in req.headers().entries() {
        let Some((name, value)) = entry.ok().and_then(|pair| {
            let pair: js_sys::Array = pair.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        }) else {
            continue;
        };
        if is_stripped(config, authorized, &name, &value) {
            continue;
        }
        headers.append(&name, &value).map_err(|_| unavailable())?;
    }
    for (name, value) in &plan.set_headers {
        headers.set(name, value).map_err(|_| unavailable())?;
    }

    let init = web_sys::RequestInit::new();
    init.set_method(&plan.method);
    init.set_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if let Some(body) = req.body() {
        init.set_body(&body);
    }
    let upstream = web_sys::Request::new_with_str_and_init(&plan.url, &init).map_err(|e| {
        console_error!("cannot build the upstream request: {e:?}");
        unavailable()
    })?;
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let response = JsFuture::from(global.fetch_with_request(&upstream))
        .await
        .map_err(|e| {
            console_error!("origin fetch failed: {e:?}");
            unavailable()
        })?;
    response.dyn_into().map_err(|_| unavailable())
}
