//! The account's source of truth: its rows, and the storage interface the
//! Durable Object implements over SQLite.
//!
//! Invariant: a [`KeyRow`] holds the key's hash, never the key; the
//! webhook secret it holds is a [`WebhookSecret`], which cannot be printed.
//! Writes are [`Change`]s, applied together in one transaction or not at
//! all.

use serde::{Deserialize, Serialize};

use crate::key::Environment;
use crate::record::{KeyRecord, RECORD_VERSION};
use crate::secret::WebhookSecret;
use crate::Error;

/// Whether an account's keys may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    /// Keys work.
    Active,
    /// Every key is refused with `account_suspended`.
    Suspended,
}

impl AccountStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(AccountStatus::Active),
            "suspended" => Some(AccountStatus::Suspended),
            _ => None,
        }
    }
}

/// The account itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    /// Account id.
    pub id: String,
    /// Active or suspended.
    pub status: AccountStatus,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last status change.
    pub updated_at: i64,
}

/// One key, as the account keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    /// Key id.
    pub id: String,
    /// SHA-256 of the key, lowercase hex: its KV name.
    pub hash: String,
    /// Product id.
    pub product: String,
    /// `live` or `test`.
    pub environment: Environment,
    /// Owner-chosen name.
    pub name: String,
    /// Granted permissions.
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; valid while `now < expires_at`.
    pub expires_at: Option<i64>,
    /// Unix seconds; refused once `now >= revoked_at` (future while a
    /// rotated key's grace runs).
    pub revoked_at: Option<i64>,
    /// Display prefix, e.g. `fai_live_Ab12`.
    pub prefix: String,
    /// Last four characters of the key.
    pub last4: String,
    /// Where events about the key go.
    pub webhook_url: Option<String>,
    /// Signs those events.
    pub webhook_secret: Option<WebhookSecret>,
    /// The key that replaced this one in a rotation.
    pub replaced_by: Option<String>,
    /// The product's own id for the key's holder (rows stored before it
    /// existed have none).
    #[serde(default)]
    pub owner_id: Option<String>,
    /// Turned off by its owner: refused at the edge with `disabled_key`
    /// until turned on again (rows stored before it existed are on).
    #[serde(default)]
    pub disabled: bool,
    /// The product's data about the key, a JSON object (4 KiB at most).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unix seconds of the last reported use (kept beside the row).
    #[serde(default, skip_serializing)]
    pub last_used_at: Option<i64>,
    /// Leak reports of a key left live (`on_leak = "flag"`): when its
    /// last `key.leaked` event was recorded and the reports counted since
    /// without one ([`crate::leak::respond`]); `None` until first reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaked: Option<LeakTally>,
    /// The key's own IP allowlist (empty: its product's applies; rows
    /// stored before it existed have none). Kept through rotation.
    #[serde(default, skip_serializing_if = "crate::ip_allow::AllowList::is_empty")]
    pub allowed_ips: crate::ip_allow::AllowList,
}

/// A key's leak reports since its last `key.leaked` event: at most one
/// such event per key per [`LeakTally::EVENT_EVERY_SECONDS`]; reports in
/// between are counted here and told in the next event's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakTally {
    /// Unix seconds of the last `key.leaked` event of the key.
    pub event_at: i64,
    /// Times the key was reported since, without an event.
    pub repeats: u32,
}

impl LeakTally {
    /// The least time between two `key.leaked` events of one key: a day.
    pub const EVENT_EVERY_SECONDS: i64 = 86_400;

    /// Whether a report at `now` records no event of its own (a clock
    /// that went backwards counts as within the day).
    pub fn quiet_at(&self, now: i64) -> bool {
        now < self.event_at.saturating_add(Self::EVENT_EVERY_SECONDS)
    }
}

impl KeyRow {
    /// Whether the key counts toward the limit at `now`: it still works,
    /// so not yet revoked (a rotated key holds its slot until its grace
    /// ends) and not expired.
    pub fn holds_a_slot(&self, now: i64) -> bool {
        self.revoked_at.is_none_or(|at| now < at) && self.expires_at.is_none_or(|at| now < at)
    }

    /// The record the edge reads from KV.
    pub fn record(&self, account: &AccountRow) -> KeyRecord {
        KeyRecord {
            v: RECORD_VERSION,
            id: self.id.clone(),
            account: account.id.clone(),
            product: self.product.clone(),
            environment: self.environment,
            name: self.name.clone(),
            scopes: self.scopes.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            prefix: self.prefix.clone(),
            last4: self.last4.clone(),
            suspended: account.status == AccountStatus::Suspended,
            disabled: self.disabled,
            owner_id: self.owner_id.clone(),
            meta: self.meta.clone(),
            allowed_ips: self.allowed_ips.clone(),
        }
    }
}

