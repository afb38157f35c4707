//! Management requests: method, path, query and body into an [`Op`].
//!
//! Invariant: ids are checked against [`super::ids`] and the body against
//! the body rules (`body.rs`) before an [`Op`] exists, so the Durable Object is never
//! asked anything malformed. Authentication is the edge's job and comes
//! first; this module assumes it passed.

use super::body;
use super::etag::IfMatch;
use super::listing::{KeyCursor, DEFAULT_KEYS_PAGE, MAX_KEYS_PAGE};
use super::op::{KeyStatus, Op};
use super::BODY_LIMIT;
use crate::config::Config;
use crate::key::WellFormedKey;
use crate::ledger::ids;
use crate::Error;

/// Most events per page.
pub const MAX_EVENTS_PAGE: u32 = 100;
/// Events per page when `limit` is not given.
pub const DEFAULT_EVENTS_PAGE: u32 = 50;

/// A parsed management request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `GET /openapi.json`.
    OpenApi,
    /// `POST /keys/lookup`: the key whose value this is, already well
    /// formed (its tag is checked by the edge before any read).
    Lookup(WellFormedKey),
    /// `POST /accounts/{account}/keys/import`: the parsed items, whose
    /// plaintexts the edge turns into hashes ([`super::import::resolve`]).
    Import {
        /// The account id, checked.
        account: String,
        /// The items.
        parsed: body::import::Parsed,
    },
    /// An operation on one account.
    Account {
        /// The account id, checked.
        account: String,
        /// What to do.
        op: Op,
    },
}

/// Whether `path` (under the management prefix) is the public OpenAPI
/// document, which needs no token.
pub fn is_openapi(method: &str, path: &str) -> bool {
    path == "/openapi.json" && matches!(method, "GET" | "HEAD")
}

/// One management request as the edge received it (after authentication).
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The method, upper case.
    pub method: &'a str,
    /// The canonical path after the management prefix, still
    /// percent-encoded (ids are decoded here).
    pub path: &'a str,
    /// The raw query, without `?`.
    pub query: Option<&'a str>,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `If-Match` header: a change (PATCH, DELETE, rotate) goes ahead
    /// only if the resource still has one of its tags.
    pub if_match: Option<&'a str>,
    /// The body, at most [`BODY_LIMIT`] bytes.
    pub body: &'a [u8],
}

