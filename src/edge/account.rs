//! The per-account Durable Object: the source of truth for one account's
//! keys and audit log, in the object's SQLite storage.
//!
//! Invariants: mutations run one at a time (an async lock held across the
//! KV writes), so the key limit holds exactly under concurrency; a plan's
//! KV index writes happen first, and its ledger changes are applied in one
//! `transactionSync` only if all of them succeeded, so nothing is
//! half-written; if some index writes landed before one failed, those keys
//! are marked dirty and an alarm rewrites their KV records from the ledger
//! until the index converges.

use std::cell::Cell;

use futures_util::lock::Mutex;
use serde::{Deserialize, Serialize};
use worker::{
    console_error, durable_object, js_sys, wasm_bindgen::closure::Closure, wasm_bindgen::JsCast,
    wasm_bindgen::JsValue, DurableObject, Env, Request, Response, Result, SqlStorage,
    SqlStorageValue, State,
};

use super::isolate;
use crate::config::KEYS_BINDING;
use crate::manage::{
    self, AccountRow, Change, Entropy, EventRow, IndexWrite, KeyRow, Ledger, Op, Plan,
};
use crate::Error;

/// Audit events kept per account; older ones are dropped.
pub(super) const EVENTS_KEPT: i64 = 10_000;
/// Larger than any sequence number; the largest integer JavaScript holds
/// exactly.
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;
/// Milliseconds before a failed index write is retried.
const RESYNC_AFTER_MS: i64 = 15_000;

/// What the Worker sends the object.
#[derive(Serialize, Deserialize)]
pub(super) struct Call {
    /// The account the object holds (its name).
    pub account: String,
    /// What to do.
    pub op: Op,
}

/// One account's keys and audit log.
#[durable_object]
pub struct Account {
    state: State,
    env: Env,
    mutations: Mutex<()>,
    schema_ready: Cell<bool>,
}

impl DurableObject for Account {
    fn new(state: State, env: Env) -> Self {
        Account {
            state,
            env,
            mutations: Mutex::new(()),
            schema_ready: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let text = req.text().await?;
        let (status, body) = match serde_json::from_str::<Call>(&text) {
            Ok(call) => match self.run(call).await {
                Ok(reply) => (
                    reply.status,
                    if reply.body.is_null() {
                        String::new()
                    } else {
                        reply.body.to_string()
                    },
                ),
                Err(error) => (error.status(), error.to_problem(None).body),
            },
            Err(e) => {
                console_error!("account object: unreadable call: {e}");
                let error = Error::StorageUnavailable;
                (error.status(), error.to_problem(None).body)
            }
        };
        Ok(Response::ok(body)?.with_status(status))
    }

    async fn alarm(&self) -> Result<Response> {
        let _turn = self.mutations.lock().await;
        if let Err(e) = self.resync().await {
            console_error!("account object: index resync failed: {e}");
            self.retry_later().await;
        }
        Response::ok("")
    }
}

impl Account {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn ensure_schema(&self) -> std::result::Result<(), Error> {
        if self.schema_ready.get() {
            return Ok(());
        }
        self.sql()
            .exec(
                "CREATE TABLE IF NOT EXISTS account (id TEXT PRIMARY KEY, body TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, body TEXT NOT NULL,
                   last_used_at INTEGER, dirty INTEGER NOT NULL DEFAULT 0);
                 CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                   body TEXT NOT NULL);",
                None,
            )
            .map_err(storage("create schema"))?;
        self.schema_ready.set(true);
        Ok(())
    }

    async fn run(&self, call: Call) -> std::result::Result<manage::Reply, Error> {
        self.ensure_schema()?;
        let gateway = isolate::gateway(&self.env)?;
        // Reads and use reports need no turn: they see committed state.
        let _turn = match &call.op {
            Op::ListKeys { .. }
            | Op::GetKey { .. }
            | Op::ListEvents { .. }
            | Op::GetAccount
            | Op::Verify { .. }
            | Op::NoteUse { .. } => None,
            _ => Some(self.mutations.lock().await),
        };
        let now = (js_sys::Date::now() / 1000.0).floor() as i64;
        let entropy = entropy()?;
        let ledger = SqlLedger(self.sql());
        let Plan {
            index,
            changes,
            reply,
        } = manage::plan(
            &gateway.config,
            &ledger,
            &call.account,
            call.op,
            now,
            &entropy,
        );
        if !index.is_empty() {
            self.write_index(&ledger, &index).await?;
        }
        if !changes.is_empty() {
            if let Err(e) = ledger.apply(&self.state, changes) {
                console_error!("account object: commit failed: {e:?}");
                self.undo_index(&ledger, &index).await;
                return Err(Error::StorageUnavailable);
            }
        }
        reply
    }

    /// Makes every index write or fails; on failure, keys already written
    /// are marked for resync and new ones are removed again.
    async fn write_index(
        &self,
        ledger: &SqlLedger,
        index: &[IndexWrite],
    ) -> std::result::Result<(), Error> {
        let kv = self
            .env
            .kv(KEYS_BINDING)
            .map_err(|_| Error::Misconfigured {
                what: format!("the KV namespace binding {KEYS_BINDING} is missing"),
            })?;
        for (done, write) in index.iter().enumerate() {
            let put = match kv.put(&write.hash, write.record.to_json()) {
                Ok(put) => match write.expiration.and_then(|at| u64::try_from(at).ok()) {
                    Some(at) => put.expiration(at),
                    None => put,
                },
                Err(e) => return Err(self.index_failed(ledger, index, done, &e.to_string()).await),
            };
            if let Err(e) = put.execute().await {
                // This write may have landed too.
                return Err(self
                    .index_failed(ledger, index, done + 1, &e.to_string())
                    .await);
            }
        }
        Ok(())
    }

    async fn index_failed(
        &self,
        ledger: &SqlLedger,
        index: &[IndexWrite],
        attempted: usize,
        why: &str,
    ) -> Error {
        console_error!("account object: KV index write failed: {why}");
        self.undo_index(ledger, index.get(..attempted).unwrap_or(index))
            .await;
        Error::StorageUnavailable
    }

    /// Returns the index to the ledger's state after writes that must not
    /// stand: keys the ledger holds are marked dirty for the alarm; keys it
    /// does not (a create that failed) are deleted from KV.
    async fn undo_index(&self, ledger: &SqlLedger, writes: &[IndexWrite]) {
        let Ok(kv) = self.env.kv(KEYS_BINDING) else {
            return;
        };
        let mut dirty = false;
        for write in writes {
            match ledger.key(&write.record.id) {
                Ok(Some(_)) => dirty |= ledger.mark_dirty(&write.record.id).is_ok(),
                _ => {
                    if let Err(e) = kv.delete(&write.hash).await {
                        console_error!("account object: removing an unissued key failed: {e}");
                    }
                }
            }
        }
        if dirty {
            self.retry_later().await;
        }
    }

    async fn retry_later(&self) {
        let at = js_sys::Date::now() as i64 + RESYNC_AFTER_MS;
        if let Err(e) = self.state.storage().set_alarm(at).await {
            console_error!("account object: cannot schedule a resync: {e}");
        }
    }

    /// Rewrites the KV record of every dirty key from the ledger.
    async fn resync(&self) -> std::result::Result<(), Error> {
        self.ensure_schema()?;
        let ledger = SqlLedger(self.sql());
        let Some(account) = ledger.account()? else {
            return Ok(());
        };
        let now = (js_sys::Date::now() / 1000.0).floor() as i64;
        let kv = self
            .env
            .kv(KEYS_BINDING)
            .map_err(|_| Error::StorageUnavailable)?;
        for key in ledger.dirty_keys()? {
            let write = IndexWrite::of(&key, &account, now);
            let mut put = kv
                .put(&write.hash, write.record.to_json())
                .map_err(|_| Error::StorageUnavailable)?;
            if let Some(at) = write.expiration.and_then(|at| u64::try_from(at).ok()) {
                put = put.expiration(at);
            }
            put.execute().await.map_err(|_| Error::StorageUnavailable)?;
            ledger.clear_dirty(&key.id)?;
        }
        Ok(())
    }
}

