//! What the edge asks an account's Durable Object to do.
//!
//! An [`Op`] is already validated against the request's shape (ids, field
//! types and ranges); the object checks what only it can know (the key's
//! product, limits, status). It travels as JSON between the Worker and the
//! object, and never carries a key.

use serde::{Deserialize, Serialize};

use crate::ip_allow::AllowList;
use crate::key::Environment;
use crate::ledger::AccountStatus;
pub use crate::ledger::{KeyStatus, Meta, MAX_META_BYTES};
use crate::Error;

/// One operation on one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// Create a key.
    CreateKey(NewKey),
    /// Import existing keys, by their hashes ([`super::import`]).
    ImportKeys(Import),
    /// List keys, newest first.
    ListKeys {
        /// Only keys with this status.
        status: Option<KeyStatus>,
        /// Only keys of this product.
        product: Option<String>,
        /// Only keys of this holder.
        owner_id: Option<String>,
        /// 1 to 100 keys.
        limit: u32,
        /// Only keys after this one (the last of the previous page).
        after: Option<super::listing::KeyCursor>,
    },
    /// One key.
    GetKey {
        /// Key id.
        id: String,
    },
    /// Rename and/or re-scope a key.
    UpdateKey {
        /// Key id.
        id: String,
        /// New name.
        name: Option<String>,
        /// New scopes, not yet checked against the key's product.
        scopes: Option<Vec<String>>,
        /// A new expiry, already in range, or none.
        expires_at: Option<Expiry>,
        /// Turn the key on or off (off: refused with `disabled_key`).
        enabled: Option<bool>,
        /// A new `meta` object, already checked (empty: none).
        meta: Option<Meta>,
        /// A new IP allowlist, already checked (empty: none of its own,
        /// so the product's applies).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        allowed_ips: Option<AllowList>,
    },
    /// Revoke a key now.
    RevokeKey {
        /// Key id.
        id: String,
    },
    /// Issue a new key value; the old one works for `grace_seconds` more.
    RotateKey {
        /// Key id.
        id: String,
        /// 0 to 7 days.
        grace_seconds: i64,
    },
    /// The audit log, newest first.
    ListEvents {
        /// 1 to 100.
        limit: u32,
        /// Only events older than this sequence number.
        before: Option<i64>,
    },
    /// The account.
    GetAccount,
    /// Suspend or reactivate the account.
    SetStatus {
        /// The new status.
        status: AccountStatus,
    },
    /// `then`, only if the resource it changes (its key, or the account
    /// for [`Op::SetStatus`]) still has a tag `if_match` admits; else 412.
    IfMatch {
        /// From the `If-Match` header.
        if_match: super::etag::IfMatch,
        /// An update, revocation, rotation or status change.
        then: Box<Op>,
    },
    /// `then` at most once per Idempotency-Key: the first successful
    /// answer is kept (sealed) with the change it answers and replayed to
    /// a retry with the same request for 24 h.
    Once {
        /// From the `Idempotency-Key` header and the admin token.
        ticket: super::idempotency::Ticket,
        /// A POST's operation.
        then: Box<Op>,
    },
    /// From the edge (`consistency = "strict"` or `"bounded"`): the key's
    /// current record.
    Verify {
        /// Key id.
        id: String,
    },
    /// From the edge: the key was used at `at`.
    NoteUse {
        /// Key id.
        id: String,
        /// Unix seconds.
        at: i64,
    },
    /// A webhook operation ([`crate::webhook::api`]).
    Hook {
        /// What to do.
        call: crate::webhook::api::HookOp,
    },
}

impl Op {
    /// Whether the op is answered `account_not_found` for an account that
    /// does not exist: every op but [`Op::CreateKey`] and [`Op::ImportKeys`]. An object with no
    /// tables yet answers these without creating any, so reads of unknown
    /// accounts leave no storage behind.
    pub fn needs_account(&self) -> bool {
        match self {
            Op::CreateKey(_) | Op::ImportKeys(_) => false,
            Op::Once { then, .. } => then.needs_account(),
            _ => true,
        }
    }
}

/// An expiry to set on a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    /// The key no longer expires.
    Never,
    /// Unix seconds.
    At(i64),
    /// Unix seconds, only if no later than the key's expiry (a key with
    /// none may get any): the API Keys page shortens a key's life, never
    /// lengthens it. A later time is refused with `expiry_too_late`.
    Earlier(i64),
}

/// A key to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Configured product id.
    pub product: String,
    /// 1-64 characters.
    pub name: String,
    /// Checked against the product; `None` for its default scopes.
    pub scopes: Option<Vec<String>>,
    /// `live` or `test`.
    pub environment: Environment,
    /// Unix seconds, already in range.
    pub expires_at: Option<i64>,
    /// Already checked to be https (or local http in dev).
    pub webhook_url: Option<String>,
    /// The product's own id for the key's holder, already checked.
    pub owner_id: Option<String>,
    /// The key's `meta` object, already checked.
    pub meta: Option<Meta>,
    /// The key's own IP allowlist, already checked (empty: the product's
    /// applies).
    #[serde(default, skip_serializing_if = "AllowList::is_empty")]
    pub allowed_ips: AllowList,
}

/// A gateway's call stands for the operation of the same name.
impl From<crate::seam::EdgeOp> for Op {
    fn from(op: crate::seam::EdgeOp) -> Self {
        match op {
            crate::seam::EdgeOp::Verify { id } => Op::Verify { id },
            crate::seam::EdgeOp::NoteUse { id, at } => Op::NoteUse { id, at },
        }
    }
}

/// An import, as the account's object receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Import {
    /// In the body's order.
    pub items: Vec<ImportItem>,
    /// The keys do not count towards `key_limit`.
    #[serde(default)]
    pub ignore_key_limit: bool,
}

/// One item of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ImportItem {
    /// A key to add.
    Key {
        /// SHA-256 of the key, lowercase hex.
        hash: String,
        /// The display prefix (empty when imported by hash).
        display_prefix: String,
        /// The last four characters (empty when imported by hash).
        last4: String,
        /// The create members.
        new: NewKey,
    },
    /// Refused by the edge.
    Refused(Refusal),
}

/// Why an item was refused: a problem's `code`, `field` and `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// The stable problem code.
    pub code: String,
    /// The member at fault, as `keys[i].member`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What to change.
    pub detail: String,
}

impl Refusal {
    /// The refusal for `error`.
    pub fn of(error: &Error) -> Refusal {
        Refusal {
            code: error.code().to_owned(),
            field: error.field().map(str::to_owned),
            detail: error.detail(),
        }
    }
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Refusal::of(&error)
    }
}
