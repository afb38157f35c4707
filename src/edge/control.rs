//! The control Worker's entry point: the management API, on the gateway's
//! hostname (handed over through the service binding) or on a host of its
//! own.
//!
//! Invariants: a request handed over by the gateway carries the gateway's
//! configuration digest; if it differs from this Worker's, the request is
//! refused with `503 config_mismatch` before anything is read. Anything
//! outside the management prefix is `404 no_route`: the control Worker
//! forwards nothing.

use std::borrow::Cow;

use worker::{console_log, event, js_sys, web_sys, Context, Env};

use super::{isolate, management, management_path, respond};
use crate::seam::{digest_matches, DIGEST_HEADER};
use crate::{path, Error};

/// The control Worker's entry point.
#[event(fetch)]
async fn fetch(
    req: web_sys::Request,
    env: Env,
    _ctx: Context,
) -> worker::Result<web_sys::Response> {
    let started = js_sys::Date::now();
    let method = req.method();
    let url = req.url();
    let parts = path::split_url(&url);
    let canonical = path::canonicalize(parts.path);
    if let Ok(canonical) = &canonical {
        if let Some(within) = super::portal_path(&env, parts.authority, canonical) {
            let digest_ok = match (
                isolate::gateway(&env),
                req.headers().get(DIGEST_HEADER).ok().flatten(),
            ) {
                (Ok(control), Some(sent)) => digest_matches(&control.digest, Some(&sent)),
                (Ok(_), None) => true,
                (Err(_), _) => true,
            };
            let calls = super::portal::Calls::default();
            let (response, code) = if digest_ok {
                super::portal::serve(&req, &method, &within, parts.query, &env, &calls).await?
            } else {
                (
                    respond::problem(&Error::ConfigMismatch, None)?,
                    "config_mismatch",
                )
            };
            console_log!(
                "{}",
                serde_json::json!({
                    "api": "portal",
                    "method": method,
                    "path": canonical.as_str(),
                    "outcome": code,
                    "status": response.status(),
                    "object_calls": calls.get(),
                    "latency_ms": js_sys::Date::now() - started,
                })
            );
            return Ok(response);
        }
    }
    let (response, code) = match admit(&req, &env, parts.authority, canonical.as_ref()) {
        Ok(answer) => management::serve(&req, &method, &answer, parts.query, &env).await?,
        // Refused before the management API: stamped all the same, since
        // every management answer carries a request id.
        Err(error) => {
            let response = match respond::request_id() {
                Ok(id) => respond::problem_with_id(&error, &id)?,
                Err(_) => respond::problem(&error, None)?,
            };
            (response, Cow::Borrowed(error.code()))
        }
    };
    console_log!(
        "{}",
        serde_json::json!({
            "api": "management",
            "method": method,
            "path": canonical.as_ref().map_or(parts.path, path::CanonicalPath::as_str),
            "outcome": code,
            "status": response.status(),
            "latency_ms": js_sys::Date::now() - started,
        })
    );
    Ok(response)
}

/// The management API's part of the path, if this Worker serves the
/// request.
fn admit(
    req: &web_sys::Request,
    env: &Env,
    authority: &str,
    canonical: Result<&path::CanonicalPath, &path::PathError>,
) -> Result<String, Error> {
    let control = isolate::gateway(env)?;
    // Only the gateway sends a digest; a direct caller on the control
    // Worker's own host has none to compare.
    if let Some(sent) = req.headers().get(DIGEST_HEADER).ok().flatten() {
        if !digest_matches(&control.digest, Some(&sent)) {
            return Err(Error::ConfigMismatch);
        }
    }
    let canonical = canonical.map_err(|e| Error::MalformedPath { reason: e.reason() })?;
    management_path(env, authority, canonical).ok_or(Error::NoRoute)
}
