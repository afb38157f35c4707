use super::*;
use crate::config::Config;
use crate::webhook::delivery::Schedule;

fn with(product_extra: &str, top_extra: &str) -> Result<Config, crate::config::ConfigError> {
    let json = format!(
        r#"{{ "products": [ {{ "id": "forgeai", "name": "ForgeAI", "prefix": "fai",
              "key": {{ "header": "Authorization", "scheme": "Bearer" }},
              "route": {{ "path_prefix": "/forgeai" }},
              "upstream": "https://origin.forge.ai" {product_extra} }} ] {top_extra} }}"#
    );
    Config::from_json(&json)
}

#[test]
fn defaults_leave_old_configs_unchanged() {
    let config = with("", "").unwrap();
    assert_eq!(config.hooks, Hooks::default());
    assert_eq!(
        Schedule::from_config(&config.hooks).unwrap(),
        Schedule::standard()
    );
    assert_eq!(config.hooks.github_keys_url, DEFAULT_KEYS_URL);
    assert_eq!(config.hooks.dns_resolver, DEFAULT_DNS_RESOLVER);
    assert_eq!(
        config.hooks.gitlab_token_secret,
        DEFAULT_GITLAB_TOKEN_SECRET
    );
    let product = &config.products[0];
    assert_eq!(product.hooks.on_leak, OnExposure::Revoke);
    assert_eq!(
        product.hooks.expiry_reminders_seconds,
        vec![604_800, 86_400]
    );
}

#[test]
fn every_setting_can_be_given() {
    let config = with(
        r#", "on_leak": "flag", "expiry_reminders_seconds": [2, 30]"#,
        r#", "webhooks": { "retry_schedule_ms": [0, 200, 200],
                           "dns_resolver": "http://localhost:9998/dns-query" },
            "leaks": { "github_keys_url": "http://127.0.0.1:9999/keys",
                       "gitlab_token_secret": "GITLAB_TOKEN" }"#,
    )
    .unwrap();
    let product = &config.products[0];
    assert_eq!(product.hooks.on_leak, OnExposure::Flag);
    assert_eq!(
        product.hooks.expiry_reminders_seconds,
        vec![30, 2],
        "largest first"
    );
    assert_eq!(config.hooks.retry_schedule_ms, vec![0, 200, 200]);
    assert_eq!(Schedule::from_config(&config.hooks).unwrap().attempts(), 3);
    assert_eq!(config.hooks.github_keys_url, "http://127.0.0.1:9999/keys");
    assert_eq!(config.hooks.dns_resolver, "http://localhost:9998/dns-query");
    assert_eq!(config.hooks.gitlab_token_secret, "GITLAB_TOKEN");
}

#[test]
fn bad_settings_name_their_field() {
    let product_cases = [
        (r#", "on_leak": "delete""#, "products[forgeai].on_leak"),
        (r#", "on_leak": "Revoke""#, "products[forgeai].on_leak"),
        (
            r#", "expiry_reminders_seconds": [0]"#,
            "products[forgeai].expiry_reminders_seconds",
        ),
        (
            r#", "expiry_reminders_seconds": [-5]"#,
            "products[forgeai].expiry_reminders_seconds",
        ),
        (
            r#", "expiry_reminders_seconds": [31536001]"#,
            "products[forgeai].expiry_reminders_seconds",
        ),
        (
            r#", "expiry_reminders_seconds": [5, 5]"#,
            "products[forgeai].expiry_reminders_seconds",
        ),
        (
            r#", "expiry_reminders_seconds": [1,2,3,4,5,6]"#,
            "products[forgeai].expiry_reminders_seconds",
        ),
    ];
    for (extra, field) in product_cases {
        let err = with(extra, "").unwrap_err();
        assert!(err.to_string().contains(field), "{extra}: {err}");
    }
    let top_cases = [
        (
            r#", "webhooks": { "retry_schedule_ms": [] }"#,
            "webhooks.retry_schedule_ms",
        ),
        (
            r#", "webhooks": { "retry_schedule_ms": [-1] }"#,
            "webhooks.retry_schedule_ms",
        ),
        (
            r#", "webhooks": { "dns_resolver": "http://dns.example.com/dns-query" }"#,
            "webhooks.dns_resolver",
        ),
        (
            r#", "webhooks": { "dns_resolver": "dns-query" }"#,
            "webhooks.dns_resolver",
        ),
        (
            r#", "leaks": { "github_keys_url": "http://keys.example.com/" }"#,
            "leaks.github_keys_url",
        ),
        (
            r#", "leaks": { "github_keys_url": "/keys" }"#,
            "leaks.github_keys_url",
        ),
        (
            r#", "leaks": { "github_keys_url": "ftp://localhost/" }"#,
            "leaks.github_keys_url",
        ),
        (
            r#", "leaks": { "gitlab_token_secret": "lower" }"#,
            "leaks.gitlab_token_secret",
        ),
        (
            r#", "leaks": { "gitlab_token_secret": "" }"#,
            "leaks.gitlab_token_secret",
        ),
    ];
    for (extra, field) in top_cases {
        let err = with("", extra).unwrap_err();
        assert!(err.to_string().contains(field), "{extra}: {err}");
    }
    // Unknown members are refused, as everywhere in the config.
    assert!(with("", r#", "webhooks": { "retries": 3 }"#).is_err());
    assert!(with("", r#", "leaks": { "github_url": "https://x/" }"#).is_err());
}
