//! The contract between the two Workers: what the gateway sends the control
//! Worker and the accounts' Durable Objects, and how each side proves that
//! it runs with the same configuration.
//!
//! Pure: no I/O. Invariant: the gateway's calls to an account's object are
//! only [`EdgeCall`]s (a strict- or bounded-mode verdict or a usage
//! report), never a management operation, so the gateway carries no
//! management code; and every call across the seam carries the caller's
//! [`config_digest`] in [`DIGEST_HEADER`], which the control side compares with its own and
//! refuses on a difference (`503 config_mismatch`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Name of the gateway's service binding to the control Worker.
pub const CONTROL_BINDING: &str = "CONTROL";

/// The header that carries the caller's configuration digest across the
/// seam. The gateway overwrites any value a client sent.
pub const DIGEST_HEADER: &str = "Keygate-Config-Digest";

/// The largest body the gateway hands on to the control Worker: that of
/// the control endpoint that takes the most (a secret scanner's leak
/// report, 512 KiB). Each endpoint's own limit is the control Worker's to
/// enforce (the management API's is [`crate::manage::BODY_LIMIT`]).
pub const HANDOFF_BODY_LIMIT: usize = 512 * 1024;

/// The path, on the account object's internal host, of the gateway's calls.
pub const EDGE_CALL_PATH: &str = "/edge";

/// What the gateway asks an account's Durable Object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeCall {
    /// The account the object holds (its name).
    pub account: String,
    /// What to do.
    pub op: EdgeOp,
}

/// The gateway's two requests to an account's object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum EdgeOp {
    /// `consistency = "strict"`, and `"bounded"` when the held verdict is
    /// due: the key's current record.
    Verify {
        /// Key id.
        id: String,
    },
    /// The key was used at `at`.
    NoteUse {
        /// Key id.
        id: String,
        /// Unix seconds.
        at: i64,
    },
}

/// The digest of a `KEYGATE_CONFIG` table given as JSON: the lowercase hex
/// SHA-256 of its canonical form (object members sorted by name, no
/// whitespace), so the same table gives the same digest whatever the
/// order or spacing its renderer chose. `None` if `json` is not JSON.
pub fn config_digest(json: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let mut canonical = String::new();
    write_canonical(&value, &mut canonical);
    let hash = Sha256::digest(canonical.as_bytes());
    Some(hash.iter().map(|b| format!("{b:02x}")).collect())
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut members: Vec<_> = map.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (name, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(name.clone()).to_string());
                out.push(':');
                write_canonical(member, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Whether a call that carried `sent` (the value of [`DIGEST_HEADER`], if
/// any) was made with the configuration whose digest is `own`. A missing
/// header does not match: every caller across the seam sends one.
pub fn digest_matches(own: &str, sent: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    sent.is_some_and(|sent| bool::from(own.as_bytes().ct_eq(sent.trim().as_bytes())))
}

#[cfg(test)]
#[path = "seam_tests.rs"]
mod tests;
