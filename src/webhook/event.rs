//! Webhook events: their types, the `{type, timestamp, data}` payload, and
//! the product events an origin relays through a key's webhook.
//!
//! Pure. Invariants: a payload's bytes depend only on the event (members
//! in a fixed order, `data` members sorted), so a retry sends the body that
//! was signed and stored; no payload carries a key, a key hash or a secret
//! (only ids, names and times); a relayed event can never pose as one of
//! keygate's own, because its type may not use the `key.`, `account.` or
//! `webhook.` namespaces, and its `data` is a JSON object of at most
//! [`MAX_RELAYED_DATA_BYTES`].

use serde_json::{json, Map, Value};

use crate::time::format_rfc3339;
use crate::Error;

/// The events keygate itself emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A key was created.
    KeyCreated,
    /// A key was renamed, or its scopes, expiry or enabled state changed.
    KeyUpdated,
    /// A key was rotated; names the new key and the grace end.
    KeyRotated,
    /// A key was revoked.
    KeyRevoked,
    /// A key expires soon (per-product reminder offsets).
    KeyExpiring,
    /// A key expired, at its expiry time.
    KeyExpired,
    /// A key was found in public (a secret-scanning report).
    KeyLeaked,
    /// A create was refused by the account's key limit.
    KeyLimitReached,
    /// The account was suspended.
    AccountSuspended,
    /// The account was reactivated.
    AccountReactivated,
    /// A webhook answered 410 Gone and was disabled.
    WebhookDisabled,
}

impl EventType {
    /// Every event type, in a fixed order.
    pub const ALL: [EventType; 11] = [
        EventType::KeyCreated,
        EventType::KeyUpdated,
        EventType::KeyRotated,
        EventType::KeyRevoked,
        EventType::KeyExpiring,
        EventType::KeyExpired,
        EventType::KeyLeaked,
        EventType::KeyLimitReached,
        EventType::AccountSuspended,
        EventType::AccountReactivated,
        EventType::WebhookDisabled,
    ];

    /// The wire name, e.g. `key.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::KeyCreated => "key.created",
            EventType::KeyUpdated => "key.updated",
            EventType::KeyRotated => "key.rotated",
            EventType::KeyRevoked => "key.revoked",
            EventType::KeyExpiring => "key.expiring",
            EventType::KeyExpired => "key.expired",
            EventType::KeyLeaked => "key.leaked",
            EventType::KeyLimitReached => "key.limit_reached",
            EventType::AccountSuspended => "account.suspended",
            EventType::AccountReactivated => "account.reactivated",
            EventType::WebhookDisabled => "webhook.disabled",
        }
    }

    /// The type named `name`, if keygate emits it.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// Namespaces only keygate's own events use.
pub const RESERVED_NAMESPACES: [&str; 3] = ["key", "account", "webhook"];
/// Longest relayed event type, in bytes.
pub const MAX_TYPE_BYTES: usize = 100;
/// Largest relayed `data`, serialised, in bytes.
pub const MAX_RELAYED_DATA_BYTES: usize = 16 * 1024;
/// Random bytes in an event id.
pub const EVENT_ID_BYTES: usize = 16;

