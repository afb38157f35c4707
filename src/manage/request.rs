//! Management requests: method, path, query and body into an [`Op`].
//!
//! Invariant: ids are checked against [`super::ids`] and the body against
//! the body rules (`body.rs`) before an [`Op`] exists, so the Durable Object is never
//! asked anything malformed. Authentication is the edge's job and comes
//! first; this module assumes it passed.

use super::body;
use super::ids;
use super::op::{KeyStatus, Op};
use super::BODY_LIMIT;
use crate::config::Config;
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

/// Parses a request to `path`, the part after the management prefix.
/// `dev` allows `http://localhost` webhooks.
pub fn parse(
    config: &Config,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
    now: i64,
    dev: bool,
) -> Result<Request, Error> {
    if body.len() > BODY_LIMIT {
        return Err(Error::BodyTooLarge { limit: BODY_LIMIT });
    }
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let (allow, account, rest) = match segments.as_slice() {
        ["openapi.json"] => {
            return allowed(method, "GET", || Ok(Request::OpenApi));
        }
        ["accounts", account] => ("GET, PATCH", *account, None),
        ["accounts", account, "keys"] => ("GET, POST", *account, Some(("keys", None))),
        ["accounts", account, "keys", id] => {
            ("GET, PATCH, DELETE", *account, Some(("key", Some(*id))))
        }
        ["accounts", account, "keys", id, "rotate"] => {
            ("POST", *account, Some(("rotate", Some(*id))))
        }
        ["accounts", account, "events"] => ("GET", *account, Some(("events", None))),
        _ => return Err(Error::NotFound),
    };
    allowed(method, allow, || {
        let account = ids::account(account)?.to_owned();
        let id = match rest {
            Some((_, Some(id))) => Some(ids::key(id)?.to_owned()),
            _ => None,
        };
        let query = Query::parse(query);
        let op = match (rest.map(|(what, _)| what), method, id) {
            (None, "GET", _) => query.none().map(|()| Op::GetAccount)?,
            (None, _, _) => Op::SetStatus {
                status: body::set_status(body)?,
            },
            (Some("keys"), "GET", _) => {
                let status = query
                    .get("status")
                    .map(|s| {
                        KeyStatus::parse(s).ok_or_else(|| {
                            invalid_query("status", "must be active, expired or revoked")
                        })
                    })
                    .transpose()?;
                let product = query.get("product").map(str::to_owned);
                if let Some(p) = &product {
                    if config.product(p).is_none() {
                        return Err(invalid_query("product", "is not a configured product id"));
                    }
                }
                query.only(&["status", "product"])?;
                Op::ListKeys { status, product }
            }
            (Some("keys"), _, _) => Op::CreateKey(body::create(config, body, now, dev)?),
            (Some("key"), "GET", Some(id)) => query.none().map(|()| Op::GetKey { id })?,
            (Some("key"), "PATCH", Some(id)) => {
                let (name, scopes) = body::update(body)?;
                Op::UpdateKey { id, name, scopes }
            }
            (Some("key"), _, Some(id)) => Op::RevokeKey { id },
            (Some("rotate"), _, Some(id)) => Op::RotateKey {
                id,
                grace_seconds: body::rotate(body)?,
            },
            (Some("events"), _, _) => {
                let limit = match query.get("limit") {
                    None => DEFAULT_EVENTS_PAGE,
                    Some(text) => text
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_EVENTS_PAGE).contains(n))
                        .ok_or_else(|| {
                            invalid_query("limit", &format!("must be 1 to {MAX_EVENTS_PAGE}"))
                        })?,
                };
                let before = query
                    .get("cursor")
                    .map(|text| {
                        text.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                            invalid_query("cursor", "must be a next_cursor from an earlier page")
                        })
                    })
                    .transpose()?;
                query.only(&["limit", "cursor"])?;
                Op::ListEvents { limit, before }
            }
            _ => return Err(Error::NotFound),
        };
        Ok(Request::Account { account, op })
    })
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

fn invalid_query(field: &str, reason: &str) -> Error {
    Error::InvalidField {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Decoded query parameters.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Query {
        Query(
            query
                .map(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Refuses parameters outside `known`, so a typo is not ignored.
    fn only(&self, known: &[&str]) -> Result<(), Error> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            // `?=x`: there is no name to report, so name the query itself.
            Some((name, _)) if name.is_empty() => Err(invalid_query(
                "query",
                "has a parameter without a name; send name=value",
            )),
            Some((name, _)) => Err(invalid_query(
                name,
                &if known.is_empty() {
                    "is not a query parameter of this endpoint".to_owned()
                } else {
                    format!("is not a query parameter here (use {})", known.join(", "))
                },
            )),
            None => Ok(()),
        }
    }

    fn none(&self) -> Result<(), Error> {
        self.only(&[])
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
