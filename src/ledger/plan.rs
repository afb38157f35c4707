//! A plan: what one decision over an account writes to the KV index and
//! the ledger, and answers; and the random bytes a decision may need.
//!
//! Invariant: a plan is data; the account's object carries it out (index
//! writes first, then the changes in one transaction), so a refusal never
//! carries index writes.

use super::rows::{Change, IndexWrite};
use crate::key::{KEY_ID_BYTES, RANDOM_BYTES};
use crate::Error;

/// Random bytes a plan may need: a key, a key id and a webhook secret.
#[derive(Clone)]
pub struct Entropy {
    /// For the key.
    pub key: [u8; RANDOM_BYTES],
    /// For the key id.
    pub id: [u8; KEY_ID_BYTES],
    /// For the webhook secret.
    pub webhook: [u8; 32],
}

/// A successful answer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body; `Null` for no body.
    pub body: serde_json::Value,
}

/// What an operation does. The Durable Object first makes the `index` writes;
/// only if all succeed does it apply `changes` (in one transaction), then
/// answers `reply`. A refusal may still carry changes (the audit event of
/// a key-limit refusal) but never index writes.
#[derive(Debug)]
pub struct Plan<H> {
    /// KV hash-index writes, made first.
    pub index: Vec<IndexWrite>,
    /// Ledger writes, applied atomically after the index writes.
    pub changes: Vec<Change<H>>,
    /// The answer.
    pub reply: Result<Reply, Error>,
}

impl<H> Plan<H> {
    /// A plan that changes nothing and answers `status` with `body`.
    pub(crate) fn reply(status: u16, body: impl serde::Serialize) -> Self {
        Plan {
            index: Vec::new(),
            changes: Vec::new(),
            reply: Ok(Reply {
                status,
                body: serde_json::to_value(body).unwrap_or(serde_json::Value::Null),
            }),
        }
    }

    /// A plan that changes nothing and refuses with `error`.
    pub(crate) fn refuse(error: Error) -> Self {
        Plan {
            index: Vec::new(),
            changes: Vec::new(),
            reply: Err(error),
        }
    }
}
