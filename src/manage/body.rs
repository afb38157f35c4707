//! Request bodies: strict JSON in, checked values out.
//!
//! Invariant: every body is a JSON object whose members this operation
//! takes, each of the right type and in range; a fault is an [`Error`]
//! naming the member (`field`; several bad members are all listed, as
//! [`Error::InvalidFields`]), and nothing from the body is stored before
//! all of it has passed. The JSON is read as JSON Schema reads it
//! ([`decode()`]): a member named twice is refused (never last-wins),
//! `null` is not an absent member (but for `expires_at` on an update,
//! where it removes the expiry), and a whole-number float (`60.0`, `1e1`)
//! is an integer.

use serde::Deserialize;

use super::op::{Expiry, Meta, NewKey, MAX_META_BYTES};
use crate::config::{Config, Product};
use crate::ip_allow::AllowList;
use crate::key::Environment;
use crate::ledger::AccountStatus;
use crate::time::parse_rfc3339;
use crate::webhook::target::{Refused, Target};
use crate::Error;

/// Longest expiry, in days.
pub const MAX_EXPIRY_DAYS: i64 = 365;
/// Longest rotation grace period: 7 days.
pub const MAX_GRACE_SECONDS: i64 = 7 * 86_400;
/// Longest webhook URL, in bytes.
pub const MAX_WEBHOOK_URL_BYTES: usize = crate::webhook::target::MAX_URL_BYTES;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    product: String,
    name: String,
    scopes: Option<Vec<String>>,
    environment: Option<Environment>,
    expires_in_days: Option<i64>,
    expires_at: Option<String>,
    webhook_url: Option<String>,
    owner_id: Option<String>,
    meta: Option<serde_json::Value>,
    allowed_ips: Option<Vec<String>>,
}
const CREATE_FIELDS: &str = "product, name, scopes, environment, expires_in_days, expires_at, \
     webhook_url, owner_id, meta, allowed_ips";

/// Longest `owner_id`, in bytes.
pub const MAX_OWNER_ID_BYTES: usize = 128;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    name: Option<String>,
    scopes: Option<Vec<String>>,
    expires_in_days: Option<i64>,
    /// Absent: unchanged; `null`: no expiry; a time: that expiry.
    #[serde(default, deserialize_with = "present")]
    expires_at: Option<Option<String>>,
    enabled: Option<bool>,
    meta: Option<serde_json::Value>,
    allowed_ips: Option<Vec<String>>,
}
const UPDATE_FIELDS: &str = "name, scopes, expires_in_days, expires_at, enabled, meta, allowed_ips";

/// A member that is present, `null` included.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// What `PATCH /accounts/{account}/keys/{id}` asks to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Update {
    /// A new name.
    pub name: Option<String>,
    /// New scopes (checked against the key's product by the account).
    pub scopes: Option<Vec<String>>,
    /// A new expiry, or none.
    pub expires_at: Option<Expiry>,
    /// Turn the key on or off.
    pub enabled: Option<bool>,
    /// A new `meta` object (empty: remove it).
    pub meta: Option<Meta>,
    /// A new IP allowlist (empty: remove it, so the product's applies).
    pub allowed_ips: Option<AllowList>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    grace_seconds: i64,
}
const ROTATE_FIELDS: &str = "grace_seconds";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountBody {
    status: String,
}
const ACCOUNT_FIELDS: &str = "status";

/// `POST /accounts/{account}/keys`.
pub(super) fn create(config: &Config, body: &[u8], now: i64, dev: bool) -> Result<NewKey, Error> {
    let raw: CreateBody = decode(body, CREATE_FIELDS, &[])?;
    let product = config
        .product(&raw.product)
        .ok_or_else(|| unknown_product(config))?;
    // Every member is checked, and every fault reported at once.
    let name = super::name::check(&raw.name);
    let scopes = raw.scopes.map(|s| scopes(product, &s)).transpose();
    let expires_at = expiry(raw.expires_in_days, raw.expires_at, now);
    let webhook_url = raw
        .webhook_url
        .map(|url| webhook_url(&url, dev))
        .transpose();
    let owner_id = raw
        .owner_id
        .map(|o| owner_id(&o, "owner_id").map(|()| o))
        .transpose();
    let meta = raw.meta.map(meta).transpose();
    let ips = raw.allowed_ips.as_deref().map(allowed_ips).transpose();
    match (name, scopes, expires_at, webhook_url, owner_id, meta, ips) {
        (
            Ok(name),
            Ok(scopes),
            Ok(expires_at),
            Ok(webhook_url),
            Ok(owner_id),
            Ok(meta),
            Ok(ips),
        ) => Ok(NewKey {
            product: product.id.clone(),
            name,
            scopes,
            environment: raw.environment.unwrap_or(Environment::Live),
            expires_at,
            webhook_url,
            owner_id,
            meta: meta.filter(|m| !m.is_empty()),
            allowed_ips: ips.unwrap_or_default(),
        }),
        (name, scopes, expires_at, webhook_url, owner_id, meta, ips) => Err(all_of(vec![
            name.err(),
            scopes.err(),
            expires_at.err(),
            webhook_url.err(),
            owner_id.err(),
            meta.err(),
            ips.err(),
        ])),
    }
}

