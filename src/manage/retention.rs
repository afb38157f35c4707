//! How long the ledger keeps what has ended: a revoked, replaced or
//! expired key for the configured `key_retention_days` after it ended, an
//! Idempotency-Key's answer for 24 hours.
//!
//! Invariant: pruning removes key rows and kept answers only, never audit
//! events, and never a key that still works (it has not ended) — the
//! retention is at least the 30 days an ended key's record stays at the
//! edge, so the edge never holds a record the ledger has dropped for long.

use super::idempotency::KEPT_SECONDS;
use crate::config::Config;
use crate::webhook::Change;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// The prune that `config`'s retention asks for at `now`.
pub fn prune(config: &Config, now: i64) -> Change {
    Change::Prune {
        keys_ended_by: now.saturating_sub(i64::from(config.key_retention_days) * DAY),
        answers_before: now.saturating_sub(KEPT_SECONDS),
    }
}
