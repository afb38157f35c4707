use super::*;

/// A configuration exercising every feature; shared by the core's tests.
pub(crate) const DEMO_JSON: &str = r#"{
  "cache_ttl_seconds": 5,
  "products": [
    { "id": "salesforge", "name": "Salesforge", "prefix": "sf",
      "key": { "header": "X-Salesforge-Key" },
      "route": { "path_prefix": "/salesforge/", "strip_prefix": true },
      "upstream": "http://127.0.0.1:8788/",
      "public_paths": ["/health"] },
    { "id": "mailforge", "name": "Mailforge", "prefix": "mf",
      "key": { "header": "X-Mailforge-Key" },
      "route": { "path_prefix": "/mailforge", "strip_prefix": true },
      "upstream": "http://127.0.0.1:8788/mail",
      "public_paths": ["/docs/**", { "path": "/hooks/in", "methods": ["POST"] }],
      "permissions": [
        { "method": "GET", "path": "/v1/admin/**", "permission": "admin_read" }
      ] },
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

pub(crate) fn demo_config() -> Config {
    Config::from_json(DEMO_JSON).unwrap()
}

#[test]
fn demo_config_is_valid_and_normalised() {
    let config = demo_config();
    assert_eq!(config.cache_ttl_seconds, 5);
    assert_eq!(config.kv_cache_ttl_seconds, DEFAULT_KV_CACHE_TTL_SECONDS);
    assert_eq!(config.key_retention_days, DEFAULT_KEY_RETENTION_DAYS);
    assert!(
        !config.accept_untagged_keys,
        "legacy keys are off by default"
    );
    let on = Config::from_json(&DEMO_JSON.replacen(
        r#""cache_ttl_seconds": 5,"#,
        r#""cache_ttl_seconds": 5, "accept_untagged_keys": true,"#,
        1,
    ))
    .unwrap();
    assert!(on.accept_untagged_keys);
    let sf = config.product("salesforge").unwrap();
    assert_eq!(sf.route.path_prefix, "/salesforge");
    assert_eq!(sf.upstream.to_string(), "http://127.0.0.1:8788");
    let mf = config.product("mailforge").unwrap();
    assert_eq!(mf.upstream.origin, "http://127.0.0.1:8788");
    assert_eq!(mf.upstream.base_path, "/mail");
    assert_eq!(sf.default_scopes, vec!["read", "write"]);
    let fai = config.product_by_prefix("fai").unwrap();
    assert_eq!(
        fai.known_permissions,
        vec![
            "execute_flows",
            "manage_deployments",
            "read",
            "view_logs",
            "write"
        ]
    );
    assert_eq!(fai.credential.describe(), "Authorization: Bearer <key>");
    assert_eq!(sf.credential.describe(), "the X-Salesforge-Key header");
    assert_eq!(
        config
            .product("forgeai-host")
            .unwrap()
            .route
            .host
            .as_deref(),
        Some("api.forge.ai")
    );
    assert_eq!((sf.key_limit, sf.consistency), (10, Consistency::Edge));
    assert_eq!((fai.key_limit, fai.consistency), (3, Consistency::Strict));
    let api = config.management.as_ref().unwrap();
    assert_eq!(api.path_prefix, "/_keygate/v1");
    assert_eq!(api.path_within("any.host", "/_keygate/v1"), Some(""));
    assert_eq!(
        api.path_within("any.host", "/_keygate/v1/accounts/a/keys"),
        Some("/accounts/a/keys")
    );
    assert_eq!(api.path_within("any.host", "/_keygate/v10"), None);
    assert_eq!(api.path_within("any.host", "/salesforge"), None);
}

#[test]
fn management_can_move_to_a_host_or_be_turned_off() {
    let with = |table: &str| {
        Config::from_json(&DEMO_JSON.replacen(
            r#""cache_ttl_seconds": 5,"#,
            &format!(r#""cache_ttl_seconds": 5, "management": {table},"#),
            1,
        ))
    };
    assert!(with(r#"{"enabled": false}"#).unwrap().management.is_none());
    let api = with(r#"{"host": "Admin.Forge.AI", "path_prefix": "/"}"#)
        .unwrap()
        .management
        .unwrap();
    assert_eq!(
        api.path_within("admin.forge.ai", "/accounts"),
        Some("/accounts")
    );
    assert_eq!(api.path_within("api.forge.ai", "/accounts"), None);
    for (table, field, message) in [
        (
            r#"{"path_prefix": "/"}"#,
            "management.path_prefix",
            "hide every product",
        ),
        (
            r#"{"path_prefix": "admin"}"#,
            "management.path_prefix",
            "starting with '/'",
        ),
        (
            r#"{"host": "https://x"}"#,
            "management.host",
            "not a host name",
        ),
        (
            r#"{"path_prefix": "/salesforge"}"#,
            "products[salesforge].route.path_prefix",
            "management",
        ),
        (r#"{"enable": true}"#, "management.enable", "unknown field"),
    ] {
        let err = with(table).unwrap_err();
        assert_eq!(err.field, field, "{table}: {err}");
        assert!(err.message.contains(message), "{table}: {err}");
    }
}

/// Replaces `from` by `to` in the demo config and returns the error.
fn error_after(from: &str, to: &str) -> ConfigError {
    assert!(DEMO_JSON.contains(from), "fixture lacks {from}");
    Config::from_json(&DEMO_JSON.replacen(from, to, 1)).unwrap_err()
}

#[test]
fn bounded_consistency_takes_max_staleness_seconds() {
    let bounded = |more: &str| {
        Config::from_json(&DEMO_JSON.replacen(
            r#""consistency": "strict""#,
            &format!(r#""consistency": "bounded"{more}"#),
            1,
        ))
    };
    let staleness = |config: Config| config.product("forgeai").unwrap().consistency;
    assert_eq!(
        staleness(bounded("").unwrap()),
        Consistency::Bounded {
            max_staleness_seconds: DEFAULT_MAX_STALENESS_SECONDS
        },
        "default 5 s"
    );
    assert_eq!(DEFAULT_MAX_STALENESS_SECONDS, 5);
    for seconds in [1, 2, 60] {
        assert_eq!(
            staleness(bounded(&format!(r#", "max_staleness_seconds": {seconds}"#)).unwrap()),
            Consistency::Bounded {
                max_staleness_seconds: seconds
            }
        );
    }
    for (more, message) in [
        (r#", "max_staleness_seconds": 0"#, "must be 1 to 60"),
        (r#", "max_staleness_seconds": 61"#, "must be 1 to 60"),
        (r#", "max_staleness_seconds": -1"#, "invalid"),
        (r#", "max_staleness_seconds": "5""#, "invalid"),
    ] {
        let err = bounded(more).unwrap_err();
        assert_eq!(
            err.field, "products[forgeai].max_staleness_seconds",
            "{more}: {err}"
        );
        assert!(err.message.contains(message), "{more}: {err}");
    }
    // Only bounded products hold verdicts: elsewhere the field is refused.
    for mode in [r#""consistency": "strict", "#, ""] {
        let err = Config::from_json(&DEMO_JSON.replacen(
            r#""consistency": "strict""#,
            &format!(r#"{mode}"max_staleness_seconds": 5"#),
            1,
        ))
        .unwrap_err();
        assert_eq!(err.field, "products[forgeai].max_staleness_seconds");
        assert!(
            err.message.contains("only with consistency = \"bounded\""),
            "{err}"
        );
    }
}

#[test]
fn errors_name_the_product_and_field() {
    let cases = [
        (
            r#""key_limit": 3"#,
            r#""key_limit": 0"#,
            "products[forgeai].key_limit",
            "1 to 1000",
        ),
        (
            r#""consistency": "strict""#,
            r#""consistency": "eventual""#,
            "products[forgeai].consistency",
            "unknown variant",
        ),
        (
            r#""prefix": "mf""#,
            r#""prefix": "sf""#,
            "products[mailforge].prefix",
            "already used by salesforge",
        ),
        (
            r#""prefix": "mf""#,
            r#""prefix": "M""#,
            "products[mailforge].prefix",
            "2-8",
        ),
        (
            r#""id": "mailforge""#,
            r#""id": "salesforge""#,
            "products[salesforge].id",
            "twice",
        ),
        (
            r#""id": "mailforge""#,
            r#""id": "Mail Forge""#,
            "products[1].id",
            "1-32",
        ),
        (
            r#""name": "Mailforge""#,
            r#""name": " ""#,
            "products[mailforge].name",
            "1-64",
        ),
        (
            r#""path_prefix": "/mailforge""#,
            r#""path_prefix": "/salesforge""#,
            "products[mailforge].route",
            "same host",
        ),
        (
            r#""path_prefix": "/mailforge""#,
            r#""path_prefix": "mailforge""#,
            "products[mailforge].route.path_prefix",
            "starting with '/'",
        ),
        (
            r#""host": "api.forge.ai""#,
            r#""host": "https://api.forge.ai""#,
            "products[forgeai-host].route.host",
            "not a host",
        ),
        (
            r#""upstream": "http://127.0.0.1:8788/mail""#,
            r#""upstream": "ftp://x""#,
            "products[mailforge].upstream",
            "http or https",
        ),
        (
            r#""upstream": "http://127.0.0.1:8788/mail""#,
            r#""upstream": "/mail""#,
            "products[mailforge].upstream",
            "absolute",
        ),
        (
            r#""upstream": "http://127.0.0.1:8788/mail""#,
            r#""upstream": "http://x/?a=1""#,
            "products[mailforge].upstream",
            "query",
        ),
        (
            r#""header": "X-Mailforge-Key""#,
            r#""header": "X Mailforge""#,
            "products[mailforge].key",
            "header name",
        ),
        (
            r#""header": "X-Mailforge-Key""#,
            r#""header": "Keygate-Key""#,
            "products[mailforge].key",
            "cannot carry",
        ),
        (
            r#""header": "X-Mailforge-Key""#,
            r#""header": "authorization""#,
            "products[mailforge].key",
            "needs a scheme",
        ),
        (
            r#""path": "/api/v1/prediction/*""#,
            r#""path": "/api/**/x""#,
            "products[forgeai].permissions[0].path",
            "'**'",
        ),
        (
            r#""permission": "execute_flows""#,
            r#""permission": "Execute Flows""#,
            "products[forgeai].permissions[0].permission",
            "1-64",
        ),
        (
            r#""method": "POST""#,
            r#""method": "post""#,
            "products[forgeai].permissions[0].method",
            "uppercase",
        ),
        (
            r#""method": "POST""#,
            r#""method": []"#,
            "products[forgeai].permissions[0].method",
            "at least one",
        ),
        (
            r#""/status/**""#,
            r#""status""#,
            "products[forgeai].public_paths[1]",
            "must start with '/'",
        ),
        (
            r#""default_scopes": ["read", "execute_flows"]"#,
            r#""default_scopes": ["admin"]"#,
            "products[forgeai].default_scopes",
            "not a permission",
        ),
        (
            r#""cache_ttl_seconds": 5"#,
            r#""cache_ttl_seconds": 61"#,
            "cache_ttl_seconds",
            "0 to 60",
        ),
        (
            r#""cache_ttl_seconds": 5"#,
            r#""kv_cache_ttl_seconds": 10"#,
            "kv_cache_ttl_seconds",
            "minimum",
        ),
        (
            r#""cache_ttl_seconds": 5"#,
            r#""cache_ttl_seconds": 5, "key_retention_days": 29"#,
            "key_retention_days",
            "30 (the days an ended key stays at the edge) to 3650",
        ),
        (
            r#""cache_ttl_seconds": 5"#,
            r#""cache_ttl_seconds": 5, "key_retention_days": 3651"#,
            "key_retention_days",
            "30 (",
        ),
        (
            r#""cache_ttl_seconds": 5"#,
            r#""cache_ttl_seconds": "5""#,
            "cache_ttl_seconds",
            "invalid type",
        ),
        (
            r#""strip_prefix": true }"#,
            r#""strip_prefix": true, "strip": 1 }"#,
            "products[salesforge].route.strip",
            "unknown field `strip`",
        ),
        (
            r#""upstream": "http://127.0.0.1:8788/mail""#,
            r#""upstrem": "x""#,
            "products[mailforge].upstrem",
            "unknown field",
        ),
    ];
    for (from, to, field, message) in cases {
        let err = error_after(from, to);
        assert_eq!(err.field, field, "{to}: {err}");
        assert!(err.message.contains(message), "{to}: {err}");
        assert!(err.to_string().starts_with("KEYGATE_CONFIG."), "{err}");
    }
}

#[test]
fn whole_document_errors() {
    let err = Config::from_json(r#"{"products": []}"#).unwrap_err();
    assert_eq!(err.field, "products");
    assert!(Config::from_json("not json").is_err());
    assert!(Config::from_json("{}")
        .unwrap_err()
        .message
        .contains("products"));
    // Found by the config fuzz target: a table without products named the
    // field "." (`KEYGATE_CONFIG..: missing field ...`).
    let err = Config::from_json(r#"{"cache_ttl_seconds": 5}"#).unwrap_err();
    assert_eq!(err.field, "products", "{err}");
    assert_eq!(
        err.to_string(),
        "KEYGATE_CONFIG.products: missing field `products`"
    );
    // And a repeated member (JSON allows it; TOML does not).
    let twice = r#"{"products": [], "products": []}"#;
    let err = Config::from_json(twice).unwrap_err();
    assert_eq!(err.field, "products", "{err}");
}

#[test]
fn default_permission_by_method() {
    for m in ["GET", "HEAD", "OPTIONS", "get"] {
        assert_eq!(default_permission(m), "read");
    }
    for m in ["POST", "PUT", "PATCH", "DELETE", "PROPFIND"] {
        assert_eq!(default_permission(m), "write");
    }
}

#[test]
fn signing_defaults_and_bounds() {
    let config = demo_config();
    let sf = config.product("salesforge").unwrap();
    assert_eq!(
        sf.signing,
        Signing {
            sign_body: false,
            max_signed_body: 1 << 20,
            ttl_seconds: 300
        }
    );
    let with = |fields: &str| {
        Config::from_json(&DEMO_JSON.replacen(
            r#""key_limit": 3,"#,
            &format!(r#""key_limit": 3, {fields},"#),
            1,
        ))
    };
    let fai =
        with(r#""sign_body": true, "max_signed_body": 10, "signature_ttl_seconds": 10"#).unwrap();
    assert_eq!(
        fai.product("forgeai").unwrap().signing,
        Signing {
            sign_body: true,
            max_signed_body: 10,
            ttl_seconds: 10
        }
    );
    assert!(with(r#""sign_body": true, "max_signed_body": 33554432"#).is_ok());
    for (fields, field, message) in [
        (
            r#""max_signed_body": 10"#,
            "max_signed_body",
            "only with sign_body",
        ),
        (
            r#""sign_body": true, "max_signed_body": 0"#,
            "max_signed_body",
            "1 to",
        ),
        (
            r#""sign_body": true, "max_signed_body": 33554433"#,
            "max_signed_body",
            "32 MiB",
        ),
        (
            r#""signature_ttl_seconds": 9"#,
            "signature_ttl_seconds",
            "10 to 3600",
        ),
        (
            r#""signature_ttl_seconds": 3601"#,
            "signature_ttl_seconds",
            "10 to 3600",
        ),
        (
            r#""signature_ttl_seconds": -1"#,
            "signature_ttl_seconds",
            "invalid value",
        ),
        (r#""sign_body": "yes""#, "sign_body", "invalid type"),
    ] {
        let err = with(fields).unwrap_err();
        assert_eq!(
            err.field,
            format!("products[forgeai].{field}"),
            "{fields}: {err}"
        );
        assert!(err.message.contains(message), "{fields}: {err}");
    }
}

#[test]
fn upstream_errors_never_show_credentials_or_queries() {
    let upstream = DEMO_JSON
        .split("\"upstream\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    for bad in [
        "https://user:pass@x.test/?token=abc",
        "https://:pass@x.test/",
        "ftp://user:pass@x.test/?token=abc",
        "user:pass@x.test/?token=abc",
    ] {
        let err = error_after(
            &format!("\"upstream\": \"{upstream}\""),
            &format!("\"upstream\": \"{bad}\""),
        );
        assert!(err.field.ends_with(".upstream"), "{err}");
        let text = err.to_string();
        assert!(!text.contains("pass") && !text.contains("abc"), "{text}");
    }
}

#[test]
fn the_portal_is_on_by_default_under_its_prefix() {
    let config = demo_config();
    let portal = config.portal.as_ref().unwrap();
    assert_eq!(portal.path_prefix, "/_keygate/keys");
    assert_eq!(portal.path_within("/_keygate/keys"), Some("/"));
    assert_eq!(
        portal.path_within("/_keygate/keys/api/keys"),
        Some("/api/keys")
    );
    assert_eq!(portal.path_within("/_keygate/keysx"), None);
    assert!(portal.frame_ancestors.is_empty());
    let forgeai = config.product("forgeai").unwrap();
    assert_eq!(forgeai.portal.brand.display_name, "ForgeAI");
    assert!(forgeai.portal.permissions.is_empty());
}

#[test]
fn portal_settings_are_validated() {
    let with = |portal: &str| {
        Config::from_json(&DEMO_JSON.replacen(
            r#""cache_ttl_seconds": 5,"#,
            &format!(r#""cache_ttl_seconds": 5, "portal": {portal},"#),
            1,
        ))
    };
    let ok =
        with(r#"{"path_prefix": "/keys", "frame_ancestors": ["https://App.example"]}"#).unwrap();
    let portal = ok.portal.unwrap();
    assert_eq!(portal.path_prefix, "/keys");
    assert_eq!(portal.frame_ancestors, ["https://app.example"]);
    assert!(with(r#"{"enabled": false}"#).unwrap().portal.is_none());
    for (bad, field) in [
        (r#"{"path_prefix": "/_keygate/v1"}"#, "portal.path_prefix"),
        (r#"{"path_prefix": "/_keygate"}"#, "portal.path_prefix"),
        (r#"{"path_prefix": "/"}"#, "portal.path_prefix"),
        (r#"{"path_prefix": "/a/../b"}"#, "portal.path_prefix"),
        (
            r#"{"path_prefix": "/salesforge/keys"}"#,
            "products[salesforge].route.path_prefix",
        ),
        (
            r#"{"frame_ancestors": ["https://app.example/path"]}"#,
            "portal.frame_ancestors",
        ),
        (r#"{"frame_ancestors": ["*"]}"#, "portal.frame_ancestors"),
        (r##"{"colour": "#fff"}"##, ""),
    ] {
        let err = with(bad).unwrap_err();
        assert!(err.field.starts_with(field), "{bad}: {err:?}");
    }
}

#[test]
fn the_pages_public_url_and_change_budgets_are_validated() {
    let with = |portal: &str, management: &str| {
        Config::from_json(&DEMO_JSON.replacen(
            r#""cache_ttl_seconds": 5,"#,
            &format!(r#""cache_ttl_seconds": 5, "portal": {portal}, "management": {management},"#),
            1,
        ))
    };
    let ok = with(
        r#"{"public_url": "https://Keys.example.com/", "changes_per_session": 3, "changes_per_account": 7}"#,
        "{}",
    )
    .unwrap();
    let portal = ok.portal.unwrap();
    assert_eq!(
        portal.public_url.as_deref(),
        Some("https://keys.example.com")
    );
    assert_eq!(
        (portal.changes_per_session, portal.changes_per_account),
        (3, 7)
    );
    let defaults = with("{}", "{}").unwrap().portal.unwrap();
    assert_eq!(defaults.public_url, None);
    assert_eq!(
        (defaults.changes_per_session, defaults.changes_per_account),
        (20, 100)
    );
    assert!(with(r#"{"public_url": "http://127.0.0.1:8787"}"#, "{}").is_ok());
    assert!(with(
        r#"{"public_url": "https://api.example.com:8443"}"#,
        r#"{"host": "api.example.com"}"#
    )
    .is_ok());
    for (portal, management) in [
        (r#"{"public_url": "http://keys.example.com"}"#, "{}"),
        (r#"{"public_url": "https://keys.example.com/keys"}"#, "{}"),
        (r#"{"public_url": "https://keys.example.com?x"}"#, "{}"),
        (r#"{"public_url": "https://u@keys.example.com"}"#, "{}"),
        (r#"{"public_url": "keys.example.com"}"#, "{}"),
        (
            r#"{"public_url": "https://keys.example.com"}"#,
            r#"{"host": "api.example.com"}"#,
        ),
        (r#"{"changes_per_session": 0}"#, "{}"),
        (r#"{"changes_per_account": 10001}"#, "{}"),
    ] {
        let err = with(portal, management).unwrap_err();
        assert!(err.field.starts_with("portal."), "{portal}: {err:?}");
    }
}

#[test]
fn product_branding_is_validated() {
    let with = |portal: &str| {
        Config::from_json(&DEMO_JSON.replacen(
            r#""key_limit": 3,"#,
            &format!(r#""key_limit": 3, "portal": {portal},"#),
            1,
        ))
    };
    let ok = with(
        r##"{"display_name": "Forge AI", "accent_color": "#FFFF00", "logo_url": "https://cdn.example/l.svg",
            "permissions": {"execute_flows": "Run flows", "view_logs": "Read logs"}}"##,
    )
    .unwrap();
    let forgeai = &ok.product("forgeai").unwrap().portal;
    assert_eq!(forgeai.brand.display_name, "Forge AI");
    assert_eq!(forgeai.brand.accent.css(), "#ffff00");
    assert_eq!(
        forgeai.logo_origin().as_deref(),
        Some("https://cdn.example")
    );
    assert_eq!(forgeai.permissions.len(), 2);
    for bad in [
        r#"{"accent_color": "yellow"}"#,
        r#"{"logo_url": "http://cdn.example/l.svg"}"#,
        r#"{"logo_url": "javascript:alert(1)"}"#,
        r#"{"permissions": {"fly": "Fly"}}"#,
        r#"{"permissions": {"view_logs": " "}}"#,
        r#"{"display_name": ""}"#,
    ] {
        let err = with(bad).unwrap_err();
        assert!(
            err.field.starts_with("products[forgeai].portal"),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn log_setting_defaults_to_all_and_refuses_unknown_values() {
    use super::LogLevel;
    assert_eq!(demo_config().log, LogLevel::All);
    let with = |value: &str| {
        Config::from_json(&DEMO_JSON.replacen(
            r#""cache_ttl_seconds": 5,"#,
            &format!(r#""cache_ttl_seconds": 5, "log": {value},"#),
            1,
        ))
    };
    assert_eq!(with(r#""refusals""#).unwrap().log, LogLevel::Refusals);
    assert_eq!(with(r#""off""#).unwrap().log, LogLevel::Off);
    assert_eq!(with(r#""all""#).unwrap().log, LogLevel::All);
    for bad in [r#""ALL""#, r#""none""#, r#""""#, "true", "1"] {
        let err = with(bad).unwrap_err();
        assert_eq!(err.field, "log", "{bad}: {err}");
    }
    // What each setting logs.
    assert!(LogLevel::All.logs(true) && LogLevel::All.logs(false));
    assert!(!LogLevel::Refusals.logs(true) && LogLevel::Refusals.logs(false));
    assert!(!LogLevel::Off.logs(true) && !LogLevel::Off.logs(false));
}

#[test]
fn grantable_permissions_and_the_page_expiry_are_validated() {
    let with = |portal: &str| {
        Config::from_json(&DEMO_JSON.replacen(
            r#""key_limit": 3,"#,
            &format!(r#""key_limit": 3, "portal": {portal},"#),
            1,
        ))
    };
    // By default the page grants the product's default scopes, and any expiry.
    let plain = demo_config();
    let forgeai = plain.product("forgeai").unwrap();
    assert_eq!(forgeai.portal.grantable, forgeai.default_scopes);
    assert_eq!(forgeai.portal.max_expiry_days, None);
    let ok = with(r#"{"grantable": ["read", "view_logs"], "max_expiry_days": 90}"#).unwrap();
    let forgeai = &ok.product("forgeai").unwrap().portal;
    assert_eq!(forgeai.grantable, ["read", "view_logs"]);
    assert_eq!(forgeai.max_expiry_days, Some(90));
    assert!(with(r#"{"grantable": []}"#)
        .unwrap()
        .product("forgeai")
        .unwrap()
        .portal
        .grantable
        .is_empty());
    for bad in [
        r#"{"grantable": ["fly"]}"#,
        r#"{"grantable": ["read", "read"]}"#,
        r#"{"max_expiry_days": 0}"#,
        r#"{"max_expiry_days": 366}"#,
        r#"{"max_expiry_days": "30"}"#,
    ] {
        let err = with(bad).unwrap_err();
        assert!(
            err.field.starts_with("products[forgeai].portal"),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn a_product_default_allowlist_is_checked_and_the_page_may_not_edit_lists_by_default() {
    let with = |list: &str| {
        Config::from_json(&DEMO_JSON.replacen(
            r#""key_limit": 3,"#,
            &format!(r#""key_limit": 3, "allowed_ips": {list},"#),
            1,
        ))
    };
    let config = with(r#"["10.0.0.0/8", "2001:DB8::/32"]"#).unwrap();
    let fai = config.product("forgeai").unwrap();
    assert_eq!(fai.allowed_ips.texts(), ["10.0.0.0/8", "2001:db8::/32"]);
    assert!(config.product("salesforge").unwrap().allowed_ips.is_empty());
    let err = with(r#"["10.0.0.1/8"]"#).unwrap_err().to_string();
    assert!(err.contains("products[forgeai].allowed_ips[0]"), "{err}");
    assert!(err.contains("did you mean 10.0.0.0/8?"), "{err}");
    let err = with(r#"["10.0.0.0/8", "10.0.0.0/8"]"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("allowed_ips[1]"), "{err}");
    assert!(with(r#""10.0.0.0/8""#).is_err());
    // The page shows lists; it edits them only when the operator says so.
    assert!(!demo_config().portal.unwrap().editable_allowed_ips);
    let on = Config::from_json(&DEMO_JSON.replacen(
        r#""products""#,
        r#""portal": {"editable_allowed_ips": true}, "products""#,
        1,
    ))
    .unwrap();
    assert!(on.portal.unwrap().editable_allowed_ips);
}

/// The demo config with forgeai taking `legacy` keys that start `prefix`.
pub(crate) fn with_legacy(prefix: &str) -> Result<Config, ConfigError> {
    Config::from_json(&DEMO_JSON.replacen(
        r#""key_limit": 3,"#,
        &format!(r#""key_limit": 3, "legacy": {{ "prefix": "{prefix}" }},"#),
        1,
    ))
}

#[test]
fn a_legacy_prefix_is_checked_and_never_overlaps_a_key_prefix() {
    let config = with_legacy("sk_live_").unwrap();
    let legacy = config.product("forgeai").unwrap().legacy.as_ref().unwrap();
    assert_eq!(legacy.prefix, "sk_live_");
    assert!(config.product("salesforge").unwrap().legacy.is_none());
    for (prefix, says) in [
        ("s", "2 to 32 visible ASCII"),
        ("sk live", "2 to 32 visible ASCII"),
        (&"x".repeat(33), "2 to 32 visible ASCII"),
        // keygate keys of salesforge start `sf_`.
        ("sf_live_", "overlaps salesforge's key prefix"),
        ("sf", "overlaps salesforge's key prefix"),
        ("fai_", "overlaps forgeai's key prefix"),
    ] {
        let err = with_legacy(prefix).unwrap_err().to_string();
        assert!(
            err.contains("products[forgeai].legacy.prefix"),
            "{prefix}: {err}"
        );
        assert!(err.contains(says), "{prefix}: {err}");
    }
    let err = Config::from_json(&DEMO_JSON.replacen(
        r#""key_limit": 3,"#,
        r#""key_limit": 3, "legacy": { "prefix": "sk_", "colour": 1 },"#,
        1,
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("colour"), "{err}");
}
