//! An in-memory [`Store`] for tests: the Durable Object's ledger without
//! SQLite, with the same semantics (last use kept across key rewrites,
//! events numbered from 1, commits all or none).

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use super::execute::Store;
use super::idempotency::IdempotentRow;
use super::listing::KeyCursor;
use crate::ledger::{ended_by, AccountRow, EventRow, KeyFilter, KeyRow, Ledger};
use crate::webhook::Change;
use crate::Error;

/// The ledger in memory.
#[derive(Default)]
pub(crate) struct Memory {
    account: RefCell<Option<AccountRow>>,
    keys: RefCell<Vec<KeyRow>>,
    events: RefCell<Vec<EventRow>>,
    answers: RefCell<Vec<IdempotentRow>>,
    dirty: RefCell<BTreeSet<String>>,
    /// When set, the next commit fails and changes nothing.
    pub(crate) fail_commit: Cell<bool>,
    /// The webhook tables.
    pub(crate) hooks: crate::webhook::outbox::memory::HookMemory,
}

impl Ledger for Memory {
    fn account(&self) -> Result<Option<AccountRow>, Error> {
        Ok(self.account.borrow().clone())
    }
    fn keys(&self) -> Result<Vec<KeyRow>, Error> {
        Ok(self.keys.borrow().clone())
    }
    fn key(&self, id: &str) -> Result<Option<KeyRow>, Error> {
        Ok(self.keys.borrow().iter().find(|k| k.id == id).cloned())
    }
    fn key_page(
        &self,
        filter: &KeyFilter,
        after: Option<&KeyCursor>,
        limit: u32,
        now: i64,
    ) -> Result<Vec<KeyRow>, Error> {
        let mut keys: Vec<KeyRow> = self
            .keys
            .borrow()
            .iter()
            .filter(|k| filter.admits(k, now) && after.is_none_or(|c| c.precedes(k)))
            .cloned()
            .collect();
        keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        keys.truncate(limit as usize);
        Ok(keys)
    }
    fn count_working(&self, product: &str, now: i64) -> Result<u64, Error> {
        let keys = self.keys.borrow();
        let working = keys
            .iter()
            .filter(|k| k.product == product && k.holds_a_slot(now));
        Ok(working.count() as u64)
    }
    fn working_keys(&self, now: i64) -> Result<Vec<KeyRow>, Error> {
        let keys = self.keys.borrow();
        Ok(keys
            .iter()
            .filter(|k| k.holds_a_slot(now))
            .cloned()
            .collect())
    }
    fn replaced_by(&self, id: &str) -> Result<Vec<KeyRow>, Error> {
        let keys = self.keys.borrow();
        let replaced = keys.iter().filter(|k| k.replaced_by.as_deref() == Some(id));
        Ok(replaced.cloned().collect())
    }
    fn idempotent(&self, id: &str) -> Result<Option<IdempotentRow>, Error> {
        Ok(self.answers.borrow().iter().find(|a| a.id == id).cloned())
    }
    fn events(&self, before: Option<i64>, limit: u32) -> Result<Vec<EventRow>, Error> {
        let events = self.events.borrow();
        Ok(events
            .iter()
            .rev()
            .filter(|e| before.is_none_or(|b| e.seq < b))
            .take(limit as usize)
            .cloned()
            .collect())
    }
}

impl Store for Memory {
    fn commit(&self, changes: Vec<Change>) -> Result<(), String> {
        if self.fail_commit.replace(false) {
            return Err("disk full".into());
        }
        self.apply(changes);
        Ok(())
    }
    fn mark_dirty(&self, id: &str) -> Result<(), String> {
        self.dirty.borrow_mut().insert(id.to_owned());
        Ok(())
    }
    fn dirty_keys(&self) -> Result<Vec<KeyRow>, Error> {
        let dirty = self.dirty.borrow();
        Ok(self
            .keys
            .borrow()
            .iter()
            .filter(|k| dirty.contains(&k.id))
            .cloned()
            .collect())
    }
    fn clear_dirty(&self, id: &str) -> Result<(), String> {
        self.dirty.borrow_mut().remove(id);
        Ok(())
    }
}

impl Memory {
    /// Applies changes as the object's transaction does.
    pub(crate) fn apply(&self, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::PutAccount(a) => *self.account.borrow_mut() = Some(a),
                Change::PutKey(k) => {
                    let mut keys = self.keys.borrow_mut();
                    let used = keys
                        .iter()
                        .find(|o| o.id == k.id)
                        .and_then(|o| o.last_used_at);
                    keys.retain(|o| o.id != k.id);
                    keys.push(KeyRow {
                        last_used_at: used,
                        ..k
                    });
                }
                Change::AppendEvent(mut e) => {
                    let mut events = self.events.borrow_mut();
                    e.seq = events.len() as i64 + 1;
                    events.push(e);
                }
                Change::NoteUse { id, at } => {
                    for k in self.keys.borrow_mut().iter_mut().filter(|k| k.id == id) {
                        k.last_used_at = Some(k.last_used_at.map_or(at, |l| l.max(at)));
                    }
                }
                Change::PutIdempotent(row) => {
                    let mut answers = self.answers.borrow_mut();
                    answers.retain(|a| a.id != row.id);
                    answers.push(row);
                }
                Change::Prune {
                    keys_ended_by,
                    answers_before,
                } => {
                    self.keys
                        .borrow_mut()
                        .retain(|k| !ended_by(k, keys_ended_by));
                    let mut answers = self.answers.borrow_mut();
                    answers.retain(|a| a.created_at >= answers_before);
                }
                Change::Hook(change) => self.hooks.apply(change),
            }
        }
    }
}
