use super::*;
use crate::secret::OriginSecret;

pub(crate) const SECRET: &str = "keygate-test-origin-secret-0123456789";
pub(crate) const NONCE: &str = "0123456789abcdef0123456789abcdef";
const CREATED: i64 = 1_795_416_000;
const BODY: &[u8] = br#"{"name":"Ada"}"#;
const DIGEST: &str = "sha-256=:iLq22PbcaKh3Bk1YTLtbbFDnT2F+pQ2B06U8Lub/vE8=:";

pub(crate) fn key(product: &str) -> ProductKey {
    ProductKey::derive(&OriginSecret::new(SECRET).unwrap(), product)
}

fn fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("keygate-product", "salesforge"),
        ("keygate-key-id", "key_0c586b3T70e9ieZfx"),
        ("keygate-account", "acct_demo"),
        ("keygate-environment", "live"),
        ("keygate-scopes", "read write"),
        ("keygate-request-id", NONCE),
        ("content-digest", DIGEST),
        ("content-length", "14"),
        ("content-type", "application/json"),
    ]
}

fn covered() -> Covered<'static> {
    Covered {
        method: "POST",
        authority: "origin.salesforge.example",
        path: "/v2/leads",
        query: Some("page=2"),
        fields: fields(),
    }
}

fn params() -> Params<'static> {
    Params {
        created: CREATED,
        expires: expires_at(CREATED, DEFAULT_TTL_SECONDS),
        nonce: NONCE,
        keyid: "salesforge",
    }
}

const INPUT: &str = "keygate=(\"@method\" \"@authority\" \"@path\" \"@query\" \
\"keygate-product\" \"keygate-key-id\" \"keygate-account\" \"keygate-environment\" \
\"keygate-scopes\" \"keygate-request-id\" \"content-digest\" \"content-length\" \
\"content-type\");created=1795416000;expires=1795416300;\
nonce=\"0123456789abcdef0123456789abcdef\";keyid=\"salesforge\";alg=\"hmac-sha256\"";
const SIGNATURE: &str = "keygate=:l9mBd3My/QvYZQ8uByxV45F94c1lJUvKcrA05WtDS/s=:";

/// The test vector in docs/origin.md. Computed independently with Python's `hmac`
/// and `hashlib`, and verified with the npm `http-message-signatures`
/// package.
#[test]
fn readme_test_vector() {
    assert_eq!(
        key("salesforge").to_base64(),
        "VWgn+CerwFD/VvHau0HY2AebG6nW+Mklg6PZoSvUHPE="
    );
    assert_eq!(
        key("mailforge").to_base64(),
        "fsqABOjoL55VN2zNlmG7HAejZo+4rORh5CSKh5qD9wI="
    );
    assert_eq!(content_digest(BODY), DIGEST);
    let (base, _) = signature_base(&covered(), &params()).unwrap();
    assert_eq!(
        base,
        "\"@method\": POST\n\
         \"@authority\": origin.salesforge.example\n\
         \"@path\": /v2/leads\n\
         \"@query\": ?page=2\n\
         \"keygate-product\": salesforge\n\
         \"keygate-key-id\": key_0c586b3T70e9ieZfx\n\
         \"keygate-account\": acct_demo\n\
         \"keygate-environment\": live\n\
         \"keygate-scopes\": read write\n\
         \"keygate-request-id\": 0123456789abcdef0123456789abcdef\n\
         \"content-digest\": sha-256=:iLq22PbcaKh3Bk1YTLtbbFDnT2F+pQ2B06U8Lub/vE8=:\n\
         \"content-length\": 14\n\
         \"content-type\": application/json\n\
         \"@signature-params\": (\"@method\" \"@authority\" \"@path\" \"@query\" \
         \"keygate-product\" \"keygate-key-id\" \"keygate-account\" \"keygate-environment\" \
         \"keygate-scopes\" \"keygate-request-id\" \"content-digest\" \"content-length\" \
         \"content-type\");created=1795416000;expires=1795416300;\
         nonce=\"0123456789abcdef0123456789abcdef\";keyid=\"salesforge\";alg=\"hmac-sha256\""
    );
    let signed = sign(&key("salesforge"), &covered(), &params()).unwrap();
    assert_eq!(signed.input, INPUT);
    assert_eq!(signed.signature, SIGNATURE);
}

