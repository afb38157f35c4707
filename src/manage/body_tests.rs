use super::*;
use crate::config::tests::demo_config;

const NOW: i64 = 1_795_416_000;

fn create_err(json: &str) -> (&'static str, Option<String>, String) {
    let err = create(&demo_config(), json.as_bytes(), NOW, false).unwrap_err();
    (err.code(), err.field().map(str::to_owned), err.detail())
}

#[test]
fn a_full_create_body() {
    let new = create(
        &demo_config(),
        br#"{"product":"forgeai","name":"Agent","scopes":["read","view_logs"],
             "environment":"test","expires_at":"2026-12-01T00:00:00Z",
             "webhook_url":"https://hooks.example.com/keygate"}"#,
        NOW,
        false,
    )
    .unwrap();
    assert_eq!(new.scopes, Some(vec!["read".into(), "view_logs".into()]));
    assert_eq!(new.environment, Environment::Test);
    assert_eq!(new.expires_at, Some(1_796_083_200));
    assert_eq!(
        new.webhook_url.as_deref(),
        Some("https://hooks.example.com/keygate")
    );
}

#[test]
fn each_fault_names_its_field() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("{", "invalid_json", None),
        ("", "invalid_json", None),
        ("[]", "invalid_json", None),
        (
            r#"{"product":"forgeai","name":"a","nme":"b"}"#,
            "unknown_field",
            Some("nme"),
        ),
        (r#"{"product":"forgeai"}"#, "invalid_field", Some("name")),
        (
            r#"{"product":"forgeai","name":5}"#,
            "invalid_field",
            Some("name"),
        ),
        (
            r#"{"product":"forgeai","name":"a","scopes":"read"}"#,
            "invalid_field",
            Some("scopes"),
        ),
        (
            r#"{"product":"forgeai","name":"a","scopes":["read",7]}"#,
            "invalid_field",
            Some("scopes[1]"),
        ),
        (
            r#"{"product":"nope","name":"a"}"#,
            "unknown_product",
            Some("product"),
        ),
        (
            r#"{"product":"forgeai","name":"   "}"#,
            "invalid_field",
            Some("name"),
        ),
        (
            r#"{"product":"forgeai","name":"a\u0007"}"#,
            "invalid_field",
            Some("name"),
        ),
        (
            r#"{"product":"forgeai","name":"a","scopes":[]}"#,
            "invalid_field",
            Some("scopes"),
        ),
        (
            r#"{"product":"forgeai","name":"a","scopes":["read","admin"]}"#,
            "invalid_field",
            Some("scopes[1]"),
        ),
        (
            r#"{"product":"forgeai","name":"a","scopes":["read","read"]}"#,
            "invalid_field",
            Some("scopes[1]"),
        ),
        (
            r#"{"product":"forgeai","name":"a","environment":"prod"}"#,
            "invalid_field",
            Some("environment"),
        ),
        (
            r#"{"product":"forgeai","name":"a","expires_in_days":0}"#,
            "invalid_field",
            Some("expires_in_days"),
        ),
        (
            r#"{"product":"forgeai","name":"a","expires_in_days":366}"#,
            "invalid_field",
            Some("expires_in_days"),
        ),
        (
            r#"{"product":"forgeai","name":"a","expires_in_days":1.5}"#,
            "invalid_field",
            Some("expires_in_days"),
        ),
        (
            r#"{"product":"forgeai","name":"a","expires_in_days":1,"expires_at":"2026-12-01T00:00:00Z"}"#,
            "invalid_field",
            Some("expires_at"),
        ),
        (
            r#"{"product":"forgeai","name":"a","expires_at":"tomorrow"}"#,
            "invalid_field",
            Some("expires_at"),
        ),
        (
            r#"{"product":"forgeai","name":"a","expires_at":"2026-11-23T06:40:00Z"}"#,
            "invalid_field",
            Some("expires_at"),
        ),
        (
            r#"{"product":"forgeai","name":"a","expires_at":"2027-11-24T06:40:00Z"}"#,
            "invalid_field",
            Some("expires_at"),
        ),
        (
            r#"{"product":"forgeai","name":"a","webhook_url":"http://example.com/h"}"#,
            "invalid_field",
            Some("webhook_url"),
        ),
        (
            r#"{"product":"forgeai","name":"a","webhook_url":"http://localhost:9/h"}"#,
            "invalid_field",
            Some("webhook_url"),
        ),
        (
            r#"{"product":"forgeai","name":"a","webhook_url":"ftp://example.com/h"}"#,
            "invalid_field",
            Some("webhook_url"),
        ),
        (
            r#"{"product":"forgeai","name":"a","webhook_url":"https://u:p@example.com/h"}"#,
            "invalid_field",
            Some("webhook_url"),
        ),
    ];
    for (json, code, field) in cases {
        let (got_code, got_field, detail) = create_err(json);
        assert_eq!(
            (got_code, got_field.as_deref()),
            (*code, *field),
            "{json}: {detail}"
        );
    }
    let name = format!(r#"{{"product":"forgeai","name":"{}"}}"#, "n".repeat(65));
    assert_eq!(create_err(&name).1.as_deref(), Some("name"));
    let ok = format!(r#"{{"product":"forgeai","name":"{}"}}"#, "ñ".repeat(64));
    assert!(create(&demo_config(), ok.as_bytes(), NOW, false).is_ok());
}

#[test]
fn messages_say_how_to_fix_it() {
    let (_, _, detail) = create_err(r#"{"product":"forgeai","name":"a","nme":"b"}"#);
    assert!(
        detail.contains("Remove it") && detail.contains("webhook_url"),
        "{detail}"
    );
    let (_, _, detail) = create_err(r#"{"product":"nope","name":"a"}"#);
    assert!(
        detail.contains("salesforge, mailforge, forgeai"),
        "{detail}"
    );
    let (_, _, detail) = create_err(r#"{"product":"forgeai","name":"a","scopes":["admin"]}"#);
    assert!(
        detail.contains("execute_flows, manage_deployments"),
        "{detail}"
    );
}

#[test]
fn names_refuse_bidi_controls_and_invisible_format_characters() {
    for bad in [
        "\u{202E}gpj.exe",
        "ci\u{200B}deploy",
        "\u{2066}x\u{2069}",
        "a\u{00AD}b",
        "\u{FEFF}bom",
        "tag\u{E0041}",
    ] {
        let json = serde_json::json!({ "product": "forgeai", "name": bad }).to_string();
        let (code, field, detail) = create_err(&json);
        assert_eq!((code, field.as_deref()), ("invalid_field", Some("name")));
        assert!(detail.contains("Cf"), "{detail}");
        let patch = serde_json::json!({ "name": bad }).to_string();
        assert_eq!(
            update(patch.as_bytes(), NOW).unwrap_err().field(),
            Some("name")
        );
    }
    // Visible non-ASCII text stays allowed.
    let ok = serde_json::json!({ "product": "forgeai", "name": "Déploiement 東京 ✓" }).to_string();
    assert!(create(&demo_config(), ok.as_bytes(), NOW, false).is_ok());
}

#[test]
fn webhooks_must_reach_a_public_host() {
    for url in [
        "https://127.0.0.1/h",
        "https://2130706433/h",
        "https://0x7f000001/h",
        "https://[::1]/h",
        "https://169.254.169.254/latest",
        "https://10.0.0.1/h",
        "https://[::ffff:127.0.0.1]/h",
        "https://localhost/h",
        "https://hooks.localhost/h",
        "https://192.168.0.10/h",
        "https://[fd00::1]/h",
        "https://0.0.0.0/h",
    ] {
        let json = format!(r#"{{"product":"forgeai","name":"a","webhook_url":"{url}"}}"#);
        let (code, field, detail) = create_err(&json);
        assert_eq!(
            (code, field.as_deref()),
            ("invalid_field", Some("webhook_url")),
            "{url}"
        );
        assert!(detail.contains("public host"), "{url}: {detail}");
    }
    // Dev mode allows this machine only, not the rest of the network.
    for url in [
        "https://10.0.0.1/h",
        "http://169.254.169.254/",
        "http://192.168.0.1/",
    ] {
        let json = format!(r#"{{"product":"forgeai","name":"a","webhook_url":"{url}"}}"#);
        assert!(
            create(&demo_config(), json.as_bytes(), NOW, true).is_err(),
            "{url}"
        );
    }
    for url in ["http://2130706433:9/h", "https://localhost:9/h"] {
        let json = format!(r#"{{"product":"forgeai","name":"a","webhook_url":"{url}"}}"#);
        assert!(
            create(&demo_config(), json.as_bytes(), NOW, true).is_ok(),
            "{url}"
        );
    }
    let json = r#"{"product":"forgeai","name":"a","webhook_url":"https://hooks.example.com/h"}"#;
    assert!(create(&demo_config(), json.as_bytes(), NOW, false).is_ok());
}

#[test]
fn local_http_webhooks_only_in_dev() {
    for url in [
        "http://localhost:9/h",
        "http://127.0.0.1:9/h",
        "http://[::1]:9/h",
    ] {
        let json = format!(r#"{{"product":"forgeai","name":"a","webhook_url":"{url}"}}"#);
        assert!(
            create(&demo_config(), json.as_bytes(), NOW, true).is_ok(),
            "{url}"
        );
        assert!(
            create(&demo_config(), json.as_bytes(), NOW, false).is_err(),
            "{url}"
        );
    }
    let json = r#"{"product":"forgeai","name":"a","webhook_url":"http://example.com/h"}"#;
    assert!(create(&demo_config(), json.as_bytes(), NOW, true).is_err());
}

#[test]
fn update_rotate_and_status_bodies() {
    assert_eq!(
        update(br#"{"name":"b"}"#, NOW).unwrap(),
        Update {
            allowed_ips: Default::default(),
            name: Some("b".into()),
            scopes: None,
            expires_at: None,
            enabled: None,
            meta: None,
        }
    );
    assert_eq!(update(b"{}", NOW).unwrap_err().field(), Some("name"));
    assert_eq!(
        update(br#"{"name":"b","product":"x"}"#, NOW)
            .unwrap_err()
            .code(),
        "unknown_field"
    );
    assert_eq!(rotate(br#"{"grace_seconds":0}"#).unwrap(), 0);
    assert_eq!(rotate(br#"{"grace_seconds":604800}"#).unwrap(), 604_800);
    for bad in [
        r#"{"grace_seconds":604801}"#,
        r#"{"grace_seconds":-1}"#,
        r#"{"grace_seconds":"1"}"#,
        "{}",
    ] {
        assert_eq!(
            rotate(bad.as_bytes()).unwrap_err().field(),
            Some("grace_seconds"),
            "{bad}"
        );
    }
    assert_eq!(
        set_status(br#"{"status":"suspended"}"#).unwrap(),
        AccountStatus::Suspended
    );
    assert_eq!(
        set_status(br#"{"status":"paused"}"#).unwrap_err().field(),
        Some("status")
    );
}

/// JSON as JSON Schema reads it: no repeated members, no nulls for
/// absent members, whole-number floats are integers.
#[test]
fn json_is_read_as_the_schema_reads_it() {
    let config = demo_config();
    let create = |json: &str| create(&config, json.as_bytes(), NOW, false);
    // Last-wins would make a forgeai key; refuse instead.
    let repeated = create(r#"{"product":"salesforge","name":"x","product":"forgeai"}"#);
    let err = repeated.unwrap_err();
    assert_eq!(err.code(), "invalid_json");
    assert!(err.detail().contains("`product` is given more than once"));
    assert_eq!(
        create(r#"{"product":"forgeai","name":"x","scopes":["read"],"scopes":["write"]}"#)
            .unwrap_err()
            .code(),
        "invalid_json"
    );
    for member in [
        "scopes",
        "environment",
        "expires_in_days",
        "expires_at",
        "webhook_url",
    ] {
        let err = create(&format!(
            r#"{{"product":"forgeai","name":"x","{member}":null}}"#
        ))
        .unwrap_err();
        assert_eq!((err.code(), err.field()), ("invalid_field", Some(member)));
    }
    assert_eq!(
        update(br#"{"name":null,"scopes":["read"]}"#, NOW)
            .unwrap_err()
            .field(),
        Some("name")
    );
    // An unknown member is reported as unknown, null or not.
    let err = create(r#"{"product":"forgeai","name":"x","bogus":null}"#).unwrap_err();
    assert_eq!((err.code(), err.field()), ("unknown_field", Some("bogus")));
    // A required member sent as null is refused too.
    let err = create(r#"{"product":"forgeai","name":null}"#).unwrap_err();
    assert_eq!((err.code(), err.field()), ("invalid_field", Some("name")));
    for days in ["60.0", "6e1", "600e-1", "60.000"] {
        let new = create(&format!(
            r#"{{"product":"forgeai","name":"x","expires_in_days":{days}}}"#
        ))
        .unwrap();
        assert_eq!(new.expires_at, Some(NOW + 60 * 86_400), "{days}");
    }
    for days in ["60.5", "1e300", "-0.5"] {
        let err = create(&format!(
            r#"{{"product":"forgeai","name":"x","expires_in_days":{days}}}"#
        ))
        .unwrap_err();
        assert_eq!(err.field(), Some("expires_in_days"), "{days}");
    }
    assert_eq!(rotate(br#"{"grace_seconds":3.6e3}"#), Ok(3600));
    assert_eq!(rotate(br#"{"grace_seconds":-0.0}"#), Ok(0));
    assert_eq!(
        rotate(br#"{"grace_seconds":0.5}"#).unwrap_err().field(),
        Some("grace_seconds")
    );
    // A whole float where a string belongs is still the wrong type.
    assert_eq!(
        create(r#"{"product":"forgeai","name":5.0}"#)
            .unwrap_err()
            .field(),
        Some("name")
    );
}

/// Every invalid member is reported at once, not only the first.
#[test]
fn several_faults_are_reported_together() {
    let json = r#"{"product":"forgeai","name":" x","scopes":["read","nope","read"],
        "expires_in_days":400,"webhook_url":"http://example.com"}"#;
    let err = create(&demo_config(), json.as_bytes(), NOW, false).unwrap_err();
    let Error::InvalidFields { errors } = &err else {
        panic!("{err:?}")
    };
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "name",
            "scopes[1]",
            "scopes[2]",
            "expires_in_days",
            "webhook_url"
        ]
    );
    assert_eq!(err.code(), "invalid_field");
    assert_eq!(err.field(), Some("name"));
    // One fault stays a single InvalidField.
    let err = create(
        &demo_config(),
        br#"{"product":"forgeai","name":"x","expires_in_days":0}"#,
        NOW,
        false,
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidField { .. }), "{err:?}");
}

/// PATCH changes the expiry within the creation bounds, from now, or
/// removes it with `null` (the one member where `null` means something).
#[test]
fn updates_change_or_remove_the_expiry() {
    let at = |json: &str| update(json.as_bytes(), NOW).map(|u| u.expires_at);
    assert_eq!(
        at(r#"{"expires_in_days":30}"#),
        Ok(Some(Expiry::At(NOW + 30 * 86_400)))
    );
    assert_eq!(at(r#"{"expires_at":null}"#), Ok(Some(Expiry::Never)));
    assert_eq!(
        at(r#"{"expires_at":"2026-12-01T00:00:00Z"}"#),
        Ok(Some(Expiry::At(
            crate::time::parse_rfc3339("2026-12-01T00:00:00Z").unwrap()
        )))
    );
    assert_eq!(at(r#"{"name":"x"}"#), Ok(None));
    for (json, field) in [
        (r#"{"expires_in_days":0}"#, "expires_in_days"),
        (r#"{"expires_in_days":366}"#, "expires_in_days"),
        (r#"{"expires_in_days":null}"#, "expires_in_days"),
        (r#"{"expires_at":"2020-01-01T00:00:00Z"}"#, "expires_at"),
        (r#"{"expires_at":"soon"}"#, "expires_at"),
        (r#"{"expires_in_days":3,"expires_at":null}"#, "expires_at"),
        (
            r#"{"expires_in_days":3,"expires_at":"2026-12-01T00:00:00Z"}"#,
            "expires_at",
        ),
    ] {
        assert_eq!(at(json).unwrap_err().field(), Some(field), "{json}");
    }
    // Several faults at once.
    let err = update(br#"{"name":" x","expires_in_days":0}"#, NOW).unwrap_err();
    assert!(
        matches!(err, Error::InvalidFields { ref errors } if errors.len() == 2),
        "{err:?}"
    );
}

#[test]
fn owner_ids_are_visible_ascii() {
    let with = |owner: &str| {
        let json = serde_json::json!({"product": "forgeai", "name": "x", "owner_id": owner});
        create(&demo_config(), json.to_string().as_bytes(), NOW, false)
    };
    for ok in [
        "u",
        "user_42",
        "a.b+c@example.com",
        "9f1c2d3e-0000-4000-8000-000000000000",
        &"x".repeat(128),
    ] {
        assert_eq!(with(ok).unwrap().owner_id.as_deref(), Some(ok));
    }
    for bad in ["", "a b", "tab\t", "ü", &"x".repeat(129)] {
        assert_eq!(with(bad).unwrap_err().field(), Some("owner_id"), "{bad:?}");
    }
}

#[test]
fn meta_is_an_object_of_at_most_4_kib() {
    let with = |meta: serde_json::Value| {
        let json = serde_json::json!({"product": "forgeai", "name": "x", "meta": meta});
        create(&demo_config(), json.to_string().as_bytes(), NOW, false)
    };
    assert!(with(serde_json::json!({"a": [1, {"b": null}]})).is_ok());
    assert_eq!(with(serde_json::json!({})).unwrap().meta, None);
    // {"k":"…"} is 8 bytes plus the string.
    assert!(with(serde_json::json!({"k": "x".repeat(4_088)})).is_ok());
    let err = with(serde_json::json!({"k": "x".repeat(4_089)})).unwrap_err();
    assert_eq!(err.field(), Some("meta"));
    for bad in [
        serde_json::json!([1]),
        serde_json::json!("x"),
        serde_json::json!(1),
    ] {
        assert_eq!(with(bad).unwrap_err().field(), Some("meta"));
    }
    assert_eq!(
        update(br#"{"meta":null}"#, NOW).unwrap_err().field(),
        Some("meta")
    );
    assert_eq!(
        update(br#"{"meta":{"a":1}}"#, NOW).unwrap().meta,
        serde_json::json!({"a": 1}).as_object().cloned()
    );
}

#[test]
fn allowed_ips_are_normalised_and_every_bad_entry_named() {
    let new = create(
        &demo_config(),
        br#"{"product":"forgeai","name":"a","allowed_ips":["203.0.113.7","2001:DB8::/32"]}"#,
        NOW,
        false,
    )
    .unwrap();
    assert_eq!(new.allowed_ips.texts(), ["203.0.113.7/32", "2001:db8::/32"]);
    let err = create(
        &demo_config(),
        br#"{"product":"forgeai","name":"a","allowed_ips":["10.0.0.1/8","fe80::1%eth0","10.0.0.0/8","10.0.0.0/8"]}"#,
        NOW,
        false,
    )
    .unwrap_err();
    let Error::InvalidFields { errors } = &err else {
        panic!("{err:?}")
    };
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        ["allowed_ips[0]", "allowed_ips[1]", "allowed_ips[3]"]
    );
    assert!(errors[0].1.contains("did you mean 10.0.0.0/8?"));
    let many: Vec<String> = (0..101).map(|i| format!("\"10.0.{i}.0/24\"")).collect();
    let body = format!(
        r#"{{"product":"forgeai","name":"a","allowed_ips":[{}]}}"#,
        many.join(",")
    );
    let (code, field, _) = create_err(&body);
    assert_eq!(
        (code, field.as_deref()),
        ("invalid_field", Some("allowed_ips"))
    );
    let (code, field, _) =
        create_err(r#"{"product":"forgeai","name":"a","allowed_ips":"1.2.3.4"}"#);
    assert_eq!(
        (code, field.as_deref()),
        ("invalid_field", Some("allowed_ips"))
    );
    // An update may set, replace or clear ([]) the list, and nothing else.
    let set = update(br#"{"allowed_ips":["::ffff:1.2.3.0/120"]}"#, NOW).unwrap();
    assert_eq!(set.allowed_ips.unwrap().texts(), ["1.2.3.0/24"]);
    let cleared = update(br#"{"allowed_ips":[]}"#, NOW).unwrap();
    assert!(cleared.allowed_ips.unwrap().is_empty());
    let err = update(br#"{"allowed_ips":null}"#, NOW).unwrap_err();
    assert_eq!(err.field(), Some("allowed_ips"));
}
