//! The account ledger over a Durable Object's SQLite storage.
//!
//! Invariants: rows are stored as the JSON of the core's row types, read
//! back through the same types (an unreadable row is `storage_unavailable`,
//! never a guess); [`Store::commit`] applies a plan's changes in one
//! `transactionSync`, all or none; the audit log keeps the newest
//! [`EVENTS_KEPT`] events. A key's row also holds, as columns, what lists,
//! limits and pruning select on (product, holder, times, successor), kept
//! equal to its JSON on every write, so those reads use indexes and read
//! only the rows they return. An object made before those columns existed
//! gains them, filled from its rows' JSON, on first use ([`upgrade`]).

use serde::{Deserialize, Serialize};
use worker::{
    console_error, js_sys, wasm_bindgen::closure::Closure, wasm_bindgen::JsCast,
    wasm_bindgen::JsValue, Result, SqlStorage, SqlStorageValue, Storage,
};

use super::hook_sql::{self, HookTables};
use crate::manage::idempotency::IdempotentRow;
use crate::manage::listing::KeyCursor;
use crate::manage::op::KeyStatus;
use crate::manage::{AccountRow, Change, EventRow, KeyFilter, KeyRow, Ledger, Store};
use crate::webhook::event::Hook;
use crate::webhook::outbox::{DisabledHook, EndpointRow, HookLedger, OutboxRow, PreviousSecret};
use crate::Error;

/// Audit events kept per account; older ones are dropped.
pub(super) const EVENTS_KEPT: i64 = 10_000;
/// Larger than any sequence number; the largest integer JavaScript holds
/// exactly.
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// The tables, created on first use.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS account (id TEXT PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, body TEXT NOT NULL,
       last_used_at INTEGER, dirty INTEGER NOT NULL DEFAULT 0,
       product TEXT, owner_id TEXT, created_at INTEGER, expires_at INTEGER,
       revoked_at INTEGER, replaced_by TEXT);
     CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT,
       body TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS idempotency (id TEXT PRIMARY KEY,
       fingerprint TEXT NOT NULL, created_at INTEGER NOT NULL, sealed TEXT NOT NULL);";

/// The key columns added after the first schema, filled from the JSON of
/// rows written before them. Run once, when `keys` lacks `replaced_by`.
const UPGRADE: &str = "ALTER TABLE keys ADD COLUMN product TEXT;
     ALTER TABLE keys ADD COLUMN owner_id TEXT;
     ALTER TABLE keys ADD COLUMN created_at INTEGER;
     ALTER TABLE keys ADD COLUMN expires_at INTEGER;
     ALTER TABLE keys ADD COLUMN revoked_at INTEGER;
     ALTER TABLE keys ADD COLUMN replaced_by TEXT;
     UPDATE keys SET product = json_extract(body, '$.product'),
       owner_id = json_extract(body, '$.owner_id'),
       created_at = json_extract(body, '$.created_at'),
       expires_at = json_extract(body, '$.expires_at'),
       revoked_at = json_extract(body, '$.revoked_at'),
       replaced_by = json_extract(body, '$.replaced_by');";

/// The indexes lists, limits and pruning use (after [`UPGRADE`]).
const INDEXES: &str = "CREATE INDEX IF NOT EXISTS keys_by_age ON keys (created_at, id);
     CREATE INDEX IF NOT EXISTS keys_by_product ON keys (product, created_at, id);
     CREATE INDEX IF NOT EXISTS keys_by_owner ON keys (owner_id, created_at, id);
     CREATE INDEX IF NOT EXISTS keys_by_successor ON keys (replaced_by);
     CREATE INDEX IF NOT EXISTS keys_by_revocation ON keys (revoked_at);
     CREATE INDEX IF NOT EXISTS keys_by_expiry ON keys (expires_at);
     CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency (created_at);";