#[test]
fn product_keys_never_print() {
    assert_eq!(format!("{:?}", key("salesforge")), "ProductKey([redacted])");
}

#[test]
fn query_and_path_edges_follow_rfc_9421() {
    let base = |path, query| {
        let covered = Covered {
            path,
            query,
            fields: vec![],
            ..covered()
        };
        signature_base(&covered, &params()).unwrap().0
    };
    assert!(base("/x", None).contains("\"@query\": ?\n"));
    assert!(base("/x", Some("")).contains("\"@query\": ?\n"));
    assert!(base("", None).contains("\"@path\": /\n"));
    assert!(base("/x", Some("a=%20&b")).contains("\"@query\": ?a=%20&b\n"));
}

#[test]
fn unsignable_values_are_refused_not_signed() {
    for (name, value) in [
        ("content-type", "text/plain; x=\u{e9}"),
        ("content-type", "a\r\nb"),
        ("content-type", "a\nb"),
        ("Content-Type", "text/plain"),
        ("", "x"),
        ("a b", "x"),
    ] {
        let covered = Covered {
            fields: vec![(name, value)],
            ..covered()
        };
        assert_eq!(
            sign(&key("salesforge"), &covered, &params()),
            Err(Unsignable(name.to_owned())),
            "{name}: {value:?}"
        );
    }
    // Surrounding whitespace is trimmed (RFC 9421 §2.1), inner kept.
    let covered = Covered {
        fields: vec![("content-type", "  text/plain;  a=b \t")],
        ..covered()
    };
    let (base, _) = signature_base(&covered, &params()).unwrap();
    assert!(base.contains("\"content-type\": text/plain;  a=b\n"));
    for nonce in ["a\"b", "a\\b", "\u{e9}"] {
        let params = Params { nonce, ..params() };
        assert_eq!(
            sign(&key("salesforge"), &covered, &params),
            Err(Unsignable("nonce".to_owned()))
        );
    }
}

#[test]
fn expiry_arithmetic_saturates() {
    assert_eq!(expires_at(i64::MAX - 1, 300), i64::MAX);
    assert_eq!(expires_at(CREATED, 300), CREATED + 300);
}

fn received_headers() -> Vec<(&'static str, &'static str)> {
    let mut headers = fields();
    headers.push(("Signature-Input", INPUT));
    headers.push(("Signature", SIGNATURE));
    headers.push(("Accept", "*/*"));
    headers
}

fn check(headers: &[(&str, &str)], body: &[u8], now: i64) -> Result<(), VerifyError> {
    let received = Received {
        method: "POST",
        authority: "origin.salesforge.example",
        path: "/v2/leads",
        query: Some("page=2"),
        headers,
        body,
    };
    verify(&key("salesforge"), "salesforge", &received, now, 5).map(drop)
}

#[test]
fn verify_accepts_the_vector_until_it_expires() {
    let headers = received_headers();
    let input = {
        let received = Received {
            method: "POST",
            authority: "origin.salesforge.example",
            path: "/v2/leads",
            query: Some("page=2"),
            headers: &headers,
            body: BODY,
        };
        verify(&key("salesforge"), "salesforge", &received, CREATED, 5).unwrap()
    };
    assert_eq!(input.nonce.as_deref(), Some(NONCE));
    assert_eq!(check(&headers, BODY, CREATED + 300), Ok(()));
    assert_eq!(check(&headers, BODY, CREATED - 5), Ok(()));
    assert_eq!(
        check(&headers, BODY, CREATED + 301),
        Err(VerifyError::Expired)
    );
    assert_eq!(
        check(&headers, BODY, CREATED - 6),
        Err(VerifyError::Expired)
    );
    assert_eq!(check(&headers, BODY, i64::MIN), Err(VerifyError::Expired));
}

