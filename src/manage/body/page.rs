//! The API Keys page's bodies: what a page session may write, and nothing
//! else.
//!
//! Pure. Invariant: a page body is read by the management API's strict
//! reader ([`decode`]) into a type that has no member for an operator-only
//! field, so a [`PageNewKey`] or [`PageUpdate`] can never carry `meta`,
//! `owner_id`, `enabled` or `environment`; naming one is
//! `403 forbidden_field`, any other unknown member `400 unknown_field`. A
//! create's scopes are permissions the product's `portal.grantable` lists,
//! and its expiry is within the product's `portal.max_expiry_days` (the
//! default expiry when one is set); an update can only move an expiry
//! earlier ([`Expiry::Earlier`], decided against the key by the account).

use serde::Deserialize;

use super::{all_of, decode, expiry, invalid, scopes, webhook_url};
use crate::config::{Config, Product};
use crate::manage::op::Expiry;
use crate::Error;

/// Fields only the operator (the management API) sets; a page session
/// that names one is refused with `forbidden_field`.
pub const OPERATOR_ONLY: [&str; 4] = ["meta", "owner_id", "enabled", "environment"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    product: String,
    name: String,
    scopes: Option<Vec<String>>,
    expires_in_days: Option<i64>,
    expires_at: Option<String>,
    webhook_url: Option<String>,
}
/// The members a page create takes.
pub const PAGE_CREATE_FIELDS: &str =
    "product, name, scopes, expires_in_days, expires_at, webhook_url";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    name: Option<String>,
    scopes: Option<Vec<String>>,
    expires_in_days: Option<i64>,
    /// `null` is read, to be refused as a lengthening.
    #[serde(default, deserialize_with = "super::present")]
    expires_at: Option<Option<String>>,
}
/// The members a page update takes.
pub const PAGE_UPDATE_FIELDS: &str = "name, scopes, expires_in_days, expires_at";

/// A key a page session asks for. It has no holder, `meta`, environment
/// or on/off switch: the account's object gives it the session's holder
/// and the product's defaults.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageNewKey {
    /// Configured product id.
    pub product: String,
    /// 1-64 characters, checked.
    pub name: String,
    /// Permissions of the product that its `portal.grantable` lists; `None`
    /// for the product's defaults (narrowed to what the session may grant).
    pub scopes: Option<Vec<String>>,
    /// Unix seconds, in range and within the product's
    /// `portal.max_expiry_days`.
    pub expires_at: Option<i64>,
    /// Already checked to be https to a public host (or local in dev).
    pub webhook_url: Option<String>,
}

/// What a page session asks to change on a key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageUpdate {
    /// A new name, checked.
    pub name: Option<String>,
    /// New scopes, not yet checked against the key's product.
    pub scopes: Option<Vec<String>>,
    /// A new, earlier expiry (Unix seconds, in the future).
    pub expires_at: Option<i64>,
}

impl PageUpdate {
    /// The expiry as the account applies it: only if no later than the
    /// key's.
    pub fn expiry(&self) -> Option<Expiry> {
        self.expires_at.map(Expiry::Earlier)
    }
}

/// `forbidden_field` for an operator-only member, else the decode error.
fn forbid(error: Error, allowed: &'static str) -> Error {
    match error {
        Error::UnknownField { field, .. } if OPERATOR_ONLY.contains(&field.as_str()) => {
            Error::ForbiddenField { field, allowed }
        }
        other => other,
    }
}

/// `POST {prefix}/api/keys`: a key the page may create.
pub fn page_create(config: &Config, body: &[u8], now: i64, dev: bool) -> Result<PageNewKey, Error> {
    let raw: CreateBody =
        decode(body, PAGE_CREATE_FIELDS, &[]).map_err(|e| forbid(e, PAGE_CREATE_FIELDS))?;
    let product = config
        .product(&raw.product)
        .ok_or_else(|| super::unknown_product(config))?;
    let name = crate::manage::name::check(&raw.name);
    let scopes = raw
        .scopes
        .map(|s| grantable_scopes(product, &product.portal.grantable, &s))
        .transpose();
    let expires_at = expiry(raw.expires_in_days, raw.expires_at, now)
        .and_then(|at| create_expiry(product, at, now));
    let webhook_url = raw
        .webhook_url
        .map(|url| webhook_url(&url, dev))
        .transpose();
    match (name, scopes, expires_at, webhook_url) {
        (Ok(name), Ok(scopes), Ok(expires_at), Ok(webhook_url)) => Ok(PageNewKey {
            product: product.id.clone(),
            name,
            scopes,
            expires_at,
            webhook_url,
        }),
        (name, scopes, expires_at, webhook_url) => Err(page_faults(vec![
            name.err(),
            scopes.err(),
            expires_at.err(),
            webhook_url.err(),
        ])),
    }
}