/// Fresh random bytes from the runtime's CSPRNG.
fn entropy() -> std::result::Result<Entropy, Error> {
    let mut buf = [0u8; 32 + 12 + 32];
    let global: worker::web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    global
        .crypto()
        .and_then(|c| c.get_random_values_with_u8_array(&mut buf))
        .map_err(|_| Error::StorageUnavailable)?;
    let mut entropy = Entropy {
        key: [0; 32],
        id: [0; 12],
        webhook: [0; 32],
    };
    let (key, rest) = buf.split_at(32);
    let (id, webhook) = rest.split_at(12);
    entropy.key.copy_from_slice(key);
    entropy.id.copy_from_slice(id);
    entropy.webhook.copy_from_slice(webhook);
    Ok(entropy)
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
struct SqlLedger(SqlStorage);

impl SqlLedger {
    fn keys_where(
        &self,
        clause: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> std::result::Result<Vec<KeyRow>, Error> {
        let query = format!("SELECT body, last_used_at FROM keys {clause}");
        self.0
            .exec(&query, Some(bindings))
            .and_then(|c| c.to_array::<KeySqlRow>())
            .map_err(storage("read keys"))?
            .into_iter()
            .map(KeySqlRow::into_row)
            .collect()
    }

    fn dirty_keys(&self) -> std::result::Result<Vec<KeyRow>, Error> {
        self.keys_where("WHERE dirty = 1", vec![])
    }

    fn mark_dirty(&self, id: &str) -> std::result::Result<(), Error> {
        self.0
            .exec(
                "UPDATE keys SET dirty = 1 WHERE id = ?",
                Some(vec![id.into()]),
            )
            .map(drop)
            .map_err(storage("mark a key dirty"))
    }

    fn clear_dirty(&self, id: &str) -> std::result::Result<(), Error> {
        self.0
            .exec(
                "UPDATE keys SET dirty = 0 WHERE id = ?",
                Some(vec![id.into()]),
            )
            .map(drop)
            .map_err(storage("clear a dirty key"))
    }

    /// Applies `changes` in one synchronous transaction: all or none.
    fn apply(&self, state: &State, changes: Vec<Change>) -> std::result::Result<(), JsValue> {
        let sql = self.0.clone();
        let mut pending = Some(changes);
        let body = Closure::<dyn FnMut() -> std::result::Result<JsValue, JsValue>>::new(
            move || -> std::result::Result<JsValue, JsValue> {
                for change in pending.take().unwrap_or_default() {
                    apply_one(&sql, change).map_err(|e| JsValue::from_str(&e.to_string()))?;
                }
                Ok(JsValue::UNDEFINED)
            },
        );
        let storage = state.storage();
        let storage: &JsValue = storage.as_raw().as_ref();
        let transaction_sync: js_sys::Function =
            js_sys::Reflect::get(storage, &JsValue::from_str("transactionSync"))?.dyn_into()?;
        transaction_sync.call1(storage, body.as_ref().unchecked_ref())?;
        Ok(())
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
            .0
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
        self.0
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
