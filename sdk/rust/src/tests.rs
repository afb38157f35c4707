//! The README's test vector verifies; each replay case is refused by its
//! rule; the tower layer answers 401 and passes the identity on.

use super::*;

const SECRET: &str = "keygate-test-origin-secret-0123456789";
const KEY: &str = "VWgn+CerwFD/VvHau0HY2AebG6nW+Mklg6PZoSvUHPE=";
const NONCE: &str = "0123456789abcdef0123456789abcdef";
const CREATED: i64 = 1_795_416_000;
const BODY: &[u8] = br#"{"name":"Ada"}"#;
const INPUT: &str = "keygate=(\"@method\" \"@authority\" \"@path\" \"@query\" \
\"keygate-product\" \"keygate-key-id\" \"keygate-account\" \"keygate-environment\" \
\"keygate-scopes\" \"keygate-request-id\" \"content-digest\" \"content-length\" \
\"content-type\");created=1795416000;expires=1795416300;\
nonce=\"0123456789abcdef0123456789abcdef\";keyid=\"salesforge\";alg=\"hmac-sha256\"";
const SIGNATURE: &str = "keygate=:l9mBd3My/QvYZQ8uByxV45F94c1lJUvKcrA05WtDS/s=:";

fn headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Keygate-Product", "salesforge"),
        ("Keygate-Key-Id", "key_0c586b3T70e9ieZfx"),
        ("Keygate-Account", "acct_demo"),
        ("Keygate-Environment", "live"),
        ("Keygate-Scopes", "read write"),
        ("Keygate-Request-Id", NONCE),
        (
            "Content-Digest",
            "sha-256=:iLq22PbcaKh3Bk1YTLtbbFDnT2F+pQ2B06U8Lub/vE8=:",
        ),
        ("Content-Length", "14"),
        ("Content-Type", "application/json"),
        ("Signature-Input", INPUT),
        ("Signature", SIGNATURE),
    ]
}

fn vector(headers: &[(&'static str, &'static str)]) -> Received<'static> {
    Received {
        method: "POST",
        authority: "origin.salesforge.example",
        path: "/v2/leads",
        query: Some("page=2"),
        headers: headers.to_vec(),
        body: BODY,
    }
}

fn with(name: &'static str, value: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
    let mut h: Vec<_> = headers()
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .collect();
    if let Some(v) = value {
        h.push((name, v));
    }
    h
}

fn verifier() -> Verifier {
    Verifier::from_keys([("salesforge", KEY)]).unwrap()
}

fn rule(result: Result<Identity, Error>) -> Rule {
    result.unwrap_err().rule
}

#[test]
fn readme_test_vector() {
    assert_eq!(
        STANDARD.encode(product_key(SECRET, "salesforge").unwrap()),
        KEY
    );
    assert_eq!(
        STANDARD.encode(product_key(SECRET, "mailforge").unwrap()),
        "fsqABOjoL55VN2zNlmG7HAejZo+4rORh5CSKh5qD9wI="
    );
    assert_eq!(
        product_key(&format!("  {SECRET}\n"), "salesforge"),
        product_key(SECRET, "salesforge")
    );
    for v in [
        verifier(),
        Verifier::from_secret(SECRET, ["salesforge", "mailforge"]).unwrap(),
    ] {
        let id = v
            .sign_body_all()
            .verify(&vector(&headers()), CREATED)
            .unwrap();
        assert_eq!(
            id,
            Identity {
                product: "salesforge".into(),
                key_id: Some("key_0c586b3T70e9ieZfx".into()),
                account: Some("acct_demo".into()),
                environment: Some("live".into()),
                scopes: vec!["read".into(), "write".into()],
                meta: None,
                client_ip: None,
                request_id: NONCE.into(),
                created: CREATED,
                expires: CREATED + 300,
            }
        );
    }
}

