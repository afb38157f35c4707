//! A strict parser for the absolute `http`/`https` URLs in `KEYGATE_CONFIG`
//! (upstreams, CORS and portal origins, the logo, the leak keys URL).
//!
//! It replaces the `url` crate in the config, so the gateway Worker does
//! not carry the WHATWG parser and its IDNA tables (issue 13, size). It is
//! stricter than WHATWG on purpose: where WHATWG would rewrite the text
//! (percent-encode a character, resolve `..`, decode a hex, octal or short
//! IPv4 host, map a Unicode host to punycode), this parser refuses, so the
//! URL a config names is the URL keygate uses. Invariant: a parsed
//! [`HttpUrl`] has scheme `http` or `https`, a non-empty ASCII host in
//! lowercase (a name, a dotted-decimal IPv4 address or a bracketed IPv6
//! address), no default port, and a path that starts with `/`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why text is not an absolute http(s) URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlError {
    /// No `scheme://` at the start.
    NotAbsolute,
    /// A scheme other than `http` or `https`.
    Scheme,
    /// The host is empty or not a name, IPv4 or bracketed IPv6 address.
    Host,
    /// The port is empty, not a number, or over 65535.
    Port,
    /// The path, query or fragment has a character that would be rewritten.
    Character,
    /// The path has a `.` or `..` segment.
    DotSegment,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::NotAbsolute => "it does not start with http:// or https://",
            UrlError::Scheme => "the scheme is not http or https",
            UrlError::Host => {
                "the host is not an ASCII name (use punycode), a dotted-decimal IPv4 address or a bracketed IPv6 address"
            }
            UrlError::Port => "the port is not a number from 0 to 65535",
            UrlError::Character => {
                "it has a space, a non-ASCII character or one of \\ \" < > ^ ` { | } (percent-encode it)"
            }
            UrlError::DotSegment => "its path has a '.' or '..' segment",
        })
    }
}

/// A URL's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    /// A name, in lowercase.
    Name(String),
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address.
    V6(Ipv6Addr),
}

/// An absolute http(s) URL, parsed strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    https: bool,
    host: Host,
    port: Option<u16>,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
    userinfo: bool,
}

impl HttpUrl {
    /// Parses `raw`, less leading and trailing spaces and control
    /// characters (as WHATWG does).
    pub(crate) fn parse(raw: &str) -> Result<Self, UrlError> {
        let raw = raw.trim_matches(|c: char| c <= ' ');
        // WHATWG reads `\` as `/` and drops tabs and newlines: text with
        // them could name another host than it seems to.
        if raw.chars().any(|c| c == '\\' || c.is_ascii_control()) {
            return Err(UrlError::Character);
        }
        let (scheme, rest) = raw.split_once(':').ok_or(UrlError::NotAbsolute)?;
        if !is_scheme(scheme) {
            return Err(UrlError::NotAbsolute);
        }
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(UrlError::Scheme),
        };
        let rest = rest.strip_prefix("//").ok_or(UrlError::NotAbsolute)?;
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(authority_end);
        let (userinfo, host_port) = match authority.rfind('@') {
            Some(at) => (true, authority.get(at + 1..).unwrap_or_default()),
            None => (false, authority),
        };
        let (host, port) = host_and_port(host_port)?;
        let default = if https { 443 } else { 80 };
        let (before_fragment, fragment) = match rest.split_once('#') {
            Some((before, fragment)) => (before, Some(fragment)),
            None => (rest, None),
        };
        let (path, query) = match before_fragment.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (before_fragment, None),
        };
        if !path.chars().all(is_path_char) {
            return Err(UrlError::Character);
        }
        if path.split('/').any(is_dot_segment) {
            return Err(UrlError::DotSegment);
        }
        let tail_ok = |part: Option<&str>| {
            part.is_none_or(|p| p.chars().all(|c| is_path_char(c) || c == '?'))
        };
        if !tail_ok(query) || !tail_ok(fragment) {
            return Err(UrlError::Character);
        }
        if !percent_escapes_ok(before_fragment) || !fragment.is_none_or(percent_escapes_ok) {
            return Err(UrlError::Character);
        }
        Ok(HttpUrl {
            https,
            host,
            port: port.filter(|&p| p != default),
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
            query: query.map(str::to_owned),
            fragment: fragment.map(str::to_owned),
            userinfo,
        })
    }

    /// `https` or `http`.
    pub(crate) fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    /// The host.
    #[cfg(test)]
    pub(crate) fn host(&self) -> &Host {
        &self.host
    }

    /// The path, starting with `/`.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Whether the URL has a query (even an empty one).
    pub(crate) fn has_query(&self) -> bool {
        self.query.is_some()
    }

    /// Whether the URL has a fragment (even an empty one).
    pub(crate) fn has_fragment(&self) -> bool {
        self.fragment.is_some()
    }

    /// Whether the URL has a userinfo part (`user:password@`, even empty).
    pub(crate) fn has_userinfo(&self) -> bool {
        self.userinfo
    }

    /// `scheme://host[:port]`, as browsers serialize an origin.
    pub(crate) fn origin(&self) -> String {
        let mut out = format!("{}://", self.scheme());
        match &self.host {
            Host::Name(name) => out.push_str(name),
            Host::V4(ip) => out.push_str(&ip.to_string()),
            Host::V6(ip) => {
                out.push('[');
                out.push_str(&ip.to_string());
                out.push(']');
            }
        }
        if let Some(port) = self.port {
            out.push(':');
            out.push_str(&port.to_string());
        }
        out
    }

    /// Whether the host may receive requests from keygate
    /// ([`crate::destination`]'s rules).
    pub(crate) fn destination(&self) -> Result<(), crate::destination::NotPublic> {
        match &self.host {
            Host::Name(name) => crate::destination::check_name(name),
            Host::V4(ip) => crate::destination::check_ip(IpAddr::V4(*ip)),
            Host::V6(ip) => crate::destination::check_ip(IpAddr::V6(*ip)),
        }
    }
}

