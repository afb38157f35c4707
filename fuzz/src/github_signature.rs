//! Target `github_signature`: the GitHub report signature, its headers,
//! its base64 and DER decoding, and the public-key document.
//!
//! Input: one flag byte, then `identifier NUL signature NUL message`. The
//! flags say whether each header is sent, which of the target's keys signs
//! (three in the document, one not), and the mode:
//! * headers (no mode bit): the identifier and signature headers exactly
//!   as given, over `message`;
//! * signed: the target signs `message` with the chosen key; the signature
//!   field's first three bytes, if there are three, flip one message byte
//!   (`position` as a little-endian u16, so 256 or more since fields hold
//!   no NUL, then `xor`);
//! * DER: the signature field is raw DER, sent base64-encoded;
//! * document: `message` is a public-key document, and the identifier
//!   field names a key in a document the target builds.
//!
//! Invariants:
//! * `verify` never panics on any header bytes, and its verdict is the one
//!   an independent check gives (headers trimmed, the identifier looked up,
//!   standard base64, DER, then ECDSA P-256/SHA-256 by `p256` itself): a
//!   report is accepted only under a listed identifier whose key verifies
//!   the signature over exactly this body, and each refusal is the one for
//!   the first check that fails;
//! * a signature the target made verifies iff the message is unchanged and
//!   the identifier names the key that made it;
//! * DER that parses re-encodes to the same bytes (no second encoding of a
//!   signature is accepted), or is refused;
//! * every refusal maps to a stable code (`unauthorized`,
//!   `body_too_large`, `github_keys_unavailable`) with the refusal's status;
//! * a public-key document never panics the parser; one that parses lists
//!   at least one key, each of its identifiers finds its first key (never
//!   `unknown key`), an unlisted identifier finds none; a document built
//!   from the target's keys parses under any identifier.

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use keygate::leak::github::{self, PublicKeys, MAX_KEY_DOCUMENT_BYTES, MAX_SIGNATURE_BYTES};
use keygate::leak::LeakError;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePublicKey as _, EncodePublicKey as _, LineEnding};

/// The identifiers of the document's three keys; the fourth key is in no
/// document.
const IDS: [&str; 3] = ["a1", "b2", "c3"];
/// What the document checks sign.
const MESSAGE: &[u8] = b"[]";

struct Fixture {
    signers: Vec<SigningKey>,
    pems: Vec<String>,
    keys: PublicKeys,
    /// `MESSAGE` signed by the first key, base64 DER.
    signed: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let signers: Vec<SigningKey> = (1..=4u8)
            .map(|seed| match SigningKey::from_bytes(&[seed; 32].into()) {
                Ok(key) => key,
                Err(_) => panic!("fixture key {seed} is valid"),
            })
            .collect();
        let pems: Vec<String> = signers
            .iter()
            .map(
                |k| match k.verifying_key().to_public_key_pem(LineEnding::LF) {
                    Ok(pem) => pem,
                    Err(_) => panic!("a fixture key encodes"),
                },
            )
            .collect();
        let listed: Vec<(&str, &str)> = IDS
            .iter()
            .zip(&pems)
            .map(|(id, pem)| (*id, pem.as_str()))
            .collect();
        let Ok(keys) = PublicKeys::parse(&document(&listed)) else {
            panic!("the fixture document parses");
        };
        let signed = sign(signers.first(), MESSAGE);
        Fixture {
            signers,
            pems,
            keys,
            signed,
        }
    })
}

fn document(keys: &[(&str, &str)]) -> Vec<u8> {
    let list: Vec<serde_json::Value> = keys
        .iter()
        .map(|(id, pem)| serde_json::json!({"key_identifier": id, "key": pem, "is_current": true}))
        .collect();
    serde_json::json!({ "public_keys": list })
        .to_string()
        .into_bytes()
}

fn sign(signer: Option<&SigningKey>, message: &[u8]) -> String {
    let Some(signer) = signer else {
        panic!("no such fixture key");
    };
    let sig: Signature = signer.sign(message);
    STANDARD.encode(sig.to_der().as_bytes())
}

/// The `github_signature` target.
pub fn github_signature(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let [identifier, signature, message] = crate::split::<3>(rest);
    let fixture = fixture();
    let signer = usize::from(flags >> 2) & 3;
    match flags >> 4 & 3 {
        0 => {
            let identifier = (flags & 1 == 0).then(|| crate::text(identifier));
            let signature = (flags & 2 == 0).then(|| crate::text(signature));
            check(
                &fixture.keys,
                identifier.as_deref(),
                signature.as_deref(),
                message,
            );
        }
        1 => signed(flags, signer, identifier, signature, message),
        2 => {
            check_der(signature);
            let id = IDS.get(signer).copied().unwrap_or("d4");
            let header = STANDARD.encode(signature);
            check(&fixture.keys, Some(id), Some(&header), message);
        }
        _ => {
            check_document(message);
            check_built_document(&crate::text(identifier));
        }
    }
}

