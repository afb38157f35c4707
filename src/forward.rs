//! What to send the origin for an admitted request.
//!
//! Pure. [`plan`] takes an [`Authorized`], so only admitted requests can be
//! planned, and it forwards exactly the method and path the policy checked.
//! [`is_stripped`] names the headers that never reach the origin: the
//! product's credential header, any product's key header that holds a
//! keygate key, every client-sent `Keygate-*` header, `Host` and the
//! hop-by-hop headers.

use crate::config::Config;
use crate::credential::key_in_value;
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

/// Whether the client header `name: value` must be removed before
/// forwarding. Keys never reach an origin: not this product's, and not
/// another product's sent along in that product's header.
pub fn is_stripped(config: &Config, authorized: &Authorized<'_>, name: &str, value: &str) -> bool {
    authorized.product().credential.is_header(name)
        || is_reserved(name)
        || is_hop_by_hop(name)
        || holds_a_key(config, name, value)
}

/// Whether `name` starts with the reserved `Keygate-` prefix.
fn is_reserved(name: &str) -> bool {
    name.get(..headers::RESERVED_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(headers::RESERVED_PREFIX))
}

/// Whether `name` is some product's key header and `value` holds a key
/// whose prefix is a configured product's.
fn holds_a_key(config: &Config, name: &str, value: &str) -> bool {
    config
        .products
        .iter()
        .filter(|p| p.credential.is_header(name))
        .filter_map(|p| key_in_value(&p.credential, value))
        .any(|key| {
            prefix_of(key.expose()).is_some_and(|pre| config.product_by_prefix(pre).is_some())
        })
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
    HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
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
