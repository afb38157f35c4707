//! The gateway's hand-off of management requests to the control Worker,
//! through the `CONTROL` service binding, so one hostname serves both.
//!
//! Invariants: the request goes on unchanged (and a redirect comes back
//! unfollowed) except that
//! [`DIGEST_HEADER`] is set to this gateway's configuration digest,
//! replacing any value the client sent; the gateway never looks at the
//! token, and reads the body only to hand it on whole, refusing one over
//! [`HANDOFF_BODY_LIMIT`] (the largest any control endpoint takes; each
//! endpoint's own limit is the control Worker's) with `413
//! body_too_large`. If the control Worker is unbound, unreachable or
//! fails without a problem+json answer of its own, the client gets
//! `503 control_unavailable` in problem+json.

use std::borrow::Cow;

use worker::{console_error, web_sys, Env};

use crate::error::PROBLEM_CONTENT_TYPE;
use crate::runtime::{isolate, respond};
use crate::seam::{CONTROL_BINDING, DIGEST_HEADER, HANDOFF_BODY_LIMIT};
use crate::Error;

/// The control Worker's answer to `req`, or a problem+json refusal; and the
/// outcome for the log line.
pub(super) async fn to_control(
    req: &web_sys::Request,
    env: &Env,
) -> worker::Result<(web_sys::Response, Cow<'static, str>)> {
    match hand_off(req, env).await {
        Ok(response) => Ok((response, Cow::Borrowed("control"))),
        // Refused here, so stamped here: every management answer carries a
        // request id.
        Err(error) => {
            let response = match respond::request_id() {
                Ok(id) => respond::problem_with_id(&error, &id)?,
                Err(_) => respond::problem(&error, None)?,
            };
            Ok((response, Cow::Borrowed(error.code())))
        }
    }
}

async fn hand_off(req: &web_sys::Request, env: &Env) -> Result<web_sys::Response, Error> {
    let gateway = isolate::state(env)?;
    let unavailable = |what: &str| {
        console_error!("control Worker {what}");
        Error::ControlUnavailable
    };
    let control = env
        .service(CONTROL_BINDING)
        .map_err(|_| unavailable("binding CONTROL is missing"))?;
    let headers = web_sys::Headers::new_with_headers(&req.headers())
        .map_err(|_| unavailable("request headers cannot be copied"))?;
    headers
        .set(DIGEST_HEADER, &gateway.digest)
        .map_err(|_| unavailable("request headers cannot be set"))?;
    let init = web_sys::RequestInit::new();
    init.set_method(&req.method());
    init.set_headers(&headers);
    // A redirect from the control Worker (the API Keys page's link
    // exchange) is the client's to follow, with the cookie it sets.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    // The body is read here, up to the largest any control endpoint
    // takes, and handed on whole: a streamed body would still be read from the client
    // after the gateway answered, whenever the control Worker answers
    // without reading it (unreachable, or refusing early).
    // A GET or HEAD with a body (which no endpoint reads) is handed on
    // without it: the runtime cannot build such a request (so it is built
    // from the URL, not from the client's request, which still names a
    // body), and the control Worker answers it as the method and path say.
    if let Some(stream) = req.body() {
        let limit = u64::try_from(HANDOFF_BODY_LIMIT).unwrap_or(u64::MAX);
        let body = super::upstream::read_limited(&stream, limit).await?;
        if !matches!(req.method().as_str(), "GET" | "HEAD") {
            init.set_body(&worker::js_sys::Uint8Array::from(body.as_slice()));
        }
    }
    let request = web_sys::Request::new_with_str_and_init(&req.url(), &init)
        .map_err(|_| unavailable("request cannot be built"))?;
    let response: web_sys::Response = control
        .fetch_request(worker::Request::from(request))
        .await
        .map_err(|e| {
            console_error!("control Worker fetch failed: {e}");
            Error::ControlUnavailable
        })?
        .into();
    let status = response.status();
    let problem = response
        .headers()
        .get("Content-Type")
        .ok()
        .flatten()
        .is_some_and(|t| t.starts_with(PROBLEM_CONTENT_TYPE));
    if status >= 500 && !problem {
        // The runtime's own error page: the control Worker threw, or is not
        // there at all.
        console_error!("control Worker failed: {status}");
        return Err(Error::ControlUnavailable);
    }
    Ok(response)
}
