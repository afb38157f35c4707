//! The access decision, and the proof that it was made.
//!
//! Pure: the clock comes in as `now`. [`authorize`], [`admit_public`] and
//! [`admit_preflight`] are the only ways to construct an [`Authorized`], and forwarding
//! ([`crate::forward::plan`]) requires one, so no code path can forward a
//! request that the policy did not admit.

use std::net::IpAddr;

use crate::config::{default_permission, Product};
pub use crate::http::{is_refused_method, GATEWAY_METHODS};
use crate::key::{Environment, WellFormedKey};
use crate::record::KeyRecord;
use crate::Error;

/// The parts of a request the policy looks at.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// The path as the origin sees it ([`crate::route::Routed::product_path`]).
    pub path: &'a str,
    /// The client's address, from `CF-Connecting-IP` only
    /// ([`crate::proxy_headers::client_ip`]); `None` when missing or not
    /// an address (then a key with an IP allowlist is refused).
    pub client: Option<IpAddr>,
}

/// Who a verified key speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Key id.
    pub key_id: String,
    /// Owning account.
    pub account: String,
    /// `live` or `test`.
    pub environment: Environment,
    /// Granted permissions.
    pub scopes: Vec<String>,
    /// The `Keygate-Key-Meta` value: the key's forwarded `meta` members
    /// ([`crate::key_meta::forwarded`]); `None` when the product forwards
    /// none.
    pub meta: Option<String>,
}

/// Proof that the policy admitted one request: this method on this path of
/// this product, for this identity. Only this module creates it, and it
/// carries what was checked, so forwarding cannot send anything else.
#[derive(Debug, Clone)]
pub struct Authorized<'a> {
    product: &'a Product,
    method: String,
    path: String,
    identity: Option<Identity>,
    permission: Option<String>,
}

impl<'a> Authorized<'a> {
    /// The product admitted to.
    pub fn product(&self) -> &'a Product {
        self.product
    }

    /// The method admitted.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path admitted, as the origin sees it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The verified identity; `None` on a public path.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// The permission that was checked; `None` on a public path.
    pub fn permission(&self) -> Option<&str> {
        self.permission.as_deref()
    }
}

/// The permission `method` on `path` requires: the first matching rule's,
/// else `read` for GET, HEAD and OPTIONS and `write` for the rest. A rule
/// covers its paths as [`crate::pattern::PathPattern::covers`] says, with
/// the product's [`crate::pattern::Matching`].
pub fn required_permission<'p>(product: &'p Product, method: &str, path: &str) -> &'p str {
    product
        .permissions
        .iter()
        .find(|rule| rule.methods.contains(method) && rule.path.covers(path, product.matching))
        .map_or_else(
            || default_permission(method),
            |rule| rule.permission.as_str(),
        )
}

/// Admits a request to a public path, for a method that entry admits,
/// without a key; or returns `None`.
pub fn admit_public<'a>(product: &'a Product, request: RequestFacts<'_>) -> Option<Authorized<'a>> {
    product
        .public_paths
        .iter()
        .any(|p| {
            p.methods.contains(request.method) && p.path.matches(request.path, product.matching)
        })
        .then(|| Authorized {
            product,
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            identity: None,
            permission: None,
        })
}

/// The refusal `record` settles on its own at `now`, whatever the request:
/// another product or environment (defence in depth), revoked, expired
/// (valid while `now < expires_at`), disabled, or its account suspended. Strict mode
/// refuses these from the KV record without asking the account's object:
/// revocation and expiry are final, and a reactivation rewrites the record.
pub fn settled_refusal(
    product: &Product,
    key: &WellFormedKey,
    record: &KeyRecord,
    now: i64,
) -> Option<Error> {
    // A foreign key has no environment of its own: its record's holds.
    let environment_differs = !key.is_foreign() && record.environment != key.environment();
    if record.product != product.id || environment_differs {
        return Some(Error::InvalidKey);
    }
    if record.revoked_at.is_some_and(|at| now >= at) {
        return Some(Error::RevokedKey);
    }
    if let Some(expires_at) = record.expires_at.filter(|at| now >= *at) {
        return Some(Error::ExpiredKey {
            expired_at: expires_at,
        });
    }
    if record.disabled {
        return Some(Error::DisabledKey);
    }
    record.suspended.then_some(Error::AccountSuspended)
}

/// The refusal, if any, of `client` by the IP allowlist that applies to
/// `record`: the key's own `allowed_ips` if it has one, else its
/// product's (a key's list replaces the product's, it does not add to
/// it). An empty list admits anyone; a non-empty one refuses a client
/// outside it, and a missing or unreadable client address (fail closed).
pub fn ip_refusal(product: &Product, record: &KeyRecord, client: Option<IpAddr>) -> Option<Error> {
    let list = if record.allowed_ips.is_empty() {
        &product.allowed_ips
    } else {
        &record.allowed_ips
    };
    (!list.admits(client)).then(|| Error::IpNotAllowed {
        client: client.map(|ip| ip.to_string()),
    })
}

/// Admits a CORS preflight (see [`crate::cors::is_preflight`]) without a
/// key, for a product whose origin answers CORS itself (`cors = "origin"`);
/// or returns `None`. Browsers never send a key on a preflight.
pub fn admit_preflight<'a>(
    product: &'a Product,
    request: RequestFacts<'_>,
    headers: &(impl crate::credential::HeaderLookup + ?Sized),
) -> Option<Authorized<'a>> {
    (product.cors == crate::cors::Cors::Origin
        && crate::cors::is_preflight(request.method, headers))
    .then(|| Authorized {
        product,
        method: request.method.to_owned(),
        path: request.path.to_owned(),
        identity: None,
        permission: None,
    })
}

/// Decides whether the key behind `record` may make this request at `now`
/// (Unix seconds). Checks, in order: [`settled_refusal`] (product and
/// environment, revocation, expiry, disabling, account suspension), then
/// the client address ([`ip_refusal`]), then permission.
pub fn authorize<'a>(
    product: &'a Product,
    key: &WellFormedKey,
    record: &KeyRecord,
    request: RequestFacts<'_>,
    now: i64,
) -> Result<Authorized<'a>, Error> {
    if let Some(refusal) = settled_refusal(product, key, record, now) {
        return Err(refusal);
    }
    if let Some(refusal) = ip_refusal(product, record, request.client) {
        return Err(refusal);
    }
    let permission = required_permission(product, request.method, request.path);
    if !record.scopes.iter().any(|s| s == permission) {
        return Err(Error::InsufficientScope {
            permission: permission.to_owned(),
        });
    }
    Ok(Authorized {
        product,
        method: request.method.to_owned(),
        path: request.path.to_owned(),
        identity: Some(Identity {
            key_id: record.id.clone(),
            account: record.account.clone(),
            environment: record.environment,
            scopes: record.scopes.clone(),
            meta: crate::key_meta::forwarded(&product.forward_meta, record.meta.as_ref()),
        }),
        permission: Some(permission.to_owned()),
    })
}

#[cfg(test)]
#[path = "policy_tests.rs"]
pub(crate) mod tests;
