//! The webhook operations of the management API: account-level endpoints
//! (create, list, delete), relayed product events, a key's deliveries and
//! a manual retry; and what an attempt's outcome changes ([`settle`]).
//!
//! Pure: like [`crate::manage::account`], each operation is decided into a
//! [`Plan`] over the ledgers, with time and random bytes passed in.
//! Invariants: an endpoint's secret is shown once, in the reply to its
//! creation, and never listed; a relayed event goes only to the key's own
//! webhook, signed with the key's secret, and can never pose as one of
//! keygate's events ([`event::RelayedEvent`]); a delivery is listed and
//! retried only through the key whose webhook it went to.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::delivery::{Effect, Response, Status};
use super::event::{self, Event, Hook, RelayedEvent};
use super::outbox::{
    self, endpoint_id, DisabledHook, EndpointRow, HookChange, HookLedger, OutboxRow,
    PreviousSecret, Seed, MAX_ENDPOINTS,
};
use super::outbox::{Change, Plan};
use super::sign::ROTATION_OVERLAP_SECONDS;
use crate::config::Config;
use crate::ledger::{EventKind, EventRow, KeyRow, Ledger, Reply};
use crate::secret::WebhookSecret;
use crate::time::format_rfc3339;
use crate::Error;

/// Most deliveries per page.
pub const MAX_DELIVERIES_PAGE: u32 = 100;
/// Deliveries per page when `limit` is not given.
pub const DEFAULT_DELIVERIES_PAGE: u32 = 50;

/// A webhook operation on one account (travels inside
/// [`crate::manage::Op::Hook`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum HookOp {
    /// Register an account-level endpoint.
    CreateEndpoint {
        /// Already checked ([`super::target`]).
        url: String,
        /// Already checked ([`event::parse_subscription`]); empty: all.
        event_types: Vec<String>,
    },
    /// The account's endpoints.
    ListEndpoints,
    /// Remove an endpoint.
    DeleteEndpoint {
        /// Endpoint id.
        id: String,
    },
    /// Deliver a product event to a key's webhook.
    Relay {
        /// Key id.
        key_id: String,
        /// Already checked ([`event::check_relayed_type`]).
        kind: String,
        /// Already checked: a JSON object within the size limit.
        data: Map<String, Value>,
    },
    /// The deliveries to a key's webhook, newest first.
    ListDeliveries {
        /// Key id.
        key_id: String,
        /// 1 to [`MAX_DELIVERIES_PAGE`].
        limit: u32,
        /// Only deliveries older than this sequence number.
        before: Option<i64>,
    },
    /// Give a key's webhook a new secret; the old one keeps signing for
    /// [`ROTATION_OVERLAP_SECONDS`].
    RotateSecret {
        /// Key id.
        key_id: String,
    },
    /// Attempt one delivery again now.
    RetryDelivery {
        /// Key id.
        key_id: String,
        /// Delivery id.
        id: String,
    },
}

impl HookOp {
    /// Whether it only reads.
    pub fn is_read(&self) -> bool {
        matches!(self, HookOp::ListEndpoints | HookOp::ListDeliveries { .. })
    }
}

fn reply(status: u16, body: Value, changes: Vec<Change>) -> Plan {
    Plan {
        index: Vec::new(),
        changes,
        reply: Ok(Reply { status, body }),
    }
}

fn unavailable(why: impl Into<String>) -> Error {
    Error::WebhookUnavailable { why: why.into() }
}

/// Decides `op` for the account whose ledgers these are, at `now_ms`.
pub fn plan(
    config: &Config,
    ledger: &dyn Ledger,
    hooks: &dyn HookLedger,
    op: HookOp,
    now_ms: i64,
    seed: &mut Seed,
) -> Plan {
    decide(config, ledger, hooks, op, now_ms, seed).unwrap_or_else(Plan::refuse)
}

