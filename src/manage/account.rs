//! One account's decisions: what each [`Op`] changes, writes to the edge
//! index, and answers.
//!
//! Pure: the ledger is read through [`Ledger`], the clock and randomness
//! come in as arguments, and the result is a [`Plan`] the Durable Object
//! carries out. Invariants: the working keys of an account and product —
//! keys in a rotation grace included — never exceed the product's
//! `key_limit` (the object runs plans one at a time); a revoked key is
//! never un-revoked; every change to a key comes with the index write that
//! shows it to the edge.

use serde_json::json;

use super::body;
use super::etag;
use super::idempotency::{self, Decision, Ticket};
use super::listing;
use super::op::{Expiry, NewKey, Op};
use super::writable::writable_account;
use crate::config::{Config, Product};
use crate::key::{key_id, mint, Environment, MintedKey};
use crate::ledger::view::{AccountView, CreatedKey, EventView, KeyView};
use crate::ledger::{
    AccountRow, AccountStatus, EventKind, EventRow, IndexWrite, KeyFilter, KeyRow, Ledger,
};
pub use crate::ledger::{Entropy, Reply};
use crate::secret::{KeySecret, WebhookSecret};
use crate::time::format_rfc3339;
use crate::webhook::Change;
pub use crate::webhook::Plan;
use crate::Error;

/// Decides `op` for the account `account_id` at `now`. New keys are
/// tagged with `secret`'s current key secret.
pub fn plan(
    config: &Config,
    ledger: &dyn Ledger,
    account_id: &str,
    op: Op,
    now: i64,
    entropy: &Entropy,
    secret: &KeySecret,
) -> Plan {
    let minter = Minter { entropy, secret };
    // Management changes prune what has outlived its retention, in the
    // same transaction (use reports from the edge do not: they are many).
    let prunes = !matches!(op, Op::NoteUse { .. } | Op::Verify { .. });
    let mut plan =
        decide(config, ledger, account_id, op, now, &minter).unwrap_or_else(Plan::refuse);
    if prunes && !plan.changes.is_empty() {
        plan.changes.push(super::retention::prune(config, now));
    }
    plan
}

/// What minting a key takes: fresh random bytes and the key secret.
struct Minter<'a> {
    entropy: &'a Entropy,
    secret: &'a KeySecret,
}

fn decide(
    config: &Config,
    ledger: &dyn Ledger,
    account_id: &str,
    op: Op,
    now: i64,
    minter: &Minter<'_>,
) -> Result<Plan, Error> {
    if let Op::Once { ticket, then } = op {
        return once(config, ledger, account_id, &ticket, *then, now, minter);
    }
    if let Op::CreateKey(new) = op {
        return create(config, ledger, account_id, new, now, minter);
    }
    if let Op::ImportKeys(import) = op {
        return super::import::plan(config, ledger, account_id, import, now, minter.entropy);
    }
    let account = ledger.account()?.ok_or(Error::AccountNotFound)?;
    if let Op::IfMatch { if_match, then } = op {
        let current = match then.as_ref() {
            Op::UpdateKey { id, .. } | Op::RevokeKey { id } | Op::RotateKey { id, .. } => {
                etag::of(&json!(KeyView::of(&key(ledger, id)?, now)))
            }
            Op::SetStatus { .. } => etag::of(&json!(AccountView::of(&account))),
            // Only changes are conditional.
            _ => return Err(Error::NotFound),
        };
        if !if_match.admits(&current) {
            return Err(Error::PreconditionFailed);
        }
        return decide(config, ledger, account_id, *then, now, minter);
    }
    match op {
        // Decided above.
        Op::CreateKey(_) | Op::ImportKeys(_) | Op::IfMatch { .. } | Op::Once { .. } => {
            Err(Error::NotFound)
        }
        Op::ListKeys {
            status,
            product,
            owner_id,
            limit,
            after,
        } => {
            let filter = KeyFilter {
                status,
                product,
                owner_id,
            };
            listing::page(ledger, &filter, after.as_ref(), limit, now)
        }
        Op::GetKey { id } => Ok(Plan::reply(200, KeyView::of(&key(ledger, &id)?, now))),
        Op::UpdateKey {
            id,
            name,
            scopes,
            expires_at,
            enabled,
            meta,
            allowed_ips,
        } => update(
            config,
            ledger,
            &account,
            &id,
            Changes {
                name,
                scopes,
                expires_at,
                enabled,
                meta,
                allowed_ips,
            },
            now,
        ),
        Op::RevokeKey { id } => revoke(ledger, &account, &id, now),
        Op::RotateKey { id, grace_seconds } => {
            rotate(config, ledger, &account, &id, grace_seconds, now, minter)
        }
        Op::ListEvents { limit, before } => {
            let mut events = ledger.events(before, limit.saturating_add(1))?;
            let more = events.len() > limit as usize;
            events.truncate(limit as usize);
            let next = more
                .then(|| events.last().map(|e| e.seq.to_string()))
                .flatten();
            let events: Vec<EventView> = events.iter().map(EventView::of).collect();
            Ok(Plan::reply(
                200,
                json!({ "events": events, "next_cursor": next }),
            ))
        }
        Op::GetAccount => Ok(Plan::reply(200, AccountView::of(&account))),
        Op::SetStatus { status } => set_status(ledger, account, status, now),
        Op::Verify { id } => Ok(Plan::reply(200, key(ledger, &id)?.record(&account))),
        Op::NoteUse { id, at } => {
            key(ledger, &id)?;
            let mut plan = Plan::reply(204, serde_json::Value::Null);
            plan.changes.push(Change::NoteUse { id, at });
            Ok(plan)
        }
        // Decided by `webhook::api::plan`, which needs the webhook tables.
        Op::Hook { .. } => Err(Error::NotFound),
    }
}

