//! Building responses: refusals from the core's [`Error`], and the
//! management API's JSON answers.
//!
//! Invariant: a refusal's body and headers come only from
//! [`Error::to_problem`]; nothing here is cached by clients or proxies; a
//! `misconfigured` refusal's cause goes to the log, never to the client.

use worker::{console_error, web_sys};

use crate::error::{with_instance, Error, PROBLEM_CONTENT_TYPE};

/// A fresh request id from the runtime's CSPRNG (the signature's nonce in
/// the gateway, the management answers' id in both Workers).
pub(crate) fn request_id() -> Result<String, Error> {
    Ok(crate::error::request_id(&super::random::bytes::<16>()?))
}

/// The `application/problem+json` response for `error`.
pub(crate) fn problem(
    error: &Error,
    challenge: Option<String>,
) -> worker::Result<web_sys::Response> {
    build_problem(error, challenge, None)
}

/// As [`problem`], for a request that carries a request id: the id goes in
/// `Keygate-Request-Id` and the problem's `instance`, as every management
/// answer has them.
pub(crate) fn problem_with_id(
    error: &Error,
    request_id: &str,
) -> worker::Result<web_sys::Response> {
    build_problem(error, None, Some(request_id))
}

fn build_problem(
    error: &Error,
    challenge: Option<String>,
    request_id: Option<&str>,
) -> worker::Result<web_sys::Response> {
    if let Error::Misconfigured { what } = error {
        // The client sees a generic detail; the operator reads this.
        console_error!("misconfigured: {what}");
    }
    let problem = error.to_problem(challenge);
    let headers = web_sys::Headers::new()?;
    headers.set("Content-Type", PROBLEM_CONTENT_TYPE)?;
    headers.set("Cache-Control", "no-store")?;
    if let Some(challenge) = &problem.www_authenticate {
        headers.set("WWW-Authenticate", challenge)?;
    }
    if let Some(seconds) = problem.retry_after {
        headers.set("Retry-After", &seconds.to_string())?;
    }
    if let Some(allow) = problem.allow {
        headers.set("Allow", allow)?;
    }
    let body = match request_id {
        Some(id) => {
            headers.set(crate::forward::headers::REQUEST_ID, id)?;
            with_instance(&problem.body, id)
        }
        None => problem.body,
    };
    let init = web_sys::ResponseInit::new();
    init.set_status(problem.status);
    init.set_headers(&headers);
    Ok(web_sys::Response::new_with_opt_str_and_init(
        Some(&body),
        &init,
    )?)
}

/// A JSON response from the management API; no body for 204.
#[cfg(feature = "control")]
pub(crate) fn json(
    status: u16,
    content_type: &str,
    body: &str,
) -> worker::Result<web_sys::Response> {
    let headers = web_sys::Headers::new()?;
    headers.set("Cache-Control", "no-store")?;
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    init.set_headers(&headers);
    let body = if status == 204 {
        None
    } else {
        headers.set("Content-Type", content_type)?;
        Some(body)
    };
    Ok(web_sys::Response::new_with_opt_str_and_init(body, &init)?)
}
