//! What the management API shows: keys, accounts and events as JSON.
//!
//! Invariant: a [`KeyView`] is built from a [`KeyRow`] and never shows the
//! key, its hash or the webhook secret; [`CreatedKey`] is the one shape that
//! carries the key (and the webhook secret), and only creation and rotation
//! build it.

use serde::Serialize;

pub use super::rows::status;
use super::rows::{AccountRow, EventRow, KeyRow, KeyStatus};
use crate::key::{Environment, WellFormedKey};
use crate::record::masked;
use crate::time::format_rfc3339;

/// A key as listed.
#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    id: String,
    name: String,
    product: String,
    environment: Environment,
    prefix: String,
    masked: String,
    scopes: Vec<String>,
    status: KeyStatus,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    last_used_at: Option<String>,
    webhook_url: Option<String>,
    replaced_by: Option<String>,
    owner_id: Option<String>,
    enabled: bool,
    meta: Option<super::rows::Meta>,
    allowed_ips: crate::ip_allow::AllowList,
}

impl KeyView {
    /// The view of `key` at `now`.
    pub fn of(key: &KeyRow, now: i64) -> KeyView {
        KeyView {
            id: key.id.clone(),
            name: key.name.clone(),
            product: key.product.clone(),
            environment: key.environment,
            prefix: key.prefix.clone(),
            masked: masked(&key.prefix, &key.last4),
            scopes: key.scopes.clone(),
            status: status(key, now),
            created_at: format_rfc3339(key.created_at),
            expires_at: key.expires_at.map(format_rfc3339),
            revoked_at: key.revoked_at.map(format_rfc3339),
            last_used_at: key.last_used_at.map(format_rfc3339),
            webhook_url: key.webhook_url.clone(),
            replaced_by: key.replaced_by.clone(),
            owner_id: key.owner_id.clone(),
            enabled: !key.disabled,
            meta: key.meta.clone(),
            allowed_ips: key.allowed_ips.clone(),
        }
    }
}

/// A key just minted: its view, the key itself and, when a webhook was
/// set at creation, the webhook secret. Shown once.
#[derive(Serialize)]
pub struct CreatedKey<'k> {
    #[serde(flatten)]
    view: KeyView,
    key: &'k str,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_secret: Option<&'k str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous: Option<KeyView>,
}

impl<'k> CreatedKey<'k> {
    /// The reply to a create (`webhook_secret` given) or a rotation
    /// (`previous` given).
    pub fn new(
        row: &KeyRow,
        key: &'k WellFormedKey,
        webhook_secret: Option<&'k str>,
        previous: Option<KeyView>,
        now: i64,
    ) -> Self {
        CreatedKey {
            view: KeyView::of(row, now),
            key: key.key().expose(),
            webhook_secret,
            previous,
        }
    }
}

/// An account as shown.
#[derive(Serialize)]
pub struct AccountView {
    id: String,
    status: &'static str,
    created_at: String,
    updated_at: String,
}

impl AccountView {
    /// The view of `account`.
    pub fn of(account: &AccountRow) -> Self {
        AccountView {
            id: account.id.clone(),
            status: account.status.as_str(),
            created_at: format_rfc3339(account.created_at),
            updated_at: format_rfc3339(account.updated_at),
        }
    }
}

/// An audit event as shown.
#[derive(Serialize)]
pub struct EventView {
    id: String,
    #[serde(rename = "type")]
    kind: super::rows::EventKind,
    at: String,
    key_id: Option<String>,
    product: Option<String>,
    data: serde_json::Value,
}

impl EventView {
    /// The view of `event`.
    pub fn of(event: &EventRow) -> Self {
        EventView {
            id: format!("evt_{}", event.seq),
            kind: event.kind,
            at: format_rfc3339(event.at),
            key_id: event.key_id.clone(),
            product: event.product.clone(),
            data: event.data.clone(),
        }
    }
}
