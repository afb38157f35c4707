//! What to send the origin for an admitted request.
//!
//! Pure. [`plan`] takes an [`Authorized`], so only admitted requests can be
//! planned, and it forwards exactly the method and path the policy checked,
//! signed for the origin with RFC 9421 ([`crate::signature`]).
//! [`is_stripped`] names the headers that never reach the origin: the
//! product's credential header, any product's key header that holds a
//! keygate key, every client-sent `Keygate-*` header, `Host` and the
//! hop-by-hop headers. [`sets_own_cookie`] names the origin's `Set-Cookie`
//! values that never reach the client: those for a cookie keygate names.

use crate::config::Config;
use crate::key::prefix_of;
use crate::policy::Authorized;
use crate::signature::{expires_at, sign, Covered, Params, ProductKey, Unsignable};
use crate::Error;

/// Identity header names set by keygate.
pub mod headers {
    /// Verified key id.
    pub const KEY_ID: &str = "Keygate-Key-Id";
    /// Owning account.
    pub const ACCOUNT: &str = "Keygate-Account";
    /// Product id.
    pub const PRODUCT: &str = "Keygate-Product";
    /// `live` or `test`.
    pub const ENVIRONMENT: &str = "Keygate-Environment";
    /// Space-separated granted permissions.
    pub const SCOPES: &str = "Keygate-Scopes";
    /// The key's forwarded `meta` members, compact JSON
    /// ([`crate::key_meta`]); signed.
    pub const KEY_META: &str = "Keygate-Key-Meta";
    /// The signature's nonce: unique per forwarded request.
    pub const REQUEST_ID: &str = "Keygate-Request-Id";
    /// The client's address, from `CF-Connecting-IP`
    /// ([`crate::proxy_headers::client_ip`]); signed.
    pub const CLIENT_IP: &str = "Keygate-Client-Ip";
    /// RFC 9421 signature parameters; see [`crate::signature`]. A client's
    /// value is replaced.
    pub const SIGNATURE_INPUT: &str = "Signature-Input";
    /// RFC 9421 signature; a client's value is replaced.
    pub const SIGNATURE: &str = "Signature";
    /// RFC 9530 body digest: keygate's when the product signs bodies, else
    /// a client's is removed.
    pub const CONTENT_DIGEST: &str = "Content-Digest";
    /// Prefix reserved for keygate; client-sent headers with it are removed.
    pub const RESERVED_PREFIX: &str = "keygate-";

    /// The lowercase form of one of the names above, as a signature covers
    /// it (no allocation per request); any other name is returned as is,
    /// which the signer then refuses unless it is already lowercase.
    pub fn lowercase(name: &'static str) -> &'static str {
        match name {
            KEY_ID => "keygate-key-id",
            ACCOUNT => "keygate-account",
            PRODUCT => "keygate-product",
            ENVIRONMENT => "keygate-environment",
            SCOPES => "keygate-scopes",
            KEY_META => "keygate-key-meta",
            REQUEST_ID => "keygate-request-id",
            CLIENT_IP => "keygate-client-ip",
            SIGNATURE_INPUT => "signature-input",
            SIGNATURE => "signature",
            CONTENT_DIGEST => "content-digest",
            other => other,
        }
    }
}

/// The request to send upstream, apart from the streamed body and the
/// client's other headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardPlan {
    /// Absolute origin URL with path and query.
    pub url: String,
    /// Method to use.
    pub method: String,
    /// Headers to set, after removing those [`is_stripped`] names.
    pub set_headers: Vec<(&'static str, String)>,
    /// Client headers to remove as well: a `Content-Digest` keygate did not
    /// compute. (`Signature` and `Signature-Input` are always replaced.)
    pub drop_headers: &'static [&'static str],
}

/// Whether two header names are the same header: compared without regard
/// to ASCII case, and with `_` taken as `-`, because CGI, WSGI and Rack
/// origins map both to the same variable (`HTTP_KEYGATE_ACCOUNT`).
pub fn same_header(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| {
            let fold = |c: u8| {
                if c == b'_' {
                    b'-'
                } else {
                    c.to_ascii_lowercase()
                }
            };
            fold(x) == fold(y)
        })
}

