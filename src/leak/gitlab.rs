//! GitLab's token revocation API: `GET /v1/revocable_token_types` and
//! `POST /v1/revoke_tokens`, authenticated by a bearer token.
//!
//! Pure. Invariants: the revoke request is parsed only with an
//! [`Authenticated`] value, which only [`authenticate`] makes (the bearer
//! token compared as a digest in constant time, see
//! [`crate::secret::AdminToken`]); a request holds at most
//! [`MAX_TOKENS`] bounded entries; tokens are held as
//! [`crate::secret::ApiKey`].

use serde::Deserialize;

use super::LeakError;
use crate::secret::{AdminToken, ApiKey};

/// Largest revoke request, in bytes.
pub const MAX_BODY_BYTES: usize = 512 * 1024;
/// Most tokens in one request.
pub const MAX_TOKENS: usize = 1_000;
/// Longest token, type or location, in bytes.
pub const MAX_FIELD_BYTES: usize = 2_048;

/// The bearer token GitLab presents (a Worker secret), held as a digest.
#[derive(Debug, Clone)]
pub struct BearerToken(AdminToken);

impl BearerToken {
    /// Accepts a token of at least 32 bytes, trimmed.
    pub fn new(raw: &str) -> Result<BearerToken, &'static str> {
        AdminToken::new(raw)
            .map(BearerToken)
            .map_err(|_| "the GitLab revocation token must be at least 32 characters long")
    }
}

/// Proof that a request carried the bearer token.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(());

/// Checks the `Authorization` header.
pub fn authenticate(
    token: &BearerToken,
    authorization: Option<&str>,
) -> Result<Authenticated, LeakError> {
    if token.0.admits(authorization) {
        Ok(Authenticated(()))
    } else {
        Err(LeakError::Unauthenticated(
            "the bearer token is missing or wrong",
        ))
    }
}

/// The `GET /v1/revocable_token_types` answer: `{"types":[…]}`.
pub fn revocable_token_types(_: Authenticated, types: &[String]) -> serde_json::Value {
    serde_json::json!({ "types": types })
}

/// The type name keygate gives a product's keys: `keygate_<prefix>_key`,
/// as `keygate patterns` names its rules.
pub fn token_type(prefix: &str) -> String {
    format!("keygate_{prefix}_key")
}

/// One token to revoke.
#[derive(Debug, Clone)]
pub struct Revoke {
    /// One of the revocable types.
    pub token_type: String,
    /// The token, never printed.
    pub token: ApiKey,
    /// Where it was found, if given.
    pub location: Option<String>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "type")]
    token_type: String,
    token: String,
    #[serde(default)]
    location: Option<String>,
}

/// Parses `POST /v1/revoke_tokens`: a JSON array of `{type, token,
/// location}`. A type not in `types` refuses the request (GitLab's 400).
pub fn parse_revoke(
    _: Authenticated,
    body: &[u8],
    types: &[String],
) -> Result<Vec<Revoke>, LeakError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(LeakError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let entries: Vec<RawEntry> = serde_json::from_slice(body).map_err(|e| {
        LeakError::Malformed(format!(
            "expected a JSON array of {{type, token, location}} (line {} column {})",
            e.line(),
            e.column()
        ))
    })?;
    if entries.len() > MAX_TOKENS {
        return Err(LeakError::Malformed(format!(
            "at most {MAX_TOKENS} tokens per request"
        )));
    }
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let too_long = [&e.token_type, &e.token]
                .into_iter()
                .chain(e.location.as_ref())
                .any(|f| f.len() > MAX_FIELD_BYTES);
            if too_long || e.token.is_empty() {
                return Err(LeakError::Malformed(format!(
                    "[{i}]: token must be present and each field at most {MAX_FIELD_BYTES} bytes"
                )));
            }
            if !types.contains(&e.token_type) {
                return Err(LeakError::Malformed(format!(
                    "[{i}].type is not a revocable token type"
                )));
            }
            Ok(Revoke {
                token_type: e.token_type,
                token: ApiKey::new(&e.token),
                location: e.location,
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "gitlab_tests.rs"]
mod tests;
