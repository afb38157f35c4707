//! The outbox: webhook deliveries written in the same transaction as the
//! change that caused them, and the account-level endpoints and disabled
//! webhooks they are routed by.
//!
//! Pure: the ledger is read through [`Ledger`] and [`HookLedger`]; time
//! (`now_ms`, Unix milliseconds) and random bytes ([`Seed`]) come in as
//! arguments. Invariants: every audit event a plan appends yields its
//! outbox rows in the same list of changes ([`enqueue`]), so one commit
//! stores both or neither; a row goes only to a webhook that has a secret
//! and is not disabled; a row's body is an [`Event`] body (ids, names and
//! times, never a key, a key hash or a secret); a row's `webhook-id` (its
//! event id) is fixed when it is written and never changes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::delivery::{Delivery, Schedule};
use super::event::{self, Event, EventType, Hook, KeySubject, EVENT_ID_BYTES};
use super::reminder::{self, KeyTimes, Reminder};
use crate::config::Config;
use crate::manage::ledger::{Change, EventKind, EventRow, KeyRow, Ledger};
use crate::manage::op::KeyStatus;
use crate::manage::view::{self, KeyView};
use crate::secret::WebhookSecret;
use crate::Error;

/// Most account-level endpoints per account.
pub const MAX_ENDPOINTS: usize = 10;

/// An operator's account-level endpoint (`POST /accounts/{a}/webhooks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRow {
    /// `whk_` and 24 hex digits.
    pub id: String,
    /// Where deliveries go, checked when registered and before each send.
    pub url: String,
    /// The event types it receives; empty for all of keygate's.
    pub event_types: Vec<String>,
    /// Signs its deliveries.
    pub secret: WebhookSecret,
    /// Unix seconds.
    pub created_at: i64,
}

impl EndpointRow {
    /// Whether the endpoint receives events of type `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.event_types.is_empty() || self.event_types.iter().any(|t| t == kind)
    }
}

/// A webhook that answered 410 Gone: nothing more is sent to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisabledHook {
    /// Which webhook.
    pub hook: Hook,
    /// Its URL at the time.
    pub url: String,
    /// The status that disabled it (410).
    pub status: u16,
    /// Unix seconds.
    pub at: i64,
}

/// One event to one webhook: the delivery state and what is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    /// Sequence number, assigned by the store (the deliveries list's
    /// cursor); 0 before it is stored.
    #[serde(default, skip_serializing)]
    pub seq: i64,
    /// The delivery state machine ([`super::delivery`]).
    pub delivery: Delivery,
    /// The key the event is about, if any.
    pub key_id: Option<String>,
    /// The target URL, as registered.
    pub url: String,
    /// The event type.
    pub kind: String,
    /// The exact body every attempt sends.
    pub body: String,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

impl OutboxRow {
    /// A new row for `event` to `hook` at `url`, due at once.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        event: &Event,
        hook: Hook,
        url: &str,
        key_id: Option<String>,
        schedule: &Schedule,
        now_ms: i64,
        seed: &mut Seed,
    ) -> OutboxRow {
        let random = seed.draw();
        let delivery = Delivery::new(
            delivery_id(&random),
            hook,
            event.id.clone(),
            schedule,
            now_ms,
            [random[30], random[31]],
        );
        OutboxRow {
            seq: 0,
            delivery,
            key_id,
            url: url.to_owned(),
            kind: event.kind.clone(),
            body: event.body(),
            created_at_ms: now_ms,
        }
    }
}

/// A write to the webhook tables, applied in the ledger's transaction.
// Like `Change`: a handful per plan, briefly.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum HookChange {
    /// Insert or replace an outbox row (by delivery id).
    Outbox(OutboxRow),
    /// Disable a webhook.
    Disable(DisabledHook),
    /// Insert an account-level endpoint.
    PutEndpoint(EndpointRow),
    /// Remove an account-level endpoint (and its disabled mark).
    DeleteEndpoint(String),
    /// Keep a key's replaced webhook secret signing until `until`.
    PreviousSecret(PreviousSecret),
    /// The expiry reminders are sent up to this time, Unix seconds.
    RemindersSince(i64),
}

/// A key's webhook secret replaced by a rotation: it keeps signing (a
/// second signature) until `until`, Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousSecret {
    /// The key.
    pub key_id: String,
    /// The replaced secret.
    pub secret: WebhookSecret,
    /// When it stops signing.
    pub until: i64,
}

