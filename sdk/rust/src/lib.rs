//! Verifies the RFC 9421 signature keygate puts on every request it
//! forwards, and returns the [`Identity`] it vouches for.
//!
//! ```no_run
//! # fn main() -> Result<(), keygate_origin::ConfigError> {
//! let secret = std::env::var("KEYGATE_ORIGIN_SECRET").unwrap_or_default();
//! let verifier = keygate_origin::Verifier::from_secret(&secret, ["salesforge"])?;
//! let app = axum::Router::<()>::new().layer(keygate_origin::KeygateLayer::new(verifier));
//! # Ok(()) }
//! ```
//!
//! [`Verifier::verify`] is the plain function over a framework-neutral
//! [`Received`]; [`KeygateLayer`] is a `tower` layer (axum, hyper, tonic)
//! that puts the [`Identity`] in the request's extensions.
//!
//! Pure apart from the nonce store: the clock comes in as an argument.
//! Invariants: every rule (see [`Rule`]) is checked before an identity is
//! returned; a nonce is remembered only once everything else verified; the
//! MAC is compared in constant time; keys never appear in `Debug` or an
//! error.

mod layer;
mod nonce;
mod parse;

pub use layer::{Keygate, KeygateLayer};
pub use nonce::{MemoryNonceStore, NonceStore};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The label of keygate's member in `Signature-Input` and `Signature`.
pub const LABEL: &str = "keygate";
/// The only algorithm keygate signs with.
pub const ALG: &str = "hmac-sha256";
/// HKDF salt of the per-product keys.
pub const SALT: &[u8] = b"keygate/rfc9421/origin-key/v1";
/// Components every keygate signature must cover.
pub const REQUIRED: [&str; 6] = [
    "@method",
    "@authority",
    "@path",
    "@query",
    "keygate-product",
    "keygate-request-id",
];
/// Shortest `KEYGATE_ORIGIN_SECRET` keygate accepts, trimmed.
pub const MIN_SECRET_LENGTH: usize = 32;

/// The rule a request failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `Signature`/`Signature-Input` missing, unparseable, or not exactly
    /// one member labelled `keygate`; a parameter missing.
    Malformed,
    /// `alg` is not `hmac-sha256`.
    Algorithm,
    /// `keyid` is not a product this origin serves.
    UnknownProduct,
    /// `keyid` is not the `Keygate-Product` header.
    ProductMismatch,
    /// A required component is not covered.
    NotCovered,
    /// A covered header is absent.
    MissingHeader,
    /// A `Keygate-*` header (or `Content-Digest`) the signature does not
    /// cover is present.
    UncoveredHeader,
    /// `expires` has passed.
    Expired,
    /// `created` is in the future beyond the allowed skew.
    NotYetValid,
    /// `nonce` is not the `Keygate-Request-Id` header.
    NonceMismatch,
    /// The product signs bodies but `content-digest` is not covered.
    DigestRequired,
    /// `Content-Digest` does not match the body.
    DigestMismatch,
    /// The body had to be checked but could not be read (or was too long).
    BodyUnavailable,
    /// The MAC does not match: wrong key, or something covered changed.
    SignatureMismatch,
    /// The nonce was seen before its signature expired.
    Replay,
    /// The nonce store cannot remember another nonce.
    NonceStoreFull,
}

impl Rule {
    /// The stable code, as the JavaScript and Python libraries name it.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Malformed => "malformed",
            Rule::Algorithm => "algorithm",
            Rule::UnknownProduct => "unknown_product",
            Rule::ProductMismatch => "product_mismatch",
            Rule::NotCovered => "not_covered",
            Rule::MissingHeader => "missing_header",
            Rule::UncoveredHeader => "uncovered_header",
            Rule::Expired => "expired",
            Rule::NotYetValid => "not_yet_valid",
            Rule::NonceMismatch => "nonce_mismatch",
            Rule::DigestRequired => "digest_required",
            Rule::DigestMismatch => "digest_mismatch",
            Rule::BodyUnavailable => "body_unavailable",
            Rule::SignatureMismatch => "signature_mismatch",
            Rule::Replay => "replay",
            Rule::NonceStoreFull => "nonce_store_full",
        }
    }
}

