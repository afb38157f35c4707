//! What the control Worker asks an account's object for on behalf of the
//! API Keys page, and how a session's scope narrows it.
//!
//! The page's API is the management API of one account, restricted: its
//! requests are parsed into a [`PageOp`] ([`super::op`]), which
//! [`restrict`] turns into a management [`Op`] for the session's scope.
//! Invariants: a session can never reach another account (the account
//! comes from its cookie); ops outside keys and events do not exist; a
//! page op cannot carry an operator-only field, and the management op made
//! from it sets none (`meta` and `enabled` untouched, a new key's holder
//! the session's); scopes stay within the session's ceiling
//! ([`Scope::ceiling`]) and an expiry only moves earlier; a key op names a
//! key the session must see ([`Need::Key`]), checked by the object before
//! the op runs ([`admit`]); lists are filtered to the scope afterwards
//! ([`filter_keys`], [`filter_events`]); an Idempotency-Key's answer is
//! kept for the session's holder and products ([`caller`]).

use serde::{Deserialize, Serialize};

use super::grant::SessionRow;
use super::op::PageOp;
use super::scope::Scope;
use crate::config::Config;
use crate::ip_allow::AllowList;
use crate::key::Environment;
use crate::manage::idempotency::Caller;
use crate::manage::op::NewKey;
use crate::manage::{grantable_scopes, Op, PageNewKey};
use crate::Error;

/// A call to an account's object about portal sessions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case", deny_unknown_fields)]
pub enum PortalCall {
    /// Store a new session (admin).
    Grant {
        /// The account.
        account: String,
        /// The session, holding its token's digest.
        session: SessionRow,
    },
    /// List the account's sessions (admin).
    List {
        /// The account.
        account: String,
    },
    /// End a session (admin).
    Revoke {
        /// The account.
        account: String,
        /// The session id.
        id: String,
    },
    /// Exchange a one-time token for a cookie (the page's link).
    Exchange {
        /// The account.
        account: String,
        /// The token text.
        token: String,
        /// The new cookie text.
        cookie: String,
    },
    /// End the session its cookie belongs to (the page's sign-out).
    SignOut {
        /// The account.
        account: String,
        /// The cookie text.
        cookie: String,
    },
    /// Run `op` for a session (the page's API); none: only check the
    /// session and describe it.
    Act {
        /// The account.
        account: String,
        /// The cookie text.
        cookie: String,
        /// The page's op; the object restricts it to the session
        /// ([`restrict`]) before it becomes a management op.
        op: Option<PageOp>,
    },
}

/// What the object must check before running a restricted op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Nothing more.
    Nothing,
    /// That the session sees this key, and may grant `scopes` (if any)
    /// for the key's product.
    Key {
        /// The key id.
        id: String,
        /// Scopes an update asks for, checked against the key's product.
        scopes: Option<Vec<String>>,
    },
}

impl Need {
    fn key(id: &str) -> Need {
        Need::Key {
            id: id.to_owned(),
            scopes: None,
        }
    }
}

/// `op` as `scope` may ask it, as the management op the account runs, and
/// what remains to check; refusals are problems the page shows. The op
/// never carries `meta` or `enabled`, and a new key's holder is the
/// session's (none when the session has none).
pub fn restrict(config: &Config, scope: &Scope, op: PageOp) -> Result<(Op, Need), Error> {
    match op {
        PageOp::CreateKey(new) => Ok((
            Op::CreateKey(restrict_new(config, scope, new)?),
            Need::Nothing,
        )),
        PageOp::ListKeys {
            status,
            product,
            owner_id,
            limit,
            after,
        } => {
            if let Some(p) = &product {
                if !scope.allows_product(p) {
                    return Err(out_of_scope("product"));
                }
            }
            // A session of one product lists it by SQL, so its pages are
            // full; one of several products is filtered afterwards.
            let product = match (&product, &scope.products) {
                (None, Some(only)) if only.len() == 1 => only.first().cloned(),
                _ => product,
            };
            let owner_id = match (&scope.owner_id, owner_id) {
                (Some(own), Some(asked)) if *own != asked => return Err(out_of_scope("owner_id")),
                (Some(own), _) => Some(own.clone()),
                (None, asked) => asked,
            };
            Ok((
                Op::ListKeys {
                    status,
                    product,
                    owner_id,
                    limit,
                    after,
                },
                Need::Nothing,
            ))
        }
        PageOp::ListEvents { limit, before } => {
            Ok((Op::ListEvents { limit, before }, Need::Nothing))
        }
        PageOp::GetKey { id } => Ok((Op::GetKey { id: id.clone() }, Need::key(&id))),
        PageOp::RevokeKey { id } => Ok((Op::RevokeKey { id: id.clone() }, Need::key(&id))),
        PageOp::RotateKey { id, grace_seconds } => Ok((
            Op::RotateKey {
                id: id.clone(),
                grace_seconds,
            },
            Need::key(&id),
        )),
        PageOp::UpdateKey { id, change } => {
            let expires_at = change.expiry();
            let allowed_ips = page_ips(config, change.allowed_ips)?;
            Ok((
                Op::UpdateKey {
                    id: id.clone(),
                    name: change.name,
                    scopes: change.scopes.clone(),
                    expires_at,
                    enabled: None,
                    meta: None,
                    allowed_ips,
                },
                Need::Key {
                    id,
                    scopes: change.scopes,
                },
            ))
        }
        PageOp::Once { pending, then } => {
            let (then, need) = restrict(config, scope, *then)?;
            Ok((
                Op::Once {
                    ticket: pending.for_caller(&caller(scope)),
                    then: Box::new(then),
                },
                need,
            ))
        }
    }
}