/// Read access to the webhook tables.
pub trait HookLedger {
    /// The account-level endpoints, oldest first.
    fn endpoints(&self) -> Result<Vec<EndpointRow>, Error>;
    /// Disabled webhooks.
    fn disabled(&self) -> Result<Vec<DisabledHook>, Error>;
    /// Up to `limit` pending rows due at `now_ms`, earliest first.
    fn due(&self, now_ms: i64, limit: u32) -> Result<Vec<OutboxRow>, Error>;
    /// One row by delivery id.
    fn delivery(&self, id: &str) -> Result<Option<OutboxRow>, Error>;
    /// Pending rows to `hook`.
    fn pending_for(&self, hook: &Hook) -> Result<Vec<OutboxRow>, Error>;
    /// Up to `limit` rows to `hook` with `seq < before`, newest first.
    fn to_hook(
        &self,
        hook: &Hook,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, Error>;
    /// The earliest `next_at_ms` of a pending row.
    fn next_due(&self) -> Result<Option<i64>, Error>;
    /// The key's replaced webhook secret, if one was kept.
    fn previous_secret(&self, key_id: &str) -> Result<Option<PreviousSecret>, Error>;
    /// The time up to which expiry reminders were sent, Unix seconds.
    fn reminders_since(&self) -> Result<Option<i64>, Error>;
}

/// Random bytes for ids and jitter, stretched from one 32-byte seed the
/// caller draws from the runtime's CSPRNG: SHA-256 of the seed and a
/// counter, so no two draws repeat.
pub struct Seed {
    seed: [u8; 32],
    counter: u64,
}

impl Seed {
    /// A stretcher over `seed`.
    pub fn new(seed: [u8; 32]) -> Seed {
        Seed { seed, counter: 0 }
    }

    /// The next 32 bytes.
    pub fn draw(&mut self) -> [u8; 32] {
        self.counter = self.counter.wrapping_add(1);
        let mut hash = Sha256::new();
        hash.update(self.seed);
        hash.update(self.counter.to_be_bytes());
        hash.finalize().into()
    }

    /// A new event id.
    pub fn event_id(&mut self) -> String {
        let bytes = self.draw();
        let mut id = [0u8; EVENT_ID_BYTES];
        for (out, byte) in id.iter_mut().zip(bytes) {
            *out = byte;
        }
        event::event_id(&id)
    }

    /// Two random bytes, for jitter.
    pub fn jitter(&mut self) -> [u8; 2] {
        let bytes = self.draw();
        [bytes[0], bytes[1]]
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn delivery_id(random: &[u8; 32]) -> String {
    format!("dlv_{}", hex(random.get(..12).unwrap_or_default()))
}

/// A new endpoint id, `whk_` and 24 hex digits.
pub fn endpoint_id(random: &[u8; 32]) -> String {
    format!("whk_{}", hex(random.get(..12).unwrap_or_default()))
}

/// The schedule the config names, or the standard one (the config is
/// validated at load, so the fallback is never taken).
pub fn schedule(config: &Config) -> Schedule {
    Schedule::from_config(&config.hooks).unwrap_or_else(|_| Schedule::standard())
}

/// The outbox rows for the audit events among `changes`: each goes to the
/// key's own webhook (for an account event, every working key's) and to
/// the account's endpoints that want its type, unless that webhook is
/// disabled. Append the result to the same changes.
pub fn enqueue(
    config: &Config,
    ledger: &dyn Ledger,
    hooks: &dyn HookLedger,
    account: &str,
    changes: &[Change],
    now_ms: i64,
    seed: &mut Seed,
) -> Result<Vec<Change>, Error> {
    let events: Vec<&EventRow> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AppendEvent(e) => Some(e),
            _ => None,
        })
        .collect();
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let schedule = schedule(config);
    let disabled = hooks.disabled()?;
    let endpoints = hooks.endpoints()?;
    let mut out = Vec::new();
    for row in events {
        let Some((kind, data, keys)) = payload(account, row, changes, ledger)? else {
            continue;
        };
        let event = Event::new(seed.event_id(), kind, row.at, data);
        // A rotated key and its successor share a webhook (URL and
        // secret): an account event goes there once, not once per key.
        let mut seen: Vec<(&String, &str)> = Vec::new();
        let mut targets: Vec<(Hook, String, Option<String>)> = Vec::new();
        for k in &keys {
            let (Some(url), Some(secret)) = (&k.webhook_url, &k.webhook_secret) else {
                continue;
            };
            let hook = Hook::Key(k.id.clone());
            if disabled.iter().any(|d| d.hook == hook) || seen.contains(&(url, secret.expose())) {
                continue;
            }
            seen.push((url, secret.expose()));
            targets.push((hook, url.clone(), Some(k.id.clone())));
        }
        for endpoint in endpoints.iter().filter(|e| e.wants(kind.as_str())) {
            targets.push((
                Hook::Endpoint(endpoint.id.clone()),
                endpoint.url.clone(),
                row.key_id.clone(),
            ));
        }
        for (hook, url, key_id) in targets {
            if disabled.iter().any(|d| d.hook == hook) {
                continue;
            }
            let outbox = OutboxRow::new(&event, hook, &url, key_id, &schedule, now_ms, seed);
            out.push(Change::Hook(HookChange::Outbox(outbox)));
        }
    }
    Ok(out)
}

/// The `webhook.disabled` rows for the account's endpoints (never the
/// disabled webhook itself) after `hook` at `url` answered `status`.
#[allow(clippy::too_many_arguments)]
pub fn disabled_event(
    config: &Config,
    hooks: &dyn HookLedger,
    account: &str,
    hook: &Hook,
    url: &str,
    status: u16,
    now_ms: i64,
    seed: &mut Seed,
) -> Result<Vec<Change>, Error> {
    let kind = EventType::WebhookDisabled;
    let data = event::webhook_disabled(account, hook, url, status);
    let event = Event::new(seed.event_id(), kind, now_ms.div_euclid(1_000), data);
    let schedule = schedule(config);
    let disabled = hooks.disabled()?;
    let mut out = Vec::new();
    for endpoint in hooks.endpoints()? {
        let target = Hook::Endpoint(endpoint.id.clone());
        if !endpoint.wants(kind.as_str())
            || target == *hook
            || disabled.iter().any(|d| d.hook == target)
        {
            continue;
        }
        let row = OutboxRow::new(&event, target, &endpoint.url, None, &schedule, now_ms, seed);
        out.push(Change::Hook(HookChange::Outbox(row)));
    }
    Ok(out)
}

fn offsets(config: &Config) -> impl Fn(&str) -> Vec<i64> + '_ {
    move |product: &str| {
        config
            .product(product)
            .map(|p| p.hooks.expiry_reminders_seconds.clone())
            .unwrap_or_default()
    }
}

