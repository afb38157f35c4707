//! The verify endpoint, `POST {prefix}/verify`: the verdict the edge would
//! give a key, for services that cannot sit behind the gateway.
//!
//! Pure: the gateway ([`crate::edge`]) reads the body, the token, KV and
//! the clock, and hands them here. Invariants: the body is parsed as
//! strictly as the management API's (JSON object, known members once each,
//! no `null`, every field checked) and never echoed; a key that is
//! malformed, another product's or forged is judged here, before any
//! storage read; a found key is judged by the edge's own policy
//! ([`crate::policy`]) on the same canonical path the edge would judge,
//! its IP allowlist against the body's `client_ip` (none given: a key
//! with an allowlist is refused, as the edge refuses a request without a
//! client address);
//! the answer never carries the key, its hash or anything the key record
//! does not hold.

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::config::{Config, Product};
use crate::key::{parse, prefix_of, WellFormedKey};
use crate::path::{canonicalize, has_path_params};
use crate::policy::{self, RequestFacts};
use crate::record::KeyRecord;
use crate::secret::ApiKey;
use crate::time::format_rfc3339;
use crate::Error;

/// The endpoint's path below the management prefix.
pub const VERIFY_PATH: &str = "/verify";
/// Largest body accepted, in bytes.
pub const BODY_LIMIT: usize = 4_096;
/// The members a verify body takes.
const FIELDS: &str = "key, product, method, path, client_ip";
/// Longest `path` accepted, in bytes.
const MAX_PATH: usize = 2_048;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    key: String,
    product: String,
    method: Option<String>,
    path: Option<String>,
    client_ip: Option<String>,
}

/// A verify request, parsed and checked (apart from the product-specific
/// parts: see [`request_facts`]).
#[derive(Debug)]
pub struct VerifyRequest {
    /// The key to judge. Redacted in `Debug`.
    pub key: ApiKey,
    /// The product id named.
    pub product: String,
    /// The method to judge, uppercase; `None` when not given.
    pub method: Option<String>,
    /// The path to judge, as the origin sees it; `None` when not given.
    pub path: Option<String>,
    /// The address of the client that presented the key, judged by the
    /// key's IP allowlist; `None` when not given (then a key with an
    /// allowlist is refused `ip_not_allowed`, as the edge refuses a
    /// request without a client address).
    pub client_ip: Option<IpAddr>,
}

/// Parses a verify body: `application/json` only (415), a JSON object with
/// `key` and `product` strings and optional `method`, `path` and
/// `client_ip` strings, each member once, none `null`. Errors never carry the body's text.
pub fn parse_request(content_type: Option<&str>, body: &[u8]) -> Result<VerifyRequest, Error> {
    json_media_type(content_type)?;
    if body.len() > BODY_LIMIT {
        return Err(Error::BodyTooLarge { limit: BODY_LIMIT });
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| Error::InvalidJson {
        reason: format!("not valid JSON at line {} column {}", e.line(), e.column()),
    })?;
    let Value::Object(members) = value else {
        return Err(Error::InvalidJson {
            reason: "not an object".to_owned(),
        });
    };
    if let Some((name, _)) = members.iter().find(|(_, v)| v.is_null()) {
        if FIELDS.split(", ").any(|f| f == name) {
            return Err(invalid(
                name,
                "must not be null; leave the member out instead",
            ));
        }
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    let raw: Raw = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let field = e.path().to_string();
        let message = e.inner().to_string();
        if let Some(name) = backquoted(&message, "unknown field `") {
            Error::UnknownField {
                field: name,
                expected: FIELDS,
            }
        } else if let Some(name) = backquoted(&message, "missing field `") {
            invalid(&name, "is required")
        } else if let Some(name) = backquoted(&message, "duplicate field `") {
            Error::InvalidJson {
                reason: format!("the member {name} is given twice; give each member once"),
            }
        } else {
            invalid(&field, "must be a string")
        }
    })?;
    let key = ApiKey::new(&raw.key);
    if key.is_empty() || raw.key.len() > 256 {
        return Err(invalid("key", "must be the key, 1 to 256 characters"));
    }
    if !crate::record::is_header_safe_id(&raw.product) {
        return Err(invalid("product", "must be a product id"));
    }
    let method = raw
        .method
        .map(|m| {
            let valid = (1..=16).contains(&m.len()) && m.bytes().all(|b| b.is_ascii_alphabetic());
            if valid {
                Ok(m.to_ascii_uppercase())
            } else {
                Err(invalid(
                    "method",
                    "must be an HTTP method such as GET or POST",
                ))
            }
        })
        .transpose()?;
    let client_ip = raw
        .client_ip
        .map(|ip| {
            ip.parse::<IpAddr>().map_err(|_| {
                invalid(
                    "client_ip",
                    "must be the client's IPv4 or IPv6 address, such as 203.0.113.7 or \
                     2001:db8::7 (no port, no zone id)",
                )
            })
        })
        .transpose()?;
    Ok(VerifyRequest {
        key,
        product: raw.product,
        method,
        path: raw.path,
        client_ip,
    })
}

/// The request the verdict is for: `method` (default `GET`) on `path`
/// (default `/`), the path canonicalised exactly as the edge does and
/// refused where the edge would refuse it; `None` when neither is given
/// (then no permission is checked).
pub fn request_facts(
    product: &Product,
    method: Option<&str>,
    path: Option<&str>,
) -> Result<Option<(String, String)>, Error> {
    if method.is_none() && path.is_none() {
        return Ok(None);
    }
    let path = path.unwrap_or("/");
    if !path.starts_with('/') || path.len() > MAX_PATH || path.contains(['?', '#']) {
        return Err(invalid(
            "path",
            "must be the path as the origin sees it: starting with '/', no query or fragment, \
             at most 2048 bytes",
        ));
    }
    let canonical = canonicalize(path).map_err(|e| invalid("path", e.reason()))?;
    if !product.matching.path_params && has_path_params(canonical.as_str()) {
        return Err(invalid(
            "path",
            "has ';' path parameters, which this product refuses",
        ));
    }
    Ok(Some((
        method.unwrap_or("GET").to_owned(),
        canonical.as_str().to_owned(),
    )))
}