/// The faults of a page body: the field faults (400) all at once, if
/// any; else the first refusal of the page's ceilings (403).
fn page_faults(faults: Vec<Option<Error>>) -> Error {
    let faults: Vec<Error> = faults.into_iter().flatten().collect();
    let fields: Vec<Option<Error>> = faults
        .iter()
        .filter(|e| e.status() == 400)
        .cloned()
        .map(Some)
        .collect();
    if !fields.is_empty() {
        return all_of(fields);
    }
    faults
        .into_iter()
        .next()
        .unwrap_or_else(|| invalid("body", "is not valid"))
}

/// A new key's expiry under the product's `portal.max_expiry_days`: the
/// longest allowed when none is asked for; a later one is refused.
fn create_expiry(product: &Product, at: Option<i64>, now: i64) -> Result<Option<i64>, Error> {
    let Some(days) = product.portal.max_expiry_days else {
        return Ok(at);
    };
    let latest = now.saturating_add(days.saturating_mul(86_400));
    match at {
        None => Ok(Some(latest)),
        Some(at) if at <= latest => Ok(Some(at)),
        Some(_) => Err(Error::ExpiryTooLate {
            field: "expires_at",
            reason: format!(
                "keys created here expire within {days} days (send expires_in_days of at most \
                 {days})"
            ),
        }),
    }
}

/// `PATCH {prefix}/api/keys/{id}`: what the page may change.
pub fn page_update(body: &[u8], now: i64) -> Result<PageUpdate, Error> {
    let raw: UpdateBody = decode(body, PAGE_UPDATE_FIELDS, &["expires_at"])
        .map_err(|e| forbid(e, PAGE_UPDATE_FIELDS))?;
    if raw.name.is_none()
        && raw.scopes.is_none()
        && raw.expires_in_days.is_none()
        && raw.expires_at.is_none()
    {
        return Err(invalid(
            "name",
            "or scopes, expires_in_days or expires_at must be given; nothing to change",
        ));
    }
    let name = raw
        .name
        .as_deref()
        .map(crate::manage::name::check)
        .transpose();
    let expires_at = match (raw.expires_in_days, raw.expires_at) {
        (_, Some(None)) => Err(Error::ExpiryTooLate {
            field: "expires_at",
            reason: "it cannot remove a key's expiry (null)".to_owned(),
        }),
        (days, at) => expiry(days, at.flatten(), now),
    };
    let scopes = match raw.scopes {
        Some(list) if list.is_empty() => Err(invalid(
            "scopes",
            "must list at least one permission; leave it out to keep the key's",
        )),
        other => Ok(other),
    };
    match (name, scopes, expires_at) {
        (Ok(name), Ok(scopes), Ok(expires_at)) => Ok(PageUpdate {
            name,
            scopes,
            expires_at,
        }),
        (name, scopes, expires_at) => Err(page_faults(vec![
            name.err(),
            scopes.err(),
            expires_at.err(),
        ])),
    }
}

/// `list`, checked as scopes of `product` (`invalid_field` for what is
/// not a permission of it, or a repeat), each within `ceiling`
/// (`scope_not_grantable` naming the first that is not).
pub fn grantable_scopes(
    product: &Product,
    ceiling: &[String],
    list: &[String],
) -> Result<Vec<String>, Error> {
    let list = scopes(product, list)?;
    if let Some((i, scope)) = list.iter().enumerate().find(|(_, s)| !ceiling.contains(s)) {
        return Err(Error::ScopeNotGrantable {
            field: format!("scopes[{i}]"),
            scope: scope.clone(),
            grantable: ceiling.join(", "),
        });
    }
    Ok(list)
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
