//! Per-isolate memory of the account objects' verdicts, for
//! `consistency = "bounded"`: what the object said about a key, held for
//! at most the product's `max_staleness_seconds`.
//!
//! Pure: callers pass the time. Invariants: a verdict is held from the
//! moment its call was *sent* (not answered), so a verdict used at `t`
//! reflects the object's state at some instant after `t - max_age`; an
//! entry is never used at or past its age limit, nor when the clock reads
//! earlier than its start; the map holds at most [`MAX_VERDICTS`] entries
//! (when full, expired entries are dropped, and if none are, everything is:
//! forgetting a verdict only costs one more call, never a wrong answer).

use std::collections::HashMap;

/// Most verdicts one isolate holds.
pub const MAX_VERDICTS: usize = 10_000;

/// What the account's object answered about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<R> {
    /// The key's current record, for the policy to judge (it may be
    /// revoked, expired or suspended: that is judged, not held apart).
    Current(R),
    /// The object knows no such key.
    Unknown,
}

/// One held verdict: the answer and the window it may be used in.
#[derive(Debug)]
struct Entry<R> {
    verdict: Verdict<R>,
    /// When the call that brought it was sent (ms).
    asked_at_ms: f64,
    /// The first instant it may no longer be used (ms).
    until_ms: f64,
}

/// The verdicts held in one isolate, keyed by account and key id.
#[derive(Debug)]
pub struct VerdictCache<R> {
    entries: HashMap<String, Entry<R>>,
}

impl<R> Default for VerdictCache<R> {
    fn default() -> Self {
        VerdictCache {
            entries: HashMap::new(),
        }
    }
}

/// The map key of `account`'s key `id` (an id is unique, but the account
/// is part of what the object vouched for). The account's length comes
/// first, so no two pairs share a key.
fn slot(account: &str, id: &str) -> String {
    format!("{}:{account}{id}", account.len())
}

impl<R: Clone> VerdictCache<R> {
    /// The verdict held for `account`'s key `id` at `now_ms`, if one was
    /// asked for less than its age limit ago.
    pub fn get(&self, account: &str, id: &str, now_ms: f64) -> Option<Verdict<R>> {
        let entry = self.entries.get(&slot(account, id))?;
        (now_ms >= entry.asked_at_ms && now_ms < entry.until_ms).then(|| entry.verdict.clone())
    }

    /// Holds `verdict` for `account`'s key `id`, from `asked_at_ms` (when
    /// the call was sent) for `max_age_seconds` (0 holds nothing), unless a
    /// verdict asked for later is already held.
    pub fn put(
        &mut self,
        account: &str,
        id: &str,
        verdict: Verdict<R>,
        asked_at_ms: f64,
        max_age_seconds: u32,
    ) {
        if max_age_seconds == 0 {
            return;
        }
        let key = slot(account, id);
        // Answers can land out of order when several requests asked at
        // once: the one asked last is the freshest and stays.
        if self
            .entries
            .get(&key)
            .is_some_and(|held| held.asked_at_ms > asked_at_ms)
        {
            return;
        }
        if self.entries.len() >= MAX_VERDICTS && !self.entries.contains_key(&key) {
            self.entries
                .retain(|_, e| asked_at_ms >= e.asked_at_ms && asked_at_ms < e.until_ms);
            if self.entries.len() >= MAX_VERDICTS {
                self.entries.clear();
            }
        }
        self.entries.insert(
            key,
            Entry {
                verdict,
                asked_at_ms,
                until_ms: asked_at_ms + f64::from(max_age_seconds) * 1000.0,
            },
        );
    }

    /// Number of verdicts held, expired or not.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
#[path = "verdict_cache_tests.rs"]
mod tests;
