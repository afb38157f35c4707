//! The stored key record: the value under a key's hash in the KV index.
//!
//! Versioned JSON (`"v": 1`). Invariant: [`KeyRecord::from_json`] accepts only
//! records whose ids are safe to place in HTTP headers, whose IP allowlist
//! parses ([`crate::ip_allow`]) and whose version this build understands;
//! anything else is treated as a storage fault, and the request fails
//! closed.
//!
//! Members added since version 1 are optional and written only when set
//! (`suspended`, `disabled`, `owner_id`, `meta`, `allowed_ips`), so every
//! record written before them still reads, and the version stays 1. Since
//! unknown members are refused, a build that predates a member refuses a
//! record carrying it (a storage fault) rather than ignoring it: an older
//! gateway can never forward a key whose allowlist it cannot read.

use serde::{Deserialize, Serialize};

use crate::ip_allow::AllowList;
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
    /// Whether the owning account is suspended; its keys are then refused
    /// with `account_suspended`. Written only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    /// Whether the key is turned off (not revoked: it can be turned on
    /// again); it is then refused with `disabled_key`. Written only when
    /// true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// The product's own id for the key's holder, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// The key's `meta` object (4 KiB at most); the gateway forwards only
    /// the members its product's `forward_meta` lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// The key's own IP allowlist, as canonical CIDR texts, parsed once
    /// when the record is read (and cached with it). Empty: the product's
    /// `allowed_ips` apply. Written only when set.
    #[serde(default, skip_serializing_if = "AllowList::is_empty")]
    pub allowed_ips: AllowList,
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
        masked(&self.prefix, &self.last4)
    }
}

/// A key shown masked: its display prefix, `…`, its last four characters.
pub fn masked(prefix: &str, last4: &str) -> String {
    format!("{prefix}…{last4}")
}

/// Ids that may appear in headers: 1-64 of `A-Za-z0-9_.:-`.
pub fn is_header_safe_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

pub use crate::time::format_rfc3339;

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
            suspended: false,
            disabled: false,
            owner_id: None,
            meta: None,
            allowed_ips: AllowList::default(),
        }
    }

    #[test]
    fn round_trips() {
        let record = sample();
        assert_eq!(KeyRecord::from_json(&record.to_json()).unwrap(), record);
        assert_eq!(record.masked(), "sf_live_0000…Xa1");
    }

    #[test]
    fn an_allowlist_travels_in_the_record_and_old_records_still_read() {
        let mut record = sample();
        record.allowed_ips = AllowList::parse(&["2001:DB8::/32", "203.0.113.7"]).unwrap();
        let json = record.to_json();
        assert!(json.contains(r#""allowed_ips":["2001:db8::/32","203.0.113.7/32"]"#));
        assert_eq!(KeyRecord::from_json(&json).unwrap(), record);
        // A record without the member (every record before it) has none.
        let old = sample().to_json();
        assert!(!old.contains("allowed_ips"));
        assert!(KeyRecord::from_json(&old).unwrap().allowed_ips.is_empty());
        // A stored list that does not parse is a storage fault.
        let bad = old.replacen('{', r#"{"allowed_ips":["10.0.0.1/8"],"#, 1);
        assert!(KeyRecord::from_json(&bad).is_err());
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
}
