//! The account ledger over a Durable Object's SQLite storage.
//!
//! Invariants: rows are stored as the JSON of the core's row types, read
//! back through the same types (an unreadable row is `storage_unavailable`,
//! never a guess); [`Store::commit`] applies a plan's changes in one
//! `transactionSync`, all or none; the audit log keeps the newest
//! [`EVENTS_KEPT`] events.

use serde::{Deserialize, Serialize};
use worker::{
    console_error, js_sys, wasm_bindgen::closure::Closure, wasm_bindgen::JsCast,
    wasm_bindgen::JsValue, Result, SqlStorage, SqlStorageValue, Storage,
};

use crate::manage::{AccountRow, Change, EventRow, KeyRow, Ledger, Store};
use crate::Error;

/// Audit events kept per account; older ones are dropped.
pub(super) const EVENTS_KEPT: i64 = 10_000;
/// Larger than any sequence number; the largest integer JavaScript holds
/// exactly.
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// The tables, created on first use.
pub(super) const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS account (id TEXT PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, body TEXT NOT NULL,
       last_used_at INTEGER, dirty INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT,
       body TEXT NOT NULL);";

/// Whether [`SCHEMA`]'s tables exist. Reads the catalogue only, so it
/// creates nothing.
pub(super) fn has_tables(sql: &SqlStorage) -> std::result::Result<bool, Error> {
    #[derive(Deserialize)]
    struct Count {
        n: f64,
    }
    let rows = sql
        .exec(
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'account'",
            None,
        )
        .and_then(|c| c.to_array::<Count>())
        .map_err(storage("read the catalogue"))?;
    Ok(rows.first().is_some_and(|r| r.n > 0.0))
}

fn storage(what: &'static str) -> impl Fn(worker::Error) -> Error {
    move |e| {
        console_error!("account object: {what}: {e}");
        Error::StorageUnavailable
    }
}

fn unreadable(what: &'static str) -> impl Fn(serde_json::Error) -> Error {
    move |e| {
        console_error!("account object: unreadable {what}: {e}");
        Error::StorageUnavailable
    }
}

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

#[derive(Deserialize)]
struct KeySqlRow {
    body: String,
    last_used_at: Option<f64>,
}

#[derive(Deserialize)]
struct EventSqlRow {
    seq: f64,
    body: String,
}

impl KeySqlRow {
    fn into_row(self) -> std::result::Result<KeyRow, Error> {
        let mut row: KeyRow = serde_json::from_str(&self.body).map_err(unreadable("key"))?;
        row.last_used_at = self.last_used_at.map(|at| at as i64);
        Ok(row)
    }
}

/// The ledger over the object's SQLite storage.
pub(super) struct SqlLedger(pub(super) Storage);

impl SqlLedger {
    fn sql(&self) -> SqlStorage {
        self.0.sql()
    }

    fn keys_where(
        &self,
        clause: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> std::result::Result<Vec<KeyRow>, Error> {
        let query = format!("SELECT body, last_used_at FROM keys {clause}");
        self.sql()
            .exec(&query, Some(bindings))
            .and_then(|c| c.to_array::<KeySqlRow>())
            .map_err(storage("read keys"))?
            .into_iter()
            .map(KeySqlRow::into_row)
            .collect()
    }
}

impl Store for SqlLedger {
    fn dirty_keys(&self) -> std::result::Result<Vec<KeyRow>, Error> {
        self.keys_where("WHERE dirty = 1", vec![])
    }

