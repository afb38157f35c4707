//! HTTP vocabulary that configuration, the request path and the control
//! Worker share: reading a header by name, telling two header names apart,
//! tokens, the methods refused everywhere, and the one JSON media-type
//! check.
//!
//! Below `config` and the request path: it imports only [`Error`].
//! Invariant: header names compare without regard to ASCII case (and, for
//! [`same_header`], with `_` as `-`).

use crate::Error;

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

/// The `Allow` value of the refusal of a method refused everywhere (see
/// [`is_refused_method`]), at the edge and by the verify endpoint.
pub const GATEWAY_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

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

/// Whether the body is declared `application/json` (parameters aside);
/// else `415 unsupported_media_type`, checked before the body is read
/// (the verify endpoint and the management API alike).
pub fn json_media_type(content_type: Option<&str>) -> Result<(), Error> {
    let media = content_type.map(|t| t.split(';').next().unwrap_or_default().trim());
    match media {
        Some(media) if media.eq_ignore_ascii_case("application/json") => Ok(()),
        Some(media) => {
            let printable = !media.is_empty()
                && media.len() <= 64
                && media.bytes().all(|b| b.is_ascii_graphic());
            Err(Error::UnsupportedMediaType {
                sent: Some(if printable {
                    media.to_owned()
                } else {
                    "an unreadable media type".to_owned()
                }),
            })
        }
        None => Err(Error::UnsupportedMediaType { sent: None }),
    }
}
