//! The account object's side of the API Keys page: portal sessions in
//! the object's SQLite storage, and the page's key operations run for a
//! session within its scope.
//!
//! Invariants: sessions are created only for an account that exists; a
//! session row holds digests, never a token or cookie; every page call
//! first admits the session's cookie ([`SessionRow::admit`]), then runs
//! only what [`restrict`] allows, checking that a named key is in scope
//! before touching it (a key outside it is `key_not_found`), and filters
//! lists to the scope afterwards.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{console_error, SqlStorage};

use super::call::Call;
use super::object::Object;
use crate::manage::listing::KeyCursor;
use crate::manage::op::KeyStatus;
use crate::manage::Op;
use crate::portal::call::{admit, filter_events, filter_keys, restrict, Need, PortalCall};
use crate::portal::credential::{Kind, PortalCredential};
use crate::portal::grant::{Dead, SessionRow, SESSIONS_KEPT};
use crate::portal::op::PageOp;
use crate::portal::page::describe;
use crate::time::format_rfc3339;
use crate::Error;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS portal_sessions (id TEXT PRIMARY KEY,
    body TEXT NOT NULL, expires_at INTEGER NOT NULL);";

/// Answers one portal call: a status and a JSON body.
pub(super) async fn serve(object: &Object, text: &str) -> Result<(u16, String), Error> {
    let call: PortalCall = serde_json::from_str(text).map_err(|e| {
        console_error!("account object: unreadable portal call: {e}");
        Error::StorageUnavailable
    })?;
    let now = crate::runtime::clock::now();
    match call {
        PortalCall::Grant { account, session } => {
            exists(object, &account).await?;
            let sql = sessions(object)?;
            prune(&sql, now)?;
            put(&sql, &session)?;
            let body = json!({
                "id": session.id,
                "expires_at": format_rfc3339(session.expires_at),
            });
            Ok((201, body.to_string()))
        }
        PortalCall::List { account } => {
            exists(object, &account).await?;
            let rows = all(&sessions(object)?)?;
            let list: Vec<Value> = rows.iter().map(|row| view(row, now)).collect();
            Ok((200, json!({ "sessions": list }).to_string()))
        }
        PortalCall::Revoke { account, id } => {
            exists(object, &account).await?;
            let sql = sessions(object)?;
            let mut row = get(&sql, &id)?.ok_or(Error::NotFound)?;
            if row.revoked_at.is_none() {
                row.revoked_at = Some(now);
                put(&sql, &row)?;
            }
            Ok((200, view(&row, now).to_string()))
        }
        PortalCall::Exchange {
            account,
            token,
            cookie,
        } => {
            let token = PortalCredential::parse(Kind::Token, &token);
            let cookie = PortalCredential::parse(Kind::Cookie, &cookie);
            let (Some(token), Some(cookie)) = (token, cookie) else {
                return Ok(dead(Dead::Unknown, None));
            };
            if token.account() != account || cookie.session() != token.session() {
                return Ok(dead(Dead::Unknown, None));
            }
            let Some(sql) = existing_sessions(object)? else {
                return Ok(dead(Dead::Unknown, None));
            };
            // Read under the turn: two tabs racing on one link get one
            // session between them.
            let _turn = object.mutations.lock().await;
            let Some(mut row) = get(&sql, token.session())? else {
                return Ok(dead(Dead::Unknown, None));
            };
            match row.exchange(&token, &cookie, now) {
                Ok(()) => {
                    put(&sql, &row)?;
                    let body = json!({ "max_age": row.remaining(now) });
                    Ok((200, body.to_string()))
                }
                Err(why) => Ok(dead(why, Some(&row.return_url))),
            }
        }
        PortalCall::SignOut { account, cookie } => {
            // Only the session's own, live cookie ends it; anything else
            // ends nothing (the page clears the cookie either way).
            let cookie =
                PortalCredential::parse(Kind::Cookie, &cookie).filter(|c| c.account() == account);
            let sql = existing_sessions(object)?;
            if let (Some(cookie), Some(sql)) = (cookie, sql) {
                let _turn = object.mutations.lock().await;
                if let Some(mut row) = get(&sql, cookie.session())? {
                    if row.admit(&cookie, now).is_ok() {
                        row.revoked_at = Some(now);
                        put(&sql, &row)?;
                    }
                }
            }
            Ok((204, String::new()))
        }
        PortalCall::Act {
            account,
            cookie,
            op,
        } => {
            let Some(cookie) =
                PortalCredential::parse(Kind::Cookie, &cookie).filter(|c| c.account() == account)
            else {
                return Ok(dead(Dead::Unknown, None));
            };
            let Some(sql) = existing_sessions(object)? else {
                return Ok(dead(Dead::Unknown, None));
            };
            let Some(row) = get(&sql, cookie.session())? else {
                return Ok(dead(Dead::Unknown, None));
            };
            if let Err(why) = row.admit(&cookie, now) {
                return Ok(dead(why, Some(&row.return_url)));
            }
            match op {
                None => session(object, &account, &row).await,
                Some(op) => act(object, &account, &row, op).await,
            }
        }
    }
}

