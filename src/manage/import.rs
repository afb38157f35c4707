//! Importing existing keys: the edge's [`resolve`] (plaintexts to hashes,
//! with the keyed tag checked) and the account's [`plan`].
//!
//! Per-item results, never all-or-nothing: each item is `created`,
//! `already_present` (its hash is a key of this account already, or an
//! earlier item of the same call) or `refused` with a problem `code`,
//! `field` and `detail`; a refused item changes nothing and does not stop
//! the others. Invariants: an [`Import`] carries hashes, never a key; a
//! hash becomes at most one key of the account (so a re-import is
//! idempotent); created keys count towards each product's `key_limit`
//! unless the call says `ignore_key_limit`; every created key comes with
//! its index write and a `key.created` event marked `imported`.

use std::collections::HashMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::body::import::{Item, Parsed, Source};
use super::op::NewKey;
use crate::config::Config;
use crate::key::{key_id, TaggedKey, WellFormedKey, KEY_ID_BYTES};
use crate::ledger::{Entropy, EventKind, EventRow, IndexWrite, KeyRow, Ledger};
use crate::time::format_rfc3339;
use crate::webhook::{Change, Plan};
use crate::Error;

pub use super::body::import::{IMPORT_BODY_LIMIT, MAX_IMPORT_KEYS};
pub use super::op::{Import, ImportItem, Refusal};

/// The [`Import`] for `parsed`: each plaintext is let through by `admit`
/// (the key secret's tag check) and becomes its hash, or is refused at
/// `keys[i].key`.
pub fn resolve(parsed: Parsed, admit: impl Fn(WellFormedKey) -> Option<TaggedKey>) -> Import {
    let items = parsed
        .items
        .into_iter()
        .enumerate()
        .map(|(at, item)| match item {
            Err(error) => ImportItem::Refused(Refusal::of(&error)),
            Ok(Item { source, new }) => match source {
                Source::Hash(hash) => ImportItem::Key {
                    hash,
                    display_prefix: String::new(),
                    last4: String::new(),
                    new,
                },
                Source::Key(key) => match admit(key) {
                    Some(tagged) => ImportItem::Key {
                        hash: tagged.hash().to_hex(),
                        display_prefix: tagged.key().display_prefix().to_owned(),
                        last4: tagged.key().last4().to_owned(),
                        new,
                    },
                    None => ImportItem::Refused(Refusal::of(&Error::InvalidField {
                        field: format!("keys[{at}].key"),
                        reason: "is in keygate's format but was not minted by this \
                                 deployment (its tag does not verify), so the gateway \
                                 would refuse it"
                            .to_owned(),
                    })),
                },
            },
        })
        .collect();
    Import {
        items,
        ignore_key_limit: parsed.ignore_key_limit,
    }
}

/// The hashes of `import`'s keys, item by item (`None` for a refused
/// item): the edge reads each one's index record before the import.
pub fn hashes(import: &Import) -> Vec<Option<&str>> {
    import
        .items
        .iter()
        .map(|item| match item {
            ImportItem::Key { hash, .. } => Some(hash.as_str()),
            ImportItem::Refused(_) => None,
        })
        .collect()
}

/// `import` with each key whose index record (`owners`, item by item,
/// from [`hashes`]) belongs to another account than `account` refused:
/// the index is keyed by hash across accounts, so importing such a key
/// would take it from the account that holds it.
pub fn held_elsewhere(mut import: Import, owners: &[Option<String>], account: &str) -> Import {
    for (at, (item, owner)) in import.items.iter_mut().zip(owners).enumerate() {
        if owner.as_deref().is_some_and(|o| o != account) {
            *item = ImportItem::Refused(Refusal::of(&Error::InvalidField {
                field: format!("keys[{at}]"),
                reason: "is a key of another account; import a key only into the account \
                         that holds it"
                    .to_owned(),
            }));
        }
    }
    import
}

/// The checks the Worker makes on an import body, but the keyed tag's
/// (which needs the key secret): the whole body's fault, or each item's
/// refusal. For the CLI's dry run.
pub fn check(config: &Config, body: &[u8], now: i64) -> Result<Vec<Result<(), Error>>, Error> {
    let parsed = super::body::import::import(config, body, now)?;
    Ok(parsed.items.into_iter().map(|i| i.map(|_| ())).collect())
}

