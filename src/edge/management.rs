//! The management API at the edge: authentication, the body limit, and the
//! hand-off to the account's Durable Object.
//!
//! Invariants: every endpoint but the OpenAPI document needs the admin
//! token, compared in constant time, before any id or body is looked at;
//! a body is read only up to [`BODY_LIMIT`]; the body and the token are
//! never logged.

use worker::{js_sys, wasm_bindgen::JsCast, wasm_bindgen_futures::JsFuture, web_sys, Env};

use super::{accounts, isolate, respond};
use crate::error::PROBLEM_CONTENT_TYPE;
use crate::manage::openapi;
use crate::manage::request::{self, Request};
use crate::manage::BODY_LIMIT;
use crate::Error;

/// `WWW-Authenticate` on a 401 from the management API.
const CHALLENGE: &str = "Bearer realm=\"keygate-admin\"";

/// Answers one management request; `path` is the part after the prefix.
pub(super) async fn serve(
    req: &web_sys::Request,
    method: &str,
    path: &str,
    query: Option<&str>,
    env: &Env,
) -> worker::Result<(web_sys::Response, &'static str)> {
    match handle(req, method, path, query, env).await {
        Ok((status, body)) => {
            let content_type = if status >= 400 {
                PROBLEM_CONTENT_TYPE
            } else {
                "application/json"
            };
            Ok((respond::json(status, content_type, &body)?, "managed"))
        }
        Err(error) => {
            let challenge = matches!(error, Error::Unauthorized).then(|| CHALLENGE.to_owned());
            Ok((respond::problem(&error, challenge)?, error.code()))
        }
    }
}

async fn handle(
    req: &web_sys::Request,
    method: &str,
    path: &str,
    query: Option<&str>,
    env: &Env,
) -> Result<(u16, String), Error> {
    let gateway = isolate::gateway(env)?;
    let openapi = || {
        let api = gateway.config.management.as_ref();
        (
            200,
            api.map_or_else(|| openapi::DOCUMENT.to_owned(), openapi::document_for),
        )
    };
    if request::is_openapi(method, path) {
        return Ok(openapi());
    }
    let token = isolate::admin_token(env)?;
    let authorization = req.headers().get("Authorization").ok().flatten();
    if !token.admits(authorization.as_deref()) {
        return Err(Error::Unauthorized);
    }
    let body = read_body(req).await?;
    let now = (js_sys::Date::now() / 1000.0).floor() as i64;
    let dev = isolate::dev_mode(env);
    match request::parse(&gateway.config, method, path, query, &body, now, dev)? {
        Request::OpenApi => Ok(openapi()),
        Request::Account { account, op } => {
            let answer = accounts::call(env, &account, op).await?;
            Ok((answer.status, answer.body))
        }
    }
}

/// The request body, refusing more than [`BODY_LIMIT`] bytes.
async fn read_body(req: &web_sys::Request) -> Result<Vec<u8>, Error> {
    let too_large = Error::BodyTooLarge { limit: BODY_LIMIT };
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(too_large);
    }
    if req.body().is_none() {
        return Ok(Vec::new());
    }
    let unreadable = |_| Error::InvalidJson {
        reason: "the body could not be read".to_owned(),
    };
    let buffer = JsFuture::from(req.array_buffer().map_err(unreadable)?)
        .await
        .map_err(unreadable)?;
    let bytes = js_sys::Uint8Array::new(&buffer.unchecked_into());
    if bytes.length() as usize > BODY_LIMIT {
        return Err(too_large);
    }
    Ok(bytes.to_vec())
}
