//! The account object's side of the API Keys page: portal sessions in
//! the object's SQLite storage, and the page's key operations run for a
//! session within its scope.
//!
//! Invariants: sessions are created only for an account that exists; a
//! session row holds digests, never a token or cookie; every page call
//! first admits the session's cookie ([`SessionRow::admit`]), then runs
//! only what [`restrict`] allows, checking that a named key is in scope
//! before touching it (a key outside it is `key_not_found`), and fills
//! lists from rows in the scope, with cursors from the last of them
//! ([`crate::portal::visible`]). A change is counted against the page's
//! budgets ([`crate::portal::budget`]) and recorded in the same
//! synchronous step, before it runs; a failed change is given back.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{console_error, js_sys, SqlStorage};

use super::account::{Account, Call};
use crate::manage::listing::{KeyCursor, MAX_KEYS_PAGE};
use crate::manage::op::KeyStatus;
use crate::manage::Op;
use crate::portal::budget;
use crate::portal::call::{admit, filter_keys, restrict, sees_view, Need, PortalCall};
use crate::portal::credential::{Kind, PortalCredential};
use crate::portal::grant::{Dead, SessionRow, SESSIONS_KEPT};
use crate::portal::op::PageOp;
use crate::portal::page::{describe, Active};
use crate::portal::visible::{Fill, List};
use crate::time::format_rfc3339;
use crate::Error;

/// Events read from the account's list at a time while filling a page.
const MAX_EVENTS_PAGE: u32 = 100;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS portal_sessions (id TEXT PRIMARY KEY,
    body TEXT NOT NULL, expires_at INTEGER NOT NULL);";