/// A request keygate's signature does not vouch for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Which rule failed.
    pub rule: Rule,
    /// Why, for a log (never a key or a secret).
    pub message: String,
}

impl Error {
    /// An error for `rule`.
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Error {
            rule,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule.code(), self.message)
    }
}

impl std::error::Error for Error {}

/// A verifier that cannot be built: a short secret, a key that is not 32
/// bytes of base64, or no product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// What keygate vouches for. Key fields are `None` on a public path.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The product id (`keyid`).
    pub product: String,
    /// `Keygate-Key-Id`.
    pub key_id: Option<String>,
    /// `Keygate-Account`.
    pub account: Option<String>,
    /// `live` or `test`.
    pub environment: Option<String>,
    /// `Keygate-Scopes`, split at spaces.
    pub scopes: Vec<String>,
    /// `Keygate-Key-Meta`: the key's forwarded `meta` members, when the
    /// product forwards any.
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// `Keygate-Client-Ip`.
    pub client_ip: Option<String>,
    /// `Keygate-Request-Id`, the signature's nonce.
    pub request_id: String,
    /// The signature's `created`, Unix seconds.
    pub created: i64,
    /// The signature's `expires`, Unix seconds.
    pub expires: i64,
}

/// A request as the origin received it, framework-neutral.
#[derive(Debug, Clone)]
pub struct Received<'a> {
    /// Method.
    pub method: &'a str,
    /// The `Host` the origin received.
    pub authority: &'a str,
    /// The path as received (not decoded), without the query.
    pub path: &'a str,
    /// The query without `?`, `None` when there is none.
    pub query: Option<&'a str>,
    /// Every header field line: name (any case) and value.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The body; checked only when a `Content-Digest` is covered.
    pub body: &'a [u8],
}

/// A product's key: `HKDF-SHA256(IKM = secret trimmed, salt = SALT, info =
/// product id)`, 32 bytes.
pub fn product_key(secret: &str, product: &str) -> Result<[u8; 32], ConfigError> {
    let trimmed = secret.trim();
    if trimmed.len() < MIN_SECRET_LENGTH {
        return Err(ConfigError(format!(
            "KEYGATE_ORIGIN_SECRET must be at least {MIN_SECRET_LENGTH} characters long"
        )));
    }
    let prk = hmac(SALT, &[trimmed.as_bytes()]);
    Ok(hmac(&prk, &[product.as_bytes(), &[1]]))
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = keyed(key);
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn keyed(key: &[u8]) -> Hmac<Sha256> {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of every length; never taken.
        Err(_) => <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()),
    }
}

