use super::*;
use crate::config::tests::{demo_config, DEMO_JSON};

const NOW: i64 = 1_795_000_000;

fn create(body: &str) -> Result<PageNewKey, Error> {
    page_create(&demo_config(), body.as_bytes(), NOW, false)
}

fn update(body: &str) -> Result<PageUpdate, Error> {
    page_update(&demo_config(), body.as_bytes(), NOW)
}

/// demo forgeai with `portal` set.
fn config_with(portal: &str) -> Config {
    Config::from_json(&DEMO_JSON.replacen(
        r#""key_limit": 3,"#,
        &format!(r#""key_limit": 3, "portal": {portal},"#),
        1,
    ))
    .unwrap()
}

#[test]
fn a_page_create_takes_its_own_fields() {
    let new = create(
        r#"{"product":"forgeai","name":"ci","scopes":["read"],"expires_in_days":30,
            "webhook_url":"https://hooks.example.com/k"}"#,
    )
    .unwrap();
    assert_eq!(
        new,
        PageNewKey {
            allowed_ips: Default::default(),
            product: "forgeai".into(),
            name: "ci".into(),
            scopes: Some(vec!["read".into()]),
            expires_at: Some(NOW + 30 * 86_400),
            webhook_url: Some("https://hooks.example.com/k".into()),
        }
    );
    let minimal = create(r#"{"product":"forgeai","name":"ci"}"#).unwrap();
    assert_eq!(minimal.scopes, None);
    assert_eq!(minimal.expires_at, None);
}

#[test]
fn operator_only_fields_are_forbidden_and_others_unknown() {
    for field in OPERATOR_ONLY {
        let value = match field {
            "meta" => r#"{"plan":"enterprise"}"#,
            "enabled" => "true",
            _ => r#""live""#,
        };
        let body = format!(r#"{{"product":"forgeai","name":"ci","{field}":{value}}}"#);
        let error = create(&body).unwrap_err();
        assert_eq!(error.code(), "forbidden_field", "{body}");
        assert_eq!(error.status(), 403);
        assert_eq!(error.field(), Some(field));
        let body = format!(r#"{{"name":"ci","{field}":{value}}}"#);
        let error = update(&body).unwrap_err();
        assert_eq!(error.code(), "forbidden_field", "{body}");
    }
    for body in [
        r#"{"product":"forgeai","name":"ci","nme":"x"}"#,
        r#"{"product":"forgeai","name":"ci","Meta":{}}"#,
        r#"{"product":"forgeai","name":"ci","grace_seconds":1}"#,
    ] {
        assert_eq!(create(body).unwrap_err().code(), "unknown_field", "{body}");
    }
    assert_eq!(
        update(r#"{"nme":"x"}"#).unwrap_err().code(),
        "unknown_field"
    );
    // The strict reader's rules hold: a repeat is refused, never last-wins.
    assert_eq!(
        create(r#"{"product":"forgeai","name":"a","name":"b"}"#)
            .unwrap_err()
            .code(),
        "invalid_json"
    );
    // An escaped name is the same name.
    assert_eq!(
        create(r#"{"product":"forgeai","name":"ci","m\u0065ta":{}}"#)
            .unwrap_err()
            .code(),
        "forbidden_field"
    );
}

#[test]
fn a_page_create_grants_only_grantable_scopes() {
    // forgeai grants its defaults: read, execute_flows.
    let error =
        create(r#"{"product":"forgeai","name":"ci","scopes":["read","view_logs"]}"#).unwrap_err();
    assert_eq!(error.code(), "scope_not_grantable");
    assert_eq!(error.field(), Some("scopes[1]"));
    assert!(error.detail().contains("read, execute_flows"));
    // Not a permission at all, or a repeat: invalid_field first.
    for body in [
        r#"{"product":"forgeai","name":"ci","scopes":["fly"]}"#,
        r#"{"product":"forgeai","name":"ci","scopes":["read","read"]}"#,
        r#"{"product":"forgeai","name":"ci","scopes":[]}"#,
        r#"{"product":"forgeai","name":"","scopes":["view_logs"]}"#,
    ] {
        assert_eq!(create(body).unwrap_err().code(), "invalid_field", "{body}");
    }
    let wider = config_with(r#"{"grantable": ["read", "view_logs"]}"#);
    let body = br#"{"product":"forgeai","name":"ci","scopes":["view_logs"]}"#;
    assert!(page_create(&wider, body, NOW, false).is_ok());
    let body = br#"{"product":"forgeai","name":"ci","scopes":["execute_flows"]}"#;
    assert_eq!(
        page_create(&wider, body, NOW, false).unwrap_err().code(),
        "scope_not_grantable"
    );
}

#[test]
fn a_page_create_expires_within_max_expiry_days() {
    let bounded = config_with(r#"{"max_expiry_days": 30}"#);
    let make = |body: &str| page_create(&bounded, body.as_bytes(), NOW, false);
    // None asked for: the longest allowed.
    let new = make(r#"{"product":"forgeai","name":"ci"}"#).unwrap();
    assert_eq!(new.expires_at, Some(NOW + 30 * 86_400));
    let new = make(r#"{"product":"forgeai","name":"ci","expires_in_days":30}"#).unwrap();
    assert_eq!(new.expires_at, Some(NOW + 30 * 86_400));
    let new = make(r#"{"product":"forgeai","name":"ci","expires_in_days":1}"#).unwrap();
    assert_eq!(new.expires_at, Some(NOW + 86_400));
    for body in [
        r#"{"product":"forgeai","name":"ci","expires_in_days":31}"#,
        r#"{"product":"forgeai","name":"ci","expires_at":"2027-06-01T00:00:00Z"}"#,
    ] {
        let error = make(body).unwrap_err();
        assert_eq!(error.code(), "expiry_too_late", "{body}");
        assert_eq!(error.status(), 403);
    }
    // Other products are not bound.
    let free = page_create(
        &bounded,
        br#"{"product":"mailforge","name":"ci"}"#,
        NOW,
        false,
    )
    .unwrap();
    assert_eq!(free.expires_at, None);
}

#[test]
fn a_page_update_only_shortens() {
    let change = update(r#"{"name":"n","scopes":["read"],"expires_in_days":2}"#).unwrap();
    assert_eq!(change.name.as_deref(), Some("n"));
    assert_eq!(change.expiry(), Some(Expiry::Earlier(NOW + 2 * 86_400)));
    let at = update(r#"{"expires_at":"2026-12-31T00:00:00Z"}"#).unwrap();
    assert!(matches!(at.expiry(), Some(Expiry::Earlier(_))));
    // Removing an expiry is lengthening it.
    let error = update(r#"{"expires_at":null}"#).unwrap_err();
    assert_eq!(error.code(), "expiry_too_late");
    assert_eq!(error.field(), Some("expires_at"));
    for body in [
        "{}",
        r#"{"scopes":[]}"#,
        r#"{"name":null}"#,
        r#"{"expires_in_days":0}"#,
    ] {
        assert_eq!(update(body).unwrap_err().code(), "invalid_field", "{body}");
    }
}

#[test]
fn allowed_ips_only_when_the_operator_lets_the_page_set_them() {
    // Off by default: the page cannot name the list, on create or update.
    let error =
        create(r#"{"product":"forgeai","name":"ci","allowed_ips":["0.0.0.0/0"]}"#).unwrap_err();
    assert_eq!(error.code(), "forbidden_field");
    assert_eq!(error.field(), Some("allowed_ips"));
    let error = update(r#"{"allowed_ips":[]}"#).unwrap_err();
    assert_eq!(error.code(), "forbidden_field");
    assert_eq!(error.field(), Some("allowed_ips"));
    // Even a bad list is forbidden first, so nothing of it is judged.
    let error = update(r#"{"name":"x","allowed_ips":["nope"]}"#).unwrap_err();
    assert_eq!(error.code(), "forbidden_field");

    let on = Config::from_json(&DEMO_JSON.replacen(
        r#""products""#,
        r#""portal": {"editable_allowed_ips": true}, "products""#,
        1,
    ))
    .unwrap();
    let new = page_create(
        &on,
        br#"{"product":"forgeai","name":"ci","allowed_ips":["203.0.113.7"]}"#,
        NOW,
        false,
    )
    .unwrap();
    assert_eq!(
        new.allowed_ips.map(|l| l.texts()),
        Some(vec!["203.0.113.7/32".to_owned()])
    );
    let change = page_update(&on, br#"{"allowed_ips":[]}"#, NOW).unwrap();
    assert_eq!(change.allowed_ips.map(|l| l.is_empty()), Some(true));
    let error = page_update(&on, br#"{"allowed_ips":["10.0.0.1/8"]}"#, NOW).unwrap_err();
    assert_eq!(error.code(), "invalid_field");
    assert_eq!(error.field(), Some("allowed_ips[0]"));
    // Operator-only fields stay forbidden with the setting on.
    let error = page_update(&on, br#"{"meta":{}}"#, NOW).unwrap_err();
    assert_eq!(error.code(), "forbidden_field");
}
