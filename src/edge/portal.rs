//! The API Keys page at the edge (control Worker): the link exchange, the
//! page, its assets and its API, and the admin endpoints that grant
//! sessions.
//!
//! Invariants: the page's API acts only through a session cookie the
//! account's object admits, and a change only with the session's CSRF
//! token from the page's own origin ([`csrf::check`]); the one-time token
//! is exchanged for the cookie and the browser redirected to a clean URL,
//! so the token leaves the address bar and history at once; every HTML
//! answer carries a fresh CSP nonce; no token, cookie or CSRF token is
//! logged. A token or cookie whose keyed tag does not verify is refused
//! before any call to an account's object (the log line's `object_calls`
//! counts them); a granted session's link is built from configuration
//! ([`crate::portal::link`]), never from the request's `Host`; a spent
//! change budget answers `429` with `Retry-After`.

use serde_json::json;
use worker::{js_sys, wasm_bindgen::JsCast, web_sys, Env};

use super::account::PORTAL_PATH;
use super::{accounts, isolate, respond};
use crate::config::Config;
use crate::error::PROBLEM_CONTENT_TYPE;
use crate::manage::request;
use crate::portal::call::PortalCall;
use crate::portal::credential::{session_id, Kind, PortalCredential};
use crate::portal::grant::SessionRow;
use crate::portal::op::PageOp;
use crate::portal::{cookie, csp, csrf, page};
use crate::Error;

/// The page's script and styles, built by `portal/build.mjs`.
const APP_JS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/build/portal/app.js"));
const APP_CSS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/build/portal/app.css"));

/// Random bytes from the runtime's CSPRNG.
fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    global
        .crypto()
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes))
        .map_err(|_| Error::StorageUnavailable)?;
    Ok(bytes)
}

fn now() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let parts = crate::path::split_url(url);
    let scheme = url.split("://").next().unwrap_or("https");
    format!("{scheme}://{}", parts.authority)
}

/// Calls to account objects made while answering one request: the
/// portal's log line reports them (`object_calls`), so a test can see that
/// a forged credential costs none.
pub(super) type Calls = std::cell::Cell<u32>;

/// Sends a portal call to `account`'s object, counting it in `calls`.
async fn call(
    env: &Env,
    calls: &Calls,
    account: &str,
    call: &PortalCall,
) -> Result<accounts::Answer, Error> {
    let gateway = isolate::gateway(env)?;
    calls.set(calls.get().saturating_add(1));
    let body = serde_json::to_string(call).map_err(|_| Error::StorageUnavailable)?;
    accounts::send(env, account, PORTAL_PATH, &body, &gateway.digest).await
}

fn response(
    status: u16,
    content_type: &str,
    body: &str,
    headers: &[(&str, String)],
) -> worker::Result<web_sys::Response> {
    let response = respond::json(status, content_type, body)?;
    for (name, value) in headers {
        response.headers().set(name, value)?;
    }
    Ok(response)
}

fn problem(error: &Error) -> worker::Result<web_sys::Response> {
    respond::problem(error, None)
}

/// Answers a request under the portal's prefix; `path` is the part after
/// it (`/` for the prefix itself).
pub(super) async fn serve(
    req: &web_sys::Request,
    method: &str,
    path: &str,
    query: Option<&str>,
    env: &Env,
    calls: &Calls,
) -> worker::Result<(web_sys::Response, &'static str)> {
    let gateway = match isolate::gateway(env) {
        Ok(gateway) => gateway,
        Err(error) => return Ok((problem(&error)?, error.code())),
    };
    let Some(portal) = gateway.config.portal.as_ref() else {
        return Ok((problem(&Error::NoRoute)?, "no_route"));
    };
    let prefix = portal.path_prefix.clone();
    let dev = isolate::dev_mode(env);
    let answer = match (method, path) {
        ("GET", "/assets/app.js") => asset(APP_JS, "text/javascript; charset=utf-8"),
        ("GET", "/assets/app.css") => asset(APP_CSS, "text/css; charset=utf-8"),
        ("GET", "/start") => start(env, calls, &gateway, &prefix, query, dev).await,
        ("GET", "/") => shell(req, env, calls, &gateway, &prefix).await,
        ("POST", "/logout") => logout(req, env, calls, &gateway, &prefix, dev).await,
        (_, api) if api.starts_with("/api/") => {
            page_api(req, method, api, query, env, calls, &gateway).await
        }
        (_, "/assets/app.js" | "/assets/app.css" | "/start" | "/") => {
            Err(Error::MethodNotAllowed { allow: "GET" })
        }
        _ => Err(Error::NotFound),
    };
    match answer {
        Ok(done) => Ok(done),
        Err(error) => Ok((problem(&error)?, error.code())),
    }
}

