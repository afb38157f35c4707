//! The stored key record: the value under a key's hash in the KV index.
//!
//! Versioned JSON (`"v": 1`). Invariant: [`KeyRecord::from_json`] accepts only
//! records whose ids are safe to place in HTTP headers and whose version
//! this build understands; anything else is treated as a storage fault, and
//! the request fails closed.

use serde::{Deserialize, Serialize};

use crate::key::Environment;

/// Schema version written by this build.
pub const RECORD_VERSION: u32 = 1;

/// What keygate stores about a key. Never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    /// Schema version.
    pub v: u32,
    /// Key id, e.g. `key_8Hq2…`; safe to show and log.
    pub id: String,
    /// Owning account id.
    pub account: String,
    /// Product id the key was minted for.
    pub product: String,
    /// `live` or `test`.
    pub environment: Environment,
    /// Owner-chosen name.
    pub name: String,
    /// Granted permissions.
    pub scopes: Vec<String>,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Expiry, Unix seconds; the key is valid while `now < expires_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Revocation, Unix seconds; refused once `now >= revoked_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
    /// Display prefix, e.g. `fai_live_Ab12`.
    pub prefix: String,
    /// Last four characters of the key.
    pub last4: String,
}

impl KeyRecord {
    /// Parses and checks a stored record. The error is for logs only.
    pub fn from_json(json: &str) -> Result<KeyRecord, String> {
        let record: KeyRecord =
            serde_json::from_str(json).map_err(|e| format!("unreadable key record: {e}"))?;
        if record.v != RECORD_VERSION {
            return Err(format!("key record version {} is not supported", record.v));
        }
        for (field, value) in [
            ("id", &record.id),
            ("account", &record.account),
            ("product", &record.product),
        ] {
            if !is_header_safe_id(value) {
                return Err(format!("key record field {field} is not a valid id"));
            }
        }
        if let Some(scope) = record
            .scopes
            .iter()
            .find(|s| !crate::config::is_permission_name(s))
        {
            return Err(format!(
                "key record scope {scope:?} is not a permission name"
            ));
        }
        Ok(record)
    }

    /// The JSON written to KV.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Masked form for listings, e.g. `fai_live_Ab12…9xQz`.
    pub fn masked(&self) -> String {
        format!("{}…{}", self.prefix, self.last4)
    }
}

/// Ids that may appear in headers: 1-64 of `A-Za-z0-9_.:-`.
pub fn is_header_safe_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

/// Formats Unix seconds as RFC 3339 UTC, e.g. `2026-11-23T06:40:00Z`.
pub fn format_rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> KeyRecord {
        KeyRecord {
            v: 1,
            id: "key_1".into(),
            account: "acct_1".into(),
            product: "salesforge".into(),
            environment: Environment::Live,
            name: "ci".into(),
            scopes: vec!["read".into()],
            created_at: 1_700_000_000,
            expires_at: None,
            revoked_at: None,
            prefix: "sf_live_0000".into(),
            last4: "Xa1".into(),
        }
    }

    #[test]
    fn round_trips() {
        let record = sample();
        assert_eq!(KeyRecord::from_json(&record.to_json()).unwrap(), record);
        assert_eq!(record.masked(), "sf_live_0000…Xa1");
    }

    #[test]
    fn refuses_unknown_versions_and_unsafe_ids() {
        let mut record = sample();
        record.v = 2;
        assert!(KeyRecord::from_json(&record.to_json()).is_err());
        let mut record = sample();
        record.account = "acct\r\nX-Evil: 1".into();
        assert!(KeyRecord::from_json(&record.to_json()).is_err());
        let mut record = sample();
        record.scopes = vec!["read write".into()];
        assert!(KeyRecord::from_json(&record.to_json()).is_err());
        assert!(KeyRecord::from_json("{").is_err());
        assert!(KeyRecord::from_json(r#"{"v":1}"#).is_err());
    }

    #[test]
    fn rfc3339_known_answers() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(format_rfc3339(1_795_416_000), "2026-11-23T06:40:00Z");
    }
}