/// Kinds of audit events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A key was created.
    #[serde(rename = "key.created")]
    KeyCreated,
    /// A key was renamed or re-scoped.
    #[serde(rename = "key.updated")]
    KeyUpdated,
    /// A key was rotated.
    #[serde(rename = "key.rotated")]
    KeyRotated,
    /// A key was revoked.
    #[serde(rename = "key.revoked")]
    KeyRevoked,
    /// A create was refused at the key limit.
    #[serde(rename = "key.limit_reached")]
    KeyLimitReached,
    /// A secret scanner reported the key in public (its data names the
    /// reporter, where it was found and what `on_leak` did).
    #[serde(rename = "key.leaked")]
    KeyLeaked,
    /// The account was suspended.
    #[serde(rename = "account.suspended")]
    AccountSuspended,
    /// The account was reactivated.
    #[serde(rename = "account.reactivated")]
    AccountReactivated,
    /// A webhook answered 410 Gone and was disabled (its data names the
    /// webhook, its URL and the status).
    #[serde(rename = "webhook.disabled")]
    WebhookDisabled,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    /// Sequence number, assigned by the store; 0 before it is stored.
    #[serde(default, skip_serializing)]
    pub seq: i64,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Unix seconds.
    pub at: i64,
    /// The key concerned.
    pub key_id: Option<String>,
    /// The product concerned.
    pub product: Option<String>,
    /// Details, per kind.
    pub data: serde_json::Value,
}

/// A write to the source of truth. `H` is the writes of a room above
/// that keeps tables of its own in the account's storage (the webhook
/// outbox: `webhook::Change`), which the ledger carries without knowing.
// A plan holds a handful of changes, briefly; boxing the key row would
// cost more churn than the bytes it saves.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Change<H> {
    /// Insert or replace the account.
    PutAccount(AccountRow),
    /// Insert or replace a key.
    PutKey(KeyRow),
    /// Append an audit event.
    AppendEvent(EventRow),
    /// Note a use of a key (kept if later than the one stored).
    NoteUse {
        /// Key id.
        id: String,
        /// Unix seconds.
        at: i64,
    },
    /// Keep an answer for its Idempotency-Key (replaces an expired one).
    PutIdempotent(IdempotentRow),
    /// Drop keys that ended (revoked, replaced or expired) at or before
    /// `keys_ended_by`, and answers kept since before `answers_before`.
    /// Their audit events stay.
    Prune {
        /// Unix seconds: now minus the key retention.
        keys_ended_by: i64,
        /// Unix seconds: now minus the 24 hours an answer is kept.
        answers_before: i64,
    },
    /// A write to the webhook tables (outbox, endpoints, disabled hooks).
    Hook(H),
}

/// Which keys a list shows, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyFilter {
    /// Only keys with this status at the time of the list.
    pub status: Option<KeyStatus>,
    /// Only keys of this product.
    pub product: Option<String>,
    /// Only keys of this holder.
    pub owner_id: Option<String>,
}

impl KeyFilter {
    /// Whether `key` passes at `now`.
    pub fn admits(&self, key: &KeyRow, now: i64) -> bool {
        self.status.is_none_or(|s| status(key, now) == s)
            && self.product.as_deref().is_none_or(|p| key.product == p)
            && self
                .owner_id
                .as_deref()
                .is_none_or(|o| key.owner_id.as_deref() == Some(o))
    }
}

/// Whether `key` ended (was revoked, replaced or expired) at or before
/// `by`: the retention rule's test.
pub fn ended_by(key: &KeyRow, by: i64) -> bool {
    key.revoked_at.is_some_and(|at| at <= by) || key.expires_at.is_some_and(|at| at <= by)
}

/// Seconds a revoked or expired key's record stays in KV, so the edge
/// answers `revoked_key` or `expired_key` rather than `invalid_key`.
pub const RECORD_RETENTION_SECONDS: i64 = 30 * 86_400;
/// Workers KV refuses expirations sooner than 60 s ahead.
const KV_MIN_EXPIRATION_AHEAD: i64 = 120;

/// A write to the KV hash index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexWrite {
    /// KV name: the key's SHA-256, lowercase hex.
    pub hash: String,
    /// The record.
    pub record: KeyRecord,
    /// Absolute KV expiration, Unix seconds; `None` keeps it.
    pub expiration: Option<i64>,
}