/// Signs `message` with key `signer`, flips one byte, presents it under
/// the identifier field (or the signer's own identifier when it is empty).
fn signed(flags: u8, signer: usize, identifier: &[u8], tamper: &[u8], message: &[u8]) {
    let fixture = fixture();
    let header = sign(fixture.signers.get(signer), message);
    let mut sent = message.to_vec();
    if let [lo, hi, xor, ..] = *tamper {
        let at = usize::from(u16::from_le_bytes([lo, hi]));
        if let Some(byte) = sent.get_mut(at) {
            *byte ^= xor;
        }
    }
    let identifier = match crate::text(identifier) {
        id if id.is_empty() => IDS.get(signer).copied().unwrap_or("d4").to_owned(),
        id => id,
    };
    // Headers arrive with surrounding whitespace at times.
    let header = if flags & 1 == 1 {
        format!(" {header}\t")
    } else {
        header
    };
    let accepted = check(&fixture.keys, Some(&identifier), Some(&header), &sent);
    let own = IDS.get(signer).is_some_and(|id| *id == identifier.trim());
    assert_eq!(
        accepted,
        own && sent == message,
        "a signature verifies iff the message is unchanged and its own key is named"
    );
}

/// Why an independent reading refuses the headers, or `None` if it
/// accepts them.
fn expected(
    keys: &[(&str, VerifyingKey)],
    identifier: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Option<LeakError> {
    if body.len() > github::MAX_BODY_BYTES {
        return Some(LeakError::TooLarge {
            limit: github::MAX_BODY_BYTES,
        });
    }
    let Some(identifier) = identifier.map(str::trim).filter(|s| !s.is_empty()) else {
        return Some(LeakError::Unauthenticated(
            "Github-Public-Key-Identifier is missing",
        ));
    };
    let Some(signature) = signature
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= MAX_SIGNATURE_BYTES)
    else {
        return Some(LeakError::Unauthenticated(
            "Github-Public-Key-Signature is missing or too long",
        ));
    };
    let Some((_, key)) = keys.iter().find(|(id, _)| *id == identifier) else {
        return Some(LeakError::UnknownKey);
    };
    let Ok(der) = STANDARD.decode(signature) else {
        return Some(LeakError::Unauthenticated("the signature is not base64"));
    };
    let Ok(sig) = Signature::from_der(&der) else {
        return Some(LeakError::Unauthenticated(
            "the signature is not a DER ECDSA signature",
        ));
    };
    assert_eq!(
        sig.to_der().as_bytes(),
        der.as_slice(),
        "DER that parses re-encodes to the same bytes"
    );
    match key.verify(body, &sig) {
        Ok(()) => None,
        Err(_) => Some(LeakError::Unauthenticated("the signature does not verify")),
    }
}