    fn mark_dirty(&self, id: &str) -> std::result::Result<(), String> {
        self.sql()
            .exec(
                "UPDATE keys SET dirty = 1 WHERE id = ?",
                Some(vec![id.into()]),
            )
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn clear_dirty(&self, id: &str) -> std::result::Result<(), String> {
        self.sql()
            .exec(
                "UPDATE keys SET dirty = 0 WHERE id = ?",
                Some(vec![id.into()]),
            )
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// One synchronous transaction (`transactionSync`): all or none.
    fn commit(&self, changes: Vec<Change>) -> std::result::Result<(), String> {
        let sql = self.sql();
        let mut pending = Some(changes);
        let body = Closure::<dyn FnMut() -> std::result::Result<JsValue, JsValue>>::new(
            move || -> std::result::Result<JsValue, JsValue> {
                for change in pending.take().unwrap_or_default() {
                    apply_one(&sql, change).map_err(|e| JsValue::from_str(&e.to_string()))?;
                }
                Ok(JsValue::UNDEFINED)
            },
        );
        let storage: &JsValue = self.0.as_raw().as_ref();
        let run = || -> std::result::Result<(), JsValue> {
            let transaction_sync: js_sys::Function =
                js_sys::Reflect::get(storage, &JsValue::from_str("transactionSync"))?.dyn_into()?;
            transaction_sync.call1(storage, body.as_ref().unchecked_ref())?;
            Ok(())
        };
        run().map_err(|e| format!("{e:?}"))
    }
}

fn apply_one(sql: &SqlStorage, change: Change) -> Result<()> {
    match change {
        Change::PutAccount(account) => {
            sql.exec(
                "INSERT INTO account (id, body) VALUES (?, ?)
                 ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                Some(vec![account.id.clone().into(), json(&account)?.into()]),
            )?;
        }
        Change::PutKey(key) => {
            sql.exec(
                "INSERT INTO keys (id, body, dirty) VALUES (?, ?, 0)
                 ON CONFLICT(id) DO UPDATE SET body = excluded.body, dirty = 0",
                Some(vec![key.id.clone().into(), json(&key)?.into()]),
            )?;
        }
        Change::AppendEvent(event) => {
            sql.exec(
                "INSERT INTO events (body) VALUES (?)",
                Some(vec![json(&event)?.into()]),
            )?;
            sql.exec(
                "DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?",
                Some(vec![EVENTS_KEPT.into()]),
            )?;
        }
        Change::NoteUse { id, at } => {
            sql.exec(
                "UPDATE keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?",
                Some(vec![at.into(), id.into()]),
            )?;
        }
        Change::Hook(change) => super::hook_sql::apply(sql, change)?,
    }
    Ok(())
}

/// A row as stored: JSON text.
fn json<T: Serialize>(row: &T) -> Result<String> {
    serde_json::to_string(row).map_err(|e| worker::Error::RustError(e.to_string()))
}

impl Ledger for SqlLedger {
    fn account(&self) -> std::result::Result<Option<AccountRow>, Error> {
        let rows = self
            .sql()
            .exec("SELECT body FROM account LIMIT 1", None)
            .and_then(|c| c.to_array::<BodyRow>())
            .map_err(storage("read the account"))?;
        rows.into_iter()
            .next()
            .map(|r| serde_json::from_str(&r.body).map_err(unreadable("account")))
            .transpose()
    }

    fn keys(&self) -> std::result::Result<Vec<KeyRow>, Error> {
        self.keys_where("", vec![])
    }

    fn key(&self, id: &str) -> std::result::Result<Option<KeyRow>, Error> {
        Ok(self
            .keys_where("WHERE id = ?", vec![id.into()])?
            .into_iter()
            .next())
    }

    fn events(&self, before: Option<i64>, limit: u32) -> std::result::Result<Vec<EventRow>, Error> {
        self.sql()
            .exec(
                "SELECT seq, body FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                Some(vec![
                    before.unwrap_or(MAX_SAFE_INTEGER).into(),
                    i64::from(limit).into(),
                ]),
            )
            .and_then(|c| c.to_array::<EventSqlRow>())
            .map_err(storage("read events"))?
            .into_iter()
            .map(|r| {
                let mut event: EventRow =
                    serde_json::from_str(&r.body).map_err(unreadable("event"))?;
                event.seq = r.seq as i64;
                Ok(event)
            })
            .collect()
    }
}
