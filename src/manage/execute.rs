//! Carrying out a [`Plan`]: the edge index first, then the ledger, never
//! half of either.
//!
//! Pure: the KV index and the ledger come in as the [`Index`] and [`Store`]
//! interfaces, so the failure paths are tested natively. Invariants: the
//! ledger changes only if every index write succeeded; when an index write
//! or the commit fails, the answer is `storage_unavailable`, a record the
//! ledger does not hold (a key that was never issued) is deleted from the
//! index, and one it does hold is marked dirty so that [`resync`] rewrites
//! it from the ledger until the index converges.

use crate::ledger::{IndexWrite, KeyRow, Ledger, Reply};
use crate::webhook::{Change, Plan};
use crate::Error;

/// The KV hash index, as the object writes it.
#[allow(async_fn_in_trait)] // Used on one thread; Send is not needed.
pub trait Index {
    /// Writes one record.
    async fn put(&self, write: &IndexWrite) -> Result<(), String>;
    /// Removes the record under `hash`.
    async fn delete(&self, hash: &str) -> Result<(), String>;
}

/// The ledger, with its writes.
pub trait Store: Ledger {
    /// Applies `changes` in one transaction: all or none.
    fn commit(&self, changes: Vec<Change>) -> Result<(), String>;
    /// Marks a key whose index record may differ from the ledger.
    fn mark_dirty(&self, id: &str) -> Result<(), String>;
    /// Keys marked dirty.
    fn dirty_keys(&self) -> Result<Vec<KeyRow>, Error>;
    /// Clears the mark once the index matches the ledger again.
    fn clear_dirty(&self, id: &str) -> Result<(), String>;
}

/// What carrying out a plan came to.
#[derive(Debug)]
pub struct Outcome {
    /// The answer to send.
    pub reply: Result<Reply, Error>,
    /// Whether dirty keys wait for [`resync`] (schedule it).
    pub resync: bool,
    /// What failed, for the log. Never a key or a secret.
    pub faults: Vec<String>,
}

/// Makes `plan`'s index writes, then commits its changes.
pub async fn execute(plan: Plan, index: &impl Index, store: &impl Store) -> Outcome {
    let mut outcome = Outcome {
        reply: plan.reply,
        resync: false,
        faults: Vec::new(),
    };
    for (at, write) in plan.index.iter().enumerate() {
        if let Err(fault) = index.put(write).await {
            outcome
                .faults
                .push(format!("index write of {}: {fault}", write.record.id));
            // The failed write may have landed all the same.
            let attempted = plan.index.get(..=at).unwrap_or_default();
            undo(attempted, index, store, &mut outcome).await;
            outcome.reply = Err(Error::StorageUnavailable);
            return outcome;
        }
    }
    if !plan.changes.is_empty() {
        if let Err(fault) = store.commit(plan.changes) {
            outcome.faults.push(format!("ledger commit: {fault}"));
            undo(&plan.index, index, store, &mut outcome).await;
            outcome.reply = Err(Error::StorageUnavailable);
        }
    }
    outcome
}

/// Takes back index writes the ledger does not reflect.
async fn undo(
    writes: &[IndexWrite],
    index: &impl Index,
    store: &impl Store,
    outcome: &mut Outcome,
) {
    for write in writes {
        let id = &write.record.id;
        match store.key(id) {
            Ok(Some(_)) => match store.mark_dirty(id) {
                Ok(()) => outcome.resync = true,
                Err(fault) => outcome.faults.push(format!("marking {id} dirty: {fault}")),
            },
            Ok(None) => {
                if let Err(fault) = index.delete(&write.hash).await {
                    outcome
                        .faults
                        .push(format!("removing unissued key {id}: {fault}"));
                }
            }
            Err(_) => outcome.faults.push(format!("reading {id} back failed")),
        }
    }
}

/// Rewrites every dirty key's index record from the ledger at `now`.
/// An error means some stay dirty: try again later.
pub async fn resync(index: &impl Index, store: &impl Store, now: i64) -> Result<usize, String> {
    let Some(account) = store.account().map_err(|e| e.code().to_owned())? else {
        return Ok(0);
    };
    let dirty = store.dirty_keys().map_err(|e| e.code().to_owned())?;
    for key in &dirty {
        index.put(&IndexWrite::of(key, &account, now)).await?;
        store.clear_dirty(&key.id)?;
    }
    Ok(dirty.len())
}

#[cfg(test)]
#[path = "execute_tests.rs"]
mod tests;
