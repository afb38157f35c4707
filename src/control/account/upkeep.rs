//! The alarm's upkeep of the ledger: pruning what outlived its retention,
//! and rewriting the KV records of keys whose index write failed.
//!
//! Invariants: pruning drops kept Idempotency-Key answers within a minute
//! of their 24 hours and ended keys after their retention, and leaves the
//! alarm set for the next answer due; the resync rewrites every dirty key
//! from the ledger until the index converges ([`manage::resync()`]).

use super::alarm;
use super::index::KvIndex;
use super::object::Object;
use super::sql_ledger::SqlLedger;
use crate::manage::idempotency::KEPT_SECONDS;
use crate::manage::{self, Store};
use crate::runtime::{clock, isolate};

/// Drops what has outlived its retention, then schedules the next
/// prune for the oldest kept answer still waiting.
pub(super) async fn prune(object: &Object) -> Result<(), String> {
    object.ensure_schema().map_err(|e| e.code().to_owned())?;
    let state = isolate::state(&object.env).map_err(|e| e.code().to_owned())?;
    let now = clock::now();
    let store = SqlLedger(object.storage());
    store.commit(vec![manage::retention::prune(&state.config, now)])?;
    if let Some(oldest) = store.oldest_answer().map_err(|e| e.code().to_owned())? {
        let at_ms = alarm::prune_time_ms(oldest.saturating_add(KEPT_SECONDS));
        // An absolute time: workers-rs reads a bare integer as an
        // offset from now.
        alarm::set_alarm_at(&object.storage(), at_ms)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Rewrites the KV record of every dirty key from the ledger.
pub(super) async fn resync(object: &Object) -> Result<(), String> {
    object.ensure_schema().map_err(|e| e.code().to_owned())?;
    let index = KvIndex(object.kv().map_err(|e| e.to_string())?);
    let now = clock::now();
    manage::resync(&index, &SqlLedger(object.storage()), now)
        .await
        .map(drop)
}