/// A dead link or session: 410 with the page's message.
fn dead(why: Dead, return_url: Option<&str>) -> (u16, String) {
    let body = json!({
        "type": "about:blank",
        "title": "Session ended",
        "status": 410,
        "code": "portal_session_ended",
        "detail": why.describe(),
        "return_url": return_url,
    });
    (410, body.to_string())
}

/// `Ok` if the account exists; else its object's refusal.
async fn exists(object: &Object, account: &str) -> Result<(), Error> {
    let reply = object
        .run(Call {
            account: account.to_owned(),
            op: Op::GetAccount,
        })
        .await?;
    if reply.status == 200 {
        Ok(())
    } else {
        Err(Error::AccountNotFound)
    }
}

async fn session(object: &Object, account: &str, row: &SessionRow) -> Result<(u16, String), Error> {
    let state = crate::runtime::isolate::state(&object.env)?;
    let mut counts = Vec::new();
    for product in &state.config.products {
        if !row.scope.allows_product(&product.id) {
            continue;
        }
        // Pages of 100 until the product's limit is reached or the list ends.
        let mut count = 0usize;
        let mut after = None;
        loop {
            let reply = object
                .run(Call {
                    account: account.to_owned(),
                    op: Op::ListKeys {
                        status: Some(KeyStatus::Active),
                        product: Some(product.id.clone()),
                        owner_id: None,
                        limit: 100,
                        after,
                    },
                })
                .await?;
            count += reply
                .body
                .get("keys")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            after = reply
                .body
                .get("next_cursor")
                .and_then(Value::as_str)
                .and_then(KeyCursor::parse);
            if after.is_none() || count >= product.key_limit as usize {
                break;
            }
        }
        counts.push((product.id.clone(), u32::try_from(count).unwrap_or(u32::MAX)));
    }
    let active = |id: &str| counts.iter().find(|(p, _)| p == id).map_or(0, |(_, n)| *n);
    let body = describe(
        &state.config,
        &row.scope,
        &row.return_url,
        &format_rfc3339(row.expires_at),
        &active,
    );
    Ok((200, body.to_string()))
}

async fn act(
    object: &Object,
    account: &str,
    row: &SessionRow,
    op: PageOp,
) -> Result<(u16, String), Error> {
    let state = crate::runtime::isolate::state(&object.env)?;
    let (op, need) = restrict(&state.config, &row.scope, op)?;
    let run = |op: Op| {
        object.run(Call {
            account: account.to_owned(),
            op,
        })
    };
    if let Need::Key { id, scopes } = need {
        let reply = run(Op::GetKey { id }).await?;
        if reply.status != 200 {
            return Err(Error::KeyNotFound);
        }
        admit(&state.config, &row.scope, &reply.body, scopes.as_deref())?;
    }
    let events = matches!(op, Op::ListEvents { .. });
    let lists = matches!(op, Op::ListKeys { .. });
    let mut reply = run(op).await?;
    if lists {
        filter_keys(&row.scope, &mut reply.body);
    }
    if events {
        // The keys the session sees, every page of them.
        let mut ids: Vec<String> = Vec::new();
        let mut after = None;
        loop {
            let visible = run(Op::ListKeys {
                status: None,
                product: None,
                owner_id: row.scope.owner_id.clone(),
                limit: 100,
                after,
            })
            .await?;
            let mut keys = visible.body;
            after = keys
                .get("next_cursor")
                .and_then(Value::as_str)
                .and_then(KeyCursor::parse);
            filter_keys(&row.scope, &mut keys);
            ids.extend(
                keys.get("keys")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|k| k.get("id").and_then(Value::as_str).map(str::to_owned)),
            );
            if after.is_none() {
                break;
            }
        }
        filter_events(&row.scope, &ids, &mut reply.body);
    }
    let body = if reply.body.is_null() {
        String::new()
    } else {
        reply.body.to_string()
    };
    Ok((reply.status, body))
}

