//! CORS at the edge: answering preflights from configuration and adding a
//! product's CORS headers to what the client receives.
//!
//! Invariants: a preflight answer is built here from the [`CorsPolicy`]
//! alone (no storage read, no key); a response with a null-body status
//! (101, 204, 205, 304) is always built without a body.

use worker::{wasm_bindgen::JsValue, web_sys};

use crate::cors::{is_cors_header, vary_with_origin, CorsPolicy};

/// Whether `status` must not carry a body (Fetch standard).
pub(super) fn is_null_body_status(status: u16) -> bool {
    matches!(status, 101 | 204 | 205 | 304)
}

/// `204 No Content` answering a preflight from a page at `origin`.
pub(super) fn preflight(
    policy: &CorsPolicy,
    origin: Option<&str>,
) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in policy.preflight_headers(origin) {
        headers.set(name, &value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(204);
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_str_and_init(None, &init)
}

/// Adds `cors` headers to a response keygate built (its headers are
/// mutable): refusals carry the same CORS headers as answers.
pub(super) fn add_to_own(
    response: &web_sys::Response,
    cors: &[(&'static str, String)],
) -> Result<(), JsValue> {
    let headers = response.headers();
    for (name, value) in cors {
        headers.set(name, value)?;
    }
    Ok(())
}

/// The origin's response with keygate's CORS headers in place of any the
/// origin sent, and `Origin` added to its `Vary`. The response is rebuilt,
/// since a fetched response's headers are immutable.
pub(super) fn add_to_forwarded(
    response: web_sys::Response,
    cors: &[(&'static str, String)],
) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new_with_headers(&response.headers())?;
    let theirs: Vec<String> = headers
        .keys()
        .into_iter()
        .filter_map(|name| name.ok()?.as_string())
        .filter(|name| is_cors_header(name))
        .collect();
    for name in &theirs {
        headers.delete(name)?;
    }
    let vary = vary_with_origin(headers.get("Vary")?.as_deref());
    for (name, value) in cors {
        if name.eq_ignore_ascii_case("Vary") {
            headers.set("Vary", &vary)?;
        } else {
            headers.set(name, value)?;
        }
    }
    rebuild(&response, &headers)
}

/// `response` with `headers` in place of its own; its body is passed on
/// unread, and dropped only for a null-body status.
pub(super) fn rebuild(
    response: &web_sys::Response,
    headers: &web_sys::Headers,
) -> Result<web_sys::Response, JsValue> {
    let init = web_sys::ResponseInit::new();
    init.set_status(response.status());
    init.set_status_text(&response.status_text());
    init.set_headers(headers);
    let body = if is_null_body_status(response.status()) {
        None
    } else {
        response.body()
    };
    web_sys::Response::new_with_opt_readable_stream_and_init(body.as_ref(), &init)
}