impl IndexWrite {
    /// The index entry for `key` of `account`, expiring
    /// [`RECORD_RETENTION_SECONDS`] after the key's revocation or expiry.
    pub fn of(key: &KeyRow, account: &AccountRow, now: i64) -> IndexWrite {
        let end = key.revoked_at.or(key.expires_at);
        IndexWrite {
            hash: key.hash.clone(),
            record: key.record(account),
            expiration: end.map(|at| {
                at.saturating_add(RECORD_RETENTION_SECONDS)
                    .max(now + KV_MIN_EXPIRATION_AHEAD)
            }),
        }
    }
}

/// Read access to one account's source of truth.
pub trait Ledger {
    /// The account, if it exists.
    fn account(&self) -> Result<Option<AccountRow>, Error>;
    /// Every key of the account. Reads every row: prefer the narrower
    /// reads below.
    fn keys(&self) -> Result<Vec<KeyRow>, Error>;
    /// Up to `limit` keys that `filter` admits at `now`, newest first
    /// (by creation, then id), after `after` when given.
    fn key_page(
        &self,
        filter: &KeyFilter,
        after: Option<&KeyCursor>,
        limit: u32,
        now: i64,
    ) -> Result<Vec<KeyRow>, Error>;
    /// How many of `product`'s keys work at `now` ([`KeyRow::holds_a_slot`]).
    fn count_working(&self, product: &str, now: i64) -> Result<u64, Error>;
    /// The keys that work at `now`, of every product.
    fn working_keys(&self, now: i64) -> Result<Vec<KeyRow>, Error>;
    /// The keys that `id` replaced directly (their `replaced_by` is `id`).
    fn replaced_by(&self, id: &str) -> Result<Vec<KeyRow>, Error>;
    /// The answer kept under an Idempotency-Key's hash, if any (it may be
    /// older than 24 h if not yet pruned).
    fn idempotent(&self, id: &str) -> Result<Option<IdempotentRow>, Error>;
    /// One key.
    fn key(&self, id: &str) -> Result<Option<KeyRow>, Error>;
    /// Up to `limit` events older than `before`, newest first.
    fn events(&self, before: Option<i64>, limit: u32) -> Result<Vec<EventRow>, Error>;
}

/// A key's `meta`: a JSON object of at most [`MAX_META_BYTES`].
pub type Meta = serde_json::Map<String, serde_json::Value>;

/// Largest `meta`, in bytes of compact JSON.
pub const MAX_META_BYTES: usize = 4_096;

/// A key's status as listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Usable (a rotated key stays active until its grace ends).
    Active,
    /// Past its expiry.
    Expired,
    /// Past its revocation.
    Revoked,
}

impl KeyStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        [KeyStatus::Active, KeyStatus::Expired, KeyStatus::Revoked]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The status of `key` at `now`.
pub fn status(key: &KeyRow, now: i64) -> KeyStatus {
    if key.revoked_at.is_some_and(|at| now >= at) {
        KeyStatus::Revoked
    } else if key.expires_at.is_some_and(|at| now >= at) {
        KeyStatus::Expired
    } else {
        KeyStatus::Active
    }
}

/// One kept answer, as the account's object stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentRow {
    /// The ticket's id.
    pub id: String,
    /// The ticket's request fingerprint.
    pub fingerprint: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The answer, sealed: hex of nonce and ciphertext.
    pub sealed: String,
}

/// A position in the key list: just after this key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyCursor {
    /// The key's creation time, Unix seconds.
    pub created_at: i64,
    /// The key's id.
    pub id: String,
}

impl KeyCursor {
    /// The position just after `key`.
    pub fn after(key: &KeyRow) -> KeyCursor {
        KeyCursor {
            created_at: key.created_at,
            id: key.id.clone(),
        }
    }

    /// The wire form: `<created_at>.<id>`, e.g. `1795000000.key_…`.
    pub fn to_text(&self) -> String {
        format!("{}.{}", self.created_at, self.id)
    }

    /// Reads a wire form back; `None` unless it is one [`to_text`] makes.
    ///
    /// [`to_text`]: KeyCursor::to_text
    pub fn parse(text: &str) -> Option<KeyCursor> {
        let (at, id) = text.split_once('.')?;
        // Exactly as written by `to_text`: no sign, no leading zero.
        let digits = !at.is_empty()
            && at.len() <= 15
            && at.bytes().all(|b| b.is_ascii_digit())
            && (at == "0" || !at.starts_with('0'));
        let created_at = at.parse::<i64>().ok().filter(|_| digits)?;
        super::ids::is_key_id(id).then(|| KeyCursor {
            created_at,
            id: id.to_owned(),
        })
    }

    /// Whether `key` comes after this position in the list (it is older,
    /// or as old with a smaller id).
    pub fn precedes(&self, key: &KeyRow) -> bool {
        (key.created_at, key.id.as_str()) < (self.created_at, self.id.as_str())
    }
}