fn decide(
    config: &Config,
    ledger: &dyn Ledger,
    hooks: &dyn HookLedger,
    op: HookOp,
    now_ms: i64,
    seed: &mut Seed,
) -> Result<Plan, Error> {
    ledger.account()?.ok_or(Error::AccountNotFound)?;
    let now = now_ms.div_euclid(1_000);
    match op {
        HookOp::CreateEndpoint { url, event_types } => {
            let endpoints = hooks.endpoints()?;
            if endpoints.len() >= MAX_ENDPOINTS {
                return Err(unavailable(format!(
                    "the account already has {MAX_ENDPOINTS} endpoints, the most it may have; \
                     delete one first"
                )));
            }
            let row = EndpointRow {
                id: endpoint_id(&seed.draw()),
                url,
                event_types,
                secret: WebhookSecret::from_random(&seed.draw()),
                created_at: now,
            };
            let mut body = endpoint_view(&row, None);
            if let Value::Object(members) = &mut body {
                members.insert("secret".into(), row.secret.expose().into());
            }
            let change = Change::Hook(HookChange::PutEndpoint(row));
            Ok(reply(201, body, vec![change]))
        }
        HookOp::ListEndpoints => {
            let disabled = hooks.disabled()?;
            let list: Vec<Value> = hooks
                .endpoints()?
                .iter()
                .map(|e| {
                    let hook = Hook::Endpoint(e.id.clone());
                    endpoint_view(e, disabled.iter().find(|d| d.hook == hook))
                })
                .collect();
            Ok(reply(200, json!({ "webhooks": list }), Vec::new()))
        }
        HookOp::DeleteEndpoint { id } => {
            if !hooks.endpoints()?.iter().any(|e| e.id == id) {
                return Err(Error::WebhookNotFound);
            }
            let hook = Hook::Endpoint(id.clone());
            let mut changes = vec![Change::Hook(HookChange::DeleteEndpoint(id))];
            for row in hooks.pending_for(&hook)? {
                let delivery = row.delivery.clone().hook_disabled();
                changes.push(Change::Hook(HookChange::Outbox(OutboxRow {
                    delivery,
                    ..row
                })));
            }
            Ok(reply(204, Value::Null, changes))
        }
        HookOp::Relay { key_id, kind, data } => {
            let key = key_with_webhook(ledger, hooks, &key_id)?;
            let relayed = RelayedEvent::new(&kind, Value::Object(data))?;
            let event = Event::relayed(seed.event_id(), relayed, now);
            let url = key.webhook_url.clone().unwrap_or_default();
            let schedule = outbox::schedule(config);
            let row = OutboxRow::new(
                &event,
                Hook::Key(key.id.clone()),
                &url,
                Some(key.id),
                &schedule,
                now_ms,
                seed,
            );
            let body = delivery_view(&row);
            Ok(reply(
                202,
                body,
                vec![Change::Hook(HookChange::Outbox(row))],
            ))
        }
        HookOp::ListDeliveries {
            key_id,
            limit,
            before,
        } => {
            ledger.key(&key_id)?.ok_or(Error::KeyNotFound)?;
            let hook = Hook::Key(key_id);
            let mut rows = hooks.to_hook(&hook, before, limit.saturating_add(1))?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let next = more
                .then(|| rows.last().map(|r| r.seq.to_string()))
                .flatten();
            let list: Vec<Value> = rows.iter().map(delivery_view).collect();
            Ok(reply(
                200,
                json!({ "deliveries": list, "next_cursor": next }),
                Vec::new(),
            ))
        }
        HookOp::RotateSecret { key_id } => {
            let mut key = ledger.key(&key_id)?.ok_or(Error::KeyNotFound)?;
            let (Some(_), Some(old)) = (&key.webhook_url, key.webhook_secret.clone()) else {
                return Err(unavailable(
                    "the key has no webhook_url, so it has no webhook secret to rotate",
                ));
            };
            let new = WebhookSecret::from_random(&seed.draw());
            let until = now.saturating_add(ROTATION_OVERLAP_SECONDS);
            key.webhook_secret = Some(new.clone());
            let body = json!({
                "webhook_secret": new.expose(),
                "previous_secret_expires_at": format_rfc3339(until),
            });
            let changes = vec![
                Change::PutKey(key),
                Change::Hook(HookChange::PreviousSecret(PreviousSecret {
                    key_id,
                    secret: old,
                    until,
                })),
            ];
            Ok(reply(200, body, changes))
        }
        HookOp::RetryDelivery { key_id, id } => {
            ledger.key(&key_id)?.ok_or(Error::KeyNotFound)?;
            let mut row = hooks
                .delivery(&id)?
                .filter(|r| r.delivery.hook == Hook::Key(key_id.clone()))
                .ok_or(Error::WebhookNotFound)?;
            if !row.delivery.retry_now(now_ms) {
                return Err(unavailable(format!(
                    "the delivery is {}; only a pending or failed delivery is retried",
                    row.delivery.status.as_str()
                )));
            }
            let body = delivery_view(&row);
            Ok(reply(
                202,
                body,
                vec![Change::Hook(HookChange::Outbox(row))],
            ))
        }
    }
}

/// The key, if its webhook can receive a relayed event.
fn key_with_webhook(
    ledger: &dyn Ledger,
    hooks: &dyn HookLedger,
    id: &str,
) -> Result<KeyRow, Error> {
    let key = ledger.key(id)?.ok_or(Error::KeyNotFound)?;
    if key.webhook_url.is_none() || key.webhook_secret.is_none() {
        return Err(unavailable(
            "the key has no webhook_url; only a key created with one can receive events",
        ));
    }
    let hook = Hook::Key(key.id.clone());
    if let Some(d) = hooks.disabled()?.iter().find(|d| d.hook == hook) {
        return Err(unavailable(format!(
            "its webhook answered {} at {} and was disabled",
            d.status,
            format_rfc3339(d.at)
        )));
    }
    Ok(key)
}

