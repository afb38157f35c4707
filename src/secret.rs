//! Types that hold secrets: the presented API key and the origin-signing
//! secret.
//!
//! Invariant: neither type can be printed. `Debug` and `Display` write a
//! placeholder, the raw value is reached only through an explicitly named
//! `expose` method, and equality is constant-time ([`subtle`]).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

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

/// The secret shared with origins, used to sign identity headers. It holds
/// only the keyed HMAC state, never the secret text.
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
        <Hmac<Sha256> as Mac>::new_from_slice(trimmed.as_bytes())
            .map(OriginSecret)
            .map_err(|_| "KEYGATE_ORIGIN_SECRET cannot key HMAC-SHA256")
    }

    /// A fresh HMAC-SHA256 keyed with the secret.
    pub fn mac(&self) -> Hmac<Sha256> {
        self.0.clone()
    }
}

impl fmt::Debug for OriginSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OriginSecret([redacted])")
    }
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
}
