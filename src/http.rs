//! HTTP vocabulary that configuration and the request path share: reading
//! a header by name, telling two header names apart, and the methods
//! refused everywhere.
//!
//! A leaf: it imports nothing of the crate, so `config` and the request
//! path can both stand on it. Invariant: header names compare without
//! regard to ASCII case (and, for [`same_header`], with `_` as `-`).

/// Case-insensitive read access to request headers.
pub trait HeaderLookup {
    /// The value of header `name`, if present.
    fn header(&self, name: &str) -> Option<String>;
}

impl HeaderLookup for [(&str, &str)] {
    fn header(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| (*v).to_owned())
    }
}

impl HeaderLookup for [(String, String)] {
    fn header(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
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

/// Methods refused on every path, public or not: `TRACE` and `TRACK`
/// reflect the request (credentials included), `CONNECT` opens a tunnel.
pub fn is_refused_method(method: &str) -> bool {
    ["TRACE", "TRACK", "CONNECT"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// Whether `s` is an HTTP token (RFC 9110: a method, a header name, an
/// auth scheme).
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