/// Headers that ask an origin to use another method or path than the
/// request line's: honoured by many frameworks (Rails, Laravel, Express
/// method-override) and by IIS URL Rewrite and Symfony (`X-Original-URL`).
pub const OVERRIDE_HEADERS: [&str; 5] = [
    "X-HTTP-Method-Override",
    "X-HTTP-Method",
    "X-Method-Override",
    "X-Original-URL",
    "X-Rewrite-URL",
];

/// The first client header, by name, that would make the origin act on
/// another method or path than the one judged. Such a request is refused
/// rather than stripped, since stripping would change what it means.
pub fn override_header<'n>(names: impl IntoIterator<Item = &'n str>) -> Option<&'n str> {
    names
        .into_iter()
        .find(|name| OVERRIDE_HEADERS.iter().any(|h| same_header(h, name)))
}

/// Whether the query carries a method-override parameter (`_method`, as
/// Express's method-override, Laravel and Symfony read it), in any case
/// or percent-encoding of its name. Such a request is refused like an
/// override header.
pub fn overrides_method_in_query(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&').any(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            let name = name
                .replace("%5F", "_")
                .replace("%5f", "_")
                .to_ascii_lowercase();
            name == "_method"
        })
    })
}

/// Whether the client header `name: value` must be removed before
/// forwarding. Names compare as [`same_header`] says. Keys never reach an
/// origin: not this product's, not another product's sent in that
/// product's header, and none in `Authorization` under any scheme.
pub fn is_stripped(config: &Config, authorized: &Authorized<'_>, name: &str, value: &str) -> bool {
    same_header(&authorized.product().credential.header, name)
        || is_reserved(name)
        || is_hop_by_hop(name)
        || holds_a_key(config, name, value)
}

/// Whether `name` starts with the reserved `Keygate-` prefix (or
/// `Keygate_`).
pub fn is_reserved(name: &str) -> bool {
    name.get(..headers::RESERVED_PREFIX.len())
        .is_some_and(|p| same_header(p, headers::RESERVED_PREFIX))
}

/// Whether an origin's `Set-Cookie` value sets a cookie whose name is
/// keygate's: `keygate`, or starting `keygate_` or `keygate-` (the page's
/// `keygate_portal` among them), in any case, under the `__Host-` or
/// `__Secure-` prefix or none. Such a value never reaches the client: the
/// page may share a host with the origin, and an origin's cookie of that
/// name would shadow or fix the page's session. A cookie with an empty
/// name (`=keygate_portal=x`, or no `=` at all) is sent by browsers as its
/// bare value, so the value's leading name is judged instead.
pub fn sets_own_cookie(set_cookie: &str) -> bool {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    let trim = |s: &str| s.trim_matches([' ', '\t']).to_owned();
    let mut parts = pair.splitn(2, '=');
    let mut name = trim(parts.next().unwrap_or_default());
    if name.is_empty() {
        let value = parts.next().unwrap_or_default();
        name = trim(value.split('=').next().unwrap_or_default());
    }
    let name = name.to_ascii_lowercase();
    let name = ["__host-", "__secure-"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(&name);
    name == "keygate" || name.starts_with("keygate_") || name.starts_with("keygate-")
}

/// Whether `name` is some product's key header, or `Authorization`, and
/// `value` holds, under any scheme or none, a key whose prefix is a
/// configured product's.
fn holds_a_key(config: &Config, name: &str, value: &str) -> bool {
    let key_header = same_header(name, "authorization")
        || config
            .products
            .iter()
            .any(|p| same_header(&p.credential.header, name));
    key_header
        && value
            .split(|c: char| c.is_ascii_whitespace() || c == ',')
            .filter_map(prefix_of)
            .any(|prefix| config.product_by_prefix(prefix).is_some())
}

/// Whether a header belongs to one connection and is never forwarded:
/// `Host` (the origin URL sets it) and the hop-by-hop headers of RFC 9110.
fn is_hop_by_hop(name: &str) -> bool {
    const HOP: [&str; 9] = [
        "host",
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "upgrade",
    ];
    HOP.iter().any(|h| same_header(h, name))
}

/// Facts about the body the origin will receive, for the signature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodyFacts<'a> {
    /// The `Content-Type` forwarded, if any.
    pub content_type: Option<&'a str>,
    /// The `Content-Length` the origin will receive, only when it is known
    /// to be exactly this (a buffered body, or a streamed one whose framing
    /// the runtime keeps).
    pub content_length: Option<u64>,
    /// `Content-Digest` of the buffered body, when the product signs bodies.
    pub content_digest: Option<&'a str>,
}

