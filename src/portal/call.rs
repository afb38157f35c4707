//! What the control Worker asks an account's object for on behalf of the
//! API Keys page, and how a session's scope narrows it.
//!
//! The page's API is the management API of one account, restricted: its
//! requests are parsed by the management parser into an [`Op`], which
//! [`restrict`] accepts only if the session may ask it. Invariants: a
//! session can never reach another account (the account comes from its
//! cookie); ops outside keys and events are refused as not found; a key
//! op names a key the session must see ([`Need::Key`]), checked by the
//! object before the op runs; lists are filtered to the scope afterwards
//! ([`filter_keys`], [`filter_events`]).

use serde::{Deserialize, Serialize};

use super::grant::SessionRow;
use super::scope::Scope;
use crate::manage::op::NewKey;
use crate::manage::Op;
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
        /// The management op, already restricted by [`restrict`].
        op: Option<Op>,
    },
}

/// What the object must check before running a restricted op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Nothing more.
    Nothing,
    /// That the session sees this key.
    Key(String),
}

/// `op` as `scope` may ask it, and what remains to check; refusals are
/// problems the page shows.
pub fn restrict(scope: &Scope, op: Op) -> Result<(Op, Need), Error> {
    match op {
        Op::CreateKey(new) => Ok((Op::CreateKey(restrict_new(scope, new)?), Need::Nothing)),
        Op::ListKeys {
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
        Op::ListEvents { limit, before } => Ok((Op::ListEvents { limit, before }, Need::Nothing)),
        Op::GetKey { id } => Ok((Op::GetKey { id: id.clone() }, Need::Key(id))),
        Op::RevokeKey { id } => Ok((Op::RevokeKey { id: id.clone() }, Need::Key(id))),
        Op::RotateKey { id, grace_seconds } => Ok((
            Op::RotateKey {
                id: id.clone(),
                grace_seconds,
            },
            Need::Key(id),
        )),
        Op::UpdateKey {
            id,
            name,
            scopes,
            expires_at,
            enabled,
            meta,
        } => Ok((
            Op::UpdateKey {
                id: id.clone(),
                name,
                scopes,
                expires_at,
                enabled,
                meta,
            },
            Need::Key(id),
        )),
        Op::Once { ticket, then } => {
            let (then, need) = restrict(scope, *then)?;
            Ok((
                Op::Once {
                    ticket,
                    then: Box::new(then),
                },
                need,
            ))
        }
        Op::IfMatch { if_match, then } => {
            let (then, need) = restrict(scope, *then)?;
            Ok((
                Op::IfMatch {
                    if_match,
                    then: Box::new(then),
                },
                need,
            ))
        }
        // The account itself, its status, and the edge's calls are not
        // the page's to ask.
        _ => Err(Error::NotFound),
    }
}

fn restrict_new(scope: &Scope, mut new: NewKey) -> Result<NewKey, Error> {
    if !scope.allows_product(&new.product) {
        return Err(out_of_scope("product"));
    }
    if let Some(own) = &scope.owner_id {
        if new.owner_id.as_ref().is_some_and(|asked| asked != own) {
            return Err(out_of_scope("owner_id"));
        }
        new.owner_id = Some(own.clone());
    }
    Ok(new)
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
mod tests {
    use super::*;
    use crate::key::Environment;
    use serde_json::json;

    fn narrow() -> Scope {
        Scope {
            products: Some(vec!["a".into()]),
            owner_id: Some("u1".into()),
        }
    }

    fn new_key(product: &str, owner: Option<&str>) -> NewKey {
        NewKey {
            product: product.into(),
            name: "k".into(),
            scopes: None,
            environment: Environment::Live,
            expires_at: None,
            webhook_url: None,
            owner_id: owner.map(Into::into),
            meta: None,
        }
    }

    #[test]
    fn creates_stay_in_scope_and_belong_to_the_holder() {
        let (op, need) = restrict(&narrow(), Op::CreateKey(new_key("a", None))).unwrap();
        assert_eq!(need, Need::Nothing);
        match op {
            Op::CreateKey(new) => assert_eq!(new.owner_id.as_deref(), Some("u1")),
            other => panic!("{other:?}"),
        }
        assert!(restrict(&narrow(), Op::CreateKey(new_key("b", None))).is_err());
        assert!(restrict(&narrow(), Op::CreateKey(new_key("a", Some("u2")))).is_err());
    }

    #[test]
    fn key_ops_need_the_key_and_account_ops_are_refused() {
        let (_, need) = restrict(&narrow(), Op::RevokeKey { id: "key_x".into() }).unwrap();
        assert_eq!(need, Need::Key("key_x".into()));
        assert!(matches!(
            restrict(&narrow(), Op::GetAccount),
            Err(Error::NotFound)
        ));
        assert!(matches!(
            restrict(
                &Scope::default(),
                Op::SetStatus {
                    status: crate::manage::AccountStatus::Suspended
                }
            ),
            Err(Error::NotFound)
        ));
        assert!(matches!(
            restrict(&Scope::default(), Op::Verify { id: "key_x".into() }),
            Err(Error::NotFound)
        ));
    }

    #[test]
    fn lists_are_forced_to_the_holder_and_filtered() {
        let (op, _) = restrict(
            &narrow(),
            Op::ListKeys {
                status: None,
                product: None,
                owner_id: None,
                limit: 50,
                after: None,
            },
        )
        .unwrap();
        assert!(
            matches!(op, Op::ListKeys { owner_id: Some(ref o), product: Some(ref p), .. } if o == "u1" && p == "a")
        );
        let mut body = json!({"keys": [
            {"id": "1", "product": "a", "owner_id": "u1"},
            {"id": "2", "product": "b", "owner_id": "u1"},
            {"id": "3", "product": "a", "owner_id": "u2"},
            {"id": "4", "product": "a"}
        ]});
        filter_keys(&narrow(), &mut body);
        assert_eq!(body["keys"].as_array().unwrap().len(), 1);
        let mut events = json!({"events": [
            {"id": "e1", "key_id": "1"}, {"id": "e2", "key_id": "2"}, {"id": "e3"}
        ]});
        filter_events(&narrow(), &["1".into()], &mut events);
        assert_eq!(events["events"].as_array().unwrap().len(), 1);
        let mut all = json!({"events": [{"id": "e3"}]});
        filter_events(&Scope::default(), &[], &mut all);
        assert_eq!(all["events"].as_array().unwrap().len(), 1);
    }
}