/// Verifies with the fixture document, compares with [`expected`] and
/// checks a refusal; whether the report was accepted.
fn check(
    keys: &PublicKeys,
    identifier: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> bool {
    let fixture = fixture();
    let listed: Vec<(&str, VerifyingKey)> = IDS
        .iter()
        .zip(&fixture.signers)
        .map(|(id, k)| (*id, *k.verifying_key()))
        .collect();
    let result = github::verify(keys, identifier, signature, body).map(|_| ());
    assert_eq!(
        result.as_ref().err(),
        expected(&listed, identifier, signature, body).as_ref(),
        "verify({identifier:?}, {signature:?})"
    );
    if let Err(err) = &result {
        check_refusal(err);
    }
    result.is_ok()
}

fn check_refusal(err: &LeakError) {
    let status = err.status();
    let answer = keygate::Error::from(err.clone());
    assert_eq!(answer.status(), status, "{err:?}");
    assert!(
        matches!(
            answer.code(),
            "unauthorized" | "body_too_large" | "github_keys_unavailable" | "invalid_json"
        ),
        "{err:?} answered {}",
        answer.code()
    );
    let problem = answer.to_problem(None);
    let body: serde_json::Value = match serde_json::from_str(&problem.body) {
        Ok(body) => body,
        Err(e) => panic!("problem body is not JSON ({e}): {}", problem.body),
    };
    assert_eq!(
        body.get("code").and_then(|c| c.as_str()),
        Some(answer.code())
    );
}

/// DER that parses re-encodes to the same bytes, and is at most the
/// longest P-256 signature.
fn check_der(der: &[u8]) {
    if let Ok(sig) = Signature::from_der(der) {
        assert_eq!(sig.to_der().as_bytes(), der, "DER re-encodes the same");
        assert!(der.len() <= 72);
    }
}

/// Any document: parsing never panics; what parses lists keys that its
/// identifiers find.
fn check_document(doc: &[u8]) {
    let fixture = fixture();
    let parsed = PublicKeys::parse(doc);
    let keys = match parsed {
        Err(err) => {
            assert!(matches!(err, LeakError::BadKeyDocument(_)), "{err:?}");
            check_refusal(&err);
            return;
        }
        Ok(keys) => keys,
    };
    assert!(doc.len() <= MAX_KEY_DOCUMENT_BYTES);
    let Some(list) = entries(doc) else {
        panic!("a document that is not a list of keys parsed");
    };
    assert!(!list.is_empty(), "a document with no key parsed");
    // Signature checks are the slow part: the first two identifiers.
    for (id, _) in list.iter().take(2) {
        let result = github::verify(&keys, Some(id), Some(&fixture.signed), MESSAGE);
        if !id.is_empty() && id.trim() == id {
            assert!(
                !matches!(result, Err(LeakError::UnknownKey)),
                "a listed identifier {id:?} finds no key"
            );
        }
        if result.is_ok() {
            // The first key listed under `id` is the one used.
            let first = list.iter().find(|(other, _)| other == id);
            let key = first.and_then(|(_, pem)| VerifyingKey::from_public_key_pem(pem.trim()).ok());
            assert_eq!(
                key.as_ref(),
                fixture.signers.first().map(|k| k.verifying_key()),
                "{id:?} verified with a key that is not its first"
            );
        }
    }
    // Longer than any listed identifier, and nothing to trim.
    let longest = list
        .iter()
        .map(|(id, _)| id.len())
        .max()
        .unwrap_or_default();
    let unlisted = "x".repeat(longest + 1);
    assert_eq!(
        github::verify(&keys, Some(&unlisted), Some(&fixture.signed), MESSAGE).err(),
        Some(LeakError::UnknownKey)
    );
}

/// The `(key_identifier, key)` pairs of a document, read independently:
/// serde reads a struct from a JSON object or from an array of its members
/// in order, so both forms are accepted here as they are there.
fn entries(doc: &[u8]) -> Option<Vec<(String, String)>> {
    fn member<'v>(
        value: &'v serde_json::Value,
        name: &str,
        at: usize,
    ) -> Option<&'v serde_json::Value> {
        match value {
            serde_json::Value::Object(map) => map.get(name),
            serde_json::Value::Array(items) => items.get(at),
            _ => None,
        }
    }
    let json: serde_json::Value = serde_json::from_slice(doc).ok()?;
    let list = member(&json, "public_keys", 0)?.as_array()?;
    list.iter()
        .map(|k| {
            let id = member(k, "key_identifier", 0)?.as_str()?;
            let pem = member(k, "key", 1)?.as_str()?;
            Some((id.to_owned(), pem.to_owned()))
        })
        .collect()
}

/// A document built from the target's keys parses under any identifier,
/// and its keys verify under their own identifiers only.
fn check_built_document(identifier: &str) {
    let fixture = fixture();
    let [first, second, ..] = fixture.pems.as_slice() else {
        panic!("the fixture has keys");
    };
    let other = format!("{identifier}-other");
    let doc = document(&[(identifier, first), (&other, second)]);
    if doc.len() > MAX_KEY_DOCUMENT_BYTES {
        return;
    }
    let keys = match PublicKeys::parse(&doc) {
        Ok(keys) => keys,
        Err(err) => panic!("a document of good keys is refused: {err:?}"),
    };
    let findable = !identifier.is_empty() && identifier.trim() == identifier;
    let result = github::verify(&keys, Some(identifier), Some(&fixture.signed), MESSAGE);
    assert_eq!(result.is_ok(), findable, "{identifier:?}");
    // The second key is found under its own identifier (and refuses the
    // first key's signature); not found when whitespace hides it.
    let expected = if other.trim() == other {
        LeakError::Unauthenticated("the signature does not verify")
    } else {
        LeakError::UnknownKey
    };
    if !findable {
        assert_eq!(
            github::verify(&keys, Some(&other), Some(&fixture.signed), MESSAGE).err(),
            Some(expected)
        );
    }
}