fn key_times(keys: &[KeyRow]) -> Vec<KeyTimes<'_>> {
    keys.iter()
        .map(|k| KeyTimes {
            key_id: &k.id,
            product: &k.product,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        })
        .collect()
}

/// The expiry reminders due in `(since, now]` (`key.expiring` at each of
/// the product's offsets before a key's expiry, `key.expired` at it), to
/// the key's webhook and the endpoints that want them, and the new
/// watermark `now`: all in one list, for one commit, so each is sent once.
/// A moment before the key was created is skipped (a key created with a
/// short expiry gets no reminder for an offset already past).
#[allow(clippy::too_many_arguments)]
pub fn reminders(
    config: &Config,
    ledger: &dyn Ledger,
    hooks: &dyn HookLedger,
    account: &str,
    since: i64,
    now: i64,
    now_ms: i64,
    seed: &mut Seed,
) -> Result<Vec<Change>, Error> {
    let keys = ledger.keys()?;
    let times = key_times(&keys);
    let offsets = offsets(config);
    let due = reminder::due(&times, &offsets, since, now);
    let schedule = schedule(config);
    let disabled = hooks.disabled()?;
    let endpoints = hooks.endpoints()?;
    let mut out = Vec::new();
    for moment in due {
        let Some(key) = keys.iter().find(|k| k.id == moment.key_id) else {
            continue;
        };
        if moment.at < key.created_at {
            continue;
        }
        let subject = KeySubject {
            account,
            key_id: &key.id,
            product: &key.product,
        };
        let (kind, data) = match moment.reminder {
            Reminder::Expiring { before_seconds } => (
                EventType::KeyExpiring,
                event::key_expiring(&subject, moment.expires_at, before_seconds),
            ),
            Reminder::Expired => (
                EventType::KeyExpired,
                event::key_expired(&subject, moment.expires_at),
            ),
        };
        let event = Event::new(seed.event_id(), kind, moment.at, data);
        let mut targets = Vec::new();
        if let (Some(url), Some(_)) = (&key.webhook_url, &key.webhook_secret) {
            targets.push((Hook::Key(key.id.clone()), url.clone()));
        }
        for endpoint in endpoints.iter().filter(|e| e.wants(kind.as_str())) {
            targets.push((Hook::Endpoint(endpoint.id.clone()), endpoint.url.clone()));
        }
        for (hook, url) in targets {
            if disabled.iter().any(|d| d.hook == hook) {
                continue;
            }
            let row = OutboxRow::new(
                &event,
                hook,
                &url,
                Some(key.id.clone()),
                &schedule,
                now_ms,
                seed,
            );
            out.push(Change::Hook(HookChange::Outbox(row)));
        }
    }
    out.push(Change::Hook(HookChange::RemindersSince(now)));
    Ok(out)
}

/// The next expiry reminder after `since`, Unix seconds: where the alarm
/// goes, so reminders are sent with no other traffic.
pub fn next_reminder(config: &Config, keys: &[KeyRow], since: i64) -> Option<i64> {
    reminder::next_due(&key_times(keys), &offsets(config), since)
}