fn endpoint_view(row: &EndpointRow, disabled: Option<&DisabledHook>) -> Value {
    json!({
        "id": row.id,
        "url": row.url,
        "event_types": row.event_types,
        "created_at": format_rfc3339(row.created_at),
        "disabled": disabled.map(|d| json!({ "at": format_rfc3339(d.at), "status": d.status })),
    })
}

fn at_ms(ms: i64) -> String {
    format_rfc3339(ms.div_euclid(1_000))
}

/// A delivery as the deliveries list shows it: never its body's secrets
/// (it has none) nor the signature.
pub fn delivery_view(row: &OutboxRow) -> Value {
    let d = &row.delivery;
    let log: Vec<Value> = d
        .log
        .iter()
        .map(|a| {
            json!({
                "at": at_ms(a.at_ms),
                "status": a.status,
                "latency_ms": a.latency_ms,
                "error": a.error,
            })
        })
        .collect();
    json!({
        "id": d.id,
        "event_id": d.event_id,
        "type": row.kind,
        "url": row.url,
        "status": d.status.as_str(),
        "attempts": d.attempts,
        "next_attempt_at": d.next_at_ms.map(at_ms),
        "created_at": at_ms(row.created_at_ms),
        "log": log,
    })
}

/// What one attempt of `row` changes: the updated row and, for a 410, the
/// webhook disabled, its other pending deliveries stopped, and a
/// `webhook.disabled` event recorded in the audit log and sent to the
/// account's endpoints.
#[allow(clippy::too_many_arguments)]
pub fn settle(
    config: &Config,
    hooks: &dyn HookLedger,
    account: &str,
    row: OutboxRow,
    started_ms: i64,
    latency_ms: u32,
    response: &Response,
    seed: &mut Seed,
) -> Result<Vec<Change>, Error> {
    let schedule = outbox::schedule(config);
    let (delivery, effect) =
        row.delivery
            .clone()
            .record(started_ms, latency_ms, response, &schedule, seed.jitter());
    let hook = delivery.hook.clone();
    let url = row.url.clone();
    let mut changes = vec![Change::Hook(HookChange::Outbox(OutboxRow {
        delivery,
        ..row
    }))];
    if effect == Effect::DisableHook {
        let now_ms = started_ms.saturating_add(i64::from(latency_ms));
        let status = match response {
            Response::Status(code) => *code,
            _ => 410,
        };
        changes.push(Change::Hook(HookChange::Disable(DisabledHook {
            hook: hook.clone(),
            url: url.clone(),
            status,
            at: now_ms.div_euclid(1_000),
        })));
        for other in hooks.pending_for(&hook)? {
            if changes.iter().any(|c| {
                matches!(c, Change::Hook(HookChange::Outbox(o)) if o.delivery.id == other.delivery.id)
            }) {
                continue;
            }
            let delivery = other.delivery.clone().hook_disabled();
            changes.push(Change::Hook(HookChange::Outbox(OutboxRow {
                delivery,
                ..other
            })));
        }
        changes.extend(outbox::disabled_event(
            config, hooks, account, &hook, &url, status, now_ms, seed,
        )?);
        // And in the audit log: the key's, for a key's own webhook.
        changes.push(Change::AppendEvent(EventRow {
            seq: 0,
            kind: EventKind::WebhookDisabled,
            at: now_ms.div_euclid(1_000),
            key_id: match &hook {
                Hook::Key(id) => Some(id.clone()),
                Hook::Endpoint(_) => None,
            },
            product: None,
            data: json!({ "webhook": hook, "url": url, "status": status }),
        }));
    }
    Ok(changes)
}

/// A row that cannot be sent because its webhook is gone (an endpoint
/// deleted): it stops as [`Status::Disabled`].
pub fn orphaned(row: OutboxRow) -> Change {
    let delivery = row.delivery.clone().hook_disabled();
    Change::Hook(HookChange::Outbox(OutboxRow { delivery, ..row }))
}

/// Whether `status` is final.
pub fn is_final(status: Status) -> bool {
    status != Status::Pending
}

/// The events a new endpoint may subscribe to, checked.
pub fn subscription(names: &[String]) -> Result<Vec<String>, Error> {
    Ok(event::parse_subscription(names)?
        .into_iter()
        .map(|t| t.as_str().to_owned())
        .collect())
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
