//! GitHub secret scanning partner program: verify a report, parse it,
//! answer it.
//!
//! Pure. Invariants: [`verify`] is the only way to obtain a
//! [`VerifiedBody`], and [`parse`] takes nothing else, so an unsigned or
//! badly signed report is never read; the signature is ECDSA P-256 with
//! SHA-256 (DER, base64) over the raw body, checked with the key whose
//! `key_identifier` matches `Github-Public-Key-Identifier` in GitHub's
//! public-key document; a report holds at most [`MAX_TOKENS`] entries of
//! bounded fields; the answer names each token by its SHA-256 only.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;
use serde::{Deserialize, Serialize};

use super::LeakError;
use crate::key::KeyHash;
use crate::secret::ApiKey;

/// The header naming the signing key.
pub const KEY_ID_HEADER: &str = "Github-Public-Key-Identifier";
/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Github-Public-Key-Signature";
pub use crate::config::hook_defaults::DEFAULT_KEYS_URL;
/// Largest report body, in bytes.
pub const MAX_BODY_BYTES: usize = 512 * 1024;
/// Largest public-key document, in bytes.
pub const MAX_KEY_DOCUMENT_BYTES: usize = 64 * 1024;
/// Most tokens in one report.
pub const MAX_TOKENS: usize = 1_000;
/// Longest reported token, in bytes.
pub const MAX_TOKEN_BYTES: usize = 1_024;
/// Longest reported URL, in bytes.
pub const MAX_URL_BYTES: usize = 2_048;
/// Longest reported type or source, in bytes.
pub const MAX_LABEL_BYTES: usize = 128;
/// Longest signature header, in bytes (a DER P-256 signature is at most
/// 72 bytes, 96 in base64).
pub const MAX_SIGNATURE_BYTES: usize = 256;

/// GitHub's signing keys, parsed from the public-key document.
#[derive(Debug, Clone)]
pub struct PublicKeys(Vec<(String, VerifyingKey)>);

#[derive(Deserialize)]
struct Document {
    public_keys: Vec<DocumentKey>,
}

#[derive(Deserialize)]
struct DocumentKey {
    key_identifier: String,
    key: String,
}

impl PublicKeys {
    /// Parses `{"public_keys":[{"key_identifier","key" (PEM),
    /// "is_current"}]}`. Every key must be a P-256 public key; one bad key
    /// refuses the document, so a broken document is noticed, not half
    /// used.
    pub fn parse(document: &[u8]) -> Result<PublicKeys, LeakError> {
        if document.len() > MAX_KEY_DOCUMENT_BYTES {
            return Err(LeakError::BadKeyDocument(format!(
                "larger than {MAX_KEY_DOCUMENT_BYTES} bytes"
            )));
        }
        // JSON is UTF-8 (RFC 8259): checked over the whole document, since
        // serde skips the members it ignores without checking them.
        let text = std::str::from_utf8(document)
            .map_err(|_| LeakError::BadKeyDocument("not UTF-8".into()))?;
        let doc: Document = serde_json::from_str(text)
            .map_err(|e| LeakError::BadKeyDocument(format!("not the expected JSON: {e}")))?;
        let keys = doc
            .public_keys
            .into_iter()
            .map(|k| match VerifyingKey::from_public_key_pem(k.key.trim()) {
                Ok(key) => Ok((k.key_identifier, key)),
                Err(_) => Err(LeakError::BadKeyDocument(format!(
                    "key {:?} is not a P-256 public key in PEM",
                    k.key_identifier
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(LeakError::BadKeyDocument("it lists no key".into()));
        }
        Ok(PublicKeys(keys))
    }

    fn find(&self, identifier: &str) -> Option<&VerifyingKey> {
        self.0
            .iter()
            .find(|(id, _)| id == identifier)
            .map(|(_, key)| key)
    }
}

/// A report body whose signature verified: only [`verify`] makes one.
#[derive(Debug, Clone, Copy)]
pub struct VerifiedBody<'a>(&'a [u8]);

/// Verifies the signature headers over the raw `body`.
pub fn verify<'a>(
    keys: &PublicKeys,
    identifier: Option<&str>,
    signature: Option<&str>,
    body: &'a [u8],
) -> Result<VerifiedBody<'a>, LeakError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(LeakError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let identifier = identifier
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or(LeakError::Unauthenticated(
            "Github-Public-Key-Identifier is missing",
        ))?;
    let signature = signature
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= MAX_SIGNATURE_BYTES)
        .ok_or(LeakError::Unauthenticated(
            "Github-Public-Key-Signature is missing or too long",
        ))?;
    let key = keys.find(identifier).ok_or(LeakError::UnknownKey)?;
    let der = STANDARD
        .decode(signature)
        .map_err(|_| LeakError::Unauthenticated("the signature is not base64"))?;
    let signature = Signature::from_der(&der)
        .map_err(|_| LeakError::Unauthenticated("the signature is not a DER ECDSA signature"))?;
    key.verify(body, &signature)
        .map_err(|_| LeakError::Unauthenticated("the signature does not verify"))?;
    Ok(VerifiedBody(body))
}