/// Parses `req`. `dev` allows `http://localhost` webhooks.
pub fn parse(config: &Config, req: &Incoming<'_>, now: i64, dev: bool) -> Result<Request, Error> {
    let Incoming {
        method,
        path,
        query,
        body,
        content_type,
        if_match,
    } = *req;
    let json = || json_body(content_type, body);
    let limit = body_limit(path);
    if body.len() > limit {
        return Err(Error::BodyTooLarge { limit });
    }
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    if let Some(request) = hooks::parse(config, req, &segments, dev) {
        return request;
    }
    let (allow, account, rest) = match segments.as_slice() {
        ["openapi.json"] => {
            return allowed(method, "GET, HEAD", || Ok(Request::OpenApi));
        }
        ["keys", "lookup"] => {
            return allowed(method, "POST", || {
                Query::parse(query)?.only(&[], "")?;
                Ok(Request::Lookup(super::lookup::key(json_body(
                    content_type,
                    body,
                )?)?))
            });
        }
        ["accounts", account, "keys", "import"] => {
            return allowed(method, "POST", || {
                let account = ids::account(account)?;
                Query::parse(query)?.only(&[], "")?;
                let parsed = body::import::import(config, json_body(content_type, body)?, now)?;
                Ok(Request::Import { account, parsed })
            });
        }
        ["accounts", account] => ("GET, HEAD, PATCH", *account, None),
        ["accounts", account, "keys"] => ("GET, HEAD, POST", *account, Some(("keys", None))),
        ["accounts", account, "keys", id] => (
            "GET, HEAD, PATCH, DELETE",
            *account,
            Some(("key", Some(*id))),
        ),
        ["accounts", account, "keys", id, "rotate"] => {
            ("POST", *account, Some(("rotate", Some(*id))))
        }
        ["accounts", account, "events"] => ("GET, HEAD", *account, Some(("events", None))),
        _ => return Err(Error::NotFound),
    };
    // HEAD is GET without the body (RFC 9110 §9.3.2); the edge drops it.
    let method = if method == "HEAD" { "GET" } else { method };
    allowed(method, allow, || {
        let account = ids::account(account)?;
        let id = match rest {
            Some((_, Some(id))) => Some(ids::key(id)?),
            _ => None,
        };
        let query = Query::parse(query)?;
        let op = match (rest.map(|(what, _)| what), method, id) {
            (None, "GET", _) => query.only(&[], "").map(|()| Op::GetAccount)?,
            (None, _, _) => {
                query.only(&[], "")?;
                Op::SetStatus {
                    status: body::set_status(json()?)?,
                }
            }
            (Some("keys"), "GET", _) => {
                query.only(
                    &["status", "product", "owner_id", "limit", "cursor"],
                    "status, product, owner_id, limit, cursor",
                )?;
                let status = query
                    .get("status")?
                    .map(|s| {
                        KeyStatus::parse(s).ok_or_else(|| {
                            invalid_query("status", "must be active, expired or revoked")
                        })
                    })
                    .transpose()?;
                let product = query.get("product")?.map(str::to_owned);
                if let Some(p) = &product {
                    if config.product(p).is_none() {
                        return Err(invalid_query("product", "is not a configured product id"));
                    }
                }
                let owner_id = query.get("owner_id")?.map(str::to_owned);
                if let Some(o) = &owner_id {
                    body::owner_id(o, "owner_id")?;
                }
                let limit = page_limit(&query, DEFAULT_KEYS_PAGE, MAX_KEYS_PAGE)?;
                let after = query
                    .get("cursor")?
                    .map(|text| {
                        KeyCursor::parse(text).ok_or_else(|| {
                            invalid_query("cursor", "must be a next_cursor from an earlier page")
                        })
                    })
                    .transpose()?;
                Op::ListKeys {
                    status,
                    product,
                    owner_id,
                    limit,
                    after,
                }
            }
            (Some("keys"), _, _) => {
                query.only(&[], "")?;
                Op::CreateKey(body::create(config, json()?, now, dev)?)
            }
            (Some("key"), "GET", Some(id)) => query.only(&[], "").map(|()| Op::GetKey { id })?,
            (Some("key"), "PATCH", Some(id)) => {
                query.only(&[], "")?;
                let update = body::update(json()?, now)?;
                Op::UpdateKey {
                    id,
                    name: update.name,
                    scopes: update.scopes,
                    expires_at: update.expires_at,
                    enabled: update.enabled,
                    meta: update.meta,
                    allowed_ips: update.allowed_ips,
                }
            }
            (Some("key"), _, Some(id)) => query.only(&[], "").map(|()| Op::RevokeKey { id })?,
            (Some("rotate"), _, Some(id)) => {
                query.only(&[], "")?;
                Op::RotateKey {
                    id,
                    grace_seconds: body::rotate(json()?)?,
                }
            }
            (Some("events"), _, _) => {
                query.only(&["limit", "cursor"], "limit, cursor")?;
                let limit = page_limit(&query, DEFAULT_EVENTS_PAGE, MAX_EVENTS_PAGE)?;
                let before = query
                    .get("cursor")?
                    .map(|text| {
                        let digits = text.len() <= 18
                            && !text.starts_with('0')
                            && text.bytes().all(|b| b.is_ascii_digit());
                        text.parse::<i64>()
                            .ok()
                            .filter(|n| digits && *n > 0)
                            .ok_or_else(|| {
                                invalid_query(
                                    "cursor",
                                    "must be a next_cursor from an earlier page",
                                )
                            })
                    })
                    .transpose()?;
                Op::ListEvents { limit, before }
            }
            _ => return Err(Error::NotFound),
        };
        let conditional = matches!(
            op,
            Op::UpdateKey { .. }
                | Op::RevokeKey { .. }
                | Op::RotateKey { .. }
                | Op::SetStatus { .. }
        );
        // An empty `If-Match` is no condition: proxies drop empty fields,
        // so a client cannot count on it arriving either way.
        let op = match if_match.filter(|h| !h.trim().is_empty()) {
            Some(header) if conditional => Op::IfMatch {
                if_match: IfMatch::parse(header)?,
                then: Box::new(op),
            },
            _ => op,
        };
        Ok(Request::Account { account, op })
    })
}