#[test]
fn every_replay_case_is_refused_by_its_rule() {
    use Rule::*;
    let h = headers();
    let base = vector(&h);
    let other_digest = content_digest(b"{}");
    let other_digest: &'static str = Box::leak(other_digest.into_boxed_str());
    let cases: Vec<(&str, Received<'static>, Rule)> = vec![
        (
            "body",
            Received {
                body: br#"{"name":"Eve"}"#,
                ..base.clone()
            },
            DigestMismatch,
        ),
        (
            "body and digest",
            Received {
                body: b"{}",
                ..vector(&with("Content-Digest", Some(other_digest)))
            },
            SignatureMismatch,
        ),
        (
            "host",
            Received {
                authority: "evil.example",
                ..base.clone()
            },
            SignatureMismatch,
        ),
        (
            "path",
            Received {
                path: "/v2/leads/1",
                ..base.clone()
            },
            SignatureMismatch,
        ),
        (
            "query",
            Received {
                query: Some("page=3"),
                ..base.clone()
            },
            SignatureMismatch,
        ),
        (
            "no query",
            Received {
                query: None,
                ..base.clone()
            },
            SignatureMismatch,
        ),
        (
            "method",
            Received {
                method: "PUT",
                ..base.clone()
            },
            SignatureMismatch,
        ),
        (
            "product",
            vector(&with("Keygate-Product", Some("mailforge"))),
            ProductMismatch,
        ),
        (
            "account",
            vector(&with("Keygate-Account", Some("acct_victim"))),
            SignatureMismatch,
        ),
        (
            "added Keygate-*",
            vector(&with("Keygate-Admin", Some("true"))),
            UncoveredHeader,
        ),
        (
            "added Keygate_",
            vector(&with("keygate_account", Some("acct_victim"))),
            UncoveredHeader,
        ),
        (
            "request id",
            vector(&with("Keygate-Request-Id", Some("ffff"))),
            NonceMismatch,
        ),
        (
            "covered header removed",
            vector(&with("Content-Type", None)),
            MissingHeader,
        ),
        ("no signature", vector(&with("Signature", None)), Malformed),
        (
            "two signatures",
            vector(&with("Signature", Some("keygate=:AAAA:, other=:AAAA:"))),
            Malformed,
        ),
        (
            "other alg",
            vector(&with(
                "Signature-Input",
                Some(Box::leak(
                    INPUT
                        .replace("\"hmac-sha256\"", "\"ed25519\"")
                        .into_boxed_str(),
                )),
            )),
            Algorithm,
        ),
        (
            "unknown parameter",
            vector(&with(
                "Signature-Input",
                Some(Box::leak(format!("{INPUT};tag=\"x\"").into_boxed_str())),
            )),
            Malformed,
        ),
    ];
    for (what, received, want) in cases {
        assert_eq!(rule(verifier().verify(&received, CREATED)), want, "{what}");
    }
    let relabelled: &'static str = Box::leak(
        INPUT
            .replace("\"salesforge\"", "\"mailforge\"")
            .into_boxed_str(),
    );
    let mut h = with("Signature-Input", Some(relabelled));
    h.retain(|(n, _)| *n != "Keygate-Product");
    h.push(("Keygate-Product", "mailforge"));
    assert_eq!(
        rule(verifier().verify(&vector(&h), CREATED)),
        UnknownProduct
    );
}

#[test]
fn a_reused_nonce_is_refused_and_only_verified_nonces_are_kept() {
    let v = verifier();
    let h = headers();
    let moved = Received {
        path: "/other",
        ..vector(&h)
    };
    assert_eq!(rule(v.verify(&moved, CREATED)), Rule::SignatureMismatch);
    assert!(v.verify(&vector(&h), CREATED).is_ok());
    assert_eq!(rule(v.verify(&vector(&h), CREATED)), Rule::Replay);
    // Clones share the store.
    assert_eq!(
        rule(v.clone().verify(&vector(&h), CREATED + 1)),
        Rule::Replay
    );
}

