//! Building refusal responses from the core's [`Error`].
//!
//! Invariant: the body and headers come only from [`Error::to_problem`].

use worker::web_sys;

use crate::error::{Error, PROBLEM_CONTENT_TYPE};

/// The `application/problem+json` response for `error`.
pub(super) fn problem(
    error: &Error,
    challenge: Option<String>,
) -> worker::Result<web_sys::Response> {
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
    let init = web_sys::ResponseInit::new();
    init.set_status(problem.status);
    init.set_headers(&headers);
    Ok(web_sys::Response::new_with_opt_str_and_init(
        Some(&problem.body),
        &init,
    )?)
}