#[test]
fn verify_refuses_every_change() {
    let headers = received_headers();
    let base = Received {
        method: "POST",
        authority: "origin.salesforge.example",
        path: "/v2/leads",
        query: Some("page=2"),
        headers: &headers,
        body: BODY,
    };
    let run = |r: &Received<'_>| verify(&key("salesforge"), "salesforge", r, CREATED, 5);
    use VerifyError::*;
    for (what, received, want) in [
        (
            "method",
            Received {
                method: "PUT",
                ..base.clone()
            },
            Mismatch,
        ),
        (
            "host",
            Received {
                authority: "other.example",
                ..base.clone()
            },
            Mismatch,
        ),
        (
            "path",
            Received {
                path: "/v2/leads/1",
                ..base.clone()
            },
            Mismatch,
        ),
        (
            "query",
            Received {
                query: None,
                ..base.clone()
            },
            Mismatch,
        ),
        (
            "body",
            Received {
                body: b"{}",
                ..base.clone()
            },
            DigestMismatch,
        ),
    ] {
        assert_eq!(run(&received).map(drop), Err(want), "{what}");
    }
    // Another product's key, or another keyid, fails.
    assert_eq!(
        verify(&key("mailforge"), "salesforge", &base, CREATED, 5).map(drop),
        Err(Mismatch)
    );
    assert_eq!(
        verify(&key("mailforge"), "mailforge", &base, CREATED, 5).map(drop),
        Err(WrongKey)
    );
    let replace = |name: &str, value: &'static str| {
        let mut h = received_headers();
        for (n, v) in h.iter_mut() {
            if n.eq_ignore_ascii_case(name) {
                *v = value;
            }
        }
        h
    };
    let cases: Vec<(Vec<(&str, &str)>, VerifyError)> = vec![
        (replace("keygate-account", "acct_victim"), Mismatch),
        (replace("keygate-scopes", "read write admin"), Mismatch),
        (replace("content-type", "text/plain"), Mismatch),
        (replace("keygate-request-id", "ffff"), NonceMismatch),
        (replace("signature", "keygate=:AAAA:"), Mismatch),
        (replace("signature", "other=:AAAA:"), Malformed),
        (replace("signature-input", "keygate=()"), WrongKey),
        (
            replace("signature-input", "keygate=(\"@method\""),
            Malformed,
        ),
        (replace("signature-input", ""), Malformed),
        (
            replace(
                "signature-input",
                "keygate=(\"@method\";req);alg=\"hmac-sha256\"",
            ),
            Malformed,
        ),
        (
            replace(
                "signature-input",
                "keygate=(\"@method\");alg=\"hmac-sha256\";keyid=\"salesforge\"",
            ),
            NotCovered,
        ),
    ];
    for (headers, want) in cases {
        assert_eq!(check(&headers, BODY, CREATED), Err(want), "{headers:?}");
    }
    // An added Keygate-* header that the signature does not cover.
    let mut extra = received_headers();
    extra.push(("Keygate-Admin", "true"));
    assert_eq!(check(&extra, BODY, CREATED), Err(NotCovered));
    // A covered header that is missing.
    let missing: Vec<_> = received_headers()
        .into_iter()
        .filter(|(n, _)| *n != "content-type")
        .collect();
    assert_eq!(check(&missing, BODY, CREATED), Err(NotCovered));
}

#[test]
fn odd_signature_headers_never_panic() {
    for input in [
        "keygate=",
        "keygate=(",
        "keygate=)(",
        "keygate=(\"a\" \"b\");created",
        "keygate=(\"a\");created=99999999999999999999",
        "keygate=(\"a\");created=1e3",
        "keygate=(\"a\");nonce=\"\\\"\"",
        "a=(\"x,y\"), keygate=(\"@method\");keyid=\"k\"",
        ",,,",
        "keygate=(((((",
        "keygate=(\"\u{e9}\")",
    ] {
        let _ = parse::input(input);
        let mut h = received_headers();
        h.retain(|(n, _)| *n != "Signature-Input");
        h.push(("Signature-Input", input));
        assert!(check(&h, BODY, CREATED).is_err(), "{input}");
    }
    let parsed = parse::input("a=(\"x,y\"), keygate=(\"@method\");keyid=\"k\"").unwrap();
    assert_eq!(parsed.components, vec!["@method"]);
    assert_eq!(parsed.keyid.as_deref(), Some("k"));
    assert!(parse::input(&"keygate=(".repeat(5000)).is_none());
}