/// A `meta` value: a JSON object of at most [`MAX_META_BYTES`] bytes.
pub(super) fn meta(value: serde_json::Value) -> Result<Meta, Error> {
    let serde_json::Value::Object(members) = value else {
        return Err(invalid("meta", "must be a JSON object"));
    };
    let size = serde_json::to_string(&members).map_or(usize::MAX, |t| t.len());
    if size > MAX_META_BYTES {
        return Err(invalid(
            "meta",
            format!("must be at most {MAX_META_BYTES} bytes as compact JSON (it is {size})"),
        ));
    }
    Ok(members)
}

/// An `allowed_ips` list: at most [`crate::ip_allow::MAX_RANGES`] distinct CIDR ranges or
/// addresses ([`crate::ip_allow`]); every bad entry is reported, as
/// `allowed_ips[i]`. Empty is a valid list: no list of the key's own.
pub(crate) fn allowed_ips(list: &[String]) -> Result<AllowList, Error> {
    AllowList::parse(list).map_err(|faults| {
        all_of(
            faults
                .into_iter()
                .map(|(at, reason)| {
                    let field = at
                        .map_or_else(|| "allowed_ips".to_owned(), |i| format!("allowed_ips[{i}]"));
                    Some(invalid(&field, reason))
                })
                .collect(),
        )
    })
}

/// An owner id (in a body or the `owner_id` filter, named `field`): 1 to
/// [`MAX_OWNER_ID_BYTES`] visible ASCII characters, so any product's user
/// ids (numbers, UUIDs, emails) fit and none can hide a control character.
pub(crate) fn owner_id(raw: &str, field: &str) -> Result<(), Error> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_OWNER_ID_BYTES
        && raw.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be 1 to {MAX_OWNER_ID_BYTES} visible ASCII characters"),
        ))
    }
}

/// One error for `faults` (at least one): itself if alone, else
/// [`Error::InvalidFields`] listing each.
pub(crate) fn all_of(faults: Vec<Option<Error>>) -> Error {
    let mut faults: Vec<Error> = faults.into_iter().flatten().collect();
    if faults.len() == 1 {
        if let Some(only) = faults.pop() {
            return only;
        }
    }
    let mut errors = Vec::new();
    for fault in faults {
        match fault {
            Error::InvalidField { field, reason } => errors.push((field, reason)),
            Error::InvalidFields { errors: more } => errors.extend(more),
            // Only field faults are gathered; anything else stands alone.
            other => return other,
        }
    }
    Error::InvalidFields { errors }
}

/// The expiry from `expires_in_days` or `expires_at` (not both), in range.
pub(super) fn expiry(
    days: Option<i64>,
    at: Option<String>,
    now: i64,
) -> Result<Option<i64>, Error> {
    match (days, at) {
        (Some(_), Some(_)) => Err(invalid(
            "expires_at",
            "cannot be given with expires_in_days; send one of them",
        )),
        (Some(days), None) => {
            if !(1..=MAX_EXPIRY_DAYS).contains(&days) {
                return Err(invalid(
                    "expires_in_days",
                    format!("must be 1 to {MAX_EXPIRY_DAYS}"),
                ));
            }
            Ok(Some(now + days * 86_400))
        }
        (None, Some(text)) => {
            let at = parse_rfc3339(&text).ok_or_else(|| {
                invalid(
                    "expires_at",
                    "must be an RFC 3339 time such as 2027-01-31T00:00:00Z",
                )
            })?;
            if at <= now || at > now + MAX_EXPIRY_DAYS * 86_400 {
                return Err(invalid(
                    "expires_at",
                    format!("must be in the future and at most {MAX_EXPIRY_DAYS} days ahead"),
                ));
            }
            Ok(Some(at))
        }
        (None, None) => Ok(None),
    }
}

