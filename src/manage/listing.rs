//! The key list, a page at a time: newest first by creation time, then
//! id, with an opaque `next_cursor` to the next page.
//!
//! Invariant: a cursor names the last key of the page it ends (its
//! creation time and id), so a walk of every page sees each key exactly
//! once even while keys are created (new keys sort before the walk) or
//! pruned; the filter and the paging are answered by the ledger's columns
//! and indexes, never by reading every row.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::account::Plan;
use crate::ledger::{KeyFilter, KeyRow, Ledger};
use crate::ledger::view::KeyView;
use crate::Error;

/// Most keys per page.
pub const MAX_KEYS_PAGE: u32 = 100;
/// Keys per page when `limit` is not given.
pub const DEFAULT_KEYS_PAGE: u32 = 50;

/// A position in the key list: just after this key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyCursor {
    /// The key's creation time, Unix seconds.
    pub created_at: i64,
    /// The key's id.
    pub id: String,
}

impl KeyCursor {
    /// The position just after `key`.
    pub fn after(key: &KeyRow) -> KeyCursor {
        KeyCursor {
            created_at: key.created_at,
            id: key.id.clone(),
        }
    }

    /// The wire form: `<created_at>.<id>`, e.g. `1795000000.key_…`.
    pub fn to_text(&self) -> String {
        format!("{}.{}", self.created_at, self.id)
    }

    /// Reads a wire form back; `None` unless it is one [`to_text`] makes.
    ///
    /// [`to_text`]: KeyCursor::to_text
    pub fn parse(text: &str) -> Option<KeyCursor> {
        let (at, id) = text.split_once('.')?;
        // Exactly as written by `to_text`: no sign, no leading zero.
        let digits = !at.is_empty()
            && at.len() <= 15
            && at.bytes().all(|b| b.is_ascii_digit())
            && (at == "0" || !at.starts_with('0'));
        let created_at = at.parse::<i64>().ok().filter(|_| digits)?;
        crate::ledger::ids::is_key_id(id).then(|| KeyCursor {
            created_at,
            id: id.to_owned(),
        })
    }

    /// Whether `key` comes after this position in the list (it is older,
    /// or as old with a smaller id).
    pub fn precedes(&self, key: &KeyRow) -> bool {
        (key.created_at, key.id.as_str()) < (self.created_at, self.id.as_str())
    }
}

/// The page of keys `filter` admits at `now`, after `after`.
pub fn page(
    ledger: &dyn Ledger,
    filter: &KeyFilter,
    after: Option<&KeyCursor>,
    limit: u32,
    now: i64,
) -> Result<Plan, Error> {
    let mut keys = ledger.key_page(filter, after, limit.saturating_add(1), now)?;
    let more = keys.len() > limit as usize;
    keys.truncate(limit as usize);
    let next = more
        .then(|| keys.last().map(|k| KeyCursor::after(k).to_text()))
        .flatten();
    let keys: Vec<KeyView> = keys.iter().map(|k| KeyView::of(k, now)).collect();
    Ok(Plan::reply(
        200,
        json!({ "keys": keys, "next_cursor": next }),
    ))
}
