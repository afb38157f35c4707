//! A page of what a session may see: keys or events, with a cursor made
//! from the last row the session sees.
//!
//! The account's object lists rows a page at a time and the session's
//! scope filters them afterwards (a session of several products, or the
//! events of a holder's keys), so a page of the account's list may end on
//! a row the session does not see. Invariant: a cursor the page answers
//! names only a row in the page it answers (the last one), never a row
//! outside the scope, and never a position in the account's list that
//! the session could not see; a page is filled from as many of the
//! account's pages as it takes, and says `next_cursor` only when a row
//! the session sees comes after it.

use serde_json::{json, Value};

use crate::manage::listing::KeyCursor;
use crate::time::parse_rfc3339;

/// Which list: its member in the answer, and how a row names its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// `{"keys": [...]}`, newest first; the cursor is `<created_at>.<id>`.
    Keys,
    /// `{"events": [...]}`, newest first; the cursor is the event's
    /// sequence number (its id is `evt_<seq>`).
    Events,
}

impl List {
    /// The answer's member holding the rows.
    pub fn member(self) -> &'static str {
        match self {
            List::Keys => "keys",
            List::Events => "events",
        }
    }

    /// The cursor just after `row` (a key or event view), if it is one.
    pub fn cursor_after(self, row: &Value) -> Option<String> {
        match self {
            List::Keys => {
                let id = row.get("id")?.as_str()?;
                let created_at = parse_rfc3339(row.get("created_at")?.as_str()?)?;
                let cursor = KeyCursor {
                    created_at,
                    id: id.to_owned(),
                };
                // Only what the list reads back.
                KeyCursor::parse(&cursor.to_text()).map(|c| c.to_text())
            }
            List::Events => {
                let seq = row.get("id")?.as_str()?.strip_prefix("evt_")?;
                let seq: i64 = seq.parse().ok().filter(|n| *n > 0)?;
                Some(seq.to_string())
            }
        }
    }
}

/// A page being filled with visible rows.
#[derive(Debug)]
pub struct Fill {
    list: List,
    limit: usize,
    rows: Vec<Value>,
    more: bool,
}

impl Fill {
    /// A page of at most `limit` rows of `list`.
    pub fn new(list: List, limit: u32) -> Fill {
        Fill {
            list,
            limit: limit as usize,
            rows: Vec::new(),
            more: false,
        }
    }

    /// Takes one of the account's pages (`body`, its rows already
    /// filtered to what the session sees by `sees`); returns the cursor to
    /// read the account's next page from, or `None` when the page is
    /// full or the list ended.
    pub fn take(&mut self, body: &Value, sees: impl Fn(&Value) -> bool) -> Option<String> {
        let rows = body
            .get(self.list.member())
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for row in rows.iter().filter(|row| sees(row)) {
            if self.rows.len() >= self.limit {
                // A visible row beyond the page: there is a next page.
                self.more = true;
                return None;
            }
            self.rows.push(row.clone());
        }
        let next = body.get("next_cursor").and_then(Value::as_str)?;
        // The account's next page, from its own cursor: used only to read
        // on, never answered.
        Some(next.to_owned())
    }

