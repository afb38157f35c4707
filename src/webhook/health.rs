//! A key's own webhook as the key's view shows it: working, failing or
//! disabled, and what its last attempt got.
//!
//! Pure: read through [`HookLedger`]. Invariants: a key without a
//! `webhook_url` has no health; `disabled` wins over everything (a 410
//! stopped all delivery to it); otherwise the state is the outcome of the
//! newest attempt among the webhook's [`RECENT`] newest deliveries, so one
//! success after failures reads `healthy` again; the view shows statuses,
//! times and bounded error texts, never a body or a secret.

use serde::Serialize;
use serde_json::Value;

use super::delivery::{Attempt, Status};
use super::event::Hook;
use super::outbox::HookLedger;
use crate::time::format_rfc3339;
use crate::Error;

/// How many of the webhook's newest deliveries the view looks at.
pub const RECENT: u32 = 50;

/// Where a key's webhook stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Nothing sent yet, or its newest attempt got a 2xx.
    Healthy,
    /// Its newest attempt failed: deliveries are being retried, or were
    /// given up (see `failed_deliveries`, and retry them by hand).
    Failing,
    /// It answered 410 Gone: nothing more is sent to it.
    Disabled,
}

/// The newest attempt, as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastAttempt {
    /// When it started (RFC 3339).
    pub at: String,
    /// The HTTP status, if one came back.
    pub status: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// The `webhook` member of a key's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Where it stands.
    pub state: State,
    /// The newest attempt, if any was made.
    pub last_attempt: Option<LastAttempt>,
    /// Deliveries waiting for a retry, among the [`RECENT`] newest.
    pub retrying_deliveries: u32,
    /// Deliveries whose every scheduled attempt failed, among the
    /// [`RECENT`] newest.
    pub failed_deliveries: u32,
    /// When a 410 disabled it (RFC 3339).
    pub disabled_at: Option<String>,
}

/// The health of the own webhook of the key `key_id`, which has one
/// ([`annotate`] asks only for such a key).
fn of(hooks: &dyn HookLedger, key_id: &str) -> Result<Option<Health>, Error> {
    let hook = Hook::Key(key_id.to_owned());
    let disabled = hooks.disabled()?.into_iter().find(|d| d.hook == hook);
    let rows = hooks.to_hook(&hook, None, RECENT)?;
    let newest: Option<&Attempt> = rows
        .iter()
        .flat_map(|r| r.delivery.log.iter())
        .max_by_key(|a| a.at_ms);
    let count = |status: Status, tried: bool| {
        let n = rows
            .iter()
            .filter(|r| r.delivery.status == status && (!tried || r.delivery.attempts > 0))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    let state = match (&disabled, newest) {
        (Some(_), _) => State::Disabled,
        (None, Some(a)) if a.error.is_some() => State::Failing,
        _ => State::Healthy,
    };
    Ok(Some(Health {
        state,
        last_attempt: newest.map(|a| LastAttempt {
            at: format_rfc3339(a.at_ms.div_euclid(1_000)),
            status: a.status,
            error: a.error.clone(),
        }),
        retrying_deliveries: count(Status::Pending, true),
        failed_deliveries: count(Status::Failed, false),
        disabled_at: disabled.map(|d| format_rfc3339(d.at)),
    }))
}

/// Adds `webhook` (the [`Health`] of its webhook, or `null`) to a key's
/// view, as `GET …/keys/{id}` answers it; the view's own `id` and
/// `webhook_url` say which webhook, so the key is not read again.
pub fn annotate(view: &mut Value, hooks: &dyn HookLedger) -> Result<(), Error> {
    let id = view.get("id").and_then(Value::as_str).map(str::to_owned);
    let has_webhook = view.get("webhook_url").is_some_and(Value::is_string);
    let health = match id {
        Some(id) if has_webhook => of(hooks, &id)?,
        _ => None,
    };
    if let Value::Object(members) = view {
        let value = serde_json::to_value(health).unwrap_or(Value::Null);
        members.insert("webhook".into(), value);
    }
    Ok(())
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
