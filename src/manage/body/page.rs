//! The API Keys page's bodies: what a page session may write, and nothing
//! else.
//!
//! Pure. Invariant: a page body is read by the management API's strict
//! reader ([`decode`]) into a type that has no member for an operator-only
//! field, so a [`PageNewKey`] or [`PageUpdate`] can never carry `meta`,
//! `owner_id`, `enabled` or `environment`; naming one is
//! `403 forbidden_field`, any other unknown member `400 unknown_field`.
//! `allowed_ips` is the operator's too unless the configuration's
//! `portal.editable_allowed_ips` is on: naming it is then
//! `403 forbidden_field` as well, and only with the setting on does a
//! page body carry a list ([`editable_allowed_ips`]). A
//! create's scopes are permissions the product's `portal.grantable` lists,
//! and its expiry is within the product's `portal.max_expiry_days` (the
//! default expiry when one is set); an update can only move an expiry
//! earlier ([`Expiry::Earlier`], decided against the key by the account).

use serde::Deserialize;

use super::{all_of, allowed_ips, decode, expiry, invalid, scopes, webhook_url};
use crate::config::{Config, Product};
use crate::ip_allow::AllowList;
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
    allowed_ips: Option<Vec<String>>,
}
/// The members a page create takes.
pub const PAGE_CREATE_FIELDS: &str =
    "product, name, scopes, expires_in_days, expires_at, webhook_url";
/// The members a page create takes with `portal.editable_allowed_ips`.
pub const PAGE_CREATE_FIELDS_WITH_IPS: &str =
    "product, name, scopes, expires_in_days, expires_at, webhook_url, allowed_ips";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    name: Option<String>,
    scopes: Option<Vec<String>>,
    expires_in_days: Option<i64>,
    /// `null` is read, to be refused as a lengthening.
    #[serde(default, deserialize_with = "super::present")]
    expires_at: Option<Option<String>>,
    allowed_ips: Option<Vec<String>>,
}
/// The members a page update takes.
pub const PAGE_UPDATE_FIELDS: &str = "name, scopes, expires_in_days, expires_at";
/// The members a page update takes with `portal.editable_allowed_ips`.
pub const PAGE_UPDATE_FIELDS_WITH_IPS: &str =
    "name, scopes, expires_in_days, expires_at, allowed_ips";

/// Whether page users may set a key's IP allowlist
/// (`portal.editable_allowed_ips`; off by default).
pub fn editable_allowed_ips(config: &Config) -> bool {
    config
        .portal
        .as_ref()
        .is_some_and(|p| p.editable_allowed_ips)
}

/// The page's `allowed_ips`, if the body names it: refused with
/// `forbidden_field` unless the operator lets page users set it, else
/// checked as the management API checks it.
fn page_allowed_ips(
    config: &Config,
    raw: Option<Vec<String>>,
    allowed: &'static str,
) -> Result<Option<AllowList>, Error> {
    let Some(list) = raw else {
        return Ok(None);
    };
    if !editable_allowed_ips(config) {
        return Err(Error::ForbiddenField {
            field: "allowed_ips".to_owned(),
            allowed,
        });
    }
    allowed_ips(&list).map(Some)
}

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
    /// The key's own IP allowlist, checked; only ever set when the
    /// operator allows it (`portal.editable_allowed_ips`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_ips: Option<AllowList>,
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
    /// A new IP allowlist (empty: none of its own); only ever set when
    /// the operator allows it (`portal.editable_allowed_ips`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_ips: Option<AllowList>,
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
    let fields = if editable_allowed_ips(config) {
        PAGE_CREATE_FIELDS_WITH_IPS
    } else {
        PAGE_CREATE_FIELDS
    };
    let raw: CreateBody = decode(body, fields, &[]).map_err(|e| forbid(e, fields))?;
    let ips = page_allowed_ips(config, raw.allowed_ips, fields);
    if let Err(forbidden @ Error::ForbiddenField { .. }) = ips {
        return Err(forbidden);
    }
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
    match (name, scopes, expires_at, webhook_url, ips) {
        (Ok(name), Ok(scopes), Ok(expires_at), Ok(webhook_url), Ok(allowed_ips)) => {
            Ok(PageNewKey {
                product: product.id.clone(),
                name,
                scopes,
                expires_at,
                webhook_url,
                allowed_ips,
            })
        }
        (name, scopes, expires_at, webhook_url, ips) => Err(page_faults(vec![
            name.err(),
            scopes.err(),
            expires_at.err(),
            webhook_url.err(),
            ips.err(),
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
pub fn page_update(config: &Config, body: &[u8], now: i64) -> Result<PageUpdate, Error> {
    let fields = if editable_allowed_ips(config) {
        PAGE_UPDATE_FIELDS_WITH_IPS
    } else {
        PAGE_UPDATE_FIELDS
    };
    let raw: UpdateBody = decode(body, fields, &["expires_at"]).map_err(|e| forbid(e, fields))?;
    let ips = page_allowed_ips(config, raw.allowed_ips, fields);
    if let Err(forbidden @ Error::ForbiddenField { .. }) = ips {
        return Err(forbidden);
    }
    let nothing = raw.name.is_none()
        && raw.scopes.is_none()
        && raw.expires_in_days.is_none()
        && raw.expires_at.is_none()
        && matches!(ips, Ok(None));
    if nothing {
        return Err(invalid(
            "name",
            format!("or another of {fields} must be given; nothing to change"),
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
    match (name, scopes, expires_at, ips) {
        (Ok(name), Ok(scopes), Ok(expires_at), Ok(allowed_ips)) => Ok(PageUpdate {
            name,
            scopes,
            expires_at,
            allowed_ips,
        }),
        (name, scopes, expires_at, ips) => Err(page_faults(vec![
            name.err(),
            scopes.err(),
            expires_at.err(),
            ips.err(),
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
