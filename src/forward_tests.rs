use super::*;
use crate::config::tests::demo_config;
use crate::key::{mint, Environment};
use crate::policy::tests::admit_any;
use crate::policy::{admit_public, authorize, RequestFacts};
use crate::record::KeyRecord;
use crate::signature::{tests::SECRET, verify};

const NOW: i64 = 1_795_416_000;

fn record() -> KeyRecord {
    KeyRecord {
        v: 1,
        id: "key_demo1".into(),
        account: "acct_demo".into(),
        product: "salesforge".into(),
        environment: Environment::Live,
        name: "demo".into(),
        scopes: vec!["read".into(), "write".into()],
        created_at: NOW,
        expires_at: None,
        revoked_at: None,
        prefix: "sf_live_0000".into(),
        last4: "Xa1".into(),
        suspended: false,
    }
}

#[test]
fn plan_signs_identity_and_keeps_method_path_query() {
    let config = demo_config();
    let product = config.product("salesforge").unwrap();
    let key = mint(
        "sf",
        Environment::Live,
        &[0; 32],
        &crate::key::test_secret(),
    )
    .unwrap()
    .key;
    let facts = RequestFacts {
        method: "POST",
        path: "/v1/leads",
    };
    let authorized = authorize(product, &key, &record(), facts, NOW).unwrap();
    let secret = OriginSecret::new(SECRET).unwrap();
    let plan = plan(&authorized, Some("page=2"), NOW, &secret);
    assert_eq!(plan.url, "http://127.0.0.1:8788/v1/leads?page=2");
    assert_eq!(plan.method, "POST");
    let header = |name| {
        plan.set_headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    };
    assert_eq!(header(headers::KEY_ID), "key_demo1");
    assert_eq!(header(headers::ACCOUNT), "acct_demo");
    assert_eq!(header(headers::PRODUCT), "salesforge");
    assert_eq!(header(headers::ENVIRONMENT), "live");
    assert_eq!(header(headers::SCOPES), "read write");
    // The same vector as signature_tests: the plan signs what it forwards.
    assert_eq!(
        header(headers::SIGNATURE),
        "t=1795416000,v1=8bf4a6652cea709d82e413c1a8dd1cd769c78bd3b567ccb5c8d1280cc9f2e499"
    );
}

#[test]
fn public_plan_signs_without_identity() {
    let config = demo_config();
    let product = config.product("mailforge").unwrap();
    let facts = RequestFacts {
        method: "GET",
        path: "/",
    };
    assert!(admit_public(product, facts).is_none());
    let sf = config.product("salesforge").unwrap();
    let public = admit_public(
        sf,
        RequestFacts {
            method: "GET",
            path: "/health",
        },
    )
    .unwrap();
    let secret = OriginSecret::new(SECRET).unwrap();
    let plan = plan(&public, None, NOW, &secret);
    assert_eq!(plan.url, "http://127.0.0.1:8788/health");
    let names: Vec<&str> = plan.set_headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, vec![headers::PRODUCT, headers::SIGNATURE]);
    let signed = crate::signature::Signed {
        timestamp: 0,
        method: "GET",
        path_and_query: "/health",
        key_id: "",
        account: "",
        product: "salesforge",
        environment: "",
        scopes: "",
    };
    assert_eq!(
        verify(&secret, &plan.set_headers[1].1, signed, NOW, 300),
        Ok(())
    );
}

#[test]
fn upstream_base_path_is_forwarded_and_signed() {
    let config = demo_config();
    let mf = config.product("mailforge").unwrap();
    let public = crate::policy::tests::admit_any(mf, "GET", "/v1/send");
    let secret = OriginSecret::new(SECRET).unwrap();
    let plan = plan(&public, Some("a=1"), NOW, &secret);
    assert_eq!(plan.url, "http://127.0.0.1:8788/mail/v1/send?a=1");
    let signed = crate::signature::Signed {
        timestamp: 0,
        method: "GET",
        path_and_query: "/mail/v1/send?a=1",
        key_id: "",
        account: "",
        product: "mailforge",
        environment: "",
        scopes: "",
    };
    let signature = &plan.set_headers.last().unwrap().1;
    assert_eq!(verify(&secret, signature, signed, NOW, 300), Ok(()));
}

#[test]
fn strips_keys_reserved_and_hop_by_hop_headers_only() {
    let config = demo_config();
    let sf = config.product("salesforge").unwrap();
    let public = admit_any(sf, "GET", "/health");
    let stripped = |name: &str, value: &str| is_stripped(&config, &public, name, value);
    let mf_key = "mf_test_yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp13WPFYo";
    for (name, value) in [
        ("X-Salesforge-Key", "anything"),
        ("x-salesforge-key", ""),
        ("Keygate-Account", "acct_victim"),
        ("keygate-key-id", "x"),
        ("KEYGATE-ANYTHING", "x"),
        ("Host", "evil.example"),
        ("Connection", "close"),
        // Another product's key in its own header is never forwarded.
        ("X-Mailforge-Key", mf_key),
        ("Authorization", "Bearer fai_live_anything"),
        ("authorization", "bearer  sf_live_x"),
    ] {
        assert!(stripped(name, value), "{name}: {value}");
    }
    for (name, value) in [
        // A product's header that holds no keygate key is the origin's own.
        ("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"),
        ("Authorization", "Basic dXNlcjpwYXNz"),
        ("X-Mailforge-Key", "legacy-token"),
        ("Content-Type", "application/json"),
        ("Keygate", "x"),
        ("X-Keygate-Id", "x"),
        ("Cookie", "session=abc"),
    ] {
        assert!(!stripped(name, value), "{name}: {value}");
    }
}