/// The caller a session's Idempotency-Keys are kept for: its holder and
/// products.
pub fn caller(scope: &Scope) -> Caller {
    Caller::Page {
        owner_id: scope.owner_id.clone(),
        products: scope.products.clone(),
    }
}

/// Checks what [`Need::Key`] asks of the key the object read (`view`, its
/// JSON): that the session sees it (else `key_not_found`), and that the
/// scopes asked for are permissions of its product the session may grant
/// (`invalid_field`, then `scope_not_grantable`).
pub fn admit(
    config: &Config,
    scope: &Scope,
    view: &serde_json::Value,
    scopes: Option<&[String]>,
) -> Result<(), Error> {
    if !sees_view(scope, view) {
        return Err(Error::KeyNotFound);
    }
    let Some(list) = scopes else {
        return Ok(());
    };
    let product = view
        .get("product")
        .and_then(|p| p.as_str())
        .and_then(|p| config.product(p))
        .ok_or(Error::KeyNotFound)?;
    grantable_scopes(product, &scope.ceiling(product), list).map(drop)
}

/// A page's new key as the account creates it: in the session's products,
/// its holder the session's, no `meta`, a live key, and scopes within the
/// session's ceiling (absent: the product's defaults the session may
/// grant).
fn restrict_new(config: &Config, scope: &Scope, new: PageNewKey) -> Result<NewKey, Error> {
    if !scope.allows_product(&new.product) {
        return Err(out_of_scope("product"));
    }
    let product = config
        .product(&new.product)
        .ok_or_else(|| out_of_scope("product"))?;
    let ceiling = scope.ceiling(product);
    let scopes = match new.scopes {
        Some(list) => Some(grantable_scopes(product, &ceiling, &list)?),
        None if product.default_scopes.iter().all(|s| ceiling.contains(s)) => None,
        None => {
            let within: Vec<String> = product
                .default_scopes
                .iter()
                .filter(|s| ceiling.contains(s))
                .cloned()
                .collect();
            if within.is_empty() {
                return Err(Error::InvalidField {
                    field: "scopes".to_owned(),
                    reason: format!(
                        "must be given: none of the product's default permissions can be \
                         granted here (this page may grant: {})",
                        ceiling.join(", ")
                    ),
                });
            }
            Some(within)
        }
    };
    Ok(NewKey {
        product: product.id.clone(),
        name: new.name,
        scopes,
        environment: Environment::Live,
        expires_at: new.expires_at,
        webhook_url: new.webhook_url,
        owner_id: scope.owner_for_new_key(),
        meta: None,
        allowed_ips: page_ips(config, new.allowed_ips)?.unwrap_or_default(),
    })
}

/// A page's IP allowlist, kept only while the operator lets page users
/// set it (`portal.editable_allowed_ips`): the body reader refuses it
/// otherwise, and this refuses it again, so no page op carries one the
/// configuration does not allow.
fn page_ips(config: &Config, list: Option<AllowList>) -> Result<Option<AllowList>, Error> {
    match list {
        Some(_) if !crate::manage::editable_allowed_ips(config) => Err(Error::ForbiddenField {
            field: "allowed_ips".to_owned(),
            allowed: crate::manage::PAGE_UPDATE_FIELDS,
        }),
        other => Ok(other),
    }
}

fn out_of_scope(field: &str) -> Error {
    Error::InvalidField {
        field: field.to_owned(),
        reason: "is outside what this page manages".to_owned(),
    }
}

/// The key list `{"keys": [...]}` with only the keys `sees` admits (by
/// product and owner, read from each view).
pub fn filter_keys(scope: &Scope, body: &mut serde_json::Value) {
    if let Some(keys) = body.get_mut("keys").and_then(|k| k.as_array_mut()) {
        keys.retain(|view| sees_view(scope, view));
    }
}

/// Whether a key view (JSON) is in `scope`.
pub fn sees_view(scope: &Scope, view: &serde_json::Value) -> bool {
    let product = view.get("product").and_then(|p| p.as_str()).unwrap_or("");
    let owner = view.get("owner_id").and_then(|o| o.as_str());
    scope.allows_product(product)
        && scope
            .owner_id
            .as_deref()
            .is_none_or(|own| owner == Some(own))
}

/// The event list `{"events": [...]}` with only events about `visible`
/// keys, or account-wide events when the scope is the whole account.
pub fn filter_events(scope: &Scope, visible: &[String], body: &mut serde_json::Value) {
    let whole = *scope == Scope::default();
    if let Some(events) = body.get_mut("events").and_then(|e| e.as_array_mut()) {
        events.retain(|event| match event.get("key_id").and_then(|k| k.as_str()) {
            Some(id) => visible.iter().any(|v| v == id),
            None => whole,
        });
    }
}

#[cfg(test)]
#[path = "call_tests.rs"]
mod tests;