/// The product a key is judged for, and the refusal for a key that is not
/// a well-formed key of it: another product's (`wrong_product`) or
/// malformed (`malformed_key`). No storage is read.
pub fn screen(config: &Config, product: &Product, key: &ApiKey) -> Result<WellFormedKey, Error> {
    let owner = prefix_of(key.expose()).and_then(|p| config.product_by_prefix(p));
    if let Some(owner) = owner.filter(|o| o.id != product.id) {
        return Err(Error::WrongProduct {
            product: product.name.clone(),
            expected: product.credential.describe(),
            key_product: Some(owner.name.clone()),
            sent_in: None,
        });
    }
    let malformed = |reason| Error::MalformedKey {
        product: product.name.clone(),
        reason,
    };
    let parsed = parse(key).map_err(malformed)?;
    if parsed.prefix() != product.prefix {
        return Err(malformed("its prefix is not this product's"));
    }
    Ok(parsed)
}

/// The edge's refusal of the request's method, judged before the key as
/// the edge does: `TRACE`, `TRACK` and `CONNECT` get `method_not_allowed`
/// whatever the key (see [`policy::is_refused_method`]).
pub fn method_refusal(facts: Option<&(String, String)>) -> Option<Error> {
    facts
        .filter(|(method, _)| policy::is_refused_method(method))
        .map(|_| Error::MethodNotAllowed {
            allow: policy::GATEWAY_METHODS,
        })
}

/// The refusal, if any, for `record` at `now`: the edge's policy, with
/// the IP allowlist judged against `client` whether or not `facts` are
/// given, and permission checked only when they are (a method the edge
/// refuses everywhere is refused first, see [`method_refusal`]). Returns
/// the permission checked.
pub fn judge(
    product: &Product,
    key: &WellFormedKey,
    record: &KeyRecord,
    facts: Option<&(String, String)>,
    client: Option<IpAddr>,
    now: i64,
) -> Result<Option<String>, Error> {
    if let Some(refusal) = method_refusal(facts) {
        return Err(refusal);
    }
    match facts {
        None => policy::settled_refusal(product, key, record, now)
            .or_else(|| policy::ip_refusal(product, record, client))
            .map_or(Ok(None), Err),
        Some((method, path)) => {
            let facts = RequestFacts {
                method,
                path,
                client,
            };
            let authorized = policy::authorize(product, key, record, facts, now)?;
            Ok(authorized.permission().map(str::to_owned))
        }
    }
}

/// The answer's body: `valid`, then on a refusal its `code` and `detail`;
/// the key's view when a record was found; the permission checked when a
/// request was given.
pub fn verdict(
    outcome: &Result<Option<String>, Error>,
    record: Option<&KeyRecord>,
    now: i64,
) -> Value {
    let mut body = Map::new();
    body.insert("valid".into(), Value::Bool(outcome.is_ok()));
    match outcome {
        Ok(permission) => {
            if let Some(permission) = permission {
                body.insert("permission".into(), json!(permission));
            }
        }
        Err(error) => {
            body.insert("code".into(), json!(error.code()));
            body.insert("detail".into(), json!(error.detail()));
            if let Error::InsufficientScope { permission } = error {
                body.insert("permission".into(), json!(permission));
            }
        }
    }
    if let Some(record) = record {
        body.insert("scopes".into(), json!(record.scopes));
        body.insert("key".into(), key_view(record, now));
    }
    Value::Object(body)
}

/// What the answer shows of a key: its record, without the key or hash.
fn key_view(record: &KeyRecord, now: i64) -> Value {
    let status = if record.revoked_at.is_some_and(|at| now >= at) {
        "revoked"
    } else if record.expires_at.is_some_and(|at| now >= at) {
        "expired"
    } else {
        "active"
    };
    json!({
        "id": record.id,
        "account": record.account,
        "product": record.product,
        "environment": record.environment,
        "name": record.name,
        "prefix": record.prefix,
        "masked": record.masked(),
        "scopes": record.scopes,
        "status": status,
        "enabled": !record.disabled,
        "account_suspended": record.suspended,
        "created_at": format_rfc3339(record.created_at),
        "expires_at": record.expires_at.map(format_rfc3339),
        "revoked_at": record.revoked_at.map(format_rfc3339),
        "owner_id": record.owner_id,
        "meta": record.meta,
        "allowed_ips": record.allowed_ips,
    })
}

pub use crate::http::json_media_type;

/// The name between `start` and the next backquote, if it is one of the
/// body's member names (so nothing else of the body is ever echoed).
fn backquoted(message: &str, start: &str) -> Option<String> {
    let rest = message.strip_prefix(start)?;
    let name = rest.split('`').next()?;
    let known = FIELDS.split(", ").any(|f| f == name);
    Some(if known {
        name.to_owned()
    } else {
        let printable = name.len() <= 64 && name.bytes().all(|b| b.is_ascii_graphic() && b != b'"');
        if printable {
            name.to_owned()
        } else {
            "an unreadable member name".to_owned()
        }
    })
}

fn invalid(field: &str, reason: &str) -> Error {
    Error::InvalidField {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
