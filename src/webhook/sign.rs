//! Standard Webhooks signatures: `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` = `v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
//! keyed by the base64-decoded part of a `whsec_` secret.
//!
//! Invariant: a [`SigningKey`] holds only the keyed HMAC state and never
//! prints; signatures are compared in constant time ([`subtle`]); a
//! verifier accepts a message only if one `v1` signature in the header was
//! made with one of its keys over exactly these id, timestamp and body
//! bytes, and the timestamp is within the tolerance of `now`.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::WebhookSecret;

/// The header carrying the message id (the same on every retry).
pub const ID_HEADER: &str = "webhook-id";
/// The header carrying the Unix time of this attempt, in seconds.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header carrying the space-separated signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// The prefix of every secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Seconds a rotated-out secret still signs, next to the new one.
pub const ROTATION_OVERLAP_SECONDS: i64 = 24 * 3_600;
/// How far a timestamp may be from `now`, either way, for a verifier (the
/// official libraries' five minutes).
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 5 * 60;
/// Shortest and longest decoded secret accepted, in bytes (the spec's
/// 24 to 64).
pub const SECRET_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
/// Longest `webhook-signature` header a verifier reads, in bytes.
pub const MAX_SIGNATURE_HEADER_BYTES: usize = 1_024;
/// Longest message id, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// Why a secret or message cannot be signed or verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignError {
    /// The secret lacks `whsec_`, is not base64, or decodes to a length
    /// outside [`SECRET_BYTES`].
    BadSecret,
    /// The message id is empty, too long, or not printable ASCII without
    /// spaces (it is a header value and part of the signed text).
    BadId,
}

/// Why a verifier refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// The id header is missing or malformed.
    BadId,
    /// The timestamp header is missing or not a decimal Unix time.
    BadTimestamp,
    /// The timestamp is further than the tolerance from `now`.
    StaleTimestamp,
    /// The signature header is missing, too long, or holds no `v1`
    /// signature that verifies.
    BadSignature,
}

/// An HMAC-SHA256 key decoded from a `whsec_` secret. Never printed.
#[derive(Clone)]
pub struct SigningKey(Hmac<Sha256>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

impl SigningKey {
    /// Decodes `whsec_<base64>`.
    pub fn parse(secret: &str) -> Result<SigningKey, SignError> {
        let encoded = secret
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SignError::BadSecret)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SignError::BadSecret)?;
        if !SECRET_BYTES.contains(&bytes.len()) {
            return Err(SignError::BadSecret);
        }
        <Hmac<Sha256> as Mac>::new_from_slice(&bytes)
            .map(SigningKey)
            .map_err(|_| SignError::BadSecret)
    }

    /// The key of a stored secret.
    pub fn from_secret(secret: &WebhookSecret) -> Result<SigningKey, SignError> {
        SigningKey::parse(secret.expose())
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// `v1,<base64 signature>` over `id.timestamp.body`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body)))
    }
}

/// Whether `id` can be a message id: 1 to [`MAX_ID_BYTES`] bytes of
/// printable ASCII other than space.
pub fn is_valid_id(id: &str) -> bool {
    (1..=MAX_ID_BYTES).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The three headers of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`: one `v1,…` per key, space-separated.
    pub signature: String,
}

impl SignedHeaders {
    /// The headers as (name, value) pairs.
    pub fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            (ID_HEADER, &self.id),
            (TIMESTAMP_HEADER, &self.timestamp),
            (SIGNATURE_HEADER, &self.signature),
        ]
    }
}

/// Signs one attempt of message `id` at `timestamp` with every key in
/// `keys` (the current secret first, then one still in its rotation
/// overlap). Refuses a malformed id, or no key at all.
pub fn sign(
    keys: &[SigningKey],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<SignedHeaders, SignError> {
    if !is_valid_id(id) {
        return Err(SignError::BadId);
    }
    if keys.is_empty() {
        return Err(SignError::BadSecret);
    }
    let signature = keys
        .iter()
        .map(|key| key.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(SignedHeaders {
        id: id.to_owned(),
        timestamp: timestamp.to_string(),
        signature,
    })
}

/// A message whose signature verified: only [`verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The message id.
    pub id: String,
    /// The attempt's Unix time.
    pub timestamp: i64,
}

/// Verifies a received message: the headers as received (absent ones as
/// `None`), the raw body, the receiver's keys, `now` and the tolerance in
/// seconds. Signatures other than `v1` are skipped, as the spec asks.
pub fn verify(
    keys: &[SigningKey],
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<Verified, VerifyError> {
    let id = id.filter(|id| is_valid_id(id)).ok_or(VerifyError::BadId)?;
    let timestamp = timestamp
        .filter(|t| (1..=12).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or(VerifyError::BadTimestamp)?;
    if now.abs_diff(timestamp) > tolerance.max(0).unsigned_abs() {
        return Err(VerifyError::StaleTimestamp);
    }
    let header = signature
        .filter(|s| s.len() <= MAX_SIGNATURE_HEADER_BYTES)
        .ok_or(VerifyError::BadSignature)?;
    let presented: Vec<Vec<u8>> = header
        .split_ascii_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    let mut ok = subtle::Choice::from(0);
    for key in keys {
        let expected = key.mac(id, timestamp, body);
        for sig in &presented {
            ok |= expected.as_slice().ct_eq(sig.as_slice());
        }
    }
    if bool::from(ok) {
        Ok(Verified {
            id: id.to_owned(),
            timestamp,
        })
    } else {
        Err(VerifyError::BadSignature)
    }
}

/// A key's or endpoint's secrets across a rotation: the current one, and
/// the one it replaced with the end of its overlap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secrets {
    /// Signs every delivery.
    pub current: WebhookSecret,
    /// The rotated-out secret and the Unix time until which it still
    /// signs (the rotation time plus [`ROTATION_OVERLAP_SECONDS`]).
    pub previous: Option<(WebhookSecret, i64)>,
}

impl Secrets {
    /// The state after rotating to `new` at `now`: the old current secret
    /// signs for [`ROTATION_OVERLAP_SECONDS`] more. A second rotation inside
    /// the overlap drops the oldest secret.
    pub fn rotate(self, new: WebhookSecret, now: i64) -> Secrets {
        Secrets {
            previous: Some((self.current, now.saturating_add(ROTATION_OVERLAP_SECONDS))),
            current: new,
        }
    }

    /// The keys that sign a delivery attempted at `now`: the current one
    /// first, then the previous one while `now` is before its end.
    pub fn signing_keys(&self, now: i64) -> Result<Vec<SigningKey>, SignError> {
        let mut keys = vec![SigningKey::from_secret(&self.current)?];
        if let Some((previous, until)) = &self.previous {
            if now < *until {
                keys.push(SigningKey::from_secret(previous)?);
            }
        }
        Ok(keys)
    }
}

#[cfg(test)]
#[path = "sign_tests.rs"]
mod tests;
