use super::*;
use crate::config::tests::demo_config;
use crate::key::{mint, Environment};
use crate::policy::tests::admit_any;
use crate::policy::{admit_public, authorize, RequestFacts};
use crate::record::KeyRecord;
use crate::signature::tests::{key, NONCE};
use crate::signature::{content_digest, verify, ProductKey, Received, VerifyError};

const NOW: i64 = 1_795_416_000;

fn record() -> KeyRecord {
    KeyRecord {
        allowed_ips: Default::default(),
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
        disabled: false,
        owner_id: None,
        meta: None,
    }
}

fn stamp(key: &ProductKey) -> Stamp<'_> {
    Stamp {
        now: NOW,
        request_id: NONCE,
        key,
        client_ip: Some("203.0.113.7"),
    }
}

fn header<'p>(plan: &'p ForwardPlan, name: &str) -> Option<&'p str> {
    plan.set_headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

/// Checks `plan` the way an origin does: with the product's key, on what
/// it receives (the planned headers plus `extra` client headers).
fn origin_verifies(
    plan: &ForwardPlan,
    product: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Result<(), VerifyError> {
    let url = url::Url::parse(&plan.url).unwrap();
    let authority = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap()),
        None => url.host_str().unwrap().to_owned(),
    };
    let mut headers: Vec<(&str, &str)> = plan
        .set_headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    headers.extend_from_slice(extra);
    let received = Received {
        method: &plan.method,
        authority: &authority,
        path: url.path(),
        query: url.query(),
        headers: &headers,
        body,
    };
    verify(&key(product), product, &received, NOW + 1, 5).map(drop)
}

