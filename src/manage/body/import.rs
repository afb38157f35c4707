//! The body of `POST /accounts/{account}/keys/import`: up to
//! [`MAX_IMPORT_KEYS`] existing keys, each as its plaintext (`key`) or its
//! SHA-256 (`sha256`, hex or base64), with the members a create takes.
//!
//! Invariants: a fault of the body as a whole (not an object, no `keys`,
//! too many, an unknown top-level member) refuses the call; a fault of one
//! item refuses that item only, naming its member as `keys[i].member`,
//! and never echoes a key. A plaintext is kept only as a
//! [`WellFormedKey`] of the item's product (its tag is the edge's to
//! check, with the key secret) and leaves this module as its hash.

use serde::Deserialize;

use super::decode::{decode_value, decode_within, invalid};
use super::strict;
use super::{all_of, allowed_ips, expiry, meta, owner_id, scopes, unknown_product};
use crate::config::{Config, Product};
use crate::key::{foreign, parse, Environment, WellFormedKey};
use crate::manage::op::NewKey;
use crate::secret::ApiKey;
use crate::Error;

/// Most keys one import takes. Cloudflare allows a Worker invocation 1 000
/// operations on other services (each KV read or write is one): the control
/// Worker reads each item's KV record (400 reads and one object call) and
/// the account's object writes each new key's index entry, and on a failed
/// commit takes it back (at most 800 writes). 1 000 keys per call would
/// pass that limit on Cloudflare's network (local workerd does not enforce
/// it), so a call takes 400; the CLI splits a file into such calls.
pub const MAX_IMPORT_KEYS: usize = 400;

/// Largest import body, in bytes: the gateway's hand-off limit
/// ([`crate::seam::HANDOFF_BODY_LIMIT`], 512 KiB). 400 keys of a typical
/// size (about 300 bytes each) fit with room to spare; a call with large `meta` objects
/// takes fewer keys.
pub const IMPORT_BODY_LIMIT: usize = 512 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    keys: Vec<serde_json::Value>,
    ignore_key_limit: Option<bool>,
}
const IMPORT_FIELDS: &str = "keys, ignore_key_limit";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemBody {
    key: Option<String>,
    sha256: Option<String>,
    product: String,
    name: String,
    scopes: Option<Vec<String>>,
    environment: Option<Environment>,
    expires_in_days: Option<i64>,
    expires_at: Option<String>,
    owner_id: Option<String>,
    meta: Option<serde_json::Value>,
    allowed_ips: Option<Vec<String>>,
}
const ITEM_FIELDS: &str = "key, sha256, product, name, scopes, environment, expires_in_days, \
     expires_at, owner_id, meta, allowed_ips";

/// Where an imported key's hash comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The plaintext, well formed for the item's product; its tag is not
    /// yet checked.
    Key(WellFormedKey),
    /// The SHA-256, as 64 lowercase hex characters.
    Hash(String),
}

/// One item that passed the body's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The key or its hash.
    pub source: Source,
    /// The create members (`webhook_url` is not taken: none).
    pub new: NewKey,
}

/// A parsed import: each item checked, or why it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// In the body's order.
    pub items: Vec<Result<Item, Error>>,
    /// The keys do not count towards `key_limit`.
    pub ignore_key_limit: bool,
}

/// Parses an import body.
pub(crate) fn import(config: &Config, body: &[u8], now: i64) -> Result<Parsed, Error> {
    let raw: ImportBody = decode_within(body, IMPORT_BODY_LIMIT, IMPORT_FIELDS, &[])?;
    if raw.keys.is_empty() || raw.keys.len() > MAX_IMPORT_KEYS {
        return Err(invalid(
            "keys",
            format!(
                "must hold 1 to {MAX_IMPORT_KEYS} keys (it holds {})",
                raw.keys.len()
            ),
        ));
    }
    let items = raw
        .keys
        .into_iter()
        .enumerate()
        .map(|(at, value)| item(config, value, now).map_err(|e| within(&format!("keys[{at}]"), e)))
        .collect();
    Ok(Parsed {
        items,
        ignore_key_limit: raw.ignore_key_limit.unwrap_or(false),
    })
}

