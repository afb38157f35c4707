use super::*;
use crate::config::tests::demo_config;
use crate::key::{mint, test_secret, Environment};

const NOW: i64 = 1_795_416_000;

fn body(json: &str) -> Result<VerifyRequest, Error> {
    parse_request(Some("application/json"), json.as_bytes())
}

fn record(product: &str, scopes: &[&str]) -> KeyRecord {
    KeyRecord {
        allowed_ips: Default::default(),
        v: 1,
        id: "key_1".into(),
        account: "acct_1".into(),
        product: product.into(),
        environment: Environment::Live,
        name: "ci".into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        created_at: NOW - 1_000,
        expires_at: None,
        revoked_at: None,
        prefix: "fai_live_Ab12".into(),
        last4: "9xQz".into(),
        suspended: false,
        disabled: false,
        owner_id: Some("user_7".into()),
        meta: serde_json::json!({"plan": "pro"}).as_object().cloned(),
    }
}

#[test]
fn a_good_body_parses() {
    let r = body(r#"{"key":" fai_x ","product":"forgeai","method":"post","path":"/api"}"#).unwrap();
    assert_eq!(r.key.expose(), "fai_x");
    assert_eq!(r.product, "forgeai");
    assert_eq!(r.method.as_deref(), Some("POST"));
    assert_eq!(r.path.as_deref(), Some("/api"));
    let r = body(r#"{"product":"forgeai","key":"k"}"#).unwrap();
    assert_eq!((r.method, r.path), (None, None));
    assert_eq!(format!("{:?}", r.key), "ApiKey([redacted])");
}

#[test]
fn bad_bodies_are_refused_with_the_field_and_without_echo() {
    let secret_key = "fai_live_SECRETSECRETSECRET";
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("", "invalid_json", None),
        ("[1]", "invalid_json", None),
        (
            r#"{"key":1,"product":"forgeai"}"#,
            "invalid_field",
            Some("key"),
        ),
        (r#"{"product":"forgeai"}"#, "invalid_field", Some("key")),
        (r#"{"key":"k"}"#, "invalid_field", Some("product")),
        (
            r#"{"key":"k","product":"forgeai","x":1}"#,
            "unknown_field",
            Some("x"),
        ),
        (
            r#"{"key":"a","product":"forgeai","product":"salesforge"}"#,
            "invalid_json",
            None,
        ),
        (
            r#"{"key":"k","product":"forgeai","path":null}"#,
            "invalid_field",
            Some("path"),
        ),
        (
            r#"{"key":"k","product":"forgeai","method":"G T"}"#,
            "invalid_field",
            Some("method"),
        ),
        (
            r#"{"key":"   ","product":"forgeai"}"#,
            "invalid_field",
            Some("key"),
        ),
        (
            r#"{"key":"k","product":"a b"}"#,
            "invalid_field",
            Some("product"),
        ),
    ];
    for (json, code, field) in cases {
        let err = body(json).unwrap_err();
        assert_eq!(err.code(), *code, "{json}");
        assert_eq!(err.field(), *field, "{json}");
    }
    let leaky = format!(r#"{{"key":{{"v":"{secret_key}"}},"product":"forgeai"}}"#);
    let err = body(&leaky).unwrap_err();
    assert!(!err.detail().contains("SECRET"), "{}", err.detail());
    let long = format!(r#"{{"key":"{}","product":"forgeai"}}"#, "k".repeat(300));
    assert_eq!(body(&long).unwrap_err().field(), Some("key"));
}

#[test]
fn only_json_under_the_limit_is_read() {
    let ok = br#"{"key":"k","product":"forgeai"}"#;
    for bad in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        assert_eq!(
            parse_request(bad, ok).unwrap_err().code(),
            "unsupported_media_type"
        );
    }
    assert!(parse_request(Some("Application/JSON; charset=utf-8"), ok).is_ok());
    let huge = vec![b' '; BODY_LIMIT + 1];
    assert_eq!(
        parse_request(Some("application/json"), &huge)
            .unwrap_err()
            .code(),
        "body_too_large"
    );
}

#[test]
fn facts_are_canonical_as_at_the_edge() {
    let config = demo_config();
    let fai = config.product("forgeai").unwrap();
    assert_eq!(request_facts(fai, None, None), Ok(None));
    assert_eq!(
        request_facts(fai, Some("POST"), Some("/api/v1/prediction/%66low")),
        Ok(Some(("POST".into(), "/api/v1/prediction/flow".into())))
    );
    assert_eq!(
        request_facts(fai, None, Some("/a/./b/../c")),
        Ok(Some(("GET".into(), "/a/c".into())))
    );
    assert_eq!(
        request_facts(fai, Some("DELETE"), None),
        Ok(Some(("DELETE".into(), "/".into())))
    );
    for bad in ["api", "/a?b=1", "/a#x", "/a%2Fb", "/x;y"] {
        let err = request_facts(fai, None, Some(bad)).unwrap_err();
        assert_eq!(err.field(), Some("path"), "{bad}");
    }
    let long = format!("/{}", "a".repeat(MAX_PATH));
    assert!(request_facts(fai, None, Some(&long)).is_err());
}

#[test]
fn screening_refuses_other_products_and_garbage_without_storage() {
    let config = demo_config();
    let fai = config.product("forgeai").unwrap();
    let sf_key = mint("sf", Environment::Live, &[1; 32], &test_secret())
        .unwrap()
        .key;
    let err = screen(&config, fai, sf_key.key()).unwrap_err();
    assert_eq!(err.code(), "wrong_product");
    for garbage in [
        "nope",
        "fai_live_short",
        "fai_live_0000000000000000000000000000000000000000000000000",
    ] {
        let err = screen(&config, fai, &ApiKey::new(garbage)).unwrap_err();
        assert_eq!(err.code(), "malformed_key", "{garbage}");
    }
    let fai_key = mint("fai", Environment::Live, &[1; 32], &test_secret())
        .unwrap()
        .key;
    assert!(screen(&config, fai, fai_key.key()).is_ok());
}

#[test]
fn judging_uses_the_edge_policy() {
    let config = demo_config();
    let fai = config.product("forgeai").unwrap();
    let key = mint("fai", Environment::Live, &[1; 32], &test_secret())
        .unwrap()
        .key;
    let rec = record("forgeai", &["read", "execute_flows"]);
    let post = Some(("POST".to_owned(), "/api/v1/prediction/x".to_owned()));
    let deploy = Some(("PUT".to_owned(), "/api/v1/deployments/1".to_owned()));
    assert_eq!(judge(fai, &key, &rec, None, None, NOW), Ok(None));
    assert_eq!(
        judge(fai, &key, &rec, post.as_ref(), None, NOW),
        Ok(Some("execute_flows".into()))
    );
    assert_eq!(
        judge(fai, &key, &rec, deploy.as_ref(), None, NOW)
            .unwrap_err()
            .code(),
        "insufficient_scope"
    );
    let table: [(KeyRecord, &str); 5] = [
        (
            KeyRecord {
                revoked_at: Some(NOW),
                ..rec.clone()
            },
            "revoked_key",
        ),
        (
            KeyRecord {
                expires_at: Some(NOW),
                ..rec.clone()
            },
            "expired_key",
        ),
        (
            KeyRecord {
                disabled: true,
                ..rec.clone()
            },
            "disabled_key",
        ),
        (
            KeyRecord {
                suspended: true,
                ..rec.clone()
            },
            "account_suspended",
        ),
        (
            KeyRecord {
                product: "salesforge".into(),
                ..rec.clone()
            },
            "invalid_key",
        ),
    ];
    for (bad, code) in table {
        assert_eq!(
            judge(fai, &key, &bad, None, None, NOW).unwrap_err().code(),
            code
        );
        assert_eq!(
            judge(fai, &key, &bad, post.as_ref(), None, NOW)
                .unwrap_err()
                .code(),
            code
        );
    }
    // A rotated key still in its grace is valid until revoked_at.
    let grace = KeyRecord {
        revoked_at: Some(NOW + 1),
        ..rec
    };
    assert!(judge(fai, &key, &grace, None, None, NOW).is_ok());
}

#[test]
fn verdicts_show_the_view_without_the_key() {
    let rec = record("forgeai", &["read"]);
    let ok = verdict(&Ok(Some("read".into())), Some(&rec), NOW);
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["permission"], "read");
    assert!(ok.get("code").is_none());
    assert_eq!(ok["scopes"], serde_json::json!(["read"]));
    assert_eq!(ok["key"]["id"], "key_1");
    assert_eq!(ok["key"]["masked"], "fai_live_Ab12…9xQz");
    assert_eq!(ok["key"]["status"], "active");
    assert_eq!(ok["key"]["enabled"], true);
    assert_eq!(ok["key"]["owner_id"], "user_7");
    assert_eq!(ok["key"]["meta"]["plan"], "pro");
    assert_eq!(ok["key"]["environment"], "live");
    let text = ok.to_string();
    assert!(
        !text.contains("hash") && !text.contains("\"key\":\"fai"),
        "{text}"
    );

    let refused = verdict(
        &Err(Error::InsufficientScope {
            permission: "execute_flows".into(),
        }),
        Some(&rec),
        NOW,
    );
    assert_eq!(refused["valid"], false);
    assert_eq!(refused["code"], "insufficient_scope");
    assert_eq!(refused["permission"], "execute_flows");
    assert!(refused["detail"].as_str().is_some());
    let unknown = verdict(&Err(Error::InvalidKey), None, NOW);
    assert_eq!(unknown["code"], "invalid_key");
    assert!(unknown.get("key").is_none() && unknown.get("scopes").is_none());
    let revoked = KeyRecord {
        revoked_at: Some(NOW - 1),
        ..rec
    };
    let shown = verdict(&Err(Error::RevokedKey), Some(&revoked), NOW);
    assert_eq!(shown["key"]["status"], "revoked");
}

/// Issue 18 (Info 1): the edge answers `TRACE`, `TRACK` and `CONNECT`
/// with 405 `method_not_allowed` whatever the key; verify says the same,
/// even for a key whose scopes cover writes.
#[test]
fn methods_the_edge_refuses_are_refused_with_its_code() {
    let config = demo_config();
    let fai = config.product("forgeai").unwrap();
    let key = mint("fai", Environment::Live, &[1; 32], &test_secret())
        .unwrap()
        .key;
    let rec = record("forgeai", &["read", "write", "execute_flows", "admin"]);
    for method in ["TRACE", "TRACK", "CONNECT"] {
        let facts = request_facts(fai, Some(method), Some("/api/v1/prediction/x"))
            .unwrap()
            .unwrap();
        let err = judge(fai, &key, &rec, Some(&facts), None, NOW).unwrap_err();
        assert_eq!(err.code(), "method_not_allowed", "{method}");
        assert_eq!(err.status(), 405, "{method}");
        assert!(method_refusal(Some(&facts)).is_some(), "{method}");
        let body = verdict(&Err(err), Some(&rec), NOW);
        assert_eq!(body["valid"], false, "{method}");
        assert_eq!(body["code"], "method_not_allowed", "{method}");
    }
    let post = request_facts(fai, Some("POST"), Some("/x"))
        .unwrap()
        .unwrap();
    assert!(method_refusal(Some(&post)).is_none());
    assert!(method_refusal(None).is_none());
}

#[test]
fn verify_judges_the_allowlist_against_the_client_ip_given() {
    let parsed = body(r#"{"key":"k","product":"forgeai","client_ip":"2001:DB8::7"}"#).unwrap();
    assert_eq!(parsed.client_ip, Some("2001:db8::7".parse().unwrap()));
    for bad in [
        r#""1.2.3.4:80""#,
        r#""fe80::1%eth0""#,
        r#""1.2.3.0/24""#,
        r#""""#,
        "7",
    ] {
        let body = format!(r#"{{"key":"k","product":"forgeai","client_ip":{bad}}}"#);
        let err = self::body(&body).unwrap_err();
        assert_eq!(err.field(), Some("client_ip"), "{bad}");
    }
    let config = demo_config();
    let fai = config.product("forgeai").unwrap();
    let key = mint("fai", Environment::Live, &[1; 32], &test_secret())
        .unwrap()
        .key;
    let mut rec = record("forgeai", &["read"]);
    rec.allowed_ips = crate::ip_allow::AllowList::parse(&["203.0.113.0/24"]).unwrap();
    let inside = Some("203.0.113.9".parse().unwrap());
    let outside = Some("198.51.100.1".parse().unwrap());
    let get = Some(("GET".to_owned(), "/x".to_owned()));
    for facts in [None, get.as_ref()] {
        assert!(judge(fai, &key, &rec, facts, inside, NOW).is_ok());
        let code = |client| {
            judge(fai, &key, &rec, facts, client, NOW)
                .unwrap_err()
                .code()
        };
        assert_eq!(code(outside), "ip_not_allowed");
        // No client_ip given: refused, as the edge refuses a request whose
        // address it cannot read.
        assert_eq!(code(None), "ip_not_allowed");
    }
    let answer = verdict(&judge(fai, &key, &rec, None, outside, NOW), Some(&rec), NOW);
    assert_eq!(answer["valid"], false);
    assert_eq!(answer["code"], "ip_not_allowed");
    assert_eq!(
        answer["key"]["allowed_ips"],
        serde_json::json!(["203.0.113.0/24"])
    );
}