/// One reported token.
#[derive(Debug, Clone)]
pub struct Reported {
    /// The token, never printed.
    pub token: ApiKey,
    /// GitHub's name for the pattern that matched.
    pub token_type: String,
    /// Where it was found, if given.
    pub url: Option<String>,
    /// What kind of place (`content`, `commit`, …), if given.
    pub source: Option<String>,
}

#[derive(Deserialize)]
struct RawEntry {
    token: String,
    #[serde(rename = "type")]
    token_type: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

/// Parses a verified report: a JSON array of `{token, type, url, source}`
/// (other members are ignored).
pub fn parse(body: VerifiedBody<'_>) -> Result<Vec<Reported>, LeakError> {
    let entries: Vec<RawEntry> = serde_json::from_slice(body.0).map_err(|e| {
        LeakError::Malformed(format!(
            "expected a JSON array of {{token, type, url, source}} (line {} column {})",
            e.line(),
            e.column()
        ))
    })?;
    if entries.len() > MAX_TOKENS {
        return Err(LeakError::Malformed(format!(
            "at most {MAX_TOKENS} tokens per report"
        )));
    }
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let too_long = |field: &str, max: usize| {
                LeakError::Malformed(format!("[{i}].{field} is longer than {max} bytes"))
            };
            if e.token.is_empty() || e.token.len() > MAX_TOKEN_BYTES {
                return Err(too_long("token", MAX_TOKEN_BYTES));
            }
            if e.token_type.len() > MAX_LABEL_BYTES {
                return Err(too_long("type", MAX_LABEL_BYTES));
            }
            if e.url.as_ref().is_some_and(|u| u.len() > MAX_URL_BYTES) {
                return Err(too_long("url", MAX_URL_BYTES));
            }
            if e.source.as_ref().is_some_and(|s| s.len() > MAX_LABEL_BYTES) {
                return Err(too_long("source", MAX_LABEL_BYTES));
            }
            Ok(Reported {
                token: ApiKey::new(&e.token),
                token_type: e.token_type,
                url: e.url,
                source: e.source,
            })
        })
        .collect()
}

/// Whether a reported token is a live key of this deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// A live keygate key: it is acted on.
    TruePositive,
    /// Anything else (unknown, malformed, already revoked or expired).
    FalsePositive,
}

/// One entry of the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Lowercase hex SHA-256 of the token.
    pub token_hash: String,
    /// The reported type, echoed.
    pub token_type: String,
    /// The verdict.
    pub label: Label,
}

/// The answer, one entry per reported token in order: `classify` decides
/// each label (the edge: shape, tag, lookup and status).
pub fn answer(reports: &[Reported], mut classify: impl FnMut(&Reported) -> Label) -> Vec<Finding> {
    reports
        .iter()
        .map(|r| Finding {
            token_hash: KeyHash::of(&r.token).to_hex(),
            token_type: r.token_type.clone(),
            label: classify(r),
        })
        .collect()
}

#[cfg(test)]
#[path = "github_tests.rs"]
mod tests;