/// The largest body the route at `path` takes: [`super::import::IMPORT_BODY_LIMIT`]
/// for an import, else [`BODY_LIMIT`].
pub fn body_limit(path: &str) -> usize {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    match segments.as_slice() {
        ["accounts", _, "keys", "import"] => super::import::IMPORT_BODY_LIMIT,
        _ => BODY_LIMIT,
    }
}

/// `400 unknown_parameter` for any query parameter: for operations that
/// take none.
pub fn no_query(query: Option<&str>) -> Result<(), Error> {
    Query::parse(query)?.only(&[], "")
}

/// The body, if it is declared `application/json` (parameters such as
/// `charset` aside); else 415, so a form or text body is never read as JSON.
/// `body` if it was sent as `application/json`, else 415.
pub fn json_body<'b>(content_type: Option<&str>, body: &'b [u8]) -> Result<&'b [u8], Error> {
    crate::http::json_media_type(content_type)?;
    Ok(body)
}

/// Runs `then` if `method` is one of `allow`, else 405.
fn allowed(
    method: &str,
    allow: &'static str,
    then: impl FnOnce() -> Result<Request, Error>,
) -> Result<Request, Error> {
    if allow.split(", ").any(|m| m == method) {
        then()
    } else {
        Err(Error::MethodNotAllowed { allow })
    }
}

/// The `limit` query parameter: 1 to `max`, `default` when not given.
fn page_limit(query: &Query, default: u32, max: u32) -> Result<u32, Error> {
    match query.get("limit")? {
        None => Ok(default),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| invalid_query("limit", &format!("must be 1 to {max}"))),
    }
}

fn invalid_query(field: &str, reason: &str) -> Error {
    Error::InvalidField {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Decoded query parameters.
struct Query(Vec<(String, String)>);

impl Query {
    /// Decodes `query`; a name or value that is not UTF-8 once decoded is
    /// refused rather than replaced. The refusal names the parameter, or
    /// `query` when there is no name to give (`?=%FF`, `?%FF=1`).
    fn parse(query: Option<&str>) -> Result<Query, Error> {
        const NOT_UTF8: &str = "must be UTF-8 once percent-decoded";
        let Some(query) = query.filter(|q| !q.is_empty()) else {
            return Ok(Query(Vec::new()));
        };
        let mut pairs = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = String::from_utf8(ids::percent_decode(name, true)).map_err(|_| {
                invalid_query(
                    "query",
                    "has a parameter name that is not UTF-8 once percent-decoded",
                )
            })?;
            let value = String::from_utf8(ids::percent_decode(value, true)).map_err(|_| {
                invalid_query(if name.is_empty() { "query" } else { &name }, NOT_UTF8)
            })?;
            pairs.push((name, value));
        }
        Ok(Query(pairs))
    }

    /// The value of `name`, if given: once, and not empty.
    fn get(&self, name: &str) -> Result<Option<&str>, Error> {
        let mut found = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(invalid_query(name, "is given more than once")),
            (Some(v), None) if v.is_empty() => Err(invalid_query(
                name,
                "is empty; give a value or leave the parameter out",
            )),
            (Some(v), None) => Ok(Some(v.as_str())),
        }
    }

    /// Refuses parameters outside `known` (listed as `list`), so a typo
    /// or an unsupported option (`?force=true`) is never ignored.
    fn only(&self, known: &[&str], list: &'static str) -> Result<(), Error> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            // `?=x`: there is no name to report, so name the query itself.
            Some((name, _)) if name.is_empty() => Err(invalid_query(
                "query",
                "has a parameter without a name; send name=value",
            )),
            Some((name, _)) => Err(Error::UnknownParameter {
                name: name.clone(),
                known: list,
            }),
            None => Ok(()),
        }
    }
}

#[path = "request_hooks.rs"]
mod hooks;

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
