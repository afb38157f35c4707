//! The management API at the edge: authentication, the body limit, and the
//! hand-off to the account's Durable Object.
//!
//! Invariants: every endpoint but the OpenAPI document needs the admin
//! token, compared in constant time, before any id or body is looked at;
//! no more than [`crate::manage::BODY_LIMIT`] bytes of a body are ever kept (an import's
//! [`crate::manage::import::IMPORT_BODY_LIMIT`]); the body and
//! the token are never logged; every response carries a fresh request id
//! ([`trace::HEADER`], and `instance` in a problem), which the log line
//! repeats.

use std::borrow::Cow;

use worker::{web_sys, Env};

use super::account::call::{Call, OP_PATH};
use super::body;
use crate::error::PROBLEM_CONTENT_TYPE;
use crate::manage::request::{self, Request};
use crate::manage::{etag, idempotency, lookup, once, openapi, trace};
use crate::runtime::{accounts, clock, isolate, kv, respond};
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
) -> worker::Result<(web_sys::Response, Cow<'static, str>)> {
    let id = match respond::request_id() {
        Ok(id) => id,
        Err(error) => return Ok((respond::problem(&error, None)?, Cow::Borrowed(error.code()))),
    };
    let (response, code) = answer(req, method, path, query, env, &id).await?;
    response.headers().set(trace::HEADER, &id)?;
    if method == "HEAD" {
        return Ok((without_body(&response)?, code));
    }
    Ok((response, code))
}

/// `response` with `body` in place of its own (same status and headers).
fn with_body(response: &web_sys::Response, body: &str) -> worker::Result<web_sys::Response> {
    let init = web_sys::ResponseInit::new();
    init.set_status(response.status());
    init.set_headers(&response.headers());
    Ok(web_sys::Response::new_with_opt_str_and_init(
        Some(body),
        &init,
    )?)
}

/// `response` with its status and headers but no body: the answer to HEAD
/// (RFC 9110 §9.3.2).
fn without_body(response: &web_sys::Response) -> worker::Result<web_sys::Response> {
    let init = web_sys::ResponseInit::new();
    init.set_status(response.status());
    init.set_headers(&response.headers());
    Ok(web_sys::Response::new_with_opt_str_and_init(None, &init)?)
}

async fn answer(
    req: &web_sys::Request,
    method: &str,
    path: &str,
    query: Option<&str>,
    env: &Env,
    id: &str,
) -> worker::Result<(web_sys::Response, Cow<'static, str>)> {
    match handle(req, method, path, query, env).await {
        // A refusal from the account's object, already in problem+json.
        Ok((status, body, _)) if status >= 400 => {
            let code = problem_code(&body);
            let body = trace::with_instance(&body, id);
            let response = respond::json(status, PROBLEM_CONTENT_TYPE, &body)?;
            if status == 503 {
                response.headers().set("Retry-After", "1")?;
            }
            Ok((response, code))
        }
        Ok((status, body, location)) => {
            let response = respond::json(status, "application/json", &body)?;
            if let Some(location) = location {
                response.headers().set("Location", &location)?;
            }
            if let Some(tag) = etag::of_reply(status, &body) {
                response.headers().set("ETag", &tag)?;
            }
            Ok((response, Cow::Borrowed("managed")))
        }
        Err(error) => {
            let challenge = matches!(error, Error::Unauthorized).then(|| CHALLENGE.to_owned());
            let body = trace::with_instance(&error.to_problem(challenge.clone()).body, id);
            let response = respond::problem(&error, challenge)?;
            Ok((with_body(&response, &body)?, Cow::Borrowed(error.code())))
        }
    }
}

/// The stable `code` of a problem body, for the log.
fn problem_code(body: &str) -> Cow<'static, str> {
    #[derive(serde::Deserialize)]
    struct Coded {
        code: String,
    }
    serde_json::from_str::<Coded>(body).map_or(Cow::Borrowed("refused"), |p| Cow::Owned(p.code))
}