/// `then` under an Idempotency-Key: the kept answer if there is one, else
/// `then`'s plan with its successful answer kept (sealed) in the same
/// transaction as its changes.
fn once(
    config: &Config,
    ledger: &dyn Ledger,
    account_id: &str,
    ticket: &Ticket,
    then: Op,
    now: i64,
    minter: &Minter<'_>,
) -> Result<Plan, Error> {
    let kept = ledger.idempotent(&ticket.id)?;
    match idempotency::decide(ticket, kept.as_ref(), now)? {
        Decision::Replay(reply) => Ok(Plan {
            index: Vec::new(),
            changes: Vec::new(),
            reply: Ok(reply),
        }),
        Decision::Run => {
            let mut plan =
                decide(config, ledger, account_id, then, now, minter).unwrap_or_else(Plan::refuse);
            if let Ok(reply) = &plan.reply {
                // The nonce needs only be fresh: the key id's random bytes
                // are (the id is public, as a nonce may be).
                let row = ticket.keep(reply, &minter.entropy.id, now)?;
                plan.changes.push(Change::PutIdempotent(row));
            }
            Ok(plan)
        }
    }
}

fn key(ledger: &dyn Ledger, id: &str) -> Result<KeyRow, Error> {
    ledger.key(id)?.ok_or(Error::KeyNotFound)
}

fn event(kind: EventKind, key: Option<&KeyRow>, now: i64, data: serde_json::Value) -> Change {
    Change::AppendEvent(EventRow {
        seq: 0,
        kind,
        at: now,
        key_id: key.map(|k| k.id.clone()),
        product: key.map(|k| k.product.clone()),
        data,
    })
}