/// The key `id` as the plan leaves it (its last `PutKey`), else as stored.
fn key_after(changes: &[Change], ledger: &dyn Ledger, id: &str) -> Result<Option<KeyRow>, Error> {
    let planned = changes.iter().rev().find_map(|c| match c {
        Change::PutKey(k) if k.id == id => Some(k.clone()),
        _ => None,
    });
    match planned {
        Some(k) => Ok(Some(k)),
        None => ledger.key(id),
    }
}

type Payload = (EventType, Map<String, Value>, Vec<KeyRow>);

/// The webhook event for an audit event: its type, its data and the keys
/// whose own webhooks receive it. The data is the audit event's own data,
/// every member as recorded (the reason of a leak revocation, the
/// `replacement_revoked` of a grace ended early, a leak's counts...),
/// under the members that say which key and account it is about: so the
/// delivered event and the audit log can never tell different stories.
fn payload(
    account: &str,
    row: &EventRow,
    changes: &[Change],
    ledger: &dyn Ledger,
) -> Result<Option<Payload>, Error> {
    Ok(
        context(account, row, changes, ledger)?.map(|(kind, mut data, keys)| {
            if let Value::Object(audit) = &row.data {
                for (name, value) in audit {
                    data.insert(name.clone(), value.clone());
                }
            }
            (kind, data, keys)
        }),
    )
}

/// The members a delivered event adds to its audit event's data: the
/// subject (account, key, product) and the key as the API shows it.
fn context(
    account: &str,
    row: &EventRow,
    changes: &[Change],
    ledger: &dyn Ledger,
) -> Result<Option<Payload>, Error> {
    let at = row.at;
    let key = match &row.key_id {
        Some(id) => key_after(changes, ledger, id)?,
        None => None,
    };
    let subject = |k: &KeyRow| -> (String, String, String) {
        (account.to_owned(), k.id.clone(), k.product.clone())
    };
    let view = |k: &KeyRow| serde_json::to_value(KeyView::of(k, at)).unwrap_or(Value::Null);
    let keyed = |kind: EventType, changed: Vec<String>| -> Option<Payload> {
        let k = key.clone()?;
        let (a, id, p) = subject(&k);
        let subject = KeySubject {
            account: &a,
            key_id: &id,
            product: &p,
        };
        let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
        let data = event::key_changed(&subject, view(&k), &changed);
        Some((kind, data, vec![k]))
    };
    Ok(match row.kind {
        EventKind::KeyCreated => keyed(EventType::KeyCreated, Vec::new()),
        EventKind::KeyUpdated => {
            let changed = row
                .data
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            keyed(EventType::KeyUpdated, changed)
        }
        EventKind::KeyRevoked => keyed(EventType::KeyRevoked, Vec::new()),
        EventKind::KeyRotated => key.clone().and_then(|k| {
            let new_id = row.data.get("new_key_id")?.as_str()?.to_owned();
            let (a, id, p) = subject(&k);
            let subject = KeySubject {
                account: &a,
                key_id: &id,
                product: &p,
            };
            let ends = k.revoked_at.unwrap_or(at);
            let data = event::key_rotated(&subject, &new_id, ends);
            Some((EventType::KeyRotated, data, vec![k]))
        }),
        EventKind::KeyLeaked => key.clone().map(|k| {
            let (a, id, p) = subject(&k);
            let subject = KeySubject {
                account: &a,
                key_id: &id,
                product: &p,
            };
            let data = event::key_leaked(&subject, row.data.clone());
            (EventType::KeyLeaked, data, vec![k])
        }),
        EventKind::KeyLimitReached => {
            let product = row.product.clone().unwrap_or_default();
            let limit = row
                .data
                .get("limit")
                .and_then(Value::as_u64)
                .and_then(|l| u32::try_from(l).ok())
                .unwrap_or(0);
            Some((
                EventType::KeyLimitReached,
                event::key_limit_reached(account, &product, limit),
                Vec::new(),
            ))
        }
        // Its deliveries (to the account's endpoints, never to the
        // disabled webhook) are made where it is recorded
        // ([`disabled_event`]).
        EventKind::WebhookDisabled => None,
        EventKind::AccountSuspended | EventKind::AccountReactivated => {
            let kind = if row.kind == EventKind::AccountSuspended {
                EventType::AccountSuspended
            } else {
                EventType::AccountReactivated
            };
            let keys = ledger
                .keys()?
                .into_iter()
                .filter(|k| view::status(k, at) == KeyStatus::Active)
                .collect();
            Some((kind, event::account_changed(account), keys))
        }
    })
}

#[cfg(test)]
#[path = "outbox_memory.rs"]
pub(crate) mod memory;
#[cfg(test)]
#[path = "outbox_tests.rs"]
pub(crate) mod tests;