    /// The page: its rows and a cursor after the last of them when a
    /// visible row follows.
    pub fn finish(self) -> Value {
        let next = if self.more {
            self.rows.last().and_then(|row| self.list.cursor_after(row))
        } else {
            None
        };
        json!({ self.list.member(): self.rows, "next_cursor": next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, at: &str, owner: &str) -> Value {
        json!({"id": id, "created_at": at, "owner_id": owner})
    }

    const A: &str = "key_AAAAAAAAAAAAAAAAA";
    const B: &str = "key_BBBBBBBBBBBBBBBBB";
    const C: &str = "key_CCCCCCCCCCCCCCCCC";
    const D: &str = "key_DDDDDDDDDDDDDDDDD";

    fn mine(row: &Value) -> bool {
        row["owner_id"] == "me"
    }

    #[test]
    fn the_cursor_is_the_last_visible_row_never_a_hidden_one() {
        assert!(crate::manage::ids::is_key_id(A), "fixture ids are key ids");
        let mut fill = Fill::new(List::Keys, 1);
        // The account's page ends on another holder's key.
        let page = json!({"keys": [
            key(D, "2026-01-04T00:00:00Z", "me"),
            key(C, "2026-01-03T00:00:00Z", "them"),
        ], "next_cursor": format!("1767398400.{C}")});
        // Full, but whether a visible row follows is not known yet.
        let next = fill.take(&page, mine);
        assert_eq!(next, Some(format!("1767398400.{C}")));
        assert!(!fill.more);
        let rest = json!({"keys": [
            key(B, "2026-01-02T00:00:00Z", "them"),
            key(A, "2026-01-01T00:00:00Z", "me"),
        ], "next_cursor": null});
        assert_eq!(fill.take(&rest, mine), None, "a visible row follows");
        assert!(fill.more);
        let body = fill.finish();
        assert_eq!(body["keys"].as_array().unwrap().len(), 1);
        assert_eq!(body["next_cursor"], format!("1767484800.{D}"));
        assert!(!body.to_string().contains(C));
        assert!(
            !body.to_string().contains(A),
            "the look-ahead row is not answered"
        );
    }

    #[test]
    fn a_page_is_filled_across_the_accounts_pages_and_ends_without_a_cursor() {
        let mut fill = Fill::new(List::Keys, 5);
        let first = json!({"keys": [
            key(D, "2026-01-04T00:00:00Z", "me"),
            key(C, "2026-01-03T00:00:00Z", "them"),
        ], "next_cursor": format!("1767398400.{C}")});
        assert_eq!(
            fill.take(&first, mine),
            Some(format!("1767398400.{C}")),
            "read on"
        );
        let second = json!({"keys": [
            key(B, "2026-01-02T00:00:00Z", "them"),
            key(A, "2026-01-01T00:00:00Z", "me"),
        ], "next_cursor": null});
        assert_eq!(fill.take(&second, mine), None);
        let body = fill.finish();
        let ids: Vec<&str> = body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [D, A]);
        assert_eq!(body["next_cursor"], Value::Null, "nothing visible follows");
    }

    #[test]
    fn hidden_rows_after_the_last_visible_one_give_no_cursor() {
        let mut fill = Fill::new(List::Keys, 1);
        let page = json!({"keys": [
            key(D, "2026-01-04T00:00:00Z", "me"),
            key(C, "2026-01-03T00:00:00Z", "them"),
        ], "next_cursor": null});
        assert_eq!(fill.take(&page, mine), None);
        assert_eq!(fill.finish()["next_cursor"], Value::Null);
    }

    #[test]
    fn event_cursors_come_from_the_last_visible_event() {
        let mut fill = Fill::new(List::Events, 2);
        let page = json!({"events": [
            {"id": "evt_90", "key_id": "mine"},
            {"id": "evt_89", "key_id": "theirs"},
            {"id": "evt_70", "key_id": "mine"},
            {"id": "evt_12", "key_id": "theirs"},
            {"id": "evt_11", "key_id": "mine"},
        ], "next_cursor": "11"});
        assert_eq!(fill.take(&page, |e| e["key_id"] == "mine"), None);
        let body = fill.finish();
        assert_eq!(body["next_cursor"], "70");
        assert_eq!(body["events"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_malformed_row_gives_no_cursor() {
        assert_eq!(List::Events.cursor_after(&json!({"id": "evt_-1"})), None);
        assert_eq!(List::Events.cursor_after(&json!({"id": "x_1"})), None);
        assert_eq!(
            List::Keys.cursor_after(&json!({"id": "nope", "created_at": "2026-01-01T00:00:00Z"})),
            None
        );
        assert_eq!(
            List::Keys.cursor_after(&json!({"id": A, "created_at": "yesterday"})),
            None
        );
    }
}
