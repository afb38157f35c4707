//! What the API Keys page's API may ask: [`PageOp`], parsed from a page
//! request.
//!
//! Pure. Invariant: a [`PageOp`] has no member for an operator-only field:
//! its create and update carry [`PageNewKey`] and [`PageUpdate`], which
//! the management API's strict reader fills from the page's own
//! allow-list ([`crate::manage::page_create`], [`crate::manage::page_update`]);
//! the other requests (lists, reads, revocation, rotation) are parsed by
//! the management parser and kept only if the page may ask them. An
//! Idempotency-Key travels as a [`Pending`] ticket, bound to the session's
//! caller only by the account's object ([`super::call::restrict`]).

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::manage::idempotency::Pending;
use crate::manage::listing::KeyCursor;
use crate::manage::op::KeyStatus;
use crate::manage::request::{self, Incoming, Request};
use crate::manage::{ids, Op, PageNewKey, PageUpdate};
use crate::Error;

/// One request of the API Keys page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum PageOp {
    /// Create a key.
    CreateKey(PageNewKey),
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
        /// Only keys after this one.
        after: Option<KeyCursor>,
    },
    /// One key.
    GetKey {
        /// Key id.
        id: String,
    },
    /// Rename, re-scope within the ceiling, or shorten a key's life.
    UpdateKey {
        /// Key id.
        id: String,
        /// What to change.
        change: PageUpdate,
    },
    /// Revoke a key now.
    RevokeKey {
        /// Key id.
        id: String,
    },
    /// Rotate a key.
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
    /// `then` at most once per Idempotency-Key and caller.
    Once {
        /// From the header; bound to the session's caller by the object.
        pending: Pending,
        /// A POST's operation.
        then: Box<PageOp>,
    },
}

/// Parses a page request, given as the management request it stands for
/// (`/accounts/{cookie's account}/keys…`); a create or update body is read
/// by the page's allow-list, anything the page may not ask is `not_found`.
pub fn parse(config: &Config, req: &Incoming<'_>, now: i64, dev: bool) -> Result<PageOp, Error> {
    let segments: Vec<&str> = req
        .path
        .strip_prefix('/')
        .unwrap_or(req.path)
        .split('/')
        .collect();
    match (req.method, segments.as_slice()) {
        ("POST", ["accounts", account, "keys"]) => {
            ids::account(account)?;
            request::no_query(req.query)?;
            let body = request::json_body(req.content_type, req.body)?;
            Ok(PageOp::CreateKey(crate::manage::page_create(
                config, body, now, dev,
            )?))
        }
        ("PATCH", ["accounts", account, "keys", id]) => {
            ids::account(account)?;
            let id = ids::key(id)?;
            request::no_query(req.query)?;
            let body = request::json_body(req.content_type, req.body)?;
            Ok(PageOp::UpdateKey {
                id,
                change: crate::manage::page_update(config, body, now)?,
            })
        }
        _ => match request::parse(config, req, now, dev)? {
            Request::Account { op, .. } => from_management(op),
            _ => Err(Error::NotFound),
        },
    }
}

/// The page's form of a management op it may ask; anything else (the
/// account, conditions, the edge's and webhooks' calls) is `not_found`.
fn from_management(op: Op) -> Result<PageOp, Error> {
    Ok(match op {
        Op::ListKeys {
            status,
            product,
            owner_id,
            limit,
            after,
        } => PageOp::ListKeys {
            status,
            product,
            owner_id,
            limit,
            after,
        },
        Op::GetKey { id } => PageOp::GetKey { id },
        Op::RevokeKey { id } => PageOp::RevokeKey { id },
        Op::RotateKey { id, grace_seconds } => PageOp::RotateKey { id, grace_seconds },
        Op::ListEvents { limit, before } => PageOp::ListEvents { limit, before },
        _ => return Err(Error::NotFound),
    })
}

#[cfg(test)]
#[path = "op_tests.rs"]
mod tests;