/// Decides `import` for the account `account_id` at `now`.
pub(super) fn plan(
    config: &Config,
    ledger: &dyn Ledger,
    account_id: &str,
    import: Import,
    now: i64,
    entropy: &Entropy,
) -> Result<Plan, Error> {
    let (existing, account) = super::writable::writable_account(ledger, account_id, now)?;
    let mut known: HashMap<String, String> =
        ledger.keys()?.into_iter().map(|k| (k.hash, k.id)).collect();
    let mut in_use: HashMap<String, u64> = HashMap::new();
    let mut results = Vec::with_capacity(import.items.len());
    let mut plan = Plan::reply(200, serde_json::Value::Null);
    let mut rows = Vec::new();
    let (mut created, mut present, mut refused) = (0u32, 0u32, 0u32);
    for (index, item) in import.items.into_iter().enumerate() {
        let result = match item {
            ImportItem::Refused(why) => Err(why),
            ImportItem::Key {
                hash,
                display_prefix,
                last4,
                new,
            } => {
                if let Some(id) = known.get(&hash) {
                    present += 1;
                    results.push(json!({ "index": index, "status": "already_present", "id": id }));
                    continue;
                }
                one(
                    config,
                    ledger,
                    &mut in_use,
                    import.ignore_key_limit,
                    (hash, display_prefix, last4, new),
                    index,
                    now,
                    entropy,
                )
            }
        };
        match result {
            Ok(row) => {
                created += 1;
                known.insert(row.hash.clone(), row.id.clone());
                results.push(json!({ "index": index, "status": "created", "id": row.id }));
                rows.push(row);
            }
            Err(why) => {
                refused += 1;
                let mut result = json!({
                    "index": index,
                    "status": "refused",
                    "code": why.code,
                    "detail": why.detail,
                });
                if let (Some(field), Some(members)) = (why.field, result.as_object_mut()) {
                    members.insert("field".to_owned(), field.into());
                }
                results.push(result);
            }
        }
    }
    if !rows.is_empty() && existing.is_none() {
        plan.changes.push(Change::PutAccount(account.clone()));
    }
    for row in rows {
        plan.index.push(IndexWrite::of(&row, &account, now));
        plan.changes.push(Change::AppendEvent(EventRow {
            seq: 0,
            kind: EventKind::KeyCreated,
            at: now,
            key_id: Some(row.id.clone()),
            product: Some(row.product.clone()),
            data: json!({
                "name": row.name,
                "scopes": row.scopes,
                "expires_at": row.expires_at.map(format_rfc3339),
                "imported": true,
            }),
        }));
        plan.changes.push(Change::PutKey(row));
    }
    plan.reply = Ok(crate::ledger::Reply {
        status: 200,
        body: json!({
            "created": created,
            "already_present": present,
            "refused": refused,
            "results": results,
        }),
    });
    Ok(plan)
}

/// The row for one new imported key, or why it is refused.
#[allow(clippy::too_many_arguments)]
fn one(
    config: &Config,
    ledger: &dyn Ledger,
    in_use: &mut HashMap<String, u64>,
    ignore_key_limit: bool,
    (hash, display_prefix, last4, new): (String, String, String, NewKey),
    index: usize,
    now: i64,
    entropy: &Entropy,
) -> Result<KeyRow, Refusal> {
    let field = |member: &str| format!("keys[{index}].{member}");
    let product = config.product(&new.product).ok_or_else(|| {
        Refusal::of(&Error::InvalidField {
            field: field("product"),
            reason: "is no longer a configured product id".to_owned(),
        })
    })?;
    let scopes = match &new.scopes {
        Some(list) => super::body::scopes(product, list).map_err(|e| {
            let mut why = Refusal::of(&e);
            why.field = Some(field("scopes"));
            why
        })?,
        None => product.default_scopes.clone(),
    };
    let count = match in_use.get(&product.id) {
        Some(n) => *n,
        None => ledger.count_working(&product.id, now)?,
    };
    if !ignore_key_limit && count >= u64::from(product.key_limit) {
        return Err(Refusal::of(&Error::KeyLimitReached {
            product: product.name.clone(),
            limit: product.key_limit,
        }));
    }
    in_use.insert(product.id.clone(), count.saturating_add(1));
    Ok(KeyRow {
        id: key_id(&id_bytes(&entropy.id, &hash)),
        hash,
        product: product.id.clone(),
        environment: new.environment,
        name: new.name,
        scopes,
        created_at: now,
        expires_at: new.expires_at,
        revoked_at: None,
        prefix: display_prefix,
        last4,
        webhook_url: None,
        webhook_secret: None,
        replaced_by: None,
        owner_id: new.owner_id,
        disabled: false,
        meta: new.meta,
        last_used_at: None,
        leaked: None,
        allowed_ips: new.allowed_ips,
    })
}

/// A key id's random bytes for the key with `hash`: SHA-256 of the call's
/// fresh id bytes and the hash, so ids are fresh per call and distinct
/// per key within it.
fn id_bytes(fresh: &[u8; KEY_ID_BYTES], hash: &str) -> [u8; KEY_ID_BYTES] {
    let digest: [u8; 32] = Sha256::new()
        .chain_update(fresh)
        .chain_update(hash.as_bytes())
        .finalize()
        .into();
    let mut out = [0u8; KEY_ID_BYTES];
    for (o, d) in out.iter_mut().zip(digest) {
        *o = d;
    }
    out
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
