//! The configuration exactly as written, before validation.
//!
//! Unknown fields are refused so that a typo never silently changes
//! behaviour. A member that takes a string or a list/table is read by
//! [`TextOr`] ([`super::text_or`]).

use serde::Deserialize;

pub(crate) use super::text_or::TextOr;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub products: Vec<RawProduct>,
    pub cache_ttl_seconds: Option<u32>,
    pub kv_cache_ttl_seconds: Option<u32>,
    pub accept_untagged_keys: Option<bool>,
    pub key_retention_days: Option<u32>,
    pub management: Option<RawManagement>,
    pub portal: Option<super::portal::RawPortal>,
    pub webhooks: Option<super::hooks::RawWebhooks>,
    pub leaks: Option<super::hooks::RawLeaks>,
    pub log: Option<super::LogLevel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManagement {
    pub enabled: Option<bool>,
    pub path_prefix: Option<String>,
    pub host: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLegacy {
    pub prefix: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProduct {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub key: RawCredential,
    pub route: RawRoute,
    pub upstream: String,
    #[serde(default)]
    pub permissions: Vec<RawPermission>,
    #[serde(default)]
    pub public_paths: Vec<RawPublicPath>,
    pub default_scopes: Option<Vec<String>>,
    pub key_limit: Option<u32>,
    pub consistency: Option<RawConsistency>,
    pub max_staleness_seconds: Option<u32>,
    pub path_case: Option<super::PathCase>,
    pub allow_path_params: Option<bool>,
    pub origin_cache: Option<bool>,
    // Origin signature (RFC 9421).
    pub sign_body: Option<bool>,
    pub max_signed_body: Option<u64>,
    pub signature_ttl_seconds: Option<u32>,
    // Clients: browsers, WebSockets, proxy headers (see super::clients).
    pub cors: Option<super::clients::RawCors>,
    pub websocket: Option<super::clients::RawWebSocket>,
    pub trust_forwarded: Option<bool>,
    // Data plane extras (see super::verify_meta).
    pub forward_meta: Option<Vec<String>>,
    pub verifier_token_secret: Option<String>,
    // The default IP allowlist of the product's keys (see crate::ip_allow).
    pub allowed_ips: Option<Vec<String>>,
    // Keys in a foreign format, found by hash alone (see super::Legacy).
    pub legacy: Option<RawLegacy>,
    // The API Keys page (see super::portal).
    pub portal: Option<super::portal::RawProductPortal>,
    // Webhooks and leak response (see super::hooks).
    pub on_leak: Option<String>,
    pub expiry_reminders_seconds: Option<Vec<i64>>,
}

/// `consistency` as written; `bounded` takes `max_staleness_seconds`.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawConsistency {
    Edge,
    Strict,
    Bounded,
}

/// A public path: `"/health"`, or `{ path = "/hooks/in", methods = ["POST"] }`.
#[derive(Deserialize)]
#[serde(from = "TextOr<RawPublicEntry>")]
pub(super) enum RawPublicPath {
    Path(String),
    Entry(RawPublicEntry),
}

impl From<TextOr<RawPublicEntry>> for RawPublicPath {
    fn from(raw: TextOr<RawPublicEntry>) -> Self {
        match raw {
            TextOr::Text(path) => RawPublicPath::Path(path),
            TextOr::Other(entry) => RawPublicPath::Entry(entry),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPublicEntry {
    pub path: String,
    pub methods: RawMethods,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCredential {
    pub header: String,
    pub scheme: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub host: Option<String>,
    pub path_prefix: Option<String>,
    #[serde(default)]
    pub strip_prefix: bool,
}

#[derive(Deserialize)]
#[serde(from = "TextOr<Vec<String>>")]
pub(super) enum RawMethods {
    One(String),
    Many(Vec<String>),
}

impl From<TextOr<Vec<String>>> for RawMethods {
    fn from(raw: TextOr<Vec<String>>) -> Self {
        match raw {
            TextOr::Text(method) => RawMethods::One(method),
            TextOr::Other(list) => RawMethods::Many(list),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPermission {
    pub method: RawMethods,
    pub path: String,
    pub permission: String,
}
