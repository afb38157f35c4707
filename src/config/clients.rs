//! The client-facing tables of a product, validated: `cors` and
//! `websocket`.
//!
//! Invariants: a `cors` table never allows `*` with credentials; origins
//! are serialized `scheme://host[:port]` and compared exactly as browsers
//! send them; the product's key header is always an allowed request header
//! and `WWW-Authenticate` always an exposed one.

use serde::Deserialize;

use super::model::{WebSocketConfig, DEFAULT_MAX_CONNECTION_SECONDS, MAX_MAX_CONNECTION_SECONDS};
use super::text_or::TextOr;
use super::Credential;
use crate::cors::{
    AllowedOrigins, Cors, CorsPolicy, ALWAYS_EXPOSED, DEFAULT_MAX_AGE, DEFAULT_METHODS,
    DEFAULT_REQUEST_HEADERS, MAX_MAX_AGE,
};
use crate::http::is_token;

/// `cors = "origin"` or a `[cors]` table.
#[derive(Deserialize)]
#[serde(from = "TextOr<RawCorsTable>")]
pub(crate) enum RawCors {
    Mode(String),
    Table(RawCorsTable),
}

impl From<TextOr<RawCorsTable>> for RawCors {
    fn from(raw: TextOr<RawCorsTable>) -> Self {
        match raw {
            TextOr::Text(mode) => RawCors::Mode(mode),
            TextOr::Other(table) => RawCors::Table(table),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCorsTable {
    origins: RawOrigins,
    methods: Option<Vec<String>>,
    request_headers: Option<Vec<String>>,
    expose_headers: Option<Vec<String>>,
    max_age: Option<u32>,
    credentials: Option<bool>,
}

#[derive(Deserialize)]
#[serde(from = "TextOr<Vec<String>>")]
pub(crate) enum RawOrigins {
    One(String),
    Many(Vec<String>),
}

impl From<TextOr<Vec<String>>> for RawOrigins {
    fn from(raw: TextOr<Vec<String>>) -> Self {
        match raw {
            TextOr::Text(origin) => RawOrigins::One(origin),
            TextOr::Other(list) => RawOrigins::Many(list),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebSocket {
    key_in_protocol: Option<bool>,
    key_query: Option<String>,
    max_connection_seconds: Option<u32>,
}

type Invalid = (&'static str, String);

pub(super) fn cors(raw: Option<RawCors>, credential: &Credential) -> Result<Cors, Invalid> {
    let table = match raw {
        None => return Ok(Cors::Off),
        Some(RawCors::Mode(mode)) if mode == "origin" => return Ok(Cors::Origin),
        Some(RawCors::Mode(mode)) => {
            return Err((
                "cors",
                format!("{mode:?} is not a mode; write cors = \"origin\" or a [cors] table"),
            ))
        }
        Some(RawCors::Table(table)) => table,
    };
    let credentials = table.credentials.unwrap_or(false);
    let origins = match table.origins {
        RawOrigins::One(o) if o.trim() == "*" => AllowedOrigins::Any,
        RawOrigins::One(o) => AllowedOrigins::List(vec![origin(&o)?]),
        RawOrigins::Many(list) if list.is_empty() => {
            return Err((
                "cors.origins",
                "list at least one origin, or \"*\"".to_owned(),
            ))
        }
        RawOrigins::Many(list) => {
            AllowedOrigins::List(list.iter().map(|o| origin(o)).collect::<Result<_, _>>()?)
        }
    };
    if credentials && origins == AllowedOrigins::Any {
        return Err((
            "cors.credentials",
            "browsers refuse credentials with origins = \"*\"; list the origins instead".to_owned(),
        ));
    }
    let methods = match table.methods {
        None => DEFAULT_METHODS.iter().map(|m| (*m).to_owned()).collect(),
        Some(list) => {
            if let Some(bad) = list
                .iter()
                .find(|m| !is_token(m) || m.bytes().any(|b| b.is_ascii_lowercase()))
            {
                return Err((
                    "cors.methods",
                    format!("{bad:?} is not an uppercase HTTP method"),
                ));
            }
            list
        }
    };
    let mut request_headers = header_list("cors.request_headers", table.request_headers)?
        .unwrap_or_else(|| {
            DEFAULT_REQUEST_HEADERS
                .iter()
                .map(|h| (*h).to_owned())
                .collect()
        });
    add_once(&mut request_headers, &credential.header);
    let mut expose_headers =
        header_list("cors.expose_headers", table.expose_headers)?.unwrap_or_default();
    add_once(&mut expose_headers, ALWAYS_EXPOSED);
    let max_age = table.max_age.unwrap_or(DEFAULT_MAX_AGE);
    if max_age > MAX_MAX_AGE {
        return Err((
            "cors.max_age",
            format!("must be 0 to {MAX_MAX_AGE} seconds"),
        ));
    }
    Ok(Cors::Edge(CorsPolicy {
        origins,
        methods,
        request_headers,
        expose_headers,
        max_age,
        credentials,
    }))
}

/// A browser origin as browsers serialize it: `https://app.example.com`,
/// lowercase, with a port only when it is not the scheme's default.
fn origin(raw: &str) -> Result<String, Invalid> {
    let bad = || {
        (
            "cors.origins",
            format!("{raw:?} is not an origin such as \"https://app.example.com\" (no path)"),
        )
    };
    let url = super::http_url::HttpUrl::parse(raw).map_err(|_| bad())?;
    let serialized = url.origin();
    if raw.trim().trim_end_matches('/').to_ascii_lowercase() != serialized {
        return Err(bad());
    }
    Ok(serialized)
}

fn header_list(
    field: &'static str,
    raw: Option<Vec<String>>,
) -> Result<Option<Vec<String>>, Invalid> {
    let Some(list) = raw else { return Ok(None) };
    if let Some(bad) = list.iter().find(|h| !is_token(h.trim())) {
        return Err((field, format!("{bad:?} is not a header name")));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for h in list {
        add_once(&mut out, h.trim());
    }
    Ok(Some(out))
}

fn add_once(list: &mut Vec<String>, header: &str) {
    if !list.iter().any(|h| h.eq_ignore_ascii_case(header)) {
        list.push(header.to_owned());
    }
}

pub(super) fn websocket(raw: Option<RawWebSocket>) -> Result<WebSocketConfig, Invalid> {
    let Some(raw) = raw else {
        return Ok(WebSocketConfig::default());
    };
    let max_connection_seconds = raw
        .max_connection_seconds
        .unwrap_or(DEFAULT_MAX_CONNECTION_SECONDS);
    if !(1..=MAX_MAX_CONNECTION_SECONDS).contains(&max_connection_seconds) {
        return Err((
            "websocket.max_connection_seconds",
            format!("must be 1 to {MAX_MAX_CONNECTION_SECONDS} seconds"),
        ));
    }
    if let Some(name) = &raw.key_query {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err((
                "websocket.key_query",
                format!("{name:?} must be a plain parameter name (letters, digits, _ - .)"),
            ));
        }
    }
    Ok(WebSocketConfig {
        key_in_protocol: raw.key_in_protocol.unwrap_or(false),
        key_query: raw.key_query,
        max_connection_seconds,
    })
}

#[cfg(test)]
#[path = "clients_tests.rs"]
mod tests;
