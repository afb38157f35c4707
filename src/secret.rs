//! Types that hold secrets: the presented API key, the origin-signing
//! secret, the key-tagging secret, the admin token and webhook signing
//! secrets.
//!
//! Invariant: neither type can be printed. `Debug` and `Display` write a
//! placeholder, the raw value is reached only through an explicitly named
//! `expose` method, and equality is constant-time ([`subtle`]).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::hkdf;

/// An API key as presented by a client. Not yet known to be well formed.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a presented key, trimming surrounding whitespace.
    pub fn new(raw: &str) -> Self {
        ApiKey(raw.trim().to_owned())
    }

    /// The raw key. Call only to parse or hash it; never log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether nothing but whitespace was presented.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

impl PartialEq for ApiKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for ApiKey {}

/// Shortest origin secret accepted, in bytes.
pub const MIN_ORIGIN_SECRET_LEN: usize = 32;

/// The master secret from which each product's origin signing key is
/// derived (HKDF-SHA256, see [`crate::signature::hkdf`]). It holds only the
/// HKDF pseudorandom key as a keyed HMAC state, never the secret text.
#[derive(Clone)]
pub struct OriginSecret(Hmac<Sha256>);

impl OriginSecret {
    /// Accepts a secret of at least [`MIN_ORIGIN_SECRET_LEN`] bytes once
    /// surrounding whitespace is trimmed.
    pub fn new(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        if trimmed.len() < MIN_ORIGIN_SECRET_LEN {
            return Err("KEYGATE_ORIGIN_SECRET must be at least 32 characters long");
        }
        Ok(OriginSecret(hkdf::extract(hkdf::SALT, trimmed.as_bytes())))
    }

    /// The HKDF pseudorandom key, as an HMAC state keyed with it.
    pub(crate) fn prk(&self) -> &Hmac<Sha256> {
        &self.0
    }
}

impl fmt::Debug for OriginSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OriginSecret([redacted])")
    }
}

/// Shortest key-tagging secret accepted, in bytes.
pub const MIN_KEY_SECRET_LEN: usize = 32;

/// The deployment's key-tagging secrets (`KEYGATE_KEY_SECRET` and the
/// optional `KEYGATE_KEY_SECRET_PREVIOUS`), as keyed HMAC-SHA256 states.
/// New keys are tagged with the current secret; a key tagged with either
/// verifies, so the secret can be rotated without breaking issued keys.
#[derive(Clone)]
pub struct KeySecret {
    current: Hmac<Sha256>,
    previous: Option<Hmac<Sha256>>,
}

impl KeySecret {
    /// Accepts a current secret, and optionally a previous one, of at least
    /// [`MIN_KEY_SECRET_LEN`] bytes each once surrounding whitespace is
    /// trimmed. A previous secret that is empty or only whitespace counts
    /// as absent.
    pub fn new(current: &str, previous: Option<&str>) -> Result<Self, &'static str> {
        let current = current.trim();
        if current.len() < MIN_KEY_SECRET_LEN {
            return Err("KEYGATE_KEY_SECRET must be at least 32 characters long");
        }
        let previous = previous.map(str::trim).filter(|p| !p.is_empty());
        if previous.is_some_and(|p| p.len() < MIN_KEY_SECRET_LEN) {
            return Err(
                "KEYGATE_KEY_SECRET_PREVIOUS, when set, must be at least 32 characters long",
            );
        }
        let key = |raw: &str| {
            <Hmac<Sha256> as Mac>::new_from_slice(raw.as_bytes())
                .map_err(|_| "KEYGATE_KEY_SECRET cannot key HMAC-SHA256")
        };
        Ok(KeySecret {
            current: key(current)?,
            previous: previous.map(key).transpose()?,
        })
    }

    /// A fresh HMAC-SHA256 keyed with the current secret: it tags new keys.
    pub fn current(&self) -> Hmac<Sha256> {
        self.current.clone()
    }

    /// A fresh HMAC-SHA256 keyed with the previous secret, if one is set.
    pub fn previous(&self) -> Option<Hmac<Sha256>> {
        self.previous.clone()
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySecret([redacted])")
    }
}

/// Shortest admin token accepted, in bytes.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

/// The management API's admin token (the Worker secret
/// `KEYGATE_ADMIN_TOKEN`), held as its SHA-256 digest.
#[derive(Clone)]
pub struct AdminToken([u8; 32]);

impl AdminToken {
    /// Accepts a token of at least [`MIN_ADMIN_TOKEN_LEN`] bytes once
    /// surrounding whitespace is trimmed.
    pub fn new(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        if trimmed.len() < MIN_ADMIN_TOKEN_LEN {
            return Err("KEYGATE_ADMIN_TOKEN must be at least 32 characters long");
        }
        Ok(AdminToken(Sha256::digest(trimmed.as_bytes()).into()))
    }

    /// Whether an `Authorization` header value carries this token as
    /// `Bearer <token>`. The SHA-256 digests of both are compared in
    /// constant time, so neither the token's content nor its length shows
    /// in the timing.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        self.0.ct_eq(&bearer_digest(authorization)).into()
    }

    /// A 32-byte key derived from this token and `input` (HKDF-SHA256,
    /// `salt` naming the use), for keys that only a holder of the token
    /// can recreate.
    pub fn derive(&self, salt: &[u8], input: &[u8]) -> [u8; 32] {
        hkdf::expand_32(&hkdf::extract(salt, &self.0), input)
    }
}

/// The SHA-256 of the token in an `Authorization: Bearer <token>` value
/// (of the empty string when there is none), for a constant-time compare
/// with a stored digest.
fn bearer_digest(authorization: Option<&str>) -> [u8; 32] {
    let presented = authorization
        .map(str::trim)
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, token)| token.trim());
    Sha256::digest(presented.as_bytes()).into()
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken([redacted])")
    }
}

