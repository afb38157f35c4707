//! The webhook tables over the account object's SQLite storage: the
//! outbox, the account-level endpoints and the disabled webhooks.
//!
//! Invariants: the tables are created with their own `CREATE TABLE IF NOT
//! EXISTS`, only for an account whose ledger exists; rows are stored as
//! the JSON of the core's row types and read back through them (an
//! unreadable row is `storage_unavailable`); writes happen only inside the
//! ledger's commit ([`apply`] is called from its `transactionSync`), so an
//! outbox row is stored with the change that caused it or not at all.

use serde::Deserialize;
use worker::{console_error, Result, SqlStorage, SqlStorageValue, Storage};

use crate::webhook::delivery::Status;
use crate::webhook::event::Hook;
use crate::webhook::outbox::{
    DisabledHook, EndpointRow, HookChange, HookLedger, OutboxRow, PreviousSecret,
};
use crate::Error;

/// Finished deliveries kept per account; older ones are dropped.
const OUTBOX_KEPT: i64 = 10_000;
/// Larger than any sequence number.
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// The tables.
pub(super) const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,
       id TEXT NOT NULL UNIQUE, hook TEXT NOT NULL, status TEXT NOT NULL,
       next_at INTEGER, body TEXT NOT NULL);
     CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_at);
     CREATE INDEX IF NOT EXISTS outbox_hook ON outbox (hook, seq);
     CREATE TABLE IF NOT EXISTS webhook_endpoints (id TEXT PRIMARY KEY,
       body TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS webhook_disabled (hook TEXT PRIMARY KEY,
       body TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS webhook_previous_secrets (key_id TEXT PRIMARY KEY,
       body TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS webhook_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

/// Creates the tables if they are missing; the expiry reminders start
/// from `now` (Unix seconds) the first time.
pub(super) fn ensure(sql: &SqlStorage, now: i64) -> std::result::Result<(), Error> {
    sql.exec(SCHEMA, None)
        .and_then(|_| {
            sql.exec(
                "INSERT OR IGNORE INTO webhook_state (name, value) VALUES (?, ?)",
                Some(vec![REMINDERS_SINCE.into(), now.into()]),
            )
        })
        .map(drop)
        .map_err(|e| {
            console_error!("account object: create webhook tables: {e}");
            Error::StorageUnavailable
        })
}

/// The `webhook_state` row of the reminders' watermark.
const REMINDERS_SINCE: &str = "reminders_since";

/// The `hook` column: `key:<id>` or `endpoint:<id>`.
fn hook_name(hook: &Hook) -> String {
    match hook {
        Hook::Key(id) => format!("key:{id}"),
        Hook::Endpoint(id) => format!("endpoint:{id}"),
    }
}

fn json<T: serde::Serialize>(row: &T) -> Result<String> {
    serde_json::to_string(row).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// Applies one change; called inside the ledger's transaction.
pub(super) fn apply(sql: &SqlStorage, change: HookChange) -> Result<()> {
    match change {
        HookChange::Outbox(row) => {
            let next_at: SqlStorageValue = match row.delivery.next_at_ms {
                Some(at) => at.into(),
                None => SqlStorageValue::Null,
            };
            sql.exec(
                "INSERT INTO outbox (id, hook, status, next_at, body) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT(id) DO UPDATE SET status = excluded.status,
                   next_at = excluded.next_at, body = excluded.body",
                Some(vec![
                    row.delivery.id.clone().into(),
                    hook_name(&row.delivery.hook).into(),
                    row.delivery.status.as_str().into(),
                    next_at,
                    json(&row)?.into(),
                ]),
            )?;
            sql.exec(
                "DELETE FROM outbox WHERE status != ? AND seq <= (SELECT MAX(seq) FROM outbox) - ?",
                Some(vec![Status::Pending.as_str().into(), OUTBOX_KEPT.into()]),
            )?;
        }
        HookChange::Disable(disabled) => {
            sql.exec(
                "INSERT INTO webhook_disabled (hook, body) VALUES (?, ?)
                 ON CONFLICT(hook) DO UPDATE SET body = excluded.body",
                Some(vec![
                    hook_name(&disabled.hook).into(),
                    json(&disabled)?.into(),
                ]),
            )?;
        }
        HookChange::PutEndpoint(endpoint) => {
            sql.exec(
                "INSERT INTO webhook_endpoints (id, body) VALUES (?, ?)
                 ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                Some(vec![endpoint.id.clone().into(), json(&endpoint)?.into()]),
            )?;
        }
        HookChange::RemindersSince(at) => {
            sql.exec(
                "INSERT INTO webhook_state (name, value) VALUES (?, ?)
                 ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                Some(vec![REMINDERS_SINCE.into(), at.into()]),
            )?;
        }
        HookChange::PreviousSecret(previous) => {
            sql.exec(
                "INSERT INTO webhook_previous_secrets (key_id, body) VALUES (?, ?)
                 ON CONFLICT(key_id) DO UPDATE SET body = excluded.body",
                Some(vec![
                    previous.key_id.clone().into(),
                    json(&previous)?.into(),
                ]),
            )?;
        }
        HookChange::DeleteEndpoint(id) => {
            sql.exec(
                "DELETE FROM webhook_disabled WHERE hook = ?",
                Some(vec![hook_name(&Hook::Endpoint(id.clone())).into()]),
            )?;
            sql.exec(
                "DELETE FROM webhook_endpoints WHERE id = ?",
                Some(vec![id.into()]),
            )?;
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct Body {
    body: String,
}

#[derive(Deserialize)]
struct SeqBody {
    seq: f64,
    body: String,
}

#[derive(Deserialize)]
struct At {
    at: Option<f64>,
}

fn failed(what: &'static str) -> impl Fn(worker::Error) -> Error {
    move |e| {
        console_error!("account object: {what}: {e}");
        Error::StorageUnavailable
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    what: &'static str,
) -> impl Fn(String) -> std::result::Result<T, Error> {
    move |text| {
        serde_json::from_str(&text).map_err(|e| {
            console_error!("account object: unreadable {what}: {e}");
            Error::StorageUnavailable
        })
    }
}

/// The webhook tables, read through [`HookLedger`].
pub(super) struct HookTables<'s>(pub(super) &'s Storage);

impl HookTables<'_> {
    fn bodies<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> std::result::Result<Vec<T>, Error> {
        self.0
            .sql()
            .exec(query, Some(bindings))
            .and_then(|c| c.to_array::<Body>())
            .map_err(failed(what))?
            .into_iter()
            .map(|r| parse(what)(r.body))
            .collect()
    }

    fn outbox_rows(
        &self,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> std::result::Result<Vec<OutboxRow>, Error> {
        self.0
            .sql()
            .exec(query, Some(bindings))
            .and_then(|c| c.to_array::<SeqBody>())
            .map_err(failed("read the outbox"))?
            .into_iter()
            .map(|r| {
                let mut row: OutboxRow = parse("outbox row")(r.body)?;
                row.seq = r.seq as i64;
                Ok(row)
            })
            .collect()
    }
}

impl HookLedger for HookTables<'_> {
    fn endpoints(&self) -> std::result::Result<Vec<EndpointRow>, Error> {
        let mut rows: Vec<EndpointRow> = self.bodies(
            "webhook endpoint",
            "SELECT body FROM webhook_endpoints",
            vec![],
        )?;
        rows.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(rows)
    }

    fn disabled(&self) -> std::result::Result<Vec<DisabledHook>, Error> {
        self.bodies(
            "disabled webhook",
            "SELECT body FROM webhook_disabled",
            vec![],
        )
    }

    fn due(&self, now_ms: i64, limit: u32) -> std::result::Result<Vec<OutboxRow>, Error> {
        self.outbox_rows(
            "SELECT seq, body FROM outbox WHERE status = ? AND next_at <= ?
             ORDER BY next_at, seq LIMIT ?",
            vec![
                Status::Pending.as_str().into(),
                now_ms.into(),
                i64::from(limit).into(),
            ],
        )
    }

    fn delivery(&self, id: &str) -> std::result::Result<Option<OutboxRow>, Error> {
        Ok(self
            .outbox_rows("SELECT seq, body FROM outbox WHERE id = ?", vec![id.into()])?
            .into_iter()
            .next())
    }

    fn pending_for(&self, hook: &Hook) -> std::result::Result<Vec<OutboxRow>, Error> {
        self.outbox_rows(
            "SELECT seq, body FROM outbox WHERE hook = ? AND status = ?",
            vec![hook_name(hook).into(), Status::Pending.as_str().into()],
        )
    }

    fn to_hook(
        &self,
        hook: &Hook,
        before: Option<i64>,
        limit: u32,
    ) -> std::result::Result<Vec<OutboxRow>, Error> {
        self.outbox_rows(
            "SELECT seq, body FROM outbox WHERE hook = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            vec![
                hook_name(hook).into(),
                before.unwrap_or(MAX_SAFE_INTEGER).into(),
                i64::from(limit).into(),
            ],
        )
    }

    fn previous_secret(&self, key_id: &str) -> std::result::Result<Option<PreviousSecret>, Error> {
        Ok(self
            .bodies(
                "previous webhook secret",
                "SELECT body FROM webhook_previous_secrets WHERE key_id = ?",
                vec![key_id.into()],
            )?
            .into_iter()
            .next())
    }

    fn reminders_since(&self) -> std::result::Result<Option<i64>, Error> {
        #[derive(Deserialize)]
        struct Value {
            value: f64,
        }
        let rows = self
            .0
            .sql()
            .exec(
                "SELECT value FROM webhook_state WHERE name = ?",
                Some(vec![REMINDERS_SINCE.into()]),
            )
            .and_then(|c| c.to_array::<Value>())
            .map_err(failed("read the reminders' watermark"))?;
        Ok(rows.first().map(|r| r.value as i64))
    }

    fn next_due(&self) -> std::result::Result<Option<i64>, Error> {
        let rows = self
            .0
            .sql()
            .exec(
                "SELECT MIN(next_at) AS at FROM outbox WHERE status = ?",
                Some(vec![Status::Pending.as_str().into()]),
            )
            .and_then(|c| c.to_array::<At>())
            .map_err(failed("read the outbox"))?;
        Ok(rows.first().and_then(|r| r.at).map(|at| at as i64))
    }
}