fn asset(body: &str, content_type: &str) -> Result<(web_sys::Response, &'static str), Error> {
    let response = response(
        200,
        content_type,
        body,
        &[
            ("Cache-Control", "public, max-age=300".to_owned()),
            ("X-Content-Type-Options", "nosniff".to_owned()),
        ],
    )
    .map_err(|_| Error::StorageUnavailable)?;
    Ok((response, "asset"))
}

/// An HTML page with its CSP.
fn html(status: u16, body: &str, nonce: &str, config: &Config) -> Result<web_sys::Response, Error> {
    let portal = config.portal.as_ref().ok_or(Error::NoRoute)?;
    let logos: Vec<String> = config
        .products
        .iter()
        .filter_map(|p| p.portal.logo_origin())
        .collect();
    let headers = csp::page_headers(nonce, &logos, &portal.frame_ancestors);
    let response = respond::json(status, "text/html; charset=utf-8", body)
        .map_err(|_| Error::StorageUnavailable)?;
    for (name, value) in headers {
        response
            .headers()
            .set(name, &value)
            .map_err(|_| Error::StorageUnavailable)?;
    }
    Ok(response)
}

fn dead_page(
    config: &Config,
    prefix: &str,
    message: &str,
    return_url: Option<&str>,
) -> Result<web_sys::Response, Error> {
    let nonce = csp::nonce(random::<16>()?);
    html(
        410,
        &page::dead(message, return_url, &nonce, prefix),
        &nonce,
        config,
    )
}

/// The text of a 410 from the object: its detail and return URL.
fn dead_of(body: &str) -> (String, Option<String>) {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let detail = value
        .get("detail")
        .and_then(|d| d.as_str())
        .unwrap_or("This link is not valid.")
        .to_owned();
    let back = value
        .get("return_url")
        .and_then(|d| d.as_str())
        .map(str::to_owned);
    (detail, back)
}

/// `GET {prefix}/start?token=…`: exchanges the token for a cookie.
async fn start(
    env: &Env,
    calls: &Calls,
    gateway: &isolate::Gateway,
    prefix: &str,
    query: Option<&str>,
    dev: bool,
) -> Result<(web_sys::Response, &'static str), Error> {
    let config = &gateway.config;
    let token_text = query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(|t| {
            String::from_utf8(crate::manage::ids::percent_decode(t, true)).unwrap_or_default()
        });
    let token = token_text
        .as_deref()
        .and_then(|t| PortalCredential::parse(Kind::Token, t, &gateway.key_secret));
    let Some(token) = token else {
        return Ok((
            dead_page(config, prefix, "This link is not valid.", None)?,
            "portal_dead",
        ));
    };
    let cookie = PortalCredential::new(
        Kind::Cookie,
        token.account(),
        token.session(),
        random::<32>()?,
        &gateway.key_secret,
    )
    .ok_or(Error::StorageUnavailable)?;
    let answer = call(
        env,
        calls,
        token.account(),
        &PortalCall::Exchange {
            account: token.account().to_owned(),
            token: token.expose(),
            cookie: cookie.expose(),
        },
    )
    .await?;
    if answer.status != 200 {
        let (message, back) = dead_of(&answer.body);
        return Ok((
            dead_page(config, prefix, &message, back.as_deref())?,
            "portal_dead",
        ));
    }
    let max_age = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|v| v.get("max_age").and_then(serde_json::Value::as_i64))
        .unwrap_or(0);
    let response = respond::json(303, "text/plain; charset=utf-8", "")
        .map_err(|_| Error::StorageUnavailable)?;
    let set = |name: &str, value: &str| {
        response
            .headers()
            .set(name, value)
            .map_err(|_| Error::StorageUnavailable)
    };
    set("Location", &format!("{prefix}/"))?;
    set("Set-Cookie", &cookie::set(&cookie, prefix, max_age, dev))?;
    set("Referrer-Policy", "no-referrer")?;
    Ok((response, "portal_start"))
}