/// Answers one portal call: a status and a JSON body.
pub(super) async fn serve(object: &Account, text: &str) -> Result<(u16, String), Error> {
    let call: PortalCall = serde_json::from_str(text).map_err(|e| {
        console_error!("account object: unreadable portal call: {e}");
        Error::StorageUnavailable
    })?;
    let now = (js_sys::Date::now() / 1000.0).floor() as i64;
    let gateway = super::isolate::gateway(&object.env)?;
    let key = &gateway.key_secret;
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
            let token = PortalCredential::parse(Kind::Token, &token, key);
            let cookie = PortalCredential::parse(Kind::Cookie, &cookie, key);
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
            let cookie = PortalCredential::parse(Kind::Cookie, &cookie, key)
                .filter(|c| c.account() == account);
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
            let Some(cookie) = PortalCredential::parse(Kind::Cookie, &cookie, key)
                .filter(|c| c.account() == account)
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
                Some(op) => act(object, &account, &row, op, now).await,
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
async fn exists(object: &Account, account: &str) -> Result<(), Error> {
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

/// Active keys of `product` (of `owner` only, when given), counted a page
/// of 100 at a time until `cap` is reached or the list ends.
async fn count_active(
    object: &Account,
    account: &str,
    product: &str,
    owner: Option<&str>,
    cap: u32,
) -> Result<u32, Error> {
    let mut count = 0usize;
    let mut after = None;
    loop {
        let reply = object
            .run(Call {
                account: account.to_owned(),
                op: Op::ListKeys {
                    status: Some(KeyStatus::Active),
                    product: Some(product.to_owned()),
                    owner_id: owner.map(str::to_owned),
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
        if after.is_none() || count >= cap as usize {
            break;
        }
    }
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

async fn session(
    object: &Account,
    account: &str,
    row: &SessionRow,
) -> Result<(u16, String), Error> {
    let gateway = super::isolate::gateway(&object.env)?;
    let mut counts = Vec::new();
    for product in &gateway.config.products {
        if !row.scope.allows_product(&product.id) {
            continue;
        }
        // The limit is the account's; what the session is shown is its
        // holder's count (the account's when it has no holder).
        let all = count_active(object, account, &product.id, None, product.key_limit).await?;
        let shown = match &row.scope.owner_id {
            Some(owner) => {
                count_active(object, account, &product.id, Some(owner), product.key_limit).await?
            }
            None => all,
        };
        let active = Active {
            shown,
            at_limit: all >= product.key_limit,
        };
        counts.push((product.id.clone(), active));
    }
    let active = |id: &str| {
        counts.iter().find(|(p, _)| p == id).map_or(
            Active {
                shown: 0,
                at_limit: false,
            },
            |(_, n)| *n,
        )
    };
    let body = describe(
        &gateway.config,
        &row.scope,
        &row.return_url,
        &format_rfc3339(row.expires_at),
        &active,
    );
    Ok((200, body.to_string()))
}

async fn act(
    object: &Account,
    account: &str,
    row: &SessionRow,
    op: PageOp,
    now: i64,
) -> Result<(u16, String), Error> {
    let gateway = super::isolate::gateway(&object.env)?;
    let (op, need) = restrict(&gateway.config, &row.scope, op)?;
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
        admit(&gateway.config, &row.scope, &reply.body, scopes.as_deref())?;
    }
    match op {
        Op::ListKeys {
            status,
            product,
            owner_id,
            limit,
            after,
        } => {
            // The account's pages, filtered to the scope, until the
            // session's page is full; the cursor is the last key it sees.
            let mut fill = Fill::new(List::Keys, limit);
            let mut after = after;
            loop {
                let reply = run(Op::ListKeys {
                    status,
                    product: product.clone(),
                    owner_id: owner_id.clone(),
                    limit: MAX_KEYS_PAGE,
                    after,
                })
                .await?;
                if reply.status != 200 {
                    return Ok((reply.status, reply.body.to_string()));
                }
                let next = fill.take(&reply.body, |view| sees_view(&row.scope, view));
                after = match next.as_deref().and_then(KeyCursor::parse) {
                    Some(cursor) => Some(cursor),
                    None => break,
                };
            }
            Ok((200, fill.finish().to_string()))
        }
        Op::ListEvents { limit, before } => {
            let ids = visible_key_ids(object, account, row).await?;
            let whole = row.scope == crate::portal::scope::Scope::default();
            let mut fill = Fill::new(List::Events, limit);
            let mut before = before;
            loop {
                let reply = run(Op::ListEvents {
                    limit: MAX_EVENTS_PAGE,
                    before,
                })
                .await?;
                if reply.status != 200 {
                    return Ok((reply.status, reply.body.to_string()));
                }
                let next = fill.take(&reply.body, |event| {
                    match event.get("key_id").and_then(Value::as_str) {
                        Some(id) => ids.iter().any(|v| v == id),
                        None => whole,
                    }
                });
                before = match next.and_then(|n| n.parse::<i64>().ok()) {
                    Some(seq) => Some(seq),
                    None => break,
                };
            }
            Ok((200, fill.finish().to_string()))
        }
        op if budget::is_change(&op) => {
            let Some(portal) = gateway.config.portal.clone() else {
                return Err(Error::NotFound);
            };
            // Counted and recorded in one synchronous step (no await in
            // between), so concurrent changes cannot both take the last
            // one; given back if the change fails.
            let sql = object.sql();
            let reserved = match reserve(&sql, &portal, &row.id, now) {
                Ok(reserved) => reserved,
                Err(refused @ Error::PageChangeLimit { .. }) => return Ok(limited(&refused)),
                Err(error) => return Err(error),
            };
            let reply = run(op).await;
            if !matches!(&reply, Ok(r) if r.status < 400) {
                release(&sql, reserved)?;
            }
            Ok(answer(reply?))
        }
        op => Ok(answer(run(op).await?)),
    }
}

fn answer(reply: crate::manage::Reply) -> (u16, String) {
    let body = if reply.body.is_null() {
        String::new()
    } else {
        reply.body.to_string()
    };
    (reply.status, body)
}

/// The ids of every key the session sees, every page of them.
async fn visible_key_ids(
    object: &Account,
    account: &str,
    row: &SessionRow,
) -> Result<Vec<String>, Error> {
    let mut ids: Vec<String> = Vec::new();
    let mut after = None;
    loop {
        let visible = object
            .run(Call {
                account: account.to_owned(),
                op: Op::ListKeys {
                    status: None,
                    product: None,
                    owner_id: row.scope.owner_id.clone(),
                    limit: MAX_KEYS_PAGE,
                    after,
                },
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
            return Ok(ids);
        }
    }
}

/// A spent budget: 429 with `retry_after` in the body, which the page's
/// edge turns into the `Retry-After` header.
fn limited(refused: &Error) -> (u16, String) {
    let problem = refused.to_problem(None);
    let mut body: Value = serde_json::from_str(&problem.body).unwrap_or_default();
    if let (Some(object), Some(seconds)) = (body.as_object_mut(), problem.retry_after) {
        object.insert("retry_after".to_owned(), json!(seconds));
    }
    (problem.status, body.to_string())
}

const CHANGES_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS portal_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS portal_changes_at ON portal_changes (at);";

#[derive(Deserialize)]
struct ChangeRow {
    session: String,
    at: f64,
}

/// Forgets changes past every window, checks the budgets and records one
/// change by `session` at `now`; its row id, to [`release`] it.
fn reserve(
    sql: &SqlStorage,
    portal: &crate::config::Portal,
    session: &str,
    now: i64,
) -> Result<i64, Error> {
    sql.exec(CHANGES_SCHEMA, None)
        .map_err(storage("create changes"))?;
    sql.exec(
        "DELETE FROM portal_changes WHERE at <= ?",
        Some(vec![(budget::forget_before(now) as f64).into()]),
    )
    .map_err(storage("prune changes"))?;
    let changes: Vec<budget::Change> = sql
        .exec("SELECT session, at FROM portal_changes", None)
        .and_then(|c| c.to_array::<ChangeRow>())
        .map_err(storage("read changes"))?
        .into_iter()
        .map(|r| budget::Change {
            session: r.session,
            at: r.at as i64,
        })
        .collect();
    budget::admit(portal, &changes, session, now)?;
    #[derive(Deserialize)]
    struct Id {
        id: f64,
    }
    let id = sql
        .exec(
            "INSERT INTO portal_changes (session, at) VALUES (?, ?) RETURNING id",
            Some(vec![session.into(), (now as f64).into()]),
        )
        .and_then(|c| c.to_array::<Id>())
        .map_err(storage("record change"))?
        .first()
        .map_or(0, |r| r.id as i64);
    Ok(id)
}

/// Gives back a change that was not made.
fn release(sql: &SqlStorage, id: i64) -> Result<(), Error> {
    sql.exec(
        "DELETE FROM portal_changes WHERE id = ?",
        Some(vec![(id as f64).into()]),
    )
    .map(drop)
    .map_err(storage("release change"))
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
fn sessions(object: &Account) -> Result<SqlStorage, Error> {
    let sql = object.sql();
    sql.exec(SCHEMA, None).map_err(storage("create"))?;
    Ok(sql)
}

/// The sessions table if it exists; never creates it, so a stranger's
/// token for an unknown account leaves no storage behind.
fn existing_sessions(object: &Account) -> Result<Option<SqlStorage>, Error> {
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
