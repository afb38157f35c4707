//! What to send the origin for an admitted request.
//!
//! Pure. [`plan`] takes an [`Authorized`], so only admitted requests can be
//! planned, and it forwards exactly the method and path the policy checked.
//! [`is_stripped`] names the headers that never reach the origin: the
//! product's credential header, any product's key header that holds a
//! keygate key, every client-sent `Keygate-*` header, `Host` and the
//! hop-by-hop headers.

use crate::config::Config;
use crate::key::prefix_of;
use crate::policy::Authorized;
use crate::secret::OriginSecret;
use crate::signature::Signed;

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
    /// `t=<unix>,v1=<hex HMAC-SHA256>`; see [`crate::signature`].
    pub const SIGNATURE: &str = "Keygate-Signature";
    /// Prefix reserved for keygate; client-sent headers with it are removed.
    pub const RESERVED_PREFIX: &str = "keygate-";
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

/// Plans the upstream request. `query` is the raw query string without `?`;
/// `now` is Unix seconds, used as the signature timestamp. The signature
/// covers the path and query exactly as the origin receives them: the
/// upstream's base path followed by the admitted path.
pub fn plan(
    authorized: &Authorized<'_>,
    query: Option<&str>,
    now: i64,
    secret: &OriginSecret,
) -> ForwardPlan {
    let product = authorized.product();
    let path = format!("{}{}", product.upstream.base_path, authorized.path());
    let path_and_query = match query {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path,
    };
    let identity = authorized.identity();
    let scopes = identity.map(|i| i.scopes.join(" ")).unwrap_or_default();
    let signed = Signed {
        timestamp: now,
        method: authorized.method(),
        path_and_query: &path_and_query,
        key_id: identity.map_or("", |i| i.key_id.as_str()),
        account: identity.map_or("", |i| i.account.as_str()),
        product: &product.id,
        environment: identity.map_or("", |i| i.environment.as_str()),
        scopes: &scopes,
    };
    let mut set_headers = vec![(headers::PRODUCT, product.id.clone())];
    if let Some(identity) = identity {
        set_headers.extend([
            (headers::KEY_ID, identity.key_id.clone()),
            (headers::ACCOUNT, identity.account.clone()),
            (
                headers::ENVIRONMENT,
                identity.environment.as_str().to_owned(),
            ),
            (headers::SCOPES, scopes.clone()),
        ]);
    }
    set_headers.push((headers::SIGNATURE, signed.sign(secret)));
    ForwardPlan {
        url: format!("{}{path_and_query}", product.upstream.origin),
        method: authorized.method().to_owned(),
        set_headers,
    }
}

#[cfg(test)]
#[path = "forward_tests.rs"]
mod tests;
