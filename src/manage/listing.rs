//! The key list, a page at a time: newest first by creation time, then
//! id, with an opaque `next_cursor` to the next page.
//!
//! Invariant: a cursor names the last key of the page it ends (its
//! creation time and id), so a walk of every page sees each key exactly
//! once even while keys are created (new keys sort before the walk) or
//! pruned; the filter and the paging are answered by the ledger's columns
//! and indexes, never by reading every row.

use serde_json::json;

use crate::ledger::view::KeyView;
pub use crate::ledger::KeyCursor;
use crate::ledger::{KeyFilter, Ledger};
use crate::webhook::Plan;
use crate::Error;

/// Most keys per page.
pub const MAX_KEYS_PAGE: u32 = 100;
/// Keys per page when `limit` is not given.
pub const DEFAULT_KEYS_PAGE: u32 = 50;

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
