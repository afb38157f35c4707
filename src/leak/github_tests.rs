use super::*;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePublicKey as _, LineEnding};

const KEY_ID: &str = "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c";

fn signer(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32].into()).unwrap()
}

fn document(keys: &[(&str, &SigningKey)]) -> Vec<u8> {
    let list: Vec<serde_json::Value> = keys
        .iter()
        .map(|(id, k)| {
            let pem = k.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
            serde_json::json!({ "key_identifier": id, "key": pem, "is_current": true })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "public_keys": list })).unwrap()
}

fn sign(key: &SigningKey, body: &[u8]) -> String {
    let sig: Signature = key.sign(body);
    STANDARD.encode(sig.to_der().as_bytes())
}

const BODY: &[u8] = br#"[{"token":"fai_live_abc","type":"keygate_fai_key","url":"https://github.com/o/r/blob/1/x","source":"content"},{"token":"other","type":"t","url":null,"extra":1}]"#;

#[test]
fn a_signed_report_verifies_parses_and_is_answered() {
    let key = signer(1);
    let keys = PublicKeys::parse(&document(&[("old", &signer(2)), (KEY_ID, &key)])).unwrap();
    let verified = verify(&keys, Some(KEY_ID), Some(&sign(&key, BODY)), BODY).unwrap();
    let reports = parse(verified).unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].token.expose(), "fai_live_abc");
    assert_eq!(
        reports[0].url.as_deref(),
        Some("https://github.com/o/r/blob/1/x")
    );
    assert_eq!(reports[0].source.as_deref(), Some("content"));
    assert_eq!(reports[1].url, None);
    // Reports never print their tokens.
    assert!(!format!("{reports:?}").contains("fai_live_abc"));
    let findings = answer(&reports, |r| {
        if r.token.expose().starts_with("fai_") {
            Label::TruePositive
        } else {
            Label::FalsePositive
        }
    });
    let json = serde_json::to_value(&findings).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"token_hash": KeyHash::of(&ApiKey::new("fai_live_abc")).to_hex(), "token_type": "keygate_fai_key", "label": "true_positive"},
            {"token_hash": "d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa", "token_type": "t", "label": "false_positive"},
        ])
    );
}

#[test]
fn bad_signatures_are_refused() {
    let key = signer(1);
    let keys = PublicKeys::parse(&document(&[(KEY_ID, &key)])).unwrap();
    let good = sign(&key, BODY);
    let unauth =
        |r: Result<VerifiedBody<'_>, LeakError>| matches!(r, Err(LeakError::Unauthenticated(_)));
    // Another key, another body, a tampered signature, garbage.
    assert!(unauth(verify(
        &keys,
        Some(KEY_ID),
        Some(&sign(&signer(3), BODY)),
        BODY
    )));
    assert!(unauth(verify(&keys, Some(KEY_ID), Some(&good), b"[]")));
    let mut der = STANDARD.decode(&good).unwrap();
    let last = der.len() - 1;
    der[last] ^= 1;
    assert!(unauth(verify(
        &keys,
        Some(KEY_ID),
        Some(&STANDARD.encode(&der)),
        BODY
    )));
    for sig in [
        "",
        "   ",
        "not base64!",
        "AAAA",
        &"A".repeat(MAX_SIGNATURE_BYTES + 4),
    ] {
        assert!(
            unauth(verify(&keys, Some(KEY_ID), Some(sig), BODY)),
            "{sig:?}"
        );
    }
    assert!(unauth(verify(&keys, Some(KEY_ID), None, BODY)));
    assert!(unauth(verify(&keys, None, Some(&good), BODY)));
    // An identifier the document lacks: the edge refetches once.
    assert!(matches!(
        verify(&keys, Some("nope"), Some(&good), BODY),
        Err(LeakError::UnknownKey)
    ));
    // Oversized bodies are refused before any work.
    let huge = vec![b' '; MAX_BODY_BYTES + 1];
    assert!(matches!(
        verify(&keys, Some(KEY_ID), Some(&good), &huge),
        Err(LeakError::TooLarge { .. })
    ));
}