/// Creates the tables, upgrades an object made with the first schema
/// (its `keys` table lacks the columns), and creates the indexes. The
/// object runs this without awaiting in between, so its writes commit
/// together (one implicit transaction): an object is upgraded or not.
pub(super) fn create_or_upgrade(sql: &SqlStorage) -> std::result::Result<(), Error> {
    sql.exec(SCHEMA, None)
        .map_err(storage("create the schema"))?;
    #[derive(Deserialize)]
    struct Count {
        n: f64,
    }
    let current = sql
        .exec(
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'keys'
               AND sql LIKE '%replaced_by%'",
            None,
        )
        .and_then(|c| c.to_array::<Count>())
        .map_err(storage("read the catalogue"))?;
    if !current.first().is_some_and(|r| r.n > 0.0) {
        sql.exec(UPGRADE, None)
            .map_err(storage("add the key columns"))?;
    }
    sql.exec(INDEXES, None)
        .map_err(storage("create the indexes"))?;
    Ok(())
}

/// Keys that work at `?`, `?` (now, twice): neither revoked nor expired.
const WORKING: &str =
    "(revoked_at IS NULL OR revoked_at > ?) AND (expires_at IS NULL OR expires_at > ?)";

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

impl SqlLedger {
    /// When the oldest kept Idempotency-Key answer was stored, if any.
    pub(super) fn oldest_answer(&self) -> std::result::Result<Option<i64>, Error> {
        #[derive(Deserialize)]
        struct Oldest {
            at: Option<f64>,
        }
        let rows = self
            .sql()
            .exec("SELECT MIN(created_at) AS at FROM idempotency", None)
            .and_then(|c| c.to_array::<Oldest>())
            .map_err(storage("read the kept answers"))?;
        Ok(rows.first().and_then(|r| r.at).map(|at| at as i64))
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
                "INSERT INTO keys (id, body, dirty, product, owner_id, created_at, expires_at,
                   revoked_at, replaced_by) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT(id) DO UPDATE SET body = excluded.body, dirty = 0,
                   product = excluded.product, owner_id = excluded.owner_id,
                   created_at = excluded.created_at, expires_at = excluded.expires_at,
                   revoked_at = excluded.revoked_at, replaced_by = excluded.replaced_by",
                Some(vec![
                    key.id.clone().into(),
                    json(&key)?.into(),
                    key.product.clone().into(),
                    key.owner_id.clone().into(),
                    key.created_at.into(),
                    key.expires_at.into(),
                    key.revoked_at.into(),
                    key.replaced_by.clone().into(),
                ]),
            )?;
        }
        Change::PutIdempotent(row) => {
            sql.exec(
                "INSERT INTO idempotency (id, fingerprint, created_at, sealed) VALUES (?, ?, ?, ?)
                 ON CONFLICT(id) DO UPDATE SET fingerprint = excluded.fingerprint,
                   created_at = excluded.created_at, sealed = excluded.sealed",
                Some(vec![
                    row.id.into(),
                    row.fingerprint.into(),
                    row.created_at.into(),
                    row.sealed.into(),
                ]),
            )?;
        }
        Change::Prune {
            keys_ended_by,
            answers_before,
        } => {
            sql.exec(
                "DELETE FROM keys WHERE revoked_at <= ? OR expires_at <= ?",
                Some(vec![keys_ended_by.into(), keys_ended_by.into()]),
            )?;
            sql.exec(
                "DELETE FROM idempotency WHERE created_at < ?",
                Some(vec![answers_before.into()]),
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
        Change::Hook(change) => hook_sql::apply(sql, change)?,
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

    fn key_page(
        &self,
        filter: &KeyFilter,
        after: Option<&KeyCursor>,
        limit: u32,
        now: i64,
    ) -> std::result::Result<Vec<KeyRow>, Error> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut bindings: Vec<SqlStorageValue> = Vec::new();
        match filter.status {
            None => {}
            Some(KeyStatus::Active) => {
                clauses.push(WORKING);
                bindings.extend([now.into(), now.into()]);
            }
            Some(KeyStatus::Revoked) => {
                clauses.push("revoked_at <= ?");
                bindings.push(now.into());
            }
            Some(KeyStatus::Expired) => {
                clauses.push("(revoked_at IS NULL OR revoked_at > ?) AND expires_at <= ?");
                bindings.extend([now.into(), now.into()]);
            }
        }
        if let Some(product) = &filter.product {
            clauses.push("product = ?");
            bindings.push(product.clone().into());
        }
        if let Some(owner) = &filter.owner_id {
            clauses.push("owner_id = ?");
            bindings.push(owner.clone().into());
        }
        if let Some(after) = after {
            clauses.push("(created_at < ? OR (created_at = ? AND id < ?))");
            bindings.extend([
                after.created_at.into(),
                after.created_at.into(),
                after.id.clone().into(),
            ]);
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        bindings.push(i64::from(limit).into());
        self.keys_where(
            &format!("{filter} ORDER BY created_at DESC, id DESC LIMIT ?"),
            bindings,
        )
    }

    fn count_working(&self, product: &str, now: i64) -> std::result::Result<u64, Error> {
        #[derive(Deserialize)]
        struct Count {
            n: f64,
        }
        let rows = self
            .sql()
            .exec(
                &format!("SELECT count(*) AS n FROM keys WHERE product = ? AND {WORKING}"),
                Some(vec![product.into(), now.into(), now.into()]),
            )
            .and_then(|c| c.to_array::<Count>())
            .map_err(storage("count keys"))?;
        Ok(rows.first().map_or(0, |r| r.n as u64))
    }

    fn working_keys(&self, now: i64) -> std::result::Result<Vec<KeyRow>, Error> {
        self.keys_where(&format!("WHERE {WORKING}"), vec![now.into(), now.into()])
    }

    fn replaced_by(&self, id: &str) -> std::result::Result<Vec<KeyRow>, Error> {
        self.keys_where("WHERE replaced_by = ?", vec![id.into()])
    }

    fn idempotent(&self, id: &str) -> std::result::Result<Option<IdempotentRow>, Error> {
        #[derive(Deserialize)]
        struct Kept {
            id: String,
            fingerprint: String,
            created_at: f64,
            sealed: String,
        }
        let rows = self
            .sql()
            .exec(
                "SELECT id, fingerprint, created_at, sealed FROM idempotency WHERE id = ?",
                Some(vec![id.into()]),
            )
            .and_then(|c| c.to_array::<Kept>())
            .map_err(storage("read a kept answer"))?;
        Ok(rows.into_iter().next().map(|r| IdempotentRow {
            id: r.id,
            fingerprint: r.fingerprint,
            created_at: r.created_at as i64,
            sealed: r.sealed,
        }))
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

/// The webhook tables live beside the ledger's, in the same storage.
impl HookLedger for SqlLedger {
    fn endpoints(&self) -> std::result::Result<Vec<EndpointRow>, Error> {
        HookTables(&self.0).endpoints()
    }

    fn disabled(&self) -> std::result::Result<Vec<DisabledHook>, Error> {
        HookTables(&self.0).disabled()
    }

    fn due(&self, now_ms: i64, limit: u32) -> std::result::Result<Vec<OutboxRow>, Error> {
        HookTables(&self.0).due(now_ms, limit)
    }

    fn delivery(&self, id: &str) -> std::result::Result<Option<OutboxRow>, Error> {
        HookTables(&self.0).delivery(id)
    }

    fn pending_for(&self, hook: &Hook) -> std::result::Result<Vec<OutboxRow>, Error> {
        HookTables(&self.0).pending_for(hook)
    }

    fn to_hook(
        &self,
        hook: &Hook,
        before: Option<i64>,
        limit: u32,
    ) -> std::result::Result<Vec<OutboxRow>, Error> {
        HookTables(&self.0).to_hook(hook, before, limit)
    }

    fn previous_secret(&self, key_id: &str) -> std::result::Result<Option<PreviousSecret>, Error> {
        HookTables(&self.0).previous_secret(key_id)
    }

    fn reminders_since(&self) -> std::result::Result<Option<i64>, Error> {
        HookTables(&self.0).reminders_since()
    }

    fn next_due(&self) -> std::result::Result<Option<i64>, Error> {
        HookTables(&self.0).next_due()
    }
}