/// RFC 9530 `Content-Digest` of a body, as keygate writes it.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// Checks keygate signatures: the products' keys, which of them sign
/// bodies, the clock skew and the nonce store. Build one, share it.
#[derive(Clone)]
pub struct Verifier {
    keys: BTreeMap<String, [u8; 32]>,
    sign_body: Option<BTreeSet<String>>,
    sign_body_all: bool,
    skew: i64,
    nonces: Arc<dyn NonceStore>,
    authority: Option<String>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("products", &self.keys.keys().collect::<Vec<_>>())
            .field("keys", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Verifier {
    fn empty() -> Self {
        Verifier {
            keys: BTreeMap::new(),
            sign_body: None,
            sign_body_all: false,
            skew: 5,
            nonces: Arc::new(MemoryNonceStore::default()),
            authority: None,
        }
    }

    /// Derives each product's key from `KEYGATE_ORIGIN_SECRET`.
    pub fn from_secret<P: Into<String>>(
        secret: &str,
        products: impl IntoIterator<Item = P>,
    ) -> Result<Self, ConfigError> {
        let mut v = Verifier::empty();
        for p in products {
            let p = p.into();
            let key = product_key(secret, &p)?;
            v.keys.insert(p, key);
        }
        if v.keys.is_empty() {
            return Err(ConfigError(
                "with a secret, name the products this origin serves".into(),
            ));
        }
        Ok(v)
    }

    /// Takes per-product keys as `keygate origin-key --product ID` prints
    /// them (base64 of 32 bytes).
    pub fn from_keys<P: Into<String>, K: AsRef<str>>(
        keys: impl IntoIterator<Item = (P, K)>,
    ) -> Result<Self, ConfigError> {
        let mut v = Verifier::empty();
        for (p, k) in keys {
            let p = p.into();
            let bytes: [u8; 32] = STANDARD
                .decode(k.as_ref().trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| ConfigError(format!("the key for {p} is not 32 bytes of base64")))?;
            v.keys.insert(p, bytes);
        }
        if v.keys.is_empty() {
            return Err(ConfigError("no product keys".into()));
        }
        Ok(v)
    }

    /// `product` sets `sign_body = true`: its signatures must cover
    /// `content-digest`.
    pub fn sign_body(mut self, product: impl Into<String>) -> Self {
        self.sign_body
            .get_or_insert_with(BTreeSet::new)
            .insert(product.into());
        self
    }

    /// Every product signs bodies.
    pub fn sign_body_all(mut self) -> Self {
        self.sign_body_all = true;
        self
    }

    /// Seconds `created` may lie in the future (default 5).
    pub fn max_skew(mut self, seconds: u32) -> Self {
        self.skew = i64::from(seconds);
        self
    }

    /// Where nonces are remembered (default: a [`MemoryNonceStore`] owned
    /// by this verifier and its clones).
    pub fn nonce_store(mut self, store: Arc<dyn NonceStore>) -> Self {
        self.nonces = store;
        self
    }

    /// The `@authority` keygate signed (the upstream's host), when a proxy
    /// in front of the origin rewrites `Host`.
    pub fn authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = Some(authority.into().to_ascii_lowercase());
        self
    }

    /// Whether checking this request needs its body: its `Signature-Input`
    /// covers `content-digest`. (The tower layer buffers the body only
    /// then.)
    pub fn needs_body<'h>(&self, headers: impl IntoIterator<Item = (&'h str, &'h str)>) -> bool {
        let headers = collect(headers);
        headers
            .get("signature-input")
            .and_then(|v| parse::only(v).ok())
            .and_then(|m| parse::input(m).ok())
            .is_some_and(|i| i.components.iter().any(|c| c == "content-digest"))
    }