/// How an admin sees a session: never its digests.
fn view(row: &SessionRow, now: i64) -> Value {
    let status = if row.revoked_at.is_some() {
        "revoked"
    } else if now >= row.expires_at {
        "expired"
    } else if row.used_at.is_some() {
        "active"
    } else {
        "unused"
    };
    json!({
        "id": row.id,
        "status": status,
        "created_at": format_rfc3339(row.created_at),
        "expires_at": format_rfc3339(row.expires_at),
        "used_at": row.used_at.map(format_rfc3339),
        "revoked_at": row.revoked_at.map(format_rfc3339),
        "return_url": row.return_url,
        "products": row.scope.products,
        "owner_id": row.scope.owner_id,
        "scopes": row.scope.scopes,
    })
}

fn storage(what: &'static str) -> impl Fn(worker::Error) -> Error {
    move |e| {
        console_error!("account object: portal sessions: {what}: {e}");
        Error::StorageUnavailable
    }
}

/// The sessions table, created if missing (only for an existing account).
fn sessions(object: &Object) -> Result<SqlStorage, Error> {
    let sql = object.sql();
    sql.exec(SCHEMA, None).map_err(storage("create"))?;
    Ok(sql)
}

/// The sessions table if it exists; never creates it, so a stranger's
/// token for an unknown account leaves no storage behind.
fn existing_sessions(object: &Object) -> Result<Option<SqlStorage>, Error> {
    #[derive(Deserialize)]
    struct Count {
        n: f64,
    }
    let sql = object.sql();
    let rows = sql
        .exec(
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'portal_sessions'",
            None,
        )
        .and_then(|c| c.to_array::<Count>())
        .map_err(storage("catalogue"))?;
    Ok(rows.first().is_some_and(|r| r.n > 0.0).then_some(sql))
}

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

fn parse(row: BodyRow) -> Result<SessionRow, Error> {
    serde_json::from_str(&row.body).map_err(|e| {
        console_error!("account object: unreadable portal session: {e}");
        Error::StorageUnavailable
    })
}

fn get(sql: &SqlStorage, id: &str) -> Result<Option<SessionRow>, Error> {
    let rows = sql
        .exec(
            "SELECT body FROM portal_sessions WHERE id = ?",
            Some(vec![id.into()]),
        )
        .and_then(|c| c.to_array::<BodyRow>())
        .map_err(storage("read"))?;
    rows.into_iter().next().map(parse).transpose()
}

fn all(sql: &SqlStorage) -> Result<Vec<SessionRow>, Error> {
    sql.exec(
        "SELECT body FROM portal_sessions ORDER BY expires_at DESC",
        None,
    )
    .and_then(|c| c.to_array::<BodyRow>())
    .map_err(storage("list"))?
    .into_iter()
    .map(parse)
    .collect()
}

fn put(sql: &SqlStorage, row: &SessionRow) -> Result<(), Error> {
    let body = serde_json::to_string(row).map_err(|_| Error::StorageUnavailable)?;
    sql.exec(
        "INSERT OR REPLACE INTO portal_sessions (id, body, expires_at) VALUES (?, ?, ?)",
        Some(vec![
            row.id.as_str().into(),
            body.into(),
            (row.expires_at as f64).into(),
        ]),
    )
    .map(drop)
    .map_err(storage("write"))
}

/// Drops sessions that ended a day ago, and the oldest beyond
/// [`SESSIONS_KEPT`].
fn prune(sql: &SqlStorage, now: i64) -> Result<(), Error> {
    sql.exec(
        "DELETE FROM portal_sessions WHERE expires_at < ?",
        Some(vec![((now - 86_400) as f64).into()]),
    )
    .map_err(storage("prune"))?;
    sql.exec(
        "DELETE FROM portal_sessions WHERE id NOT IN
           (SELECT id FROM portal_sessions ORDER BY expires_at DESC LIMIT ?)",
        Some(vec![(SESSIONS_KEPT as f64).into()]),
    )
    .map(drop)
    .map_err(storage("prune"))
}
