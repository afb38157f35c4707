//! Target `leak`: GitHub secret scanning reports and GitLab revoke
//! requests.
//!
//! Input: `identifier NUL signature NUL body`.
//! Invariants:
//! * `verify` never panics and accepts only the fixture key's identifier
//!   with a signature that key made over exactly this body;
//! * a report that verifies and parses has at most 1000 entries of
//!   bounded, non-empty tokens; the answer has one entry per token, in
//!   order, each a 64-digit lowercase hex SHA-256; nothing prints a token;
//! * a GitLab revoke request that parses names only revocable types;
//! * parsing any public-key document never panics.

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use keygate::leak::github::{self, Label, PublicKeys, MAX_TOKENS, MAX_TOKEN_BYTES};
use keygate::leak::gitlab;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey as _, LineEnding};

const KEY_ID: &str = "fixture";
const TOKEN: &str = "gitlab-revocation-token-0123456789abcdef";

fn fixture() -> &'static (SigningKey, PublicKeys) {
    static FIXTURE: OnceLock<(SigningKey, PublicKeys)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let Ok(signer) = SigningKey::from_bytes(&[7u8; 32].into()) else {
            panic!("the fixture key is valid");
        };
        let Ok(pem) = signer.verifying_key().to_public_key_pem(LineEnding::LF) else {
            panic!("the fixture key encodes");
        };
        let doc = serde_json::json!({"public_keys": [{"key_identifier": KEY_ID, "key": pem, "is_current": true}]});
        let Ok(keys) = PublicKeys::parse(doc.to_string().as_bytes()) else {
            panic!("the fixture document parses");
        };
        (signer, keys)
    })
}

/// The `leak` target.
pub fn leak(data: &[u8]) {
    let [identifier, signature, body] = crate::split::<3>(data);
    let (identifier, signature) = (crate::text(identifier), crate::text(signature));
    let (signer, keys) = fixture();
    let _ = PublicKeys::parse(body);

    if github::verify(keys, Some(&identifier), Some(&signature), body).is_ok() {
        assert_eq!(identifier.trim(), KEY_ID);
    }
    // The same body, properly signed (only a JSON array can parse, and
    // signing is the slow part).
    if serde_json::from_slice::<Vec<serde_json::Value>>(body).is_err() {
        check_gitlab(&identifier, body);
        return;
    }
    let sig: Signature = signer.sign(body);
    let header = STANDARD.encode(sig.to_der().as_bytes());
    match github::verify(keys, Some(KEY_ID), Some(&header), body) {
        Err(_) => assert!(
            body.len() > github::MAX_BODY_BYTES,
            "a good signature is refused"
        ),
        Ok(verified) => {
            if let Ok(reports) = github::parse(verified) {
                assert!(reports.len() <= MAX_TOKENS);
                let findings = github::answer(&reports, |r| {
                    if r.token.expose().len() % 2 == 0 {
                        Label::TruePositive
                    } else {
                        Label::FalsePositive
                    }
                });
                assert_eq!(findings.len(), reports.len());
                for (report, finding) in reports.iter().zip(&findings) {
                    let token = report.token.expose();
                    assert!(!token.is_empty() && token.len() <= MAX_TOKEN_BYTES);
                    assert_eq!(finding.token_type, report.token_type);
                    assert_eq!(finding.token_hash.len(), 64);
                    assert!(finding
                        .token_hash
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
                    // Exactly the placeholder (a token may be a piece of it:
                    // libFuzzer found `ey([redacted`).
                    assert_eq!(format!("{:?}", report.token), "ApiKey([redacted])");
                }
            }
        }
    }

    check_gitlab(&identifier, body);
}

fn check_gitlab(identifier: &str, body: &[u8]) {
    let Ok(bearer) = gitlab::BearerToken::new(TOKEN) else {
        panic!("the fixture token is long enough");
    };
    let presented = format!("Bearer {identifier}");
    if gitlab::authenticate(&bearer, Some(&presented)).is_ok() {
        assert_eq!(identifier.trim(), TOKEN);
    }
    let Ok(auth) = gitlab::authenticate(&bearer, Some(&format!("Bearer {TOKEN}"))) else {
        panic!("the right token authenticates");
    };
    let types = vec![gitlab::token_type("fai"), gitlab::token_type("sf")];
    if let Ok(revokes) = gitlab::parse_revoke(auth, body, &types) {
        assert!(revokes.len() <= gitlab::MAX_TOKENS);
        assert!(revokes.iter().all(|r| types.contains(&r.token_type)));
    }
}