#[test]
fn stale_and_future_signatures() {
    let h = headers();
    assert!(verifier().verify(&vector(&h), CREATED + 300).is_ok());
    assert!(verifier().verify(&vector(&h), CREATED - 5).is_ok());
    assert_eq!(
        rule(verifier().verify(&vector(&h), CREATED + 301)),
        Rule::Expired
    );
    assert_eq!(
        rule(verifier().verify(&vector(&h), CREATED - 6)),
        Rule::NotYetValid
    );
    assert_eq!(
        rule(verifier().max_skew(30).verify(&vector(&h), CREATED - 60)),
        Rule::NotYetValid
    );
    assert_eq!(
        rule(verifier().verify(&vector(&h), i64::MIN)),
        Rule::NotYetValid
    );
}

#[test]
fn wrong_key_or_secret() {
    let h = headers();
    let mf = STANDARD.encode(product_key(SECRET, "mailforge").unwrap());
    let v = Verifier::from_keys([("salesforge", mf)]).unwrap();
    assert_eq!(
        rule(v.verify(&vector(&h), CREATED)),
        Rule::SignatureMismatch
    );
    let v = Verifier::from_secret(&format!("{SECRET}x"), ["salesforge"]).unwrap();
    assert_eq!(
        rule(v.verify(&vector(&h), CREATED)),
        Rule::SignatureMismatch
    );
    assert!(Verifier::from_secret("short", ["salesforge"]).is_err());
    assert!(Verifier::from_keys([("salesforge", "AAAA")]).is_err());
    assert!(Verifier::from_secret(SECRET, Vec::<String>::new()).is_err());
    let debug = format!(
        "{:?}",
        Verifier::from_secret(SECRET, ["salesforge"]).unwrap()
    );
    assert!(
        debug.contains("redacted") && !debug.contains(KEY),
        "{debug}"
    );
}

/// Signs like keygate, with the crate's HMAC but its own base.
fn sign(components: &[&str], values: &[(&str, &str)], nonce: &str) -> (String, String) {
    let params = format!(
        "({});created={CREATED};expires={};nonce=\"{nonce}\";keyid=\"salesforge\";alg=\"hmac-sha256\"",
        components.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(" "),
        CREATED + 300
    );
    let mut base: Vec<String> = components
        .iter()
        .map(|c| {
            format!(
                "\"{c}\": {}",
                values.iter().find(|(n, _)| n == c).unwrap().1
            )
        })
        .collect();
    base.push(format!("\"@signature-params\": {params}"));
    let key = STANDARD.decode(KEY).unwrap();
    let mac = hmac(&key, &[base.join("\n").as_bytes()]);
    (
        format!("keygate={params}"),
        format!("keygate=:{}:", STANDARD.encode(mac)),
    )
}

const CORE: [&str; 6] = REQUIRED;

fn public(
    components: &[&str],
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let nonce = "a".repeat(32);
    let values = [
        ("@method", "GET"),
        ("@authority", "o.example"),
        ("@path", "/x"),
        ("@query", "?"),
        ("keygate-product", "salesforge"),
        ("keygate-request-id", nonce.as_str()),
    ];
    let (input, sig) = sign(components, &values, &nonce);
    let mut h = vec![
        ("keygate-product", "salesforge"),
        (
            "keygate-request-id",
            Box::leak(nonce.into_boxed_str()) as &str,
        ),
        ("signature-input", Box::leak(input.into_boxed_str()) as &str),
        ("signature", Box::leak(sig.into_boxed_str()) as &str),
    ];
    h.extend_from_slice(extra);
    h
}

fn get(headers: &[(&'static str, &'static str)]) -> Received<'static> {
    Received {
        method: "GET",
        authority: "o.example",
        path: "/x",
        query: None,
        headers: headers.to_vec(),
        body: b"",
    }
}

