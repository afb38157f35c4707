//! Time-based key events: `key.expiring` (per-product offsets before a
//! key's expiry, 7 days and 1 day by default) and `key.expired` (at the
//! expiry), for the account object's alarm.
//!
//! Pure: the alarm passes the keys, the offsets, the watermark it stored
//! last time (`since`) and `now`, all Unix seconds. Invariant: a reminder
//! moment `t` is due in exactly one window `since < t <= now`, so an alarm
//! that stores `now` as its new watermark in the same transaction as the
//! outbox rows emits each event once, however late or often it runs;
//! [`next_due`] is the earliest moment after the watermark, where the
//! alarm is set next. A key revoked at or before a moment gets nothing for
//! it.

pub use crate::config::hook_defaults::DEFAULT_OFFSETS_SECONDS;

/// A key's times, as the alarm reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTimes<'a> {
    /// The key id.
    pub key_id: &'a str,
    /// The product id (it chooses the offsets).
    pub product: &'a str,
    /// When the key expires, if ever.
    pub expires_at: Option<i64>,
    /// When the key was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// Which time-based event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    /// `key.expiring`, this many seconds before expiry.
    Expiring {
        /// The offset.
        before_seconds: i64,
    },
    /// `key.expired`.
    Expired,
}

/// A time-based event that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due<'a> {
    /// The key id.
    pub key_id: &'a str,
    /// The key's expiry.
    pub expires_at: i64,
    /// Which event.
    pub reminder: Reminder,
    /// The moment it was due (the event's timestamp).
    pub at: i64,
}

fn moments<'a, 'k>(
    key: &'a KeyTimes<'k>,
    offsets: &'a dyn Fn(&str) -> Vec<i64>,
) -> impl Iterator<Item = Due<'k>> + 'a {
    let expires_at = key.expires_at;
    let revoked_at = key.revoked_at;
    let key_id = key.key_id;
    let reminders = expires_at
        .map(|exp| {
            let mut all: Vec<Reminder> = offsets(key.product)
                .into_iter()
                .filter(|o| *o > 0)
                .map(|before_seconds| Reminder::Expiring { before_seconds })
                .collect();
            all.push(Reminder::Expired);
            (exp, all)
        })
        .into_iter()
        .flat_map(|(exp, all)| all.into_iter().map(move |r| (exp, r)));
    reminders.filter_map(move |(exp, reminder)| {
        let at = match reminder {
            Reminder::Expiring { before_seconds } => exp.checked_sub(before_seconds)?,
            Reminder::Expired => exp,
        };
        let live = revoked_at.is_none_or(|r| r > at);
        live.then_some(Due {
            key_id,
            expires_at: exp,
            reminder,
            at,
        })
    })
}

/// The events due in `since < t <= now`, earliest first. `offsets` gives
/// a product's reminder offsets in seconds (non-positive ones are ignored).
pub fn due<'k>(
    keys: &[KeyTimes<'k>],
    offsets: &dyn Fn(&str) -> Vec<i64>,
    since: i64,
    now: i64,
) -> Vec<Due<'k>> {
    let mut out: Vec<Due<'k>> = keys
        .iter()
        .flat_map(|key| moments(key, offsets))
        .filter(|d| since < d.at && d.at <= now)
        .collect();
    out.sort_by_key(|d| (d.at, d.key_id));
    out
}

/// The earliest moment after `since`: when the alarm should next run for
/// time-based events, if any is left.
pub fn next_due(
    keys: &[KeyTimes<'_>],
    offsets: &dyn Fn(&str) -> Vec<i64>,
    since: i64,
) -> Option<i64> {
    keys.iter()
        .flat_map(|key| moments(key, offsets))
        .map(|d| d.at)
        .filter(|at| *at > since)
        .min()
}

#[cfg(test)]
#[path = "reminder_tests.rs"]
mod tests;