/// `unknown_product`, listing the configured product ids.
pub(super) fn unknown_product(config: &Config) -> Error {
    Error::UnknownProduct {
        known: config
            .products
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `PATCH /accounts/{account}/keys/{id}`: a new name, scopes and/or
/// expiry (`expires_at: null` removes it; a new one is 1-365 days from
/// `now`, as at creation).
pub(super) fn update(body: &[u8], now: i64) -> Result<Update, Error> {
    let raw: UpdateBody = decode(body, UPDATE_FIELDS, &["expires_at"])?;
    if raw.name.is_none()
        && raw.scopes.is_none()
        && raw.expires_in_days.is_none()
        && raw.expires_at.is_none()
        && raw.enabled.is_none()
        && raw.meta.is_none()
        && raw.allowed_ips.is_none()
    {
        return Err(invalid(
            "name",
            "or scopes, expires_in_days, expires_at, enabled, meta or allowed_ips must be \
             given; nothing to change",
        ));
    }
    let name = raw.name.as_deref().map(super::name::check).transpose();
    let expires_at = match (raw.expires_in_days, raw.expires_at) {
        (None, Some(None)) => Ok(Some(Expiry::Never)),
        (Some(_), Some(None)) => Err(invalid(
            "expires_at",
            "cannot be given with expires_in_days; send one of them",
        )),
        (days, at) => expiry(days, at.flatten(), now).map(|e| e.map(Expiry::At)),
    };
    let meta = raw.meta.map(meta).transpose();
    let ips = raw.allowed_ips.as_deref().map(allowed_ips).transpose();
    match (name, expires_at, meta, ips) {
        (Ok(name), Ok(expires_at), Ok(meta), Ok(ips)) => Ok(Update {
            name,
            scopes: raw.scopes,
            expires_at,
            enabled: raw.enabled,
            meta,
            allowed_ips: ips,
        }),
        (name, expires_at, meta, ips) => Err(all_of(vec![
            name.err(),
            expires_at.err(),
            meta.err(),
            ips.err(),
        ])),
    }
}

/// `POST /accounts/{account}/keys/{id}/rotate`: the grace period.
pub(super) fn rotate(body: &[u8]) -> Result<i64, Error> {
    let raw: RotateBody = decode(body, ROTATE_FIELDS, &[])?;
    if !(0..=MAX_GRACE_SECONDS).contains(&raw.grace_seconds) {
        return Err(invalid(
            "grace_seconds",
            format!("must be 0 to {MAX_GRACE_SECONDS} (7 days)"),
        ));
    }
    Ok(raw.grace_seconds)
}

/// `PATCH /accounts/{account}`: the new status.
pub(super) fn set_status(body: &[u8]) -> Result<AccountStatus, Error> {
    let raw: AccountBody = decode(body, ACCOUNT_FIELDS, &[])?;
    AccountStatus::parse(&raw.status)
        .ok_or_else(|| invalid("status", "must be \"active\" or \"suspended\""))
}

/// Scopes for a key of `product`: at least one, each a permission of the
/// product, no repeats.
pub(super) fn scopes(product: &Product, list: &[String]) -> Result<Vec<String>, Error> {
    if list.is_empty() {
        return Err(invalid(
            "scopes",
            "must list at least one permission; leave it out for the product's defaults",
        ));
    }
    let mut faults = Vec::new();
    for (i, scope) in list.iter().enumerate() {
        if !product.known_permissions.contains(scope) {
            faults.push(Some(invalid(
                &format!("scopes[{i}]"),
                format!(
                    "is not a permission of {} (its permissions: {})",
                    product.name,
                    product.known_permissions.join(", ")
                ),
            )));
        } else if list.iter().take(i).any(|s| s == scope) {
            faults.push(Some(invalid(
                &format!("scopes[{i}]"),
                "repeats an earlier scope",
            )));
        }
    }
    if !faults.is_empty() {
        return Err(all_of(faults));
    }
    Ok(list.to_vec())
}

/// An https URL to a public host, or http or https to this machine while
/// in dev: the webhook target rule ([`crate::webhook::target`]), which
/// delivery checks again before every attempt.
fn webhook_url(raw: &str, dev: bool) -> Result<String, Error> {
    let target = Target::parse(raw, dev).map_err(|why| {
        let https = if dev {
            "must be an https URL (or http://localhost in dev)"
        } else {
            "must be an https URL"
        };
        let reason = match why {
            Refused::TooLong => format!("must be at most {MAX_WEBHOOK_URL_BYTES} bytes"),
            Refused::Scheme => https.to_owned(),
            Refused::NotAUrl => format!("{https}, but {}", why.describe()),
            Refused::Credentials => "must not carry a user name or password".to_owned(),
            Refused::NotPublic(_) => format!("must reach a public host, but {}", why.describe()),
        };
        invalid("webhook_url", reason)
    })?;
    Ok(target.url().to_string())
}

pub(crate) mod decode;
pub(crate) mod import;
pub(crate) mod page;
mod strict;

pub use decode::BODY_LIMIT;
pub(crate) use decode::{decode, invalid};

#[cfg(test)]
#[path = "body_tests.rs"]
mod tests;
