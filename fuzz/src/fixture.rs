//! The configuration the credential and management targets run against.
//!
//! Four products: two with their own headers, two sharing
//! `Authorization: Bearer`, one with custom permissions, so wrong-product
//! and shared-header paths are all reachable.

use std::sync::OnceLock;

use keygate::config::Config;

/// The fixture as `KEYGATE_CONFIG` JSON (also the config target's seed).
pub const CONFIG_JSON: &str = r#"{
  "cache_ttl_seconds": 5,
  "management": { "path_prefix": "/_keygate/v1" },
  "products": [
    { "id": "salesforge", "name": "Salesforge", "prefix": "sf",
      "key": { "header": "X-Salesforge-Key" },
      "route": { "path_prefix": "/salesforge/", "strip_prefix": true },
      "upstream": "http://127.0.0.1:8788/",
      "public_paths": ["/health"] },
    { "id": "mailforge", "name": "Mailforge", "prefix": "mf",
      "key": { "header": "X-Mailforge-Key" },
      "route": { "path_prefix": "/mailforge", "strip_prefix": true },
      "upstream": "http://127.0.0.1:8788/mail" },
    { "id": "forgeai", "name": "ForgeAI", "prefix": "fai",
      "key": { "header": "Authorization", "scheme": "Bearer" },
      "route": { "path_prefix": "/forgeai", "strip_prefix": true },
      "upstream": "https://origin.forge.ai",
      "public_paths": ["/api/account", "/status/**"],
      "permissions": [
        { "method": "POST", "path": "/api/v1/prediction/*", "permission": "execute_flows" },
        { "method": ["GET", "HEAD"], "path": "/api/v1/logs/**", "permission": "view_logs" },
        { "method": "*", "path": "/api/v1/deployments/**", "permission": "manage_deployments" }
      ],
      "default_scopes": ["read", "execute_flows"],
      "key_limit": 3, "consistency": "strict" },
    { "id": "forgeai-host", "name": "ForgeAI Direct", "prefix": "fh",
      "key": { "header": "Authorization", "scheme": "Bearer" },
      "route": { "host": "api.forge.ai" },
      "upstream": "https://origin.forge.ai" }
  ]
}"#;

/// The management targets' clock: 2026-01-01T00:00:00Z.
pub const NOW: i64 = 1_767_225_600;

/// The fixture, parsed once.
pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| match Config::from_json(CONFIG_JSON) {
        Ok(config) => config,
        Err(err) => panic!("the fuzz fixture config is invalid: {err}"),
    })
}