/// The URL without userinfo (callers refuse URLs that have one).
impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())?;
        f.write_str(&self.path)?;
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        if let Some(fragment) = &self.fragment {
            write!(f, "#{fragment}")?;
        }
        Ok(())
    }
}

fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn host_and_port(text: &str) -> Result<(Host, Option<u16>), UrlError> {
    let (host, port) = if let Some(inner) = text.strip_prefix('[') {
        let (address, after) = inner.split_once(']').ok_or(UrlError::Host)?;
        let ip: Ipv6Addr = address.parse().map_err(|_| UrlError::Host)?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(UrlError::Host)?),
        };
        (Host::V6(ip), port)
    } else {
        let (name, port) = match text.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (text, None),
        };
        (host_name(name)?, port)
    };
    let port = match port {
        None => None,
        Some(digits) => {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UrlError::Port);
            }
            Some(digits.parse::<u16>().map_err(|_| UrlError::Port)?)
        }
    };
    Ok((host, port))
}

fn host_name(name: &str) -> Result<Host, UrlError> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !ok {
        return Err(UrlError::Host);
    }
    // WHATWG reads a host whose last label is a number (decimal, or 0x
    // hex) as IPv4, in forms such as `127.1` or `0x7f.1`; only the
    // dotted-decimal form is taken, anything else that WHATWG would read as
    // an address is refused.
    let last = name
        .trim_end_matches('.')
        .rsplit('.')
        .next()
        .unwrap_or_default();
    let numeric = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"))
                && last.bytes().skip(2).all(|b| b.is_ascii_hexdigit()));
    if numeric {
        return name.parse().map(Host::V4).map_err(|_| UrlError::Host);
    }
    Ok(Host::Name(name.to_ascii_lowercase()))
}

/// RFC 3986 `pchar` and `/`: unreserved, sub-delims, `:`, `@`, `%`.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.'
                | '_'
                | '~'
                | '!'
                | '$'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | '+'
                | ','
                | ';'
                | '='
                | ':'
                | '@'
                | '%'
                | '/'
        )
}

/// `.` and `..`, also percent-encoded, which WHATWG resolves away.
fn is_dot_segment(segment: &str) -> bool {
    let s = segment.to_ascii_lowercase().replace("%2e", ".");
    s == "." || s == ".."
}

/// Every `%` starts a two-hex-digit escape.
fn percent_escapes_ok(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    })
}

#[cfg(test)]
#[path = "http_url_tests.rs"]
mod tests;