/// A new event id, `msg_` and 32 lowercase hex digits from `random`. It is
/// the `webhook-id` of every delivery and retry of the event.
pub fn event_id(random: &[u8; EVENT_ID_BYTES]) -> String {
    let mut id = String::with_capacity(4 + 2 * EVENT_ID_BYTES);
    id.push_str("msg_");
    for byte in random {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

/// An event, ready to be stored in the outbox and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The message id (`webhook-id`).
    pub id: String,
    /// The type: an [`EventType`]'s name or a relayed product type.
    pub kind: String,
    /// When it happened, Unix seconds.
    pub timestamp: i64,
    /// The event's data: always a JSON object.
    pub data: Map<String, Value>,
}

impl Event {
    /// One of keygate's own events.
    pub fn new(id: String, kind: EventType, timestamp: i64, data: Map<String, Value>) -> Event {
        Event {
            id,
            kind: kind.as_str().to_owned(),
            timestamp,
            data,
        }
    }

    /// A relayed product event, already validated.
    pub fn relayed(id: String, relayed: RelayedEvent, timestamp: i64) -> Event {
        Event {
            id,
            kind: relayed.kind,
            timestamp,
            data: relayed.data,
        }
    }

    /// The payload: `{"type":…,"timestamp":…,"data":{…}}`, the same bytes
    /// every time (`data` members sorted, no insignificant whitespace).
    pub fn body(&self) -> String {
        // serde_json's map is ordered by key, so the output is canonical.
        let mut out = String::from("{\"type\":");
        out.push_str(&Value::from(self.kind.as_str()).to_string());
        out.push_str(",\"timestamp\":");
        out.push_str(&Value::from(format_rfc3339(self.timestamp)).to_string());
        out.push_str(",\"data\":");
        out.push_str(&Value::Object(self.data.clone()).to_string());
        out.push('}');
        out
    }
}

/// The key an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySubject<'a> {
    /// The account id.
    pub account: &'a str,
    /// The key id.
    pub key_id: &'a str,
    /// The product id.
    pub product: &'a str,
}

impl KeySubject<'_> {
    fn data(&self) -> Map<String, Value> {
        let mut data = Map::new();
        data.insert("account".into(), self.account.into());
        data.insert("key_id".into(), self.key_id.into());
        data.insert("product".into(), self.product.into());
        data
    }
}

fn with(mut data: Map<String, Value>, more: Value) -> Map<String, Value> {
    if let Value::Object(more) = more {
        data.extend(more);
    }
    data
}

/// `key.created`, `key.updated` or `key.revoked` data: the subject and the
/// key as the management API shows it (`key`, a view that never holds the
/// key or its secret), and for an update the names of the changed members.
pub fn key_changed(subject: &KeySubject<'_>, key: Value, changed: &[&str]) -> Map<String, Value> {
    let mut data = with(subject.data(), json!({ "key": key }));
    if !changed.is_empty() {
        data.insert("changed".into(), json!(changed));
    }
    data
}

/// `key.rotated` data: the new key's id and when the old key stops working.
pub fn key_rotated(
    subject: &KeySubject<'_>,
    new_key_id: &str,
    grace_ends_at: i64,
) -> Map<String, Value> {
    with(
        subject.data(),
        json!({ "new_key_id": new_key_id, "grace_ends_at": format_rfc3339(grace_ends_at) }),
    )
}

/// `key.expiring` data: the expiry and how long before it this reminder is.
pub fn key_expiring(
    subject: &KeySubject<'_>,
    expires_at: i64,
    before_seconds: i64,
) -> Map<String, Value> {
    with(
        subject.data(),
        json!({ "expires_at": format_rfc3339(expires_at), "seconds_before": before_seconds }),
    )
}

/// `key.expired` data.
pub fn key_expired(subject: &KeySubject<'_>, expired_at: i64) -> Map<String, Value> {
    with(
        subject.data(),
        json!({ "expired_at": format_rfc3339(expired_at) }),
    )
}

/// What keygate did about a leaked key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakAction {
    /// The key was revoked (`on_leak = "revoke"`).
    Revoked,
    /// The key was only flagged (`on_leak = "flag"`).
    Flagged,
}

impl LeakAction {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            LeakAction::Revoked => "revoked",
            LeakAction::Flagged => "flagged",
        }
    }
}

/// What a leak report records in the `key.leaked` audit event: who
/// reported it, where it was found and what keygate did. `url` and
/// `source` are the reporter's, bounded by the caller.
pub fn leak_details(
    reporter: &str,
    url: Option<&str>,
    source: Option<&str>,
    action: LeakAction,
) -> Value {
    json!({ "reporter": reporter, "url": url, "source": source, "action": action.as_str() })
}

/// `key.leaked` data: the subject and the audit event's
/// [`leak_details`].
pub fn key_leaked(subject: &KeySubject<'_>, details: Value) -> Map<String, Value> {
    with(subject.data(), details)
}

