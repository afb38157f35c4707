//! What one portal session may see and change.
//!
//! A session is granted for an account, optionally narrowed to some of its
//! products, to one holder (`owner_id`) and to some permissions (`scopes`).
//! Invariants: a key outside the scope is treated as absent
//! (`key_not_found`, never `forbidden`, so a session learns nothing of
//! other keys); a key created through the session belongs to the
//! session's holder and one of its products; the permissions a session
//! may grant ([`Scope::ceiling`]) are those its product's
//! `portal.grantable` lists, narrowed by the session's `scopes`.

use serde::{Deserialize, Serialize};

use crate::config::Product;
use crate::manage::KeyRow;

/// A session's scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Only these products' keys; `None`: every product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
    /// Only this holder's keys; `None`: every holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// Only these permissions may be granted (within each product's
    /// `portal.grantable`); `None`: all the product's grantable ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

impl Scope {
    /// Whether keys of `product` are in scope.
    pub fn allows_product(&self, product: &str) -> bool {
        self.products
            .as_ref()
            .is_none_or(|list| list.iter().any(|p| p == product))
    }

    /// Whether the session may see and change `key`.
    pub fn sees(&self, key: &KeyRow) -> bool {
        self.allows_product(&key.product)
            && self
                .owner_id
                .as_ref()
                .is_none_or(|owner| key.owner_id.as_ref() == Some(owner))
    }

    /// The permissions the session may give a key of `product`: its
    /// `portal.grantable`, narrowed to the session's `scopes`.
    pub fn ceiling(&self, product: &Product) -> Vec<String> {
        product
            .portal
            .grantable
            .iter()
            .filter(|p| self.scopes.as_ref().is_none_or(|only| only.contains(p)))
            .cloned()
            .collect()
    }

    /// The holder a key created through the session gets.
    pub fn owner_for_new_key(&self) -> Option<String> {
        self.owner_id.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Environment;

    fn key(product: &str, owner: Option<&str>) -> KeyRow {
        KeyRow {
            allowed_ips: Default::default(),
            id: "key_1".into(),
            hash: "00".into(),
            product: product.into(),
            environment: Environment::Live,
            name: "k".into(),
            scopes: vec![],
            created_at: 0,
            expires_at: None,
            revoked_at: None,
            prefix: "p".into(),
            last4: "abcd".into(),
            webhook_url: None,
            webhook_secret: None,
            replaced_by: None,
            owner_id: owner.map(Into::into),
            disabled: false,
            meta: None,
            last_used_at: None,
            leaked: None,
        }
    }

    #[test]
    fn an_unnarrowed_scope_sees_everything() {
        let scope = Scope::default();
        assert!(scope.sees(&key("a", None)));
        assert!(scope.sees(&key("b", Some("u1"))));
    }

    #[test]
    fn products_and_owner_narrow_it() {
        let scope = Scope {
            products: Some(vec!["a".into()]),
            owner_id: Some("u1".into()),
            scopes: None,
        };
        assert!(scope.sees(&key("a", Some("u1"))));
        assert!(!scope.sees(&key("b", Some("u1"))));
        assert!(!scope.sees(&key("a", Some("u2"))));
        assert!(
            !scope.sees(&key("a", None)),
            "a key with no holder is not u1's"
        );
        assert_eq!(scope.owner_for_new_key().as_deref(), Some("u1"));
    }

    #[test]
    fn the_ceiling_is_grantable_narrowed_by_the_session() {
        let config = crate::config::tests::demo_config();
        let forgeai = config.product("forgeai").unwrap();
        let all = Scope::default();
        assert_eq!(all.ceiling(forgeai), forgeai.portal.grantable);
        assert!(!forgeai.portal.grantable.is_empty());
        let first = forgeai.portal.grantable[0].clone();
        let narrow = Scope {
            scopes: Some(vec![first.clone(), "not-grantable".into()]),
            ..Scope::default()
        };
        assert_eq!(narrow.ceiling(forgeai), [first]);
        let none = Scope {
            scopes: Some(vec!["not-grantable".into()]),
            ..Scope::default()
        };
        assert!(none.ceiling(forgeai).is_empty());
    }
}
