//! Target `config`: `Config::from_json`, the validator of
//! `[vars.KEYGATE_CONFIG]`.
//!
//! Input: JSON text.
//! Invariants: an error always names a field, and for a JSON object (what
//! the edge passes: a TOML table) that field is never the root `.` but a
//! member of the config or the unknown member the message names; a config that loads is valid
//! (unique ids and prefixes, valid prefixes, normalised routes and
//! upstreams, limits in range, scopes known, no route under the management
//! prefix, patterns that re-parse) and loads the same way twice.

use keygate::config::{
    check_retry_schedule, Config, ConfigError, MAX_CACHE_TTL_SECONDS, MAX_KEY_LIMIT,
    MAX_KV_CACHE_TTL_SECONDS,
};
use keygate::key::is_valid_prefix;
use keygate::pattern::PathPattern;

const TOP_LEVEL: &[&str] = &[
    "products",
    "cache_ttl_seconds",
    "kv_cache_ttl_seconds",
    "management",
    "webhooks",
    "leaks",
];

/// The `config` target.
pub fn config(data: &[u8]) {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_json(json) {
        Err(err) => check_error(json, &err),
        Ok(config) => {
            check_valid(&config);
            let again = Config::from_json(json).map(|c| format!("{c:?}"));
            assert_eq!(
                again.ok(),
                Some(format!("{config:?}")),
                "loads the same twice"
            );
        }
    }
}

fn check_error(json: &str, err: &ConfigError) {
    assert!(!err.message.is_empty(), "{err}");
    // A member named "" (`"" = 1` is valid TOML) is named as it is.
    let empty_member = err.message.starts_with("unknown field ``");
    assert!(
        !err.field.is_empty() || empty_member,
        "the error names no field: {err}"
    );
    assert!(err.to_string().starts_with("KEYGATE_CONFIG."));
    // The edge always passes a table (a JSON object); only text that is
    // not one may be faulted as a whole, with the field ".".
    let is_object = serde_json::from_str::<serde_json::Value>(json).is_ok_and(|v| v.is_object());
    if is_object {
        // An unknown member: the field ends with the name the message quotes.
        let unknown = err
            .message
            .strip_prefix("unknown field `")
            .is_some_and(|quoted| {
                err.field
                    .char_indices()
                    .filter_map(|(at, _)| err.field.get(at..))
                    .chain([""])
                    .any(|name| quoted.starts_with(&format!("{name}`")))
            });
        // "." only as the name of an unknown member (`{".": 1}`).
        assert!(
            err.field != "." || unknown,
            "the error names no field: {err}"
        );
        let root = err.field.split(['.', '[']).next().unwrap_or_default();
        assert!(
            TOP_LEVEL.contains(&root) || unknown,
            "field {:?} is not a config member: {err}",
            err.field
        );
    }
}

fn check_valid(config: &Config) {
    assert!(!config.products.is_empty());
    assert_eq!(
        check_retry_schedule(&config.hooks.retry_schedule_ms),
        Ok(())
    );
    let keys_url = &config.hooks.github_keys_url;
    assert!(keys_url.starts_with("https://") || keys_url.starts_with("http://"));
    assert!(config.cache_ttl_seconds <= MAX_CACHE_TTL_SECONDS);
    assert!((30..=MAX_KV_CACHE_TTL_SECONDS).contains(&config.kv_cache_ttl_seconds));
    for (i, p) in config.products.iter().enumerate() {
        let earlier = config.products.iter().take(i);
        for q in earlier {
            assert!(q.id != p.id && q.prefix != p.prefix && q.route != p.route);
        }
        assert!(is_valid_prefix(&p.prefix), "prefix {:?}", p.prefix);
        assert!(!p.id.is_empty() && !p.credential.header.is_empty());
        let prefix = &p.route.path_prefix;
        assert!(prefix.starts_with('/'), "path_prefix {prefix:?}");
        assert!(
            prefix == "/" || !prefix.ends_with('/'),
            "path_prefix {prefix:?}"
        );
        if let Some(host) = &p.route.host {
            assert_eq!(host, &host.to_ascii_lowercase(), "route.host is lowercase");
        }
        let origin = &p.upstream.origin;
        assert!(origin.starts_with("http://") || origin.starts_with("https://"));
        let base = &p.upstream.base_path;
        assert!(base.is_empty() || (base.starts_with('/') && !base.ends_with('/')));
        assert!((1..=MAX_KEY_LIMIT).contains(&p.key_limit));
        for known in ["read", "write"] {
            assert!(p.known_permissions.iter().any(|k| k == known));
        }
        for scope in &p.default_scopes {
            assert!(
                p.known_permissions.contains(scope),
                "default scope {scope:?}"
            );
        }
        let patterns = p
            .public_paths
            .iter()
            .map(|public| &public.path)
            .chain(p.permissions.iter().map(|r| &r.path));
        for pattern in patterns {
            assert_eq!(
                PathPattern::parse(&pattern.to_string()).as_ref(),
                Ok(pattern)
            );
        }
        for rule in &p.permissions {
            assert!(p.known_permissions.contains(&rule.permission));
        }
        let reminders = &p.hooks.expiry_reminders_seconds;
        assert!(reminders.len() <= 5);
        assert!(
            reminders.windows(2).all(|w| w.first() > w.get(1)),
            "{reminders:?}"
        );
        assert!(reminders.iter().all(|s| (1..=365 * 86_400).contains(s)));
        if let Some(api) = &config.management {
            let host = p.route.host.as_deref().unwrap_or_default();
            let shared_host = api.host.is_none() || p.route.host == api.host;
            assert!(
                !(shared_host && api.path_within(host, prefix).is_some()),
                "{} lies under the management prefix",
                p.id
            );
        }
    }
    if let Some(api) = &config.management {
        // "/" is kept as "" (the whole host), which needs a host.
        let prefix = &api.path_prefix;
        assert!(
            (prefix.is_empty() && api.host.is_some())
                || (prefix.starts_with('/') && prefix.len() > 1 && !prefix.ends_with('/')),
            "management prefix {prefix:?}"
        );
    }
}
