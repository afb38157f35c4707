//! The admin's endpoints for the API Keys page's sessions, under the
//! management prefix: `POST|GET /accounts/{a}/portal-sessions` (grant one,
//! list them) and `DELETE /accounts/{a}/portal-sessions/{id}`.
//!
//! Invariants: reached only after the admin token is checked
//! ([`super::management`]); a grant's body is read as JSON only when
//! declared so; the one-time token is shown once, in the link the answer
//! carries, and kept by the account's object only as a digest.

use serde_json::json;
use worker::{web_sys, Env};

use super::page::{call, origin_of, Calls};
use crate::manage::request;
use crate::portal::call::PortalCall;
use crate::portal::credential::{session_id, Kind, PortalCredential};
use crate::portal::grant::SessionRow;
use crate::runtime::{clock, isolate, random};
use crate::Error;

/// The admin endpoints, under the management prefix:
/// `POST|GET /accounts/{a}/portal-sessions`,
/// `DELETE /accounts/{a}/portal-sessions/{id}`. `None` for any other path.
pub(super) fn admin_route(path: &str) -> Option<(String, Option<String>)> {
    let rest = path.strip_prefix("/accounts/")?;
    let (account, rest) = rest.split_once('/')?;
    let session = rest.strip_prefix("portal-sessions")?;
    let account = crate::ledger::ids::account(account).ok()?;
    match session {
        "" => Some((account, None)),
        id => id
            .strip_prefix('/')
            .filter(|id| crate::portal::credential::is_session_id(id))
            .map(|id| (account, Some(id.to_owned()))),
    }
}

/// Answers an admin portal-session request (the token already checked).
pub(super) async fn admin(
    req: &web_sys::Request,
    method: &str,
    account: &str,
    session: Option<&str>,
    body: &[u8],
    env: &Env,
) -> Result<(u16, String, Option<String>), Error> {
    let state = isolate::state(env)?;
    let dev = isolate::dev_mode(env);
    match (method, session) {
        ("POST", None) => {
            let content_type = req.headers().get("Content-Type").ok().flatten();
            let body = request::json_body(content_type.as_deref(), body)?;
            let grant = crate::portal::session::portal_session(&state.config, body, dev)?;
            // From configuration, never from this request's Host; checked
            // before a session is stored.
            let base = crate::portal::link::base(&state.config, dev, &origin_of(&req.url()))?;
            let id = session_id(random::bytes::<16>()?);
            let token = PortalCredential::new(
                Kind::Token,
                account,
                &id,
                random::bytes::<32>()?,
                &state.key_secret,
            )
            .ok_or(Error::StorageUnavailable)?;
            let row = SessionRow::new(id, &grant, &token, clock::now());
            let answer = call(
                env,
                &Calls::default(),
                account,
                &PortalCall::Grant {
                    account: account.to_owned(),
                    session: row,
                },
            )
            .await?;
            if answer.status != 201 {
                return Ok((answer.status, answer.body, None));
            }
            let mut body: serde_json::Value =
                serde_json::from_str(&answer.body).map_err(|_| Error::StorageUnavailable)?;
            let url = format!("{base}/start?token={}", token.expose());
            if let Some(object) = body.as_object_mut() {
                object.insert("url".to_owned(), json!(url));
            }
            Ok((201, body.to_string(), None))
        }
        ("GET" | "HEAD", None) => {
            let answer = call(
                env,
                &Calls::default(),
                account,
                &PortalCall::List {
                    account: account.to_owned(),
                },
            )
            .await?;
            Ok((answer.status, answer.body, None))
        }
        ("DELETE", Some(id)) => {
            let answer = call(
                env,
                &Calls::default(),
                account,
                &PortalCall::Revoke {
                    account: account.to_owned(),
                    id: id.to_owned(),
                },
            )
            .await?;
            Ok((answer.status, answer.body, None))
        }
        (_, None) => Err(Error::MethodNotAllowed {
            allow: "GET, HEAD, POST",
        }),
        (_, Some(_)) => Err(Error::MethodNotAllowed { allow: "DELETE" }),
    }
}
