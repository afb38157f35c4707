//! The webhook routes of the management API, parsed into
//! [`Op::Hook`]s: account-level endpoints, relayed events, a key's
//! deliveries and a manual retry.
//!
//! Invariant, as for every route: ids, query and body are checked here,
//! so the account object is never asked anything malformed; an endpoint
//! URL passes [`crate::webhook::target`], the rule every send checks again.

use serde::Deserialize;

use super::{allowed, invalid_query, json_body, Incoming, Query, Request};
use crate::config::Config;
use crate::ledger::ids;
use crate::manage::body::{decode, invalid};
use crate::manage::op::Op;
use crate::webhook::api::{self, HookOp, DEFAULT_DELIVERIES_PAGE, MAX_DELIVERIES_PAGE};
use crate::webhook::event::RelayedEvent;
use crate::webhook::target::Target;
use crate::Error;

/// The request, if `segments` is one of the webhook routes.
pub(super) fn parse(
    _config: &Config,
    req: &Incoming<'_>,
    segments: &[&str],
    dev: bool,
) -> Option<Result<Request, Error>> {
    let (allow, account) = match segments {
        ["accounts", account, "webhooks"] => ("GET, HEAD, POST", *account),
        ["accounts", account, "webhooks", _] => ("DELETE", *account),
        ["accounts", account, "keys", _, "events"] => ("POST", *account),
        ["accounts", account, "keys", _, "deliveries"] => ("GET, HEAD", *account),
        ["accounts", account, "keys", _, "webhook-secret", "rotate"] => ("POST", *account),
        ["accounts", account, "keys", _, "deliveries", _, "retry"] => ("POST", *account),
        _ => return None,
    };
    let method = if req.method == "HEAD" {
        "GET"
    } else {
        req.method
    };
    Some(allowed(method, allow, || {
        let account = ids::account(account)?;
        let query = Query::parse(req.query)?;
        let json = || json_body(req.content_type, req.body);
        let call = match (segments, method) {
            (["accounts", _, "webhooks"], "GET") => {
                query.only(&[], "")?;
                HookOp::ListEndpoints
            }
            (["accounts", _, "webhooks"], _) => {
                query.only(&[], "")?;
                endpoint(json()?, dev)?
            }
            (["accounts", _, "webhooks", id], _) => {
                query.only(&[], "")?;
                HookOp::DeleteEndpoint {
                    id: hook_id(id, "whk_", "webhook_id")?,
                }
            }
            (["accounts", _, "keys", id, "events"], _) => {
                query.only(&[], "")?;
                relay(ids::key(id)?, json()?)?
            }
            (["accounts", _, "keys", id, "deliveries"], _) => {
                query.only(&["limit", "cursor"], "limit, cursor")?;
                let limit = match query.get("limit")? {
                    None => DEFAULT_DELIVERIES_PAGE,
                    Some(text) => text
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_DELIVERIES_PAGE).contains(n))
                        .ok_or_else(|| {
                            invalid_query("limit", &format!("must be 1 to {MAX_DELIVERIES_PAGE}"))
                        })?,
                };
                let before = query
                    .get("cursor")?
                    .map(|text| {
                        text.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                            invalid_query("cursor", "must be a next_cursor from an earlier page")
                        })
                    })
                    .transpose()?;
                HookOp::ListDeliveries {
                    key_id: ids::key(id)?,
                    limit,
                    before,
                }
            }
            (["accounts", _, "keys", id, "webhook-secret", "rotate"], _) => {
                query.only(&[], "")?;
                HookOp::RotateSecret {
                    key_id: ids::key(id)?,
                }
            }
            (["accounts", _, "keys", key, "deliveries", id, "retry"], _) => {
                query.only(&[], "")?;
                HookOp::RetryDelivery {
                    key_id: ids::key(key)?,
                    id: hook_id(id, "dlv_", "delivery_id")?,
                }
            }
            _ => return Err(Error::NotFound),
        };
        Ok(Request::Account {
            account,
            op: Op::Hook { call },
        })
    }))
}

/// An endpoint or delivery id: `prefix` and 24 lowercase hex digits.
fn hook_id(raw: &str, prefix: &str, field: &'static str) -> Result<String, Error> {
    let shape_ok = raw.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == 24
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if !shape_ok {
        return Err(Error::InvalidId {
            field,
            shape: if prefix == "whk_" {
                "whk_ and 24 lowercase hex digits"
            } else {
                "dlv_ and 24 lowercase hex digits"
            },
        });
    }
    Ok(raw.to_owned())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewEndpoint {
    url: String,
    #[serde(default)]
    event_types: Vec<String>,
}

fn endpoint(body: &[u8], dev: bool) -> Result<HookOp, Error> {
    let new: NewEndpoint = decode(body, "url, event_types", &[])?;
    let target = Target::parse(&new.url, dev).map_err(|why| {
        invalid(
            "url",
            format!(
                "must be an https URL to a public host (http://localhost in dev), but {}",
                why.describe()
            ),
        )
    })?;
    Ok(HookOp::CreateEndpoint {
        url: target.url().to_string(),
        event_types: api::subscription(&new.event_types)?,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Relayed {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<serde_json::Value>,
}

fn relay(key_id: String, body: &[u8]) -> Result<HookOp, Error> {
    let relayed: Relayed = decode(body, "type, data", &[])?;
    let data = relayed
        .data
        .unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new()));
    let checked = RelayedEvent::new(&relayed.kind, data.clone())?;
    let serde_json::Value::Object(data) = data else {
        return Err(invalid("data", "must be a JSON object"));
    };
    Ok(HookOp::Relay {
        key_id,
        kind: checked.kind().to_owned(),
        data,
    })
}