/// The request's session cookie, if its tag verifies: a forged one is
/// refused here, without a call to any account's object.
fn session_cookie(req: &web_sys::Request, gateway: &isolate::Gateway) -> Option<PortalCredential> {
    let header = req.headers().get("Cookie").ok().flatten()?;
    cookie::find([header.as_str()], &gateway.key_secret)
}

/// `GET {prefix}/`: the page, for a live session.
async fn shell(
    req: &web_sys::Request,
    env: &Env,
    calls: &Calls,
    gateway: &isolate::Gateway,
    prefix: &str,
) -> Result<(web_sys::Response, &'static str), Error> {
    let config = &gateway.config;
    let Some(cookie) = session_cookie(req, gateway) else {
        return Ok((
            dead_page(config, prefix, "You are not signed in to this page.", None)?,
            "portal_dead",
        ));
    };
    let answer = call(
        env,
        calls,
        cookie.account(),
        &PortalCall::Act {
            account: cookie.account().to_owned(),
            cookie: cookie.expose(),
            op: None,
        },
    )
    .await?;
    if answer.status != 200 {
        let (message, back) = dead_of(&answer.body);
        return Ok((
            dead_page(config, prefix, &message, back.as_deref())?,
            "portal_dead",
        ));
    }
    let scope: crate::portal::scope::Scope = {
        let value: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
        let products = value
            .get("products")
            .and_then(|p| p.as_array())
            .map(|list| {
                list.iter()
                    .filter_map(|p| p.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                    .collect()
            });
        crate::portal::scope::Scope {
            products,
            ..Default::default()
        }
    };
    let nonce = csp::nonce(random::<16>()?);
    let version = crate::key::hex(&sha_prefix(APP_JS));
    let body = page::shell(
        config,
        &scope,
        prefix,
        &nonce,
        &csrf::token(&cookie),
        &version,
    );
    Ok((html(200, &body, &nonce, config)?, "portal_page"))
}

/// The first 6 bytes of the SHA-256 of `text`: the assets' version tag.
fn sha_prefix(text: &str) -> [u8; 6] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut out = [0u8; 6];
    out.copy_from_slice(digest.get(..6).unwrap_or(&[0; 6]));
    out
}

/// A change's CSRF proof: the page's token for this cookie, from this
/// origin ([`csrf::check`]).
fn check_csrf(req: &web_sys::Request, cookie: &PortalCredential) -> Result<(), Error> {
    let headers = req.headers();
    let get = |name: &str| headers.get(name).ok().flatten();
    let own = origin_of(&req.url());
    csrf::check(
        cookie,
        get(csrf::HEADER).as_deref(),
        get("Sec-Fetch-Site").as_deref(),
        get("Origin").as_deref(),
        &own,
    )
    .map_err(|why| Error::CsrfFailed {
        reason: why.describe(),
    })
}

/// `POST {prefix}/logout`: ends the session (with the page's CSRF token)
/// and forgets the cookie.
async fn logout(
    req: &web_sys::Request,
    env: &Env,
    calls: &Calls,
    gateway: &isolate::Gateway,
    prefix: &str,
    dev: bool,
) -> Result<(web_sys::Response, &'static str), Error> {
    if let Some(cookie) = session_cookie(req, gateway) {
        check_csrf(req, &cookie)?;
        call(
            env,
            calls,
            cookie.account(),
            &PortalCall::SignOut {
                account: cookie.account().to_owned(),
                cookie: cookie.expose(),
            },
        )
        .await?;
    }
    let response =
        respond::json(204, "application/json", "").map_err(|_| Error::StorageUnavailable)?;
    response
        .headers()
        .set("Set-Cookie", &cookie::clear(prefix, dev))
        .map_err(|_| Error::StorageUnavailable)?;
    Ok((response, "portal_logout"))
}