/// What makes this request's signature unique: when, and its nonce.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// Unix seconds: the signature's `created`.
    pub now: i64,
    /// The nonce, also sent as `Keygate-Request-Id`. Hex from 16 random bytes.
    pub request_id: &'a str,
    /// The product's signing key.
    pub key: &'a ProductKey,
    /// The client's address, sent signed as `Keygate-Client-Ip`; `None`
    /// when the runtime gave none.
    pub client_ip: Option<&'a str>,
}

/// Plans the upstream request. `query` is the raw query string without `?`.
/// The RFC 9421 signature covers the method, the upstream's authority, the
/// path and query exactly as the origin receives them (the upstream's base
/// path followed by the admitted path), every identity header, and the
/// body facts that are known. A `Content-Type` that cannot be signed is
/// refused (`400 invalid_field`).
pub fn plan(
    authorized: &Authorized<'_>,
    query: Option<&str>,
    body: &BodyFacts<'_>,
    stamp: &Stamp<'_>,
) -> Result<ForwardPlan, Error> {
    let product = authorized.product();
    let path = format!("{}{}", product.upstream.base_path, authorized.path());
    let path_and_query = match query {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.clone(),
    };
    let identity = authorized.identity();
    let mut set_headers = vec![(headers::PRODUCT, product.id.clone())];
    if let Some(identity) = identity {
        set_headers.extend([
            (headers::KEY_ID, identity.key_id.clone()),
            (headers::ACCOUNT, identity.account.clone()),
            (
                headers::ENVIRONMENT,
                identity.environment.as_str().to_owned(),
            ),
            (headers::SCOPES, identity.scopes.join(" ")),
        ]);
        if let Some(meta) = &identity.meta {
            set_headers.push((headers::KEY_META, meta.clone()));
        }
    }
    set_headers.push((headers::REQUEST_ID, stamp.request_id.to_owned()));
    if let Some(ip) = stamp.client_ip {
        set_headers.push((headers::CLIENT_IP, ip.to_owned()));
    }
    if let Some(digest) = body.content_digest {
        set_headers.push((headers::CONTENT_DIGEST, digest.to_owned()));
    }

    let length = body.content_length.map(|n| n.to_string());
    let mut fields: Vec<(&str, &str)> = Vec::with_capacity(set_headers.len() + 2);
    for (name, value) in &set_headers {
        fields.push((headers::lowercase(name), value.as_str()));
    }
    if let Some(length) = &length {
        fields.push(("content-length", length));
    }
    if let Some(content_type) = body.content_type {
        fields.push(("content-type", content_type));
    }
    let authority = product
        .upstream
        .origin
        .split_once("://")
        .map_or(product.upstream.origin.as_str(), |(_, a)| a);
    let covered = Covered {
        method: authorized.method(),
        authority,
        path: &path,
        query,
        fields,
    };
    let params = Params {
        created: stamp.now,
        expires: expires_at(stamp.now, product.signing.ttl_seconds),
        nonce: stamp.request_id,
        keyid: &product.id,
    };
    let signed = sign(stamp.key, &covered, &params).map_err(|Unsignable(field)| {
        if field == "content-type" {
            Error::InvalidField {
                field: "Content-Type".to_owned(),
                reason: "must be visible ASCII for keygate to sign it; remove other characters"
                    .to_owned(),
            }
        } else {
            // Identity values are checked when a record is read, so this
            // is a storage fault; never forward unsigned.
            Error::StorageUnavailable
        }
    })?;
    set_headers.push((headers::SIGNATURE_INPUT, signed.input));
    set_headers.push((headers::SIGNATURE, signed.signature));
    Ok(ForwardPlan {
        url: format!("{}{path_and_query}", product.upstream.origin),
        method: authorized.method().to_owned(),
        set_headers,
        drop_headers: if body.content_digest.is_some() {
            &[]
        } else {
            &[headers::CONTENT_DIGEST]
        },
    })
}

#[cfg(test)]
#[path = "forward_tests.rs"]
mod tests;