fn create(
    config: &Config,
    ledger: &dyn Ledger,
    account_id: &str,
    new: NewKey,
    now: i64,
    minter: &Minter<'_>,
) -> Result<Plan, Error> {
    let entropy = minter.entropy;
    let product = config
        .product(&new.product)
        .ok_or_else(|| body::unknown_product(config))?;
    let (existing, account) = writable_account(ledger, account_id, now)?;
    let scopes = match &new.scopes {
        Some(list) => body::scopes(product, list)?,
        None => product.default_scopes.clone(),
    };
    if slots_in_use(ledger, product, now)? >= product.key_limit as usize {
        return Ok(limit_reached(product, now, existing.is_some()));
    }

    let minted = mint_for(product, new.environment, minter)?;
    let webhook_secret = new
        .webhook_url
        .as_ref()
        .map(|_| WebhookSecret::from_random(&entropy.webhook));
    let row = KeyRow {
        id: key_id(&entropy.id),
        hash: minted.hash.to_hex(),
        product: product.id.clone(),
        environment: new.environment,
        name: new.name,
        scopes,
        created_at: now,
        expires_at: new.expires_at,
        revoked_at: None,
        prefix: minted.key.display_prefix().to_owned(),
        last4: minted.key.last4().to_owned(),
        webhook_url: new.webhook_url,
        webhook_secret: webhook_secret.clone(),
        replaced_by: None,
        owner_id: new.owner_id,
        disabled: false,
        meta: new.meta,
        last_used_at: None,
        leaked: None,
        allowed_ips: new.allowed_ips,
    };
    let body = CreatedKey::new(
        &row,
        &minted.key,
        webhook_secret.as_ref().map(WebhookSecret::expose),
        None,
        now,
    );
    let mut plan = Plan::reply(201, body);
    plan.index.push(IndexWrite::of(&row, &account, now));
    if existing.is_none() {
        plan.changes.push(Change::PutAccount(account));
    }
    plan.changes.push(event(
        EventKind::KeyCreated,
        Some(&row),
        now,
        json!({
            "name": row.name,
            "scopes": row.scopes,
            "expires_at": row.expires_at.map(format_rfc3339),
        }),
    ));
    plan.changes.push(Change::PutKey(row));
    Ok(plan)
}

/// How many of `product`'s keys work at `now`, rotation graces included.
fn slots_in_use(ledger: &dyn Ledger, product: &Product, now: i64) -> Result<usize, Error> {
    let count = ledger.count_working(&product.id, now)?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// The `key_limit_reached` refusal, recorded as an event when the account
/// exists.
fn limit_reached(product: &Product, now: i64, account_exists: bool) -> Plan {
    let mut plan = Plan::refuse(Error::KeyLimitReached {
        product: product.name.clone(),
        limit: product.key_limit,
    });
    if account_exists {
        plan.changes.push(Change::AppendEvent(EventRow {
            seq: 0,
            kind: EventKind::KeyLimitReached,
            at: now,
            key_id: None,
            product: Some(product.id.clone()),
            data: json!({ "limit": product.key_limit }),
        }));
    }
    plan
}

/// A key that may still be changed or rotated, and its product.
fn changeable<'c>(
    config: &'c Config,
    ledger: &dyn Ledger,
    id: &str,
    now: i64,
) -> Result<(KeyRow, &'c Product), Error> {
    let row = key(ledger, id)?;
    if let Some(error) = not_active(&row, now) {
        return Err(error);
    }
    let product = config
        .product(&row.product)
        .ok_or_else(|| Error::Misconfigured {
            what: format!(
                "key {id} belongs to product {}, which is no longer configured",
                row.product
            ),
        })?;
    Ok((row, product))
}

/// A new key value for `product`.
fn mint_for(
    product: &Product,
    environment: Environment,
    minter: &Minter<'_>,
) -> Result<MintedKey, Error> {
    mint(
        &product.prefix,
        environment,
        &minter.entropy.key,
        minter.secret,
    )
    .map_err(|what| Error::Misconfigured {
        what: what.to_owned(),
    })
}

/// Why `key` cannot be changed or rotated at `now`, if it cannot.
fn not_active(key: &KeyRow, now: i64) -> Option<Error> {
    let why = match (key.revoked_at, &key.replaced_by, key.expires_at) {
        (Some(_), Some(next), _) => format!("it was rotated; {next} replaces it"),
        (Some(at), None, _) => format!("it was revoked at {}", format_rfc3339(at)),
        (None, _, Some(at)) if now >= at => format!("it expired at {}", format_rfc3339(at)),
        _ => return None,
    };
    Some(Error::KeyNotActive { why })
}

/// What an update asks to change.
struct Changes {
    name: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<Expiry>,
    enabled: Option<bool>,
    meta: Option<super::op::Meta>,
    allowed_ips: Option<crate::ip_allow::AllowList>,
}