    /// Verifies a request received at Unix time `now`: returns its identity
    /// or the rule it failed. Remembers the nonce when it verifies.
    pub fn verify(&self, received: &Received<'_>, now: i64) -> Result<Identity, Error> {
        let headers = collect(received.headers.iter().copied());
        let get = |name: &str| headers.get(name).map(String::as_str);
        let input = parse::input(parse::only(get("signature-input").unwrap_or_default())?)?;
        let mac = parse::only(get("signature").unwrap_or_default())?
            .strip_prefix(':')
            .and_then(|s| s.strip_suffix(':'))
            .and_then(|s| STANDARD.decode(s).ok())
            .ok_or_else(|| Error::new(Rule::Malformed, "Signature is not a byte sequence"))?;
        if input.alg != ALG {
            return Err(Error::new(
                Rule::Algorithm,
                format!("alg {:?} is not {ALG}", input.alg),
            ));
        }
        let key = self.keys.get(&input.keyid).ok_or_else(|| {
            Error::new(
                Rule::UnknownProduct,
                format!("this origin does not serve {:?}", input.keyid),
            )
        })?;
        if get("keygate-product") != Some(input.keyid.as_str()) {
            return Err(Error::new(
                Rule::ProductMismatch,
                "keyid is not the Keygate-Product header",
            ));
        }
        let covers = |name: &str| input.components.iter().any(|c| c == name);
        if let Some(c) = REQUIRED.iter().find(|c| !covers(c)) {
            return Err(Error::new(Rule::NotCovered, format!("{c} is not covered")));
        }
        if let Some(name) = headers.keys().find(|n| {
            (n.replace('_', "-").starts_with("keygate-") || *n == "content-digest") && !covers(n)
        }) {
            return Err(Error::new(
                Rule::UncoveredHeader,
                format!("{name} is not signed"),
            ));
        }
        if now > input.expires {
            return Err(Error::new(Rule::Expired, "the signature has expired"));
        }
        if input.created.saturating_sub(self.skew) > now {
            return Err(Error::new(Rule::NotYetValid, "created is in the future"));
        }
        if get("keygate-request-id") != Some(input.nonce.as_str()) {
            return Err(Error::new(
                Rule::NonceMismatch,
                "nonce is not the Keygate-Request-Id header",
            ));
        }
        let digested = covers("content-digest");
        let signs_body = self.sign_body_all
            || self
                .sign_body
                .as_ref()
                .is_some_and(|s| s.contains(&input.keyid));
        if !digested && signs_body {
            return Err(Error::new(
                Rule::DigestRequired,
                format!(
                    "{} signs bodies, but content-digest is not covered",
                    input.keyid
                ),
            ));
        }
        let mut base = String::with_capacity(1024);
        let query = format!("?{}", received.query.unwrap_or(""));
        let authority = self
            .authority
            .clone()
            .unwrap_or_else(|| received.authority.to_ascii_lowercase());
        for c in &input.components {
            let value = match c.as_str() {
                "@method" => Some(received.method),
                "@authority" => Some(authority.as_str()),
                "@path" if received.path.is_empty() => Some("/"),
                "@path" => Some(received.path),
                "@query" => Some(query.as_str()),
                name => get(name),
            }
            .ok_or_else(|| {
                Error::new(Rule::MissingHeader, format!("covered header {c} is absent"))
            })?;
            base.push('"');
            base.push_str(c);
            base.push_str("\": ");
            base.push_str(value);
            base.push('\n');
        }
        base.push_str("\"@signature-params\": ");
        base.push_str(&input.params);
        if digested && get("content-digest") != Some(content_digest(received.body).as_str()) {
            return Err(Error::new(
                Rule::DigestMismatch,
                "Content-Digest does not match the body",
            ));
        }
        let expected = hmac(key, &[base.as_bytes()]);
        if !bool::from(expected.as_slice().ct_eq(&mac)) {
            return Err(Error::new(
                Rule::SignatureMismatch,
                "the signature does not match",
            ));
        }
        let identity = identity(&headers, &input)?;
        if !self.nonces.remember(&input.nonce, input.expires, now)? {
            return Err(Error::new(Rule::Replay, "nonce already used"));
        }
        Ok(identity)
    }
}

/// Header values by lowercase name, several lines joined by ", ", trimmed.
fn collect<'h>(headers: impl IntoIterator<Item = (&'h str, &'h str)>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = value.trim_matches([' ', '\t']);
        out.entry(name.to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value);
            })
            .or_insert_with(|| value.to_owned());
    }
    out
}

fn identity(headers: &BTreeMap<String, String>, input: &parse::Input) -> Result<Identity, Error> {
    let get = |name: &str| headers.get(name).cloned();
    let meta =
        match headers.get("keygate-key-meta") {
            Some(text) => Some(serde_json::from_str(text).map_err(|_| {
                Error::new(Rule::Malformed, "Keygate-Key-Meta is not a JSON object")
            })?),
            None => None,
        };
    Ok(Identity {
        product: input.keyid.clone(),
        key_id: get("keygate-key-id"),
        account: get("keygate-account"),
        environment: get("keygate-environment").filter(|e| e == "live" || e == "test"),
        scopes: headers
            .get("keygate-scopes")
            .map(|s| {
                s.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        meta,
        client_ip: get("keygate-client-ip"),
        request_id: input.nonce.clone(),
        created: input.created,
        expires: input.expires,
    })
}

#[cfg(test)]
mod tests;