/// A product's verifier token: the only credential the gateway's verify
/// endpoint accepts for that product. Held as its SHA-256 digest.
pub struct VerifierToken([u8; 32]);

impl VerifierToken {
    /// Accepts a token of at least [`MIN_ADMIN_TOKEN_LEN`] bytes once
    /// surrounding whitespace is trimmed.
    pub fn new(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        if trimmed.len() < MIN_ADMIN_TOKEN_LEN {
            return Err("a verifier token must be at least 32 characters long");
        }
        Ok(VerifierToken(Sha256::digest(trimmed.as_bytes()).into()))
    }

    /// Whether an `Authorization` header value carries this token as
    /// `Bearer <token>`; the digests are compared in constant time.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        self.0.ct_eq(&bearer_digest(authorization)).into()
    }
}

impl fmt::Debug for VerifierToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifierToken([redacted])")
    }
}

/// A webhook signing secret, `whsec_` and the base64 of 32 random bytes
/// (the Standard Webhooks format). Shown once, at creation; stored only in
/// the account's Durable Object.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Makes a secret from 32 random bytes.
    pub fn from_random(random: &[u8; 32]) -> Self {
        WebhookSecret(format!("whsec_{}", base64(random)))
    }

    /// The secret text. Call only to show it once or to sign with it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

/// Standard base64 with padding (RFC 4648 section 4).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [0, 1, 2].map(|i| chunk.get(i).copied().unwrap_or(0));
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                let index = (n >> shift & 63) as usize;
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_key() {
        let key = ApiKey::new("  sf_live_secretvalue  ");
        assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
        assert_eq!(key.expose(), "sf_live_secretvalue");
    }

    #[test]
    fn debug_never_prints_the_origin_secret() {
        let secret = OriginSecret::new("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(format!("{secret:?}"), "OriginSecret([redacted])");
    }

    #[test]
    fn short_origin_secret_is_refused() {
        assert!(OriginSecret::new("short").is_err());
        assert!(OriginSecret::new("   0123456789abcdef0123456789abcde   ").is_err());
    }

    #[test]
    fn equality_compares_whole_values() {
        assert_eq!(ApiKey::new("abc"), ApiKey::new(" abc "));
        assert_ne!(ApiKey::new("abc"), ApiKey::new("abd"));
        assert_ne!(ApiKey::new("abc"), ApiKey::new("abcd"));
    }

    #[test]
    fn admin_token_needs_length_and_the_exact_bearer_value() {
        assert!(AdminToken::new("short").is_err());
        let token = AdminToken::new("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(format!("{token:?}"), "AdminToken([redacted])");
        assert!(token.admits(Some("Bearer 0123456789abcdef0123456789abcdef")));
        assert!(token.admits(Some("bearer  0123456789abcdef0123456789abcdef ")));
        assert!(!token.admits(None));
        assert!(!token.admits(Some("0123456789abcdef0123456789abcdef")));
        assert!(!token.admits(Some("Basic 0123456789abcdef0123456789abcdef")));
        assert!(!token.admits(Some("Bearer 0123456789abcdef0123456789abcdeX")));
        assert!(!token.admits(Some("Bearer 0123456789abcdef0123456789abcdef0")));
        assert!(!token.admits(Some("Bearer ")));
    }

    #[test]
    fn verifier_token_needs_length_compares_exactly_and_is_redacted() {
        assert!(VerifierToken::new(&"v".repeat(31)).is_err());
        let token = VerifierToken::new(&"v".repeat(40)).unwrap();
        assert_eq!(format!("{token:?}"), "VerifierToken([redacted])");
        assert!(token.admits(Some(&format!("Bearer {}", "v".repeat(40)))));
        assert!(!token.admits(Some(&format!("Bearer {}", "v".repeat(41)))));
        assert!(!token.admits(Some(&"v".repeat(40))));
        assert!(!token.admits(None));
        assert!(!token.admits(Some("Bearer ")));
    }

    #[test]
    fn key_secret_needs_length_and_is_redacted() {
        let good = "k".repeat(32);
        assert!(KeySecret::new("short", None).is_err());
        assert!(KeySecret::new(&format!("  {}  ", "k".repeat(31)), None).is_err());
        assert!(KeySecret::new(&good, Some("short")).is_err());
        let secret = KeySecret::new(&good, Some("  ")).unwrap();
        assert!(secret.previous().is_none());
        let secret = KeySecret::new(&good, Some(&"p".repeat(32))).unwrap();
        assert!(secret.previous().is_some());
        assert_eq!(format!("{secret:?}"), "KeySecret([redacted])");
    }

    #[test]
    fn admin_token_is_held_as_a_digest() {
        let token = AdminToken::new("0123456789abcdef0123456789abcdef").unwrap();
        // The stored form has a fixed length whatever the token's length.
        assert_eq!(token.0.len(), 32);
        assert_ne!(&token.0[..], b"0123456789abcdef0123456789abcdef");
        let long = AdminToken::new(&"x".repeat(500)).unwrap();
        assert!(long.admits(Some(&format!("Bearer {}", "x".repeat(500)))));
        assert!(!long.admits(Some(&format!("Bearer {}", "x".repeat(499)))));
    }

    #[test]
    fn webhook_secrets_are_standard_base64_and_redacted() {
        // RFC 4648 test vectors, through the same encoder.
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
        let secret = WebhookSecret::from_random(&[0xfb; 32]);
        assert_eq!(
            secret.expose(),
            "whsec_+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s="
        );
        assert_eq!(format!("{secret:?}"), "WebhookSecret([redacted])");
    }
}