#[test]
fn plan_signs_identity_and_keeps_method_path_query() {
    let config = demo_config();
    let product = config.product("salesforge").unwrap();
    let key_value = mint(
        "sf",
        Environment::Live,
        &[0; 32],
        &crate::key::test_secret(),
    )
    .unwrap()
    .key;
    let facts = RequestFacts {
        client: None,
        method: "POST",
        path: "/v1/leads",
    };
    let authorized = authorize(product, &key_value, &record(), facts, NOW).unwrap();
    let body = BodyFacts {
        content_type: Some("application/json"),
        content_length: Some(14),
        content_digest: None,
    };
    let sk = key("salesforge");
    let plan = plan(&authorized, Some("page=2"), &body, &stamp(&sk)).unwrap();
    assert_eq!(plan.url, "http://127.0.0.1:8788/v1/leads?page=2");
    assert_eq!(plan.method, "POST");
    let h = |name| header(&plan, name).unwrap();
    assert_eq!(h(headers::KEY_ID), "key_demo1");
    assert_eq!(h(headers::ACCOUNT), "acct_demo");
    assert_eq!(h(headers::PRODUCT), "salesforge");
    assert_eq!(h(headers::ENVIRONMENT), "live");
    assert_eq!(h(headers::SCOPES), "read write");
    assert_eq!(h(headers::REQUEST_ID), NONCE);
    assert_eq!(h(headers::CLIENT_IP), "203.0.113.7");
    assert_eq!(header(&plan, headers::CONTENT_DIGEST), None);
    assert_eq!(plan.drop_headers, &[headers::CONTENT_DIGEST]);
    assert_eq!(
        h(headers::SIGNATURE_INPUT),
        "keygate=(\"@method\" \"@authority\" \"@path\" \"@query\" \"keygate-product\" \
         \"keygate-key-id\" \"keygate-account\" \"keygate-environment\" \"keygate-scopes\" \
         \"keygate-request-id\" \"keygate-client-ip\" \"content-length\" \"content-type\");\
         created=1795416000;\
         expires=1795416300;nonce=\"0123456789abcdef0123456789abcdef\";keyid=\"salesforge\";\
         alg=\"hmac-sha256\""
    );
    let extra = [
        ("content-length", "14"),
        ("content-type", "application/json"),
    ];
    assert_eq!(origin_verifies(&plan, "salesforge", &extra, b""), Ok(()));
    // Another product's key cannot verify it, nor can the body framing change.
    assert_eq!(
        origin_verifies(&plan, "mailforge", &extra, b""),
        Err(VerifyError::WrongKey)
    );
    let longer = [
        ("content-length", "15"),
        ("content-type", "application/json"),
    ];
    assert_eq!(
        origin_verifies(&plan, "salesforge", &longer, b""),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn public_plan_signs_product_and_request_id_only() {
    let config = demo_config();
    let product = config.product("mailforge").unwrap();
    let facts = RequestFacts {
        client: None,
        method: "GET",
        path: "/",
    };
    assert!(admit_public(product, facts).is_none());
    let sf = config.product("salesforge").unwrap();
    let public = admit_public(
        sf,
        RequestFacts {
            client: None,
            method: "GET",
            path: "/health",
        },
    )
    .unwrap();
    let sk = key("salesforge");
    let plan = plan(&public, None, &BodyFacts::default(), &stamp(&sk)).unwrap();
    assert_eq!(plan.url, "http://127.0.0.1:8788/health");
    let names: Vec<&str> = plan.set_headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        vec![
            headers::PRODUCT,
            headers::REQUEST_ID,
            headers::CLIENT_IP,
            headers::SIGNATURE_INPUT,
            headers::SIGNATURE
        ]
    );
    assert!(header(&plan, headers::SIGNATURE_INPUT)
        .unwrap()
        .starts_with("keygate=(\"@method\" \"@authority\" \"@path\" \"@query\" \"keygate-product\" \"keygate-request-id\" \"keygate-client-ip\");"));
    assert_eq!(origin_verifies(&plan, "salesforge", &[], b""), Ok(()));
    // A replay that adds identity headers is refused: they are not covered.
    assert_eq!(
        origin_verifies(
            &plan,
            "salesforge",
            &[("Keygate-Account", "acct_victim")],
            b""
        ),
        Err(VerifyError::NotCovered)
    );
}

#[test]
fn upstream_base_path_and_authority_are_signed() {
    let config = demo_config();
    let mf = config.product("mailforge").unwrap();
    let public = crate::policy::tests::admit_any(mf, "GET", "/v1/send");
    let sk = key("mailforge");
    let plan = plan(&public, Some("a=1"), &BodyFacts::default(), &stamp(&sk)).unwrap();
    assert_eq!(plan.url, "http://127.0.0.1:8788/mail/v1/send?a=1");
    assert_eq!(origin_verifies(&plan, "mailforge", &[], b""), Ok(()));
    // https on its default port: the authority has no port.
    let fai = config.product("forgeai").unwrap();
    let public = crate::policy::tests::admit_any(fai, "GET", "/status/x");
    let sk = key("forgeai");
    let https = super::plan(&public, Some(""), &BodyFacts::default(), &stamp(&sk)).unwrap();
    assert_eq!(https.url, "https://origin.forge.ai/status/x");
    assert!(header(&https, headers::SIGNATURE_INPUT).is_some());
    assert_eq!(origin_verifies(&https, "forgeai", &[], b""), Ok(()));
}

#[test]
fn signed_body_carries_keygate_digest() {
    let config = demo_config();
    let mf = config.product("mailforge").unwrap();
    let admitted = crate::policy::tests::admit_any(mf, "POST", "/v1/send");
    let body = br#"{"name":"Ada"}"#;
    let digest = content_digest(body);
    let facts = BodyFacts {
        content_type: None,
        content_length: Some(14),
        content_digest: Some(&digest),
    };
    let sk = key("mailforge");
    let plan = plan(&admitted, None, &facts, &stamp(&sk)).unwrap();
    assert_eq!(
        header(&plan, headers::CONTENT_DIGEST),
        Some(digest.as_str())
    );
    assert!(plan.drop_headers.is_empty());
    let framing = [("content-length", "14")];
    assert_eq!(origin_verifies(&plan, "mailforge", &framing, body), Ok(()));
    assert_eq!(
        origin_verifies(&plan, "mailforge", &framing, br#"{"name":"Eve"}"#),
        Err(VerifyError::DigestMismatch)
    );
}

#[test]
fn an_unsignable_content_type_is_refused() {
    let config = demo_config();
    let mf = config.product("mailforge").unwrap();
    let admitted = crate::policy::tests::admit_any(mf, "POST", "/v1/send");
    let sk = key("mailforge");
    for bad in ["text/plain; charset=\u{e9}", "a\r\nKeygate-Account: x"] {
        let facts = BodyFacts {
            content_type: Some(bad),
            ..BodyFacts::default()
        };
        let err = plan(&admitted, None, &facts, &stamp(&sk)).unwrap_err();
        assert_eq!(err.code(), "invalid_field", "{bad:?}");
        assert_eq!(err.status(), 400);
    }
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
        // Any scheme, or none.
        ("Authorization", "Token fai_live_anything"),
        ("Authorization", "fai_live_anything"),
        ("Authorization", "Bearer a, fai_live_anything"),
        // `_` stands for `-`: CGI and WSGI origins read both alike.
        ("Keygate_Account", "acct_victim"),
        ("keygate_key_id", "x"),
        ("X_Salesforge_Key", "anything"),
        ("X_Mailforge_Key", mf_key),
        ("Proxy_Authorization", "Basic x"),
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
        ("Authorization", "Token nope_live_x"),
        ("X-Other", "fai_live_anything"),
    ] {
        assert!(!stripped(name, value), "{name}: {value}");
    }
}

#[test]
fn override_headers_are_found_in_any_spelling() {
    for name in [
        "X-HTTP-Method-Override",
        "x-http-method",
        "X-Method-Override",
        "X-Original-URL",
        "x-rewrite-url",
        "X_HTTP_Method_Override",
        "x_original_url",
    ] {
        assert_eq!(override_header(["Accept", name]), Some(name), "{name}");
    }
    assert_eq!(
        override_header(["Accept", "X-HTTP-Methods", "X-Original"]),
        None
    );
}

#[test]
fn header_names_compare_with_underscore_as_dash() {
    assert!(same_header("Keygate-Account", "KEYGATE_ACCOUNT"));
    assert!(!same_header("Keygate-Account", "Keygate-Accounts"));
    assert!(!same_header("a-b", "a.b"));
}

#[test]
fn method_override_in_the_query_is_found() {
    for query in [
        "_method=DELETE",
        "a=1&_method=put",
        "%5Fmethod=DELETE",
        "_METHOD=x",
        "_method",
    ] {
        assert!(overrides_method_in_query(Some(query)), "{query}");
    }
    for query in ["method=DELETE", "a=_method", "x_method=1", ""] {
        assert!(!overrides_method_in_query(Some(query)), "{query}");
    }
    assert!(!overrides_method_in_query(None));
}

#[test]
fn the_client_ip_is_signed_and_cannot_be_swapped() {
    let config = demo_config();
    let sf = config.product("salesforge").unwrap();
    let public = admit_public(
        sf,
        RequestFacts {
            client: None,
            method: "GET",
            path: "/health",
        },
    )
    .unwrap();
    let sk = key("salesforge");
    let plan = plan(&public, None, &BodyFacts::default(), &stamp(&sk)).unwrap();
    assert_eq!(header(&plan, headers::CLIENT_IP), Some("203.0.113.7"));
    let mut swapped = plan.clone();
    for (name, value) in &mut swapped.set_headers {
        if *name == headers::CLIENT_IP {
            *value = "198.51.100.1".to_owned();
        }
    }
    assert_eq!(
        origin_verifies(&swapped, "salesforge", &[], b""),
        Err(VerifyError::Mismatch)
    );
    // Without an address from the runtime, none is sent or signed.
    let no_ip = Stamp {
        client_ip: None,
        ..stamp(&sk)
    };
    let plan = plan_fn(&public, &no_ip);
    assert_eq!(header(&plan, headers::CLIENT_IP), None);
    assert!(!header(&plan, headers::SIGNATURE_INPUT)
        .unwrap()
        .contains("keygate-client-ip"));
    assert_eq!(origin_verifies(&plan, "salesforge", &[], b""), Ok(()));
}

fn plan_fn(authorized: &Authorized<'_>, stamp: &Stamp<'_>) -> ForwardPlan {
    plan(authorized, None, &BodyFacts::default(), stamp).unwrap()
}

#[test]
fn forwarded_meta_is_signed_and_filtered() {
    let mut config = demo_config();
    config.products[0].forward_meta = vec!["plan".into(), "org".into()];
    let product = &config.products[0];
    let key_value = mint(
        &product.prefix,
        Environment::Live,
        &[0; 32],
        &crate::key::test_secret(),
    )
    .unwrap()
    .key;
    let mut rec = record();
    rec.product = product.id.clone();
    rec.meta = serde_json::json!({"plan": "pro", "org": "o\r\n1", "internal": "no"})
        .as_object()
        .cloned();
    let facts = RequestFacts {
        client: None,
        method: "GET",
        path: "/v1/leads",
    };
    let authorized = authorize(product, &key_value, &rec, facts, NOW).unwrap();
    let sk = key(&product.id);
    let plan = plan(&authorized, None, &BodyFacts::default(), &stamp(&sk)).unwrap();
    let meta = header(&plan, headers::KEY_META).unwrap();
    assert_eq!(meta, r#"{"org":"o\r\n1","plan":"pro"}"#);
    let input = header(&plan, headers::SIGNATURE_INPUT).unwrap();
    assert!(input.contains("\"keygate-key-meta\""), "{input}");
    assert_eq!(origin_verifies(&plan, &product.id, &[], b""), Ok(()));
    // A changed meta value no longer verifies.
    let mut tampered = plan.clone();
    for (name, value) in &mut tampered.set_headers {
        if *name == headers::KEY_META {
            *value = r#"{"org":"o","plan":"enterprise"}"#.to_owned();
        }
    }
    assert!(origin_verifies(&tampered, &product.id, &[], b"").is_err());
    // A product that forwards nothing sends no header.
    config.products[0].forward_meta.clear();
    let authorized = authorize(&config.products[0], &key_value, &rec, facts, NOW).unwrap();
    let plan = super::plan(&authorized, None, &BodyFacts::default(), &stamp(&sk)).unwrap();
    assert_eq!(header(&plan, headers::KEY_META), None);
}

#[test]
fn lowercase_names_are_the_names_lowercased() {
    for name in [
        headers::KEY_ID,
        headers::ACCOUNT,
        headers::PRODUCT,
        headers::ENVIRONMENT,
        headers::SCOPES,
        headers::KEY_META,
        headers::REQUEST_ID,
        headers::CLIENT_IP,
        headers::SIGNATURE_INPUT,
        headers::SIGNATURE,
        headers::CONTENT_DIGEST,
    ] {
        assert_eq!(headers::lowercase(name), name.to_ascii_lowercase());
    }
}

/// Issue 18 (Low 3): an origin's `Set-Cookie` for keygate's own cookie
/// names is dropped in every spelling; other cookies pass.
#[test]
fn own_cookies_from_the_origin_are_recognised() {
    for own in [
        "keygate_portal=abc; Path=/_keygate/keys",
        "keygate_portal=",
        "KEYGATE_PORTAL=x; HttpOnly",
        " keygate_portal =x",
        "\tkeygate_portal=x",
        "__Host-keygate_portal=x; Path=/; Secure",
        "__host-keygate_portal=x",
        "__Secure-keygate_portal=x; Secure",
        "keygate_portal",
        "keygate_csrf=1",
        "keygate-session=1",
        "keygate=1",
        "=keygate_portal=forged; Path=/_keygate",
        "=keygate_portal",
        " = keygate_portal=x",
    ] {
        assert!(sets_own_cookie(own), "{own:?}");
    }
    for other in [
        "session=keygate_portal",
        "sid=1; Path=/; keygate_portal=x",
        "keygateway=1",
        "my_keygate_portal=1",
        "__Host-sid=1",
        "",
        "=sid=1",
        "=",
    ] {
        assert!(!sets_own_cookie(other), "{other:?}");
    }
    assert!(sets_own_cookie(crate::portal::cookie::NAME));
}
