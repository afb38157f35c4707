//! WebSocket upgrades: where a browser's key may be, and what is forwarded.
//!
//! Pure. An upgrade is verified like any request. Browsers cannot set
//! headers on a WebSocket, so a product may opt in to reading the key from
//! a `Sec-WebSocket-Protocol` entry (`key_in_protocol`) or a query
//! parameter (`key_query`). Invariants: the product's key header wins when
//! present; any protocol entry that is a well-formed keygate key, and
//! every `key_query` parameter (matched after percent-decoding), is removed
//! from what the origin receives, so the forwarded query, and the signed
//! `@query`, never hold it; the key is never logged.

use crate::config::Product;
pub use crate::config::{
    WebSocketConfig, DEFAULT_MAX_CONNECTION_SECONDS, MAX_MAX_CONNECTION_SECONDS,
};
use crate::http::same_header;
use crate::http::HeaderLookup;
use crate::key::parse;
use crate::secret::ApiKey;

/// The close code keygate sends when `max_connection_seconds` runs out
/// (1008, policy violation) and its reason.
pub const TIME_LIMIT_CLOSE: (u16, &str) = (1008, "keygate: max_connection_seconds reached");

/// Whether the request asks to upgrade to a WebSocket (`Upgrade:
/// websocket`, any case, possibly among other tokens).
pub fn is_upgrade(headers: &(impl HeaderLookup + ?Sized)) -> bool {
    headers.header("Upgrade").is_some_and(|v| {
        v.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
    })
}

/// An upgrade request, read for its key and cleaned for the origin.
#[derive(Debug)]
pub struct Located {
    /// The request headers for [`crate::credential::present`]: the
    /// client's, plus the product's key header built from a protocol entry
    /// or the query when the header itself was absent.
    pub headers: Vec<(String, String)>,
    /// The `Sec-WebSocket-Protocol` value to forward, without any key.
    pub protocols: Option<String>,
    /// The query to forward and sign, without `key_query` parameters.
    pub query: Option<String>,
}

/// Reads an upgrade request of `product`: `headers` as received, `query`
/// the raw query without `?`.
pub fn locate(product: &Product, headers: &[(String, String)], query: Option<&str>) -> Located {
    let settings = &product.websocket;
    let offered: Vec<String> = headers
        .iter()
        .filter(|(n, _)| same_header(n, "sec-websocket-protocol"))
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    let is_key = |entry: &str| parse(&ApiKey::new(entry)).is_ok();
    let from_protocol = offered
        .iter()
        .find(|e| settings.key_in_protocol && is_key(e))
        .cloned();
    let kept: Vec<&str> = offered
        .iter()
        .filter(|e| !is_key(e))
        .map(String::as_str)
        .collect();

    let (from_query, query) = match (&settings.key_query, query) {
        (Some(name), Some(q)) => split_query(q, name),
        (_, q) => (None, q.map(str::to_owned)),
    };

    let mut located_headers = headers.to_vec();
    let has_header = headers.header(&product.credential.header).is_some();
    if let Some(key) = from_protocol.or(from_query).filter(|_| !has_header) {
        let value = match &product.credential.scheme {
            Some(scheme) => format!("{scheme} {key}"),
            None => key,
        };
        located_headers.push((product.credential.header.clone(), value));
    }
    Located {
        headers: located_headers,
        protocols: (!kept.is_empty()).then(|| kept.join(", ")),
        query,
    }
}

/// The first value of parameter `name` (compared after decoding) and the
/// query without any `name` parameter; `None` for an emptied query.
fn split_query(query: &str, name: &str) -> (Option<String>, Option<String>) {
    let mut found = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let decoded = form_urlencoded::parse(pair.as_bytes()).next();
        match decoded {
            Some((n, v)) if n == name => {
                if found.is_none() && !v.is_empty() {
                    found = Some(v.into_owned());
                }
            }
            _ => kept.push(pair),
        }
    }
    let rest = kept.join("&");
    (found, (!rest.is_empty()).then_some(rest))
}

/// The close code to pass on when the other side closed with `code`:
/// 1005 (no code) and 1006 (abnormal) cannot be sent, so they become 1000
/// and 1011; codes outside the sendable ranges become 1011.
pub fn relay_close_code(code: u16) -> u16 {
    match code {
        1005 => 1000,
        1000..=1003 | 1007..=1014 | 3000..=4999 => code,
        _ => 1011,
    }
}

#[cfg(test)]
#[path = "websocket_tests.rs"]
mod tests;
