//! The webhook tables in memory, for tests: the same semantics as the
//! account object's SQLite tables (rows numbered from 1, replaced by
//! delivery id).

use std::cell::RefCell;

use super::{DisabledHook, EndpointRow, HookChange, HookLedger, OutboxRow, PreviousSecret};
use crate::webhook::delivery::Status;
use crate::webhook::event::Hook;
use crate::Error;

/// The tables.
#[derive(Default)]
pub(crate) struct HookMemory {
    pub(crate) outbox: RefCell<Vec<OutboxRow>>,
    endpoints: RefCell<Vec<EndpointRow>>,
    disabled: RefCell<Vec<DisabledHook>>,
    previous: RefCell<Vec<PreviousSecret>>,
    pub(crate) since: std::cell::Cell<Option<i64>>,
}

impl HookMemory {
    /// Applies one change as the object's transaction does.
    pub(crate) fn apply(&self, change: HookChange) {
        match change {
            HookChange::Outbox(mut row) => {
                let mut outbox = self.outbox.borrow_mut();
                if let Some(old) = outbox.iter_mut().find(|o| o.delivery.id == row.delivery.id) {
                    row.seq = old.seq;
                    *old = row;
                } else {
                    row.seq = outbox.len() as i64 + 1;
                    outbox.push(row);
                }
            }
            HookChange::Disable(d) => {
                let mut disabled = self.disabled.borrow_mut();
                disabled.retain(|o| o.hook != d.hook);
                disabled.push(d);
            }
            HookChange::PutEndpoint(e) => self.endpoints.borrow_mut().push(e),
            HookChange::RemindersSince(at) => self.since.set(Some(at)),
            HookChange::PreviousSecret(p) => {
                let mut previous = self.previous.borrow_mut();
                previous.retain(|o| o.key_id != p.key_id);
                previous.push(p);
            }
            HookChange::DeleteEndpoint(id) => {
                self.endpoints.borrow_mut().retain(|e| e.id != id);
                self.disabled
                    .borrow_mut()
                    .retain(|d| d.hook != Hook::Endpoint(id.clone()));
            }
        }
    }
}

impl HookLedger for HookMemory {
    fn endpoints(&self) -> Result<Vec<EndpointRow>, Error> {
        Ok(self.endpoints.borrow().clone())
    }
    fn disabled(&self) -> Result<Vec<DisabledHook>, Error> {
        Ok(self.disabled.borrow().clone())
    }
    fn due(&self, now_ms: i64, limit: u32) -> Result<Vec<OutboxRow>, Error> {
        let mut due: Vec<OutboxRow> = self
            .outbox
            .borrow()
            .iter()
            .filter(|o| o.delivery.is_due(now_ms))
            .cloned()
            .collect();
        due.sort_by_key(|o| (o.delivery.next_at_ms, o.seq));
        due.truncate(limit as usize);
        Ok(due)
    }
    fn delivery(&self, id: &str) -> Result<Option<OutboxRow>, Error> {
        Ok(self
            .outbox
            .borrow()
            .iter()
            .find(|o| o.delivery.id == id)
            .cloned())
    }
    fn pending_for(&self, hook: &Hook) -> Result<Vec<OutboxRow>, Error> {
        Ok(self
            .outbox
            .borrow()
            .iter()
            .filter(|o| o.delivery.hook == *hook && o.delivery.status == Status::Pending)
            .cloned()
            .collect())
    }
    fn to_hook(
        &self,
        hook: &Hook,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, Error> {
        Ok(self
            .outbox
            .borrow()
            .iter()
            .rev()
            .filter(|o| o.delivery.hook == *hook && before.is_none_or(|b| o.seq < b))
            .take(limit as usize)
            .cloned()
            .collect())
    }
    fn previous_secret(&self, key_id: &str) -> Result<Option<PreviousSecret>, Error> {
        Ok(self
            .previous
            .borrow()
            .iter()
            .find(|p| p.key_id == key_id)
            .cloned())
    }
    fn reminders_since(&self) -> Result<Option<i64>, Error> {
        Ok(self.since.get())
    }
    fn next_due(&self) -> Result<Option<i64>, Error> {
        Ok(crate::webhook::delivery::next_due(
            self.outbox.borrow().iter().map(|o| &o.delivery),
        ))
    }
}