fn update(
    config: &Config,
    ledger: &dyn Ledger,
    account: &AccountRow,
    id: &str,
    Changes {
        name,
        scopes,
        expires_at,
        enabled,
        meta,
        allowed_ips,
    }: Changes,
    now: i64,
) -> Result<Plan, Error> {
    let (mut row, product) = changeable(config, ledger, id, now)?;
    let scopes = scopes.map(|s| body::scopes(product, &s)).transpose()?;
    let expires_at = expires_at
        .map(|e| match e {
            Expiry::Never => Ok(None),
            Expiry::At(at) => Ok(Some(at)),
            Expiry::Earlier(at) => match row.expires_at {
                Some(current) if at > current => Err(Error::ExpiryTooLate {
                    field: "expires_at",
                    reason: format!(
                        "this key expires at {}; send that time or an earlier one",
                        format_rfc3339(current)
                    ),
                }),
                _ => Ok(Some(at)),
            },
        })
        .transpose()?;
    let mut data = serde_json::Map::new();
    if let Some(expires_at) = expires_at.filter(|e| *e != row.expires_at) {
        data.insert(
            "expires_at".into(),
            json!({
                "from": row.expires_at.map(format_rfc3339),
                "to": expires_at.map(format_rfc3339),
            }),
        );
        row.expires_at = expires_at;
    }
    if let Some(enabled) = enabled.filter(|e| *e == row.disabled) {
        data.insert("enabled".into(), json!({ "from": !enabled, "to": enabled }));
        row.disabled = !enabled;
    }
    // An empty object removes it. The event says that it changed, never
    // what it holds (it may be personal data).
    let meta = meta.map(|m| Some(m).filter(|m| !m.is_empty()));
    if let Some(meta) = meta.filter(|m| *m != row.meta) {
        data.insert("meta".into(), json!("replaced"));
        row.meta = meta;
    }
    // The event names the ranges: they are the operator's, not personal
    // data, and an audit of who widened a key's networks needs them.
    if let Some(ips) = allowed_ips.filter(|l| *l != row.allowed_ips) {
        data.insert(
            "allowed_ips".into(),
            json!({ "from": row.allowed_ips, "to": ips }),
        );
        row.allowed_ips = ips;
    }
    if let Some(name) = name.filter(|n| *n != row.name) {
        data.insert("name".into(), json!({ "from": row.name, "to": name }));
        row.name = name;
    }
    if let Some(scopes) = scopes.filter(|s| *s != row.scopes) {
        data.insert("scopes".into(), json!({ "from": row.scopes, "to": scopes }));
        row.scopes = scopes;
    }
    let mut plan = Plan::reply(200, KeyView::of(&row, now));
    if !data.is_empty() {
        plan.index.push(IndexWrite::of(&row, account, now));
        plan.changes.push(event(
            EventKind::KeyUpdated,
            Some(&row),
            now,
            serde_json::Value::Object(data),
        ));
        plan.changes.push(Change::PutKey(row));
    }
    Ok(plan)
}

fn revoke(ledger: &dyn Ledger, account: &AccountRow, id: &str, now: i64) -> Result<Plan, Error> {
    let mut row = key(ledger, id)?;
    let already = row.revoked_at.is_some_and(|at| at <= now);
    if !already {
        row.revoked_at = Some(now);
    }
    let mut plan = Plan::reply(200, KeyView::of(&row, now));
    if !already {
        plan.index.push(IndexWrite::of(&row, account, now));
        plan.changes
            .push(event(EventKind::KeyRevoked, Some(&row), now, json!({})));
    }
    // Keys this one replaced, directly or down a rotation chain, that are
    // still in their grace would outlive it: their grace ends now too (also
    // when this key had already ended, so a revocation always leaves none).
    for mut old in in_grace_before(ledger, &row.id, now)? {
        old.revoked_at = Some(now);
        plan.index.push(IndexWrite::of(&old, account, now));
        plan.changes.push(event(
            EventKind::KeyRevoked,
            Some(&old),
            now,
            json!({ "replacement_revoked": row.id }),
        ));
        plan.changes.push(Change::PutKey(old));
    }
    if !already {
        plan.changes.push(Change::PutKey(row));
    }
    Ok(plan)
}