fn item(config: &Config, mut value: serde_json::Value, now: i64) -> Result<Item, Error> {
    strict::whole_numbers(&mut value);
    let raw: ItemBody = decode_value(value, ITEM_FIELDS, &[])?;
    let product = config
        .product(&raw.product)
        .ok_or_else(|| unknown_product(config))?;
    let environment = raw.environment;
    let source = match (raw.key, raw.sha256) {
        (Some(_), Some(_)) => Err(invalid("sha256", "cannot be given with key; send one")),
        (None, None) => Err(invalid("key", "or sha256 is required")),
        (None, Some(hash)) => sha256(&hash).map(Source::Hash),
        (Some(text), None) => plaintext(&text, product, environment),
    };
    let environment = match &source {
        Ok(Source::Key(key)) if !key.is_foreign() => key.environment(),
        _ => environment.unwrap_or(Environment::Live),
    };
    let name = crate::manage::name::check(&raw.name);
    let scopes = raw.scopes.map(|s| scopes(product, &s)).transpose();
    let expires_at = expiry(raw.expires_in_days, raw.expires_at, now);
    let owner = raw
        .owner_id
        .map(|o| owner_id(&o, "owner_id").map(|()| o))
        .transpose();
    let meta = raw.meta.map(meta).transpose();
    let ips = raw.allowed_ips.as_deref().map(allowed_ips).transpose();
    match (source, name, scopes, expires_at, owner, meta, ips) {
        (Ok(source), Ok(name), Ok(scopes), Ok(expires_at), Ok(owner_id), Ok(meta), Ok(ips)) => {
            Ok(Item {
                source,
                new: NewKey {
                    product: product.id.clone(),
                    name,
                    scopes,
                    environment,
                    expires_at,
                    webhook_url: None,
                    owner_id,
                    meta: meta.filter(|m| !m.is_empty()),
                    allowed_ips: ips.unwrap_or_default(),
                },
            })
        }
        (source, name, scopes, expires_at, owner, meta, ips) => Err(all_of(vec![
            source.err(),
            name.err(),
            scopes.err(),
            expires_at.err(),
            owner.err(),
            meta.err(),
            ips.err(),
        ])),
    }
}

/// A plaintext key of the product with prefix `prefix`. The reason for a
/// refusal never holds the key.
fn plaintext(
    text: &str,
    product: &Product,
    environment: Option<Environment>,
) -> Result<Source, Error> {
    let (prefix, id) = (&product.prefix, &product.id);
    if text.trim() != text || text.is_empty() {
        return Err(invalid(
            "key",
            "must not be empty or start or end with white space",
        ));
    }
    // The gateway reads a key with the product's legacy prefix as foreign.
    if let Some(legacy) = product.legacy.as_ref() {
        if text.starts_with(&legacy.prefix) {
            return foreign(&ApiKey::new(text), legacy.prefix.len())
                .map(Source::Key)
                .map_err(|reason| invalid("key", format!("is not a legacy key: {reason}")));
        }
    }
    let key = parse(&ApiKey::new(text)).map_err(|reason| {
        invalid(
            "key",
            format!(
                "is not a key in keygate's format ({reason}); a product takes keys of another \
                 format only with `legacy` in its configuration"
            ),
        )
    })?;
    if key.prefix() != prefix {
        return Err(invalid(
            "key",
            format!("has another product's prefix; keys of `{id}` start with `{prefix}_`"),
        ));
    }
    if environment.is_some_and(|e| e != key.environment()) {
        return Err(invalid(
            "environment",
            "differs from the key's own environment; leave it out",
        ));
    }
    Ok(Source::Key(key))
}

/// A SHA-256 given as 64 hex characters (either case) or as base64
/// (standard or URL-safe, padded or not), as lowercase hex.
pub(crate) fn sha256(text: &str) -> Result<String, Error> {
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(text.to_ascii_lowercase())
    } else {
        base64_32(text).map(|b| crate::key::hash::hex(&b))
    };
    bytes.ok_or_else(|| {
        invalid(
            "sha256",
            "must be a SHA-256 digest: 64 hex characters or 43/44 characters of base64",
        )
    })
}

/// 32 bytes from base64 (`+/` or `-_`, with or without `=` padding).
fn base64_32(text: &str) -> Option<[u8; 32]> {
    let body = text.strip_suffix('=').unwrap_or(text);
    if body.len() != 43 {
        return None;
    }
    let mut bits: u32 = 0;
    let mut held = 0u32;
    let mut out = Vec::with_capacity(33);
    for b in body.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = ((bits << 6) | u32::from(v)) & 0xffff;
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push(u8::try_from((bits >> held) & 0xff).ok()?);
        }
    }
    // 43 characters carry 258 bits: the 2 left over must be zero.
    if bits & ((1 << held) - 1) != 0 {
        return None;
    }
    out.try_into().ok()
}

/// `error` with each field it names put under `prefix` (`keys[3]`).
fn within(prefix: &str, error: Error) -> Error {
    let under = |field: &str| {
        if field == "." || field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{field}")
        }
    };
    match error {
        Error::InvalidField { field, reason } => Error::InvalidField {
            field: under(&field),
            reason,
        },
        Error::InvalidFields { errors } => Error::InvalidFields {
            errors: errors.into_iter().map(|(f, r)| (under(&f), r)).collect(),
        },
        Error::UnknownField { field, expected } => Error::UnknownField {
            field: under(&field),
            expected,
        },
        Error::UnknownProduct { known } => invalid(
            &under("product"),
            format!("is not a configured product id ({known})"),
        ),
        other => other,
    }
}
