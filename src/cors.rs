//! Cross-origin resource sharing (CORS) for browser clients, per product.
//!
//! Pure. Invariants: a preflight (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`, which never carries the key) is
//! answered from configuration alone, with no storage read; an origin that
//! is not allowed gets no CORS header at all, only `Vary: Origin`;
//! `Access-Control-Allow-Origin: *` is never sent with credentials
//! (configuration refuses `origins = "*"` with `credentials = true`, and a
//! listed origin is echoed); refusals carry the same headers as answers and
//! expose `WWW-Authenticate`, so a browser app can read why it was refused.

use crate::http::HeaderLookup;

/// How a product handles CORS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// No CORS: keygate adds nothing, and a preflight needs a key like any
    /// other request (browsers cannot send one, so cross-origin calls fail).
    #[default]
    Off,
    /// `cors = "origin"`: preflights are forwarded to the origin without a
    /// key, and the origin's own CORS headers pass through.
    Origin,
    /// `[cors]` table: keygate answers preflights and adds the headers.
    Edge(CorsPolicy),
}

/// Which browser origins may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `"*"`: any origin, never with credentials.
    Any,
    /// These serialized origins (`https://app.example.com`), lowercase.
    List(Vec<String>),
}

/// A product's `[cors]` table, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsPolicy {
    /// Who may call.
    pub origins: AllowedOrigins,
    /// Methods allowed cross-origin, uppercase.
    pub methods: Vec<String>,
    /// Request headers allowed; the product's key header is always one.
    pub request_headers: Vec<String>,
    /// Response headers a page may read, besides the CORS-safelisted ones;
    /// `WWW-Authenticate` is always one.
    pub expose_headers: Vec<String>,
    /// Seconds a browser may cache a preflight.
    pub max_age: u32,
    /// Whether cookies and HTTP authentication may be sent
    /// (`Access-Control-Allow-Credentials: true`).
    pub credentials: bool,
}

/// Default methods a `[cors]` table allows.
pub const DEFAULT_METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
/// Default request headers a `[cors]` table allows (plus the key header).
pub const DEFAULT_REQUEST_HEADERS: [&str; 1] = ["Content-Type"];
/// Default `max_age`, in seconds.
pub const DEFAULT_MAX_AGE: u32 = 600;
/// Largest `max_age` accepted (browsers cap it lower anyway).
pub const MAX_MAX_AGE: u32 = 86_400;
/// Always exposed, so a browser app can read why it was refused.
pub const ALWAYS_EXPOSED: &str = "WWW-Authenticate";

/// Whether a request is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`.
pub fn is_preflight(method: &str, headers: &(impl HeaderLookup + ?Sized)) -> bool {
    method.eq_ignore_ascii_case("OPTIONS")
        && headers.header("Origin").is_some()
        && headers.header("Access-Control-Request-Method").is_some()
}

impl CorsPolicy {
    /// Whether a page from `origin` (the request's `Origin` value) may call.
    pub fn allows(&self, origin: &str) -> bool {
        match &self.origins {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list.iter().any(|o| o == origin),
        }
    }

    /// The `Access-Control-Allow-Origin` value for an allowed `origin`.
    fn allow_origin(&self, origin: &str) -> String {
        match self.origins {
            AllowedOrigins::Any if !self.credentials => "*".to_owned(),
            _ => origin.to_owned(),
        }
    }

    /// Headers of a preflight answer for the request's `Origin`: only
    /// `Vary` when it is absent or not allowed.
    pub fn preflight_headers(&self, origin: Option<&str>) -> Vec<(&'static str, String)> {
        let mut out = vec![("Vary", "Origin".to_owned())];
        let Some(origin) = origin.filter(|o| self.allows(o)) else {
            return out;
        };
        out.push(("Access-Control-Allow-Origin", self.allow_origin(origin)));
        out.push(("Access-Control-Allow-Methods", self.methods.join(", ")));
        out.push((
            "Access-Control-Allow-Headers",
            self.request_headers.join(", "),
        ));
        out.push(("Access-Control-Max-Age", self.max_age.to_string()));
        if self.credentials {
            out.push(("Access-Control-Allow-Credentials", "true".to_owned()));
        }
        out
    }

    /// Headers added to an answer or a refusal for the request's `Origin`:
    /// only `Vary` when it is absent or not allowed.
    pub fn response_headers(&self, origin: Option<&str>) -> Vec<(&'static str, String)> {
        let mut out = vec![("Vary", "Origin".to_owned())];
        let Some(origin) = origin.filter(|o| self.allows(o)) else {
            return out;
        };
        out.push(("Access-Control-Allow-Origin", self.allow_origin(origin)));
        out.push((
            "Access-Control-Expose-Headers",
            self.expose_headers.join(", "),
        ));
        if self.credentials {
            out.push(("Access-Control-Allow-Credentials", "true".to_owned()));
        }
        out
    }
}

/// Whether an origin's response header is one keygate sets itself when it
/// answers CORS at the edge (so the origin's is replaced, not doubled).
pub fn is_cors_header(name: &str) -> bool {
    name.len() > "access-control-".len()
        && name
            .get(.."access-control-".len())
            .is_some_and(|p| p.eq_ignore_ascii_case("access-control-"))
}

/// `Vary` after adding `Origin` to an origin's `existing` value.
pub fn vary_with_origin(existing: Option<&str>) -> String {
    match existing.map(str::trim).filter(|v| !v.is_empty()) {
        None => "Origin".to_owned(),
        Some(v)
            if v.split(',')
                .any(|t| t.trim() == "*" || t.trim().eq_ignore_ascii_case("origin")) =>
        {
            v.to_owned()
        }
        Some(v) => format!("{v}, Origin"),
    }
}

#[cfg(test)]
#[path = "cors_tests.rs"]
mod tests;