#[test]
fn core_components_digest_required_and_uncovered_digest() {
    let h = public(&CORE, &[]);
    assert_eq!(verifier().verify(&get(&h), CREATED).unwrap().key_id, None);
    for c in CORE {
        let fewer: Vec<&str> = CORE.iter().copied().filter(|x| *x != c).collect();
        assert_eq!(
            rule(verifier().verify(&get(&public(&fewer, &[])), CREATED)),
            Rule::NotCovered,
            "{c}"
        );
    }
    assert_eq!(
        rule(verifier().sign_body("salesforge").verify(&get(&h), CREATED)),
        Rule::DigestRequired
    );
    assert_eq!(
        rule(verifier().sign_body_all().verify(&get(&h), CREATED)),
        Rule::DigestRequired
    );
    assert!(verifier()
        .sign_body("bodyforge")
        .verify(&get(&h), CREATED)
        .is_ok());
    let h = public(&CORE, &[("content-digest", "sha-256=:AAAA:")]);
    assert_eq!(
        rule(verifier().verify(&get(&h), CREATED)),
        Rule::UncoveredHeader
    );
}

#[test]
fn meta_and_client_ip_are_signed_identity() {
    let components = [
        "@method",
        "@authority",
        "@path",
        "@query",
        "keygate-product",
        "keygate-key-id",
        "keygate-account",
        "keygate-environment",
        "keygate-scopes",
        "keygate-key-meta",
        "keygate-request-id",
        "keygate-client-ip",
    ];
    let nonce = "b".repeat(32);
    let fields = [
        ("keygate-product", "salesforge"),
        ("keygate-key-id", "key_x"),
        ("keygate-account", "acct_a"),
        ("keygate-environment", "test"),
        ("keygate-scopes", "read"),
        ("keygate-key-meta", r#"{"org":"acme","plan":"pro"}"#),
        ("keygate-request-id", nonce.as_str()),
        ("keygate-client-ip", "203.0.113.7"),
    ];
    let mut values = vec![
        ("@method", "GET"),
        ("@authority", "o.example:8788"),
        ("@path", "/x"),
        ("@query", "?a=1"),
    ];
    values.extend_from_slice(&fields);
    let (input, sig) = sign(&components, &values, &nonce);
    let mut h: Vec<(&str, &str)> = fields.to_vec();
    h.push(("signature-input", &input));
    h.push(("signature", &sig));
    let received = Received {
        method: "GET",
        authority: "O.example:8788",
        path: "/x",
        query: Some("a=1"),
        headers: h.clone(),
        body: b"",
    };
    let id = verifier().verify(&received, CREATED).unwrap();
    assert_eq!(id.environment.as_deref(), Some("test"));
    assert_eq!(id.scopes, vec!["read".to_owned()]);
    assert_eq!(
        id.meta.unwrap().get("plan"),
        Some(&serde_json::json!("pro"))
    );
    assert_eq!(id.client_ip.as_deref(), Some("203.0.113.7"));
    for (n, v) in h.iter_mut() {
        if *n == "keygate-client-ip" {
            *v = "198.51.100.1";
        }
    }
    let moved = Received {
        headers: h,
        ..received
    };
    assert_eq!(
        rule(verifier().verify(&moved, CREATED)),
        Rule::SignatureMismatch
    );
}

#[test]
fn memory_store_is_bounded_and_expiring() {
    let store = MemoryNonceStore::new(2);
    assert!(store.remember("a", 100, 50).unwrap());
    assert!(!store.remember("a", 100, 60).unwrap());
    assert!(store.remember("b", 100, 60).unwrap());
    assert_eq!(
        store.remember("c", 200, 60).unwrap_err().rule,
        Rule::NonceStoreFull
    );
    assert!(store.remember("c", 200, 101).unwrap());
    assert_eq!(store.len(), 1);
    assert!(store.remember("a", 300, 150).unwrap());
}

#[test]
fn odd_headers_never_panic() {
    for input in [
        "keygate=",
        "keygate=(",
        "keygate=)(",
        "keygate=(\"a\" \"b\");created",
        "keygate=(\"a\");created=99999999999999999999",
        "keygate=(\"a\");created=1e3",
        "keygate=(\"a\");nonce=\"\\\"\"",
        ",,,",
        "keygate=(((((",
        "keygate=(\"\u{e9}\")",
    ] {
        let h = with("Signature-Input", Some(input));
        assert_eq!(
            rule(verifier().verify(&vector(&h), CREATED)),
            Rule::Malformed,
            "{input}"
        );
    }
}

mod layer {
    use super::*;
    use axum::{body::Body, routing::post, Extension, Router};
    use tower::ServiceExt;

    fn request() -> http::Request<Body> {
        let mut req =
            http::Request::post("/v2/leads?page=2").header("host", "origin.salesforge.example");
        for (n, v) in headers() {
            req = req.header(n, v);
        }
        req.body(Body::from(BODY)).unwrap()
    }

    /// The layer checks against the wall clock: a fresh signature.
    fn fresh() -> http::Request<Body> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let mut values: Vec<(&str, &str)> = vec![
            ("@method", "POST"),
            ("@authority", "origin.salesforge.example"),
            ("@path", "/v2/leads"),
            ("@query", "?page=2"),
        ];
        let digest = content_digest(BODY);
        values.extend([
            ("keygate-product", "salesforge"),
            ("keygate-request-id", NONCE),
            ("content-digest", digest.as_str()),
        ]);
        let components = [
            "@method",
            "@authority",
            "@path",
            "@query",
            "keygate-product",
            "keygate-request-id",
            "content-digest",
        ];
        let params = format!(
            "({});created={now};expires={};nonce=\"{NONCE}\";keyid=\"salesforge\";alg=\"hmac-sha256\"",
            components.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(" "),
            now + 300
        );
        let mut base: Vec<String> = components
            .iter()
            .map(|c| {
                format!(
                    "\"{c}\": {}",
                    values.iter().find(|(n, _)| n == c).unwrap().1
                )
            })
            .collect();
        base.push(format!("\"@signature-params\": {params}"));
        let mac = hmac(
            &STANDARD.decode(KEY).unwrap(),
            &[base.join("\n").as_bytes()],
        );
        http::Request::post("/v2/leads?page=2")
            .header("host", "origin.salesforge.example")
            .header("keygate-product", "salesforge")
            .header("keygate-request-id", NONCE)
            .header("content-digest", digest)
            .header("signature-input", format!("keygate={params}"))
            .header("signature", format!("keygate=:{}:", STANDARD.encode(mac)))
            .body(Body::from(BODY))
            .unwrap()
    }

    #[tokio::test]
    async fn passes_the_identity_and_the_body_on_and_refuses_with_401() {
        let app = Router::new()
            .route(
                "/v2/leads",
                post(
                    |Extension(id): Extension<Identity>, body: String| async move {
                        format!("{}:{body}", id.product)
                    },
                ),
            )
            .layer(KeygateLayer::new(verifier()));
        let res = app.clone().oneshot(fresh()).await.unwrap();
        assert_eq!(res.status(), 200);
        let text = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&text[..], br#"salesforge:{"name":"Ada"}"#);
        for req in [fresh(), request()] {
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), 401);
            assert_eq!(res.headers()["content-type"], "application/problem+json");
            let text = res.into_body().collect().await.unwrap().to_bytes();
            let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
            assert!(
                ["replay", "expired"].contains(&json["code"].as_str().unwrap()),
                "{json}"
            );
        }
        let small = Router::new()
            .route("/v2/leads", post(|| async { "never" }))
            .layer(KeygateLayer::new(verifier()).max_body(4));
        let res = small.oneshot(fresh()).await.unwrap();
        assert_eq!(res.status(), 401);
    }

    use http_body_util::BodyExt as _;
}
