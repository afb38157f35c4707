//! Picking the product for a request by host and canonical path.
//!
//! Pure. The most specific route wins: a route naming the host beats one
//! that does not, then the longest path prefix wins. A prefix matches only
//! whole segments (`/sf` matches `/sf` and `/sf/x`, never `/sfx`), exactly
//! as configured (prefixes are canonical, and case-sensitive). The host is
//! compared in canonical form ([`crate::path::canonical_host`]), so
//! `Keys.Test.:443` is `keys.test`. Invariant: the product path handed on
//! is a suffix of the canonical path, so what the policy judges is what
//! the origin receives.

use crate::config::{Config, Product};
use crate::path::{canonical_host, has_path_params, CanonicalPath, PathError};
use crate::Error;

/// A request matched to a product.
#[derive(Debug, Clone)]
pub struct Routed<'a> {
    /// The product serving the request.
    pub product: &'a Product,
    /// The path the origin will see, below its base path: the canonical
    /// request path, with the route's prefix removed when it strips it.
    /// Permission rules and public paths match this path.
    pub product_path: String,
}

/// Picks the product for `host` (a `Host` value, port allowed) and the
/// canonical `path`. Refuses `;` path parameters for a product that does
/// not allow them.
pub fn select<'a>(
    config: &'a Config,
    host: &str,
    path: &CanonicalPath,
) -> Result<Routed<'a>, Error> {
    let host = canonical_host(host);
    let path = path.as_str();
    let (product, rest) = config
        .products
        .iter()
        .filter_map(|product| {
            let route = &product.route;
            if route.host.as_deref().is_some_and(|h| h != host) {
                return None;
            }
            let rest = remainder(&route.path_prefix, path)?;
            Some((route.host.is_some(), route.path_prefix.len(), product, rest))
        })
        .max_by_key(|(has_host, prefix_len, _, _)| (*has_host, *prefix_len))
        .map(|(_, _, product, rest)| (product, rest))
        .ok_or(Error::NoRoute)?;
    if !product.matching.path_params && has_path_params(path) {
        return Err(Error::MalformedPath {
            reason: PathError::PathParameters.reason(),
        });
    }
    let product_path = if product.route.strip_prefix {
        if rest.is_empty() {
            "/".to_owned()
        } else {
            rest.to_owned()
        }
    } else {
        path.to_owned()
    };
    Ok(Routed {
        product,
        product_path,
    })
}

/// What follows `prefix` in `path`, if `prefix` matches whole segments.
fn remainder<'p>(prefix: &str, path: &'p str) -> Option<&'p str> {
    if prefix == "/" {
        return Some(path);
    }
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::demo_config;
    use crate::path::canonicalize;

    fn routed(host: &str, path: &str) -> Result<(String, String), Error> {
        let config = demo_config();
        let path = canonicalize(path).unwrap();
        select(&config, host, &path).map(|r| (r.product.id.clone(), r.product_path))
    }

    #[test]
    fn routing_table() {
        let table = [
            (
                "127.0.0.1:8787",
                "/salesforge/v1/leads",
                Some(("salesforge", "/v1/leads")),
            ),
            ("127.0.0.1:8787", "/salesforge", Some(("salesforge", "/"))),
            ("127.0.0.1:8787", "/salesforge/", Some(("salesforge", "/"))),
            ("127.0.0.1:8787", "/salesforgex/v1", None),
            (
                "127.0.0.1:8787",
                "/mailforge/v1/send",
                Some(("mailforge", "/v1/send")),
            ),
            (
                "127.0.0.1",
                "/forgeai/api/chat",
                Some(("forgeai", "/api/chat")),
            ),
            (
                "127.0.0.1",
                "/forgeai/api/%6Cogs",
                Some(("forgeai", "/api/logs")),
            ),
            (
                "API.FORGE.AI:443",
                "/v1/anything",
                Some(("forgeai-host", "/v1/anything")),
            ),
            (
                "api.forge.ai.",
                "/v1/anything",
                Some(("forgeai-host", "/v1/anything")),
            ),
            (
                "api.forge.ai.:443",
                "/salesforge/v1",
                Some(("forgeai-host", "/salesforge/v1")),
            ),
            ("example.com", "/", None),
        ];
        for (host, path, expected) in table {
            let expected = expected.map(|(id, p)| (id.to_owned(), p.to_owned()));
            assert_eq!(routed(host, path).ok(), expected, "{host} {path}");
        }
        assert_eq!(routed("x", "/nope").unwrap_err(), Error::NoRoute);
    }

    #[test]
    fn path_parameters_are_refused_unless_the_product_allows_them() {
        let err = routed("h", "/salesforge/v1/campaigns/1/send;x").unwrap_err();
        assert_eq!(err.code(), "malformed_path");
        let err = routed("h", "/salesforge/v1/send%3Bx").unwrap_err();
        assert_eq!(err.code(), "malformed_path");
    }
}
