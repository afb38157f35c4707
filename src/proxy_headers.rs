//! Which client headers a proxy must not pass on, and who the client was.
//!
//! Pure. Invariants: `Expect` is never forwarded (the runtime and the
//! origin handle the body without it, and an origin's `100 Continue` must
//! never become keygate's final answer); every header that `Connection`
//! names is dropped with it (RFC 9110 §7.6.1); client-sent proxy headers
//! (`X-Forwarded-*`, `Forwarded`, `X-Real-IP`, `True-Client-IP`, and their
//! `_` spellings) are dropped unless the product sets `trust_forwarded`;
//! the client's address reaches the origin only as keygate's signed
//! `Keygate-Client-Ip`, read from `CF-Connecting-IP`, which Cloudflare
//! sets itself.

use std::net::IpAddr;

use crate::http::same_header;

/// The header Cloudflare sets to the connecting client's address.
pub const CONNECTING_IP: &str = "CF-Connecting-IP";

/// Client-sent headers that claim to say who the client is, or which
/// host, scheme or prefix it used. A client can write any of them, so they
/// are dropped unless the product trusts them (`trust_forwarded`).
pub const PROXY_HEADERS: [&str; 7] = [
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Prefix",
    "Forwarded",
    "X-Real-IP",
    "True-Client-IP",
];

/// What decides, per request, which further client headers are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drops {
    /// Lowercase header names listed in the request's `Connection`
    /// header(s).
    connection: Vec<String>,
    /// Whether the product keeps the client's proxy headers.
    trust_forwarded: bool,
}

impl Drops {
    /// Reads the `Connection` header(s) of `headers`, for a product that
    /// does (`trust_forwarded`) or does not keep client proxy headers.
    pub fn new(headers: &[(String, String)], trust_forwarded: bool) -> Drops {
        let connection = headers
            .iter()
            .filter(|(name, _)| same_header(name, "connection"))
            .flat_map(|(_, value)| value.split(','))
            .map(|token| token.trim().to_ascii_lowercase())
            .filter(|token| !token.is_empty())
            .collect();
        Drops {
            connection,
            trust_forwarded,
        }
    }

    /// Whether the client header `name` must not reach the origin.
    pub fn drops(&self, name: &str) -> bool {
        same_header(name, "expect")
            || self.connection.iter().any(|c| same_header(c, name))
            || (!self.trust_forwarded && PROXY_HEADERS.iter().any(|h| same_header(h, name)))
    }
}

/// The client's address, from `CF-Connecting-IP`, in its canonical text
/// form; `None` when the header is missing or is not an IP address (then
/// no `Keygate-Client-Ip` is sent).
pub fn client_ip(headers: &[(String, String)]) -> Option<String> {
    client_addr(headers).map(|ip| ip.to_string())
}

/// The client's address, from `CF-Connecting-IP` only (never a
/// client-sent `X-Forwarded-For`, `X-Real-IP` or the like, whatever
/// `trust_forwarded` says); `None` when the header is missing or is not
/// one IP address (a zone id, a list or a port makes it none). The IP
/// allowlists judge this address ([`crate::policy::ip_refusal`]).
pub fn client_addr(headers: &[(String, String)]) -> Option<IpAddr> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(CONNECTING_IP))
        .and_then(|(_, value)| value.trim().parse::<IpAddr>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn expect_is_always_dropped() {
        let drops = Drops::new(&[], true);
        assert!(drops.drops("Expect"));
        assert!(drops.drops("EXPECT"));
        assert!(!drops.drops("Accept"));
    }

    #[test]
    fn headers_named_by_connection_are_dropped() {
        let h = headers(&[
            ("Connection", "close, X-Foo"),
            ("connection", " x_bar ,,"),
            ("X-Foo", "1"),
        ]);
        let drops = Drops::new(&h, false);
        assert!(drops.drops("X-Foo"));
        assert!(drops.drops("x-foo"));
        assert!(drops.drops("X-Bar"));
        assert!(drops.drops("x_foo"));
        assert!(!drops.drops("X-Baz"));
        assert!(!drops.drops("X-Fo"));
    }

    #[test]
    fn a_connection_header_spelled_with_underscore_counts() {
        let drops = Drops::new(&headers(&[("CONNECTION", "X-Secret-Hop")]), false);
        assert!(drops.drops("x-secret-hop"));
        let drops = Drops::new(&headers(&[("Connection_", "X-Other")]), false);
        assert!(!drops.drops("X-Other"));
    }

    #[test]
    fn proxy_headers_are_dropped_unless_trusted() {
        let untrusted = Drops::new(&[], false);
        let trusted = Drops::new(&[], true);
        for name in PROXY_HEADERS {
            assert!(untrusted.drops(name), "{name}");
            assert!(untrusted.drops(&name.to_ascii_lowercase()), "{name}");
            assert!(untrusted.drops(&name.replace('-', "_")), "{name}");
            assert!(!trusted.drops(name), "{name}");
        }
        assert!(!untrusted.drops("X-Forwarded"));
        assert!(!untrusted.drops("X-Forwarded-Fo"));
        assert!(!untrusted.drops("Keygate-Client-Ip"));
    }

    #[test]
    fn client_ip_comes_from_cf_connecting_ip_only() {
        let h = headers(&[
            ("X-Forwarded-For", "6.6.6.6"),
            ("cf-connecting-ip", " 203.0.113.7 "),
        ]);
        assert_eq!(client_ip(&h).as_deref(), Some("203.0.113.7"));
        let h = headers(&[("CF-Connecting-IP", "2001:DB8:0:0::1")]);
        assert_eq!(client_ip(&h).as_deref(), Some("2001:db8::1"));
        assert_eq!(client_ip(&headers(&[("X-Real-IP", "1.2.3.4")])), None);
        // What the allowlists judge: the same address, and only it.
        let spoofed = headers(&[
            ("X-Forwarded-For", "203.0.113.7"),
            ("X-Real-IP", "203.0.113.7"),
            ("True-Client-IP", "203.0.113.7"),
            ("Forwarded", "for=203.0.113.7"),
        ]);
        assert_eq!(client_addr(&spoofed), None);
        let h = headers(&[("CF-Connecting-IP", "fe80::1%eth0")]);
        assert_eq!(client_addr(&h), None, "a zone id is not an address");
        let h = headers(&[("CF-Connecting-IP", "::ffff:1.2.3.4")]);
        assert_eq!(client_addr(&h), Some("::ffff:1.2.3.4".parse().unwrap()));
    }

    #[test]
    fn a_client_ip_that_is_not_an_address_is_not_sent() {
        for bad in [
            "",
            "1.2.3.4, 5.6.7.8",
            "1.2.3.4\r\nKeygate-Account: x",
            "localhost",
            "1.2.3.4:80",
        ] {
            let h = headers(&[("CF-Connecting-IP", bad)]);
            assert_eq!(client_ip(&h), None, "{bad:?}");
        }
    }
}