/// `{prefix}/api/…`: the management API of the session's account,
/// restricted to its scope.
async fn page_api(
    req: &web_sys::Request,
    method: &str,
    path: &str,
    query: Option<&str>,
    env: &Env,
    calls: &Calls,
    gateway: &isolate::Gateway,
) -> Result<(web_sys::Response, &'static str), Error> {
    let config = &gateway.config;
    let dev = isolate::dev_mode(env);
    let cookie = session_cookie(req, gateway).ok_or(Error::Unauthorized)?;
    if !matches!(method, "GET" | "HEAD") {
        check_csrf(req, &cookie)?;
    }
    let op = if path == "/api/session" && method == "GET" {
        None
    } else {
        let rest = path.strip_prefix("/api").unwrap_or(path);
        if !(rest == "/keys" || rest.starts_with("/keys/") || rest == "/events") {
            return Err(Error::NotFound);
        }
        let body = super::management::read_body(req).await?;
        let content_type = req.headers().get("Content-Type").ok().flatten();
        let managed = format!("/accounts/{}{rest}", cookie.account());
        let incoming = request::Incoming {
            method,
            path: &managed,
            query,
            content_type: content_type.as_deref(),
            if_match: None,
            body: &body,
        };
        // The page's own allow-list: its bodies cannot name an
        // operator-only field.
        let op = crate::portal::op::parse(config, &incoming, now(), dev)?;
        // A retried create or rotate with the same Idempotency-Key gets
        // the first answer; the object keeps it for the session's holder
        // and products only.
        let idempotency_key = req
            .headers()
            .get(crate::manage::idempotency::HEADER)
            .ok()
            .flatten();
        let token = isolate::admin_token(env)?;
        let pending = crate::manage::idempotency::prepare(
            idempotency_key.as_deref(),
            &token,
            method,
            &format!("portal:{path}"),
            &body,
        )?;
        Some(match pending {
            Some(pending) => PageOp::Once {
                pending,
                then: Box::new(op),
            },
            None => op,
        })
    };
    let answer = call(
        env,
        calls,
        cookie.account(),
        &PortalCall::Act {
            account: cookie.account().to_owned(),
            cookie: cookie.expose(),
            op,
        },
    )
    .await?;
    let content_type = if answer.status >= 400 {
        PROBLEM_CONTENT_TYPE
    } else {
        "application/json"
    };
    // A spent change budget says when to retry (`retry_after` in the
    // object's problem).
    let retry_after = (answer.status == 429)
        .then(|| serde_json::from_str::<serde_json::Value>(&answer.body).ok())
        .flatten()
        .and_then(|v| v.get("retry_after").and_then(serde_json::Value::as_u64))
        .map(|seconds| ("Retry-After", seconds.max(1).to_string()));
    let response = response(
        answer.status,
        content_type,
        &answer.body,
        retry_after.as_slice(),
    )
    .map_err(|_| Error::StorageUnavailable)?;
    Ok((
        response,
        if answer.status >= 400 {
            "portal_refused"
        } else {
            "portal_api"
        },
    ))
}

/// The admin endpoints, under the management prefix:
/// `POST|GET /accounts/{a}/portal-sessions`,
/// `DELETE /accounts/{a}/portal-sessions/{id}`. `None` for any other path.
pub(super) fn admin_route(path: &str) -> Option<(String, Option<String>)> {
    let rest = path.strip_prefix("/accounts/")?;
    let (account, rest) = rest.split_once('/')?;
    let session = rest.strip_prefix("portal-sessions")?;
    let account = crate::manage::ids::account(account).ok()?;
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
    let gateway = isolate::gateway(env)?;
    let dev = isolate::dev_mode(env);
    match (method, session) {
        ("POST", None) => {
            let content_type = req.headers().get("Content-Type").ok().flatten();
            let body = request::json_body(content_type.as_deref(), body)?;
            let grant = crate::manage::portal_session(&gateway.config, body, dev)?;
            // From configuration, never from this request's Host; checked
            // before a session is stored.
            let base = crate::portal::link::base(&gateway.config, dev, &origin_of(&req.url()))?;
            let id = session_id(random::<16>()?);
            let token = PortalCredential::new(
                Kind::Token,
                account,
                &id,
                random::<32>()?,
                &gateway.key_secret,
            )
            .ok_or(Error::StorageUnavailable)?;
            let row = SessionRow::new(id, &grant, &token, now());
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
