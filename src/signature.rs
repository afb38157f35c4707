//! The origin signature: HMAC-SHA256 over the forwarded request's identity.
//!
//! Pure: the timestamp comes in as an argument. The origin recomputes the
//! MAC over what it received and compares in constant time, so it can
//! reject any request that did not pass through keygate, or whose identity
//! headers were altered.
//!
//! ```text
//! Keygate-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256>
//!
//! signed string (fields joined by "\n"):
//!   keygate-v1
//!   <t>
//!   <METHOD>
//!   <path and query as the origin receives them>
//!   <Keygate-Key-Id>        (empty on public paths)
//!   <Keygate-Account>       (empty on public paths)
//!   <Keygate-Product>
//!   <Keygate-Environment>   (empty on public paths)
//!   <Keygate-Scopes>        (space-separated; empty on public paths)
//! ```

use hmac::Mac;
use subtle::ConstantTimeEq;

use crate::key::hash::hex;
use crate::secret::OriginSecret;

/// The values a signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    /// Unix seconds at signing.
    pub timestamp: i64,
    /// HTTP method.
    pub method: &'a str,
    /// Path and query string as forwarded, e.g. `/v1/leads?page=2`.
    pub path_and_query: &'a str,
    /// `Keygate-Key-Id` value.
    pub key_id: &'a str,
    /// `Keygate-Account` value.
    pub account: &'a str,
    /// `Keygate-Product` value.
    pub product: &'a str,
    /// `Keygate-Environment` value.
    pub environment: &'a str,
    /// `Keygate-Scopes` value.
    pub scopes: &'a str,
}

impl Signed<'_> {
    /// The exact string that is MACed.
    pub fn canonical(&self) -> String {
        format!(
            "keygate-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.timestamp,
            self.method,
            self.path_and_query,
            self.key_id,
            self.account,
            self.product,
            self.environment,
            self.scopes
        )
    }

    /// The `v1` value: lowercase hex HMAC-SHA256 of [`Self::canonical`].
    fn v1(&self, secret: &OriginSecret) -> String {
        let mut mac = secret.mac();
        mac.update(self.canonical().as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// The `Keygate-Signature` header value.
    pub fn sign(&self, secret: &OriginSecret) -> String {
        format!("t={},v1={}", self.timestamp, self.v1(secret))
    }
}

/// Why an origin should reject a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// The header is not `t=…,v1=…`.
    Malformed,
    /// The timestamp is further than the tolerance from `now`.
    Stale,
    /// The MAC does not match.
    Mismatch,
}

/// Origin-side check of a `Keygate-Signature` header. `signed.timestamp` is
/// ignored: the header's `t` is used. Rejects timestamps more than
/// `tolerance` seconds from `now`.
pub fn verify(
    secret: &OriginSecret,
    header: &str,
    signed: Signed<'_>,
    now: i64,
    tolerance: i64,
) -> Result<(), VerifyError> {
    let (t, v1) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .ok_or(VerifyError::Malformed)?;
    let timestamp: i64 = t.parse().map_err(|_| VerifyError::Malformed)?;
    if now.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(VerifyError::Stale);
    }
    let expected = Signed {
        timestamp,
        ..signed
    }
    .v1(secret);
    if expected.as_bytes().ct_eq(v1.as_bytes()).into() {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
#[path = "signature_tests.rs"]
pub(crate) mod tests;