/// `key.limit_reached` data: no key exists, so no key id.
pub fn key_limit_reached(account: &str, product: &str, limit: u32) -> Map<String, Value> {
    with(
        Map::new(),
        json!({ "account": account, "product": product, "limit": limit }),
    )
}

/// `account.suspended` or `account.reactivated` data.
pub fn account_changed(account: &str) -> Map<String, Value> {
    with(Map::new(), json!({ "account": account }))
}

/// Which webhook an event or delivery belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Hook {
    /// A key's own webhook (`webhook_url`), by key id.
    Key(String),
    /// An operator's account-level endpoint, by endpoint id.
    Endpoint(String),
}

impl Hook {
    fn describe(&self) -> Value {
        match self {
            Hook::Key(id) => json!({ "kind": "key", "id": id }),
            Hook::Endpoint(id) => json!({ "kind": "endpoint", "id": id }),
        }
    }
}

/// `webhook.disabled` data: which webhook, its URL and the status that
/// disabled it. Sent to the account's endpoints, never to the disabled one.
pub fn webhook_disabled(account: &str, hook: &Hook, url: &str, status: u16) -> Map<String, Value> {
    with(
        Map::new(),
        json!({ "account": account, "webhook": hook.describe(), "url": url, "status": status }),
    )
}

/// A product event an origin relays, validated: `POST …/keys/{id}/events`
/// with `{type, data}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayedEvent {
    kind: String,
    data: Map<String, Value>,
}

impl RelayedEvent {
    /// Validates a relayed `type` and `data` (the body already decoded by
    /// the management API's strict decoder).
    pub fn new(kind: &str, data: Value) -> Result<RelayedEvent, Error> {
        check_relayed_type(kind).map_err(|reason| invalid("type", reason))?;
        let Value::Object(data) = data else {
            return Err(invalid("data", "must be a JSON object"));
        };
        let size = Value::Object(data.clone()).to_string().len();
        if size > MAX_RELAYED_DATA_BYTES {
            return Err(invalid(
                "data",
                format!("must be at most {MAX_RELAYED_DATA_BYTES} bytes as JSON, not {size}"),
            ));
        }
        Ok(RelayedEvent {
            kind: kind.to_owned(),
            data,
        })
    }

    /// The type.
    pub fn kind(&self) -> &str {
        &self.kind
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> Error {
    Error::InvalidField {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Whether `kind` may be a relayed type: at most [`MAX_TYPE_BYTES`], two
/// or more dot-separated segments of a lowercase letter then lowercase
/// letters, digits or `_`, and not in a reserved namespace.
pub fn check_relayed_type(kind: &str) -> Result<(), String> {
    const SHAPE: &str = "must be dot-separated lowercase names, e.g. `job.completed` \
                         (each a letter, then letters, digits or _), at least two";
    if kind.len() > MAX_TYPE_BYTES {
        return Err(format!("must be at most {MAX_TYPE_BYTES} bytes"));
    }
    let segments: Vec<&str> = kind.split('.').collect();
    let segment_ok = |s: &&str| {
        let mut bytes = s.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_lowercase())
            && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if segments.len() < 2 || !segments.iter().all(segment_ok) {
        return Err(SHAPE.to_owned());
    }
    if segments
        .first()
        .is_some_and(|ns| RESERVED_NAMESPACES.contains(ns))
    {
        return Err(format!(
            "must not start with `{}.`: keygate's own events use {}",
            segments.first().copied().unwrap_or_default(),
            RESERVED_NAMESPACES.map(|n| format!("`{n}.`")).join(", ")
        ));
    }
    Ok(())
}

/// Parses the event types an account-level endpoint subscribes to; an
/// empty list means every type. Unknown or repeated names are refused.
pub fn parse_subscription(names: &[String]) -> Result<Vec<EventType>, Error> {
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let field = format!("event_types[{i}]");
        let kind = EventType::parse(name).ok_or_else(|| {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            invalid(&field, format!("must be one of {}", known.join(", ")))
        })?;
        if out.contains(&kind) {
            return Err(invalid(&field, "is listed twice"));
        }
        out.push(kind);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