/// The keys that `id` replaced, directly or through a chain of
/// rotations, whose grace has not ended at `now`.
fn in_grace_before(ledger: &dyn Ledger, id: &str, now: i64) -> Result<Vec<KeyRow>, Error> {
    let mut seen: Vec<String> = vec![id.to_owned()];
    let mut targets = vec![id.to_owned()];
    let mut found = Vec::new();
    while let Some(target) = targets.pop() {
        for key in ledger.replaced_by(&target)? {
            // A chain never loops, but a ledger is data: visit each key once.
            if !seen.contains(&key.id) {
                seen.push(key.id.clone());
                targets.push(key.id.clone());
                found.push(key);
            }
        }
    }
    found.retain(|k| k.revoked_at.is_some_and(|at| at > now));
    Ok(found)
}

fn rotate(
    config: &Config,
    ledger: &dyn Ledger,
    account: &AccountRow,
    id: &str,
    grace_seconds: i64,
    now: i64,
    minter: &Minter<'_>,
) -> Result<Plan, Error> {
    let entropy = minter.entropy;
    if account.status == AccountStatus::Suspended {
        return Err(Error::AccountSuspended);
    }
    let (mut old, product) = changeable(config, ledger, id, now)?;
    let minted = mint_for(product, old.environment, minter)?;
    let new = KeyRow {
        id: key_id(&entropy.id),
        hash: minted.hash.to_hex(),
        created_at: now,
        revoked_at: None,
        prefix: minted.key.display_prefix().to_owned(),
        last4: minted.key.last4().to_owned(),
        replaced_by: None,
        last_used_at: None,
        leaked: None,
        ..old.clone()
    };
    // The old key stops at the end of its grace, or at its own expiry if
    // that comes first (the edge enforces the expiry either way).
    let ends = now.saturating_add(grace_seconds);
    old.revoked_at = Some(old.expires_at.map_or(ends, |exp| exp.min(ends)));
    old.replaced_by = Some(new.id.clone());
    // During its grace the old key still works, so it keeps its slot and
    // the new key needs one of its own; with no grace it frees its slot.
    if old.holds_a_slot(now) && slots_in_use(ledger, product, now)? >= product.key_limit as usize {
        return Ok(limit_reached(product, now, true));
    }

    let body = CreatedKey::new(&new, &minted.key, None, Some(KeyView::of(&old, now)), now);
    let mut plan = Plan::reply(201, body);
    plan.index.push(IndexWrite::of(&new, account, now));
    plan.index.push(IndexWrite::of(&old, account, now));
    plan.changes.push(event(
        EventKind::KeyRotated,
        Some(&old),
        now,
        json!({
            "new_key_id": new.id,
            "grace_seconds": grace_seconds,
            "old_key_revoked_at": old.revoked_at.map(format_rfc3339),
        }),
    ));
    plan.changes.push(Change::PutKey(new));
    plan.changes.push(Change::PutKey(old));
    Ok(plan)
}

fn set_status(
    ledger: &dyn Ledger,
    mut account: AccountRow,
    status: AccountStatus,
    now: i64,
) -> Result<Plan, Error> {
    if account.status == status {
        return Ok(Plan::reply(200, AccountView::of(&account)));
    }
    account.status = status;
    account.updated_at = now;
    let mut plan = Plan::reply(200, AccountView::of(&account));
    // Every key the edge could still admit carries the account's status.
    for key in ledger.working_keys(now)? {
        plan.index.push(IndexWrite::of(&key, &account, now));
    }
    let kind = match status {
        AccountStatus::Suspended => EventKind::AccountSuspended,
        AccountStatus::Active => EventKind::AccountReactivated,
    };
    plan.changes.push(event(kind, None, now, json!({})));
    plan.changes.push(Change::PutAccount(account));
    Ok(plan)
}

#[cfg(test)]
#[path = "account_tests.rs"]
pub(super) mod tests;