async fn handle(
    req: &web_sys::Request,
    method: &str,
    path: &str,
    query: Option<&str>,
    env: &Env,
) -> Result<(u16, String, Option<String>), Error> {
    let state = isolate::state(env)?;
    let openapi = || (200, openapi::served(&state.config), None);
    if request::is_openapi(method, path) {
        return Ok(openapi());
    }
    // Secret scanners authenticate with their own signature or token.
    if let Some(route) = crate::leak::Route::of(path) {
        let (status, body) = super::leaks::serve(req, method, route, env).await?;
        return Ok((status, body, None));
    }
    let token = isolate::admin_token(env)?;
    let authorization = req.headers().get("Authorization").ok().flatten();
    if !token.admits(authorization.as_deref()) {
        return Err(Error::Unauthorized);
    }
    // An import takes more keys than any other body holds (its bound is
    // `IMPORT_BODY_LIMIT`); every other route reads at most `BODY_LIMIT`.
    let body = body::read_capped(req, request::body_limit(path)).await?;
    if let Some((account, session)) = super::portal_sessions::admin_route(path) {
        return super::portal_sessions::admin(
            req,
            method,
            &account,
            session.as_deref(),
            &body,
            env,
        )
        .await;
    }
    let now = clock::now();
    let dev = isolate::dev_mode(env);
    let content_type = req.headers().get("Content-Type").ok().flatten();
    let if_match = req.headers().get("If-Match").ok().flatten();
    let idempotency_key = req.headers().get(idempotency::HEADER).ok().flatten();
    let incoming = request::Incoming {
        method,
        path,
        query,
        content_type: content_type.as_deref(),
        if_match: if_match.as_deref(),
        body: &body,
    };
    match request::parse(&state.config, &incoming, now, dev)? {
        Request::OpenApi => Ok(openapi()),
        Request::Lookup(key) => {
            // Changes nothing, so a retry answers the same: the header is
            // only checked.
            idempotency::header(idempotency_key.as_deref())?;
            // A forged key is unknown without a read, as at the edge.
            let tagged =
                crate::key::admit(key, &state.key_secret, state.config.accept_untagged_keys)
                    .ok_or(Error::KeyNotFound)?;
            let record = kv::get(&kv::store(env)?, &tagged.hash().to_hex(), None)
                .await?
                .ok_or(Error::KeyNotFound)?;
            let op = crate::manage::Op::GetKey {
                id: record.id.clone(),
            };
            let answer = call(env, &record.account, op, &state.digest).await?;
            if answer.status != 200 {
                return Ok((answer.status, answer.body, None));
            }
            let body =
                lookup::answer(&record.account, &answer.body).ok_or(Error::StorageUnavailable)?;
            Ok((200, body, None))
        }
        Request::Import { account, parsed } => {
            // Plaintexts become hashes here, with the tag checked as the
            // gateway checks it: the object never sees a key.
            let import = crate::manage::import::resolve(parsed, |key| {
                crate::key::admit(key, &state.key_secret, state.config.accept_untagged_keys)
            });
            // The index is keyed by hash across accounts: a key another
            // account holds is refused, never taken over (one read each,
            // at most MAX_IMPORT_KEYS, made concurrently).
            let store = kv::store(env)?;
            let reads = crate::manage::import::hashes(&import)
                .into_iter()
                .map(|hash| {
                    let store = &store;
                    async move {
                        match hash {
                            Some(hash) => kv::get(store, hash, None)
                                .await
                                .map(|record| record.map(|r| r.account.clone())),
                            None => Ok(None),
                        }
                    }
                });
            let owners = futures_util::future::join_all(reads)
                .await
                .into_iter()
                .collect::<Result<Vec<_>, Error>>()?;
            let import = crate::manage::import::held_elsewhere(import, &owners, &account);
            let op = crate::manage::Op::ImportKeys(import);
            let op = once::wrap(op, idempotency_key.as_deref(), &token, method, path, &body)?;
            let answer = call(env, &account, op, &state.digest).await?;
            Ok((answer.status, answer.body, None))
        }
        Request::Account { account, op } => {
            let op = once::wrap(op, idempotency_key.as_deref(), &token, method, path, &body)?;
            let answer = call(env, &account, op, &state.digest).await?;
            let location = (answer.status == 201)
                .then(|| state.config.management.as_ref())
                .flatten()
                .and_then(|api| trace::location(&api.path_prefix, &account, &answer.body));
            Ok((answer.status, answer.body, location))
        }
    }
}

/// Sends a management operation to `account`'s object, with this Worker's
/// configuration digest.
async fn call(
    env: &Env,
    account: &str,
    op: crate::manage::Op,
    digest: &str,
) -> Result<accounts::Answer, Error> {
    let call = Call {
        account: account.to_owned(),
        op,
    };
    let body = serde_json::to_string(&call).map_err(|_| Error::StorageUnavailable)?;
    accounts::send(env, account, OP_PATH, &body, digest).await
}
