//! Picking the product for a request by host and path.
//!
//! Pure. The most specific route wins: a route naming the host beats one
//! that does not, then the longest path prefix wins. A prefix matches only
//! whole segments (`/sf` matches `/sf` and `/sf/x`, never `/sfx`).

use crate::config::{Config, Product};
use crate::Error;

/// A request matched to a product.
#[derive(Debug, Clone)]
pub struct Routed<'a> {
    /// The product serving the request.
    pub product: &'a Product,
    /// The path the origin will see: the request path, with the route's
    /// prefix removed when it strips it. Permission rules and public paths
    /// match this path.
    pub product_path: String,
}

/// Picks the product for `host` (a `Host` value, port allowed) and `path`
/// (percent-encoded, no query).
pub fn select<'a>(config: &'a Config, host: &str, path: &str) -> Result<Routed<'a>, Error> {
    let host = strip_port(host).to_ascii_lowercase();
    config
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
        .map(|(_, _, product, rest)| Routed {
            product,
            product_path: if product.route.strip_prefix {
                if rest.is_empty() {
                    "/".to_owned()
                } else {
                    rest.to_owned()
                }
            } else {
                path.to_owned()
            },
        })
        .ok_or(Error::NoRoute)
}

/// What follows `prefix` in `path`, if `prefix` matches whole segments.
fn remainder<'p>(prefix: &str, path: &'p str) -> Option<&'p str> {
    if prefix == "/" {
        return Some(path);
    }
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // IPv6 literal: keep up to the closing bracket.
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::demo_config;

    #[test]
    fn routing_table() {
        let config = demo_config();
        let table = [
            (
                "127.0.0.1:8787",
                "/salesforge/v1/leads",
                Some(("salesforge", "/v1/leads")),
            ),
            ("127.0.0.1:8787", "/salesforge", Some(("salesforge", "/"))),
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
                "API.FORGE.AI:443",
                "/v1/anything",
                Some(("forgeai-host", "/v1/anything")),
            ),
            (
                "api.forge.ai",
                "/salesforge/v1",
                Some(("forgeai-host", "/salesforge/v1")),
            ),
            ("example.com", "/", None),
        ];
        for (host, path, expected) in table {
            let got = select(&config, host, path)
                .ok()
                .map(|r| (r.product.id.clone(), r.product_path));
            let expected = expected.map(|(id, p)| (id.to_owned(), p.to_owned()));
            assert_eq!(got, expected, "{host} {path}");
        }
        assert_eq!(select(&config, "x", "/nope").unwrap_err(), Error::NoRoute);
    }

    #[test]
    fn ports_and_ipv6_hosts() {
        assert_eq!(strip_port("a.b:80"), "a.b");
        assert_eq!(strip_port("a.b"), "a.b");
        assert_eq!(strip_port("[::1]:8787"), "[::1]");
    }
}