#[test]
fn a_high_s_signature_verifies_as_github_may_send_one() {
    // Go's crypto/ecdsa does not normalise s, so half of GitHub's
    // signatures have a high s; they must verify.
    let key = signer(1);
    let keys = PublicKeys::parse(&document(&[(KEY_ID, &key)])).unwrap();
    let sig: Signature = key.sign(BODY);
    let (r, s) = sig.split_scalars();
    let flipped = Signature::from_scalars(r, -*s).unwrap();
    let (low, high) = if flipped.normalize_s().is_some() {
        (sig, flipped)
    } else {
        (flipped, sig)
    };
    for sig in [low, high] {
        let header = STANDARD.encode(sig.to_der().as_bytes());
        assert!(verify(&keys, Some(KEY_ID), Some(&header), BODY).is_ok());
    }
}

#[test]
fn key_documents_are_checked() {
    let bad = |doc: &[u8]| matches!(PublicKeys::parse(doc), Err(LeakError::BadKeyDocument(_)));
    assert!(bad(b""));
    assert!(bad(b"{}"));
    assert!(bad(br#"{"public_keys":[]}"#));
    assert!(bad(br#"{"public_keys":[{"key_identifier":"a","key":"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}]}"#));
    assert!(bad(&vec![b' '; MAX_KEY_DOCUMENT_BYTES + 1]));
    // One bad key among good ones refuses the document.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&document(&[(KEY_ID, &signer(1))])).unwrap();
    doc["public_keys"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"key_identifier": "b", "key": "x"}));
    assert!(bad(&serde_json::to_vec(&doc).unwrap()));
}

#[test]
fn reports_are_bounded_and_shaped() {
    let key = signer(1);
    let keys = PublicKeys::parse(&document(&[(KEY_ID, &key)])).unwrap();
    let run =
        |body: &[u8]| parse(verify(&keys, Some(KEY_ID), Some(&sign(&key, body)), body).unwrap());
    assert_eq!(run(b"[]").unwrap().len(), 0);
    for body in [
        &b"{}"[..],
        b"[{\"type\":\"t\"}]",
        b"[{\"token\":\"x\"}]",
        b"[{\"token\":1,\"type\":\"t\"}]",
        b"[{\"token\":\"\",\"type\":\"t\"}]",
        b"not json",
    ] {
        assert!(
            matches!(run(body), Err(LeakError::Malformed(_))),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let entry = serde_json::json!({"token": "t", "type": "t"});
    let many = serde_json::to_vec(&vec![entry; MAX_TOKENS + 1]).unwrap();
    assert!(matches!(run(&many), Err(LeakError::Malformed(_))));
    let long_token = serde_json::to_vec(
        &serde_json::json!([{"token": "a".repeat(MAX_TOKEN_BYTES + 1), "type": "t"}]),
    )
    .unwrap();
    assert!(matches!(run(&long_token), Err(LeakError::Malformed(m)) if m.contains("[0].token")));
    let long_url = serde_json::to_vec(
        &serde_json::json!([{"token": "a", "type": "t", "url": "u".repeat(MAX_URL_BYTES + 1)}]),
    )
    .unwrap();
    assert!(matches!(run(&long_url), Err(LeakError::Malformed(m)) if m.contains("[0].url")));
}

/// Issue 25's run: a document with a byte that is not UTF-8 in a member
/// the parser ignores was taken (serde skips ignored members unchecked).
/// JSON is UTF-8, so the whole document is refused.
#[test]
fn a_key_document_that_is_not_utf8_is_refused() {
    let good = document(&[(KEY_ID, &signer(1))]);
    assert!(PublicKeys::parse(&good).is_ok());
    let text = String::from_utf8(good).unwrap();
    let bad = text.replacen("\"is_current\":true", "\"is_ckey\":\"\u{1}\"", 1);
    let mut bytes = bad.into_bytes();
    let at = bytes.iter().position(|&b| b == 1).unwrap();
    bytes[at] = 0x88;
    assert!(matches!(
        PublicKeys::parse(&bytes),
        Err(LeakError::BadKeyDocument(why)) if why == "not UTF-8"
    ));
}
