//! The shapes of account and key ids in management paths.
//!
//! Path segments arrive percent-encoded (the canonical path keeps `%3A`
//! as sent, since generated clients encode `:`); they are decoded here,
//! once, and the decoded id is what is checked and used. Invariant: an id
//! that passes these checks is safe in a header, a Durable Object name and
//! a log line, so it is checked before anything is read or stored.

use crate::record::is_header_safe_id;
use crate::Error;

/// What an account id looks like, for error messages.
pub const ACCOUNT_SHAPE: &str =
    "1-64 characters of A-Z, a-z, 0-9, '_', '.', ':' and '-', not ending in '.'";
/// What a key id looks like, for error messages.
pub const KEY_SHAPE: &str = "key_ followed by 17 letters and digits";

/// Percent-decodes `text` once. A `%` not followed by two hex digits is
/// kept as it is (as WHATWG URL parsing does); with `plus_is_space`, `+`
/// is a space (form encoding, for query strings).
pub fn percent_decode(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let hex = |i: usize| bytes.get(i).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(at + 1), hex(at + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                at += 3;
            }
            (b'+', _, _) if plus_is_space => {
                out.push(b' ');
                at += 1;
            }
            _ => {
                out.push(b);
                at += 1;
            }
        }
    }
    out
}

/// A path segment, decoded; `None` if it is not UTF-8 once decoded.
fn segment(raw: &str) -> Option<String> {
    String::from_utf8(percent_decode(raw, false)).ok()
}

/// Checks an account id from a path segment, decoding it first
/// (`team%3A42` is `team:42`).
pub fn account(raw: &str) -> Result<String, Error> {
    match segment(raw) {
        // A path segment ending in '.' has no canonical form (the edge
        // refuses it as malformed_path), so no id may end in one.
        Some(id) if is_header_safe_id(&id) && !id.ends_with('.') => Ok(id),
        _ => Err(Error::InvalidId {
            field: "account",
            shape: ACCOUNT_SHAPE,
        }),
    }
}

/// Checks a key id from a path segment, decoding it first.
pub fn key(raw: &str) -> Result<String, Error> {
    match segment(raw) {
        Some(id) if is_key_id(&id) => Ok(id),
        _ => Err(Error::InvalidId {
            field: "id",
            shape: KEY_SHAPE,
        }),
    }
}

/// Whether `id` is a key id: `key_` and 17 base62 characters.
pub(crate) fn is_key_id(id: &str) -> bool {
    id.strip_prefix("key_")
        .is_some_and(|rest| rest.len() == 17 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        for ok in ["a", "acct_42", "org:1.team-2", &"x".repeat(64)] {
            assert_eq!(account(ok), Ok(ok.to_owned()));
        }
        // Generated clients encode ':'; any escape decodes, once.
        assert_eq!(account("team%3A42"), Ok("team:42".to_owned()));
        assert_eq!(account("team%3a42"), Ok("team:42".to_owned()));
        assert_eq!(account("%61cct"), Ok("acct".to_owned()));
        assert_eq!(account(&"%78".repeat(64)), Ok("x".repeat(64)));
        for bad in [
            "",
            // Found by Schemathesis: the edge refuses a segment ending in
            // '.' (malformed_path), so the shape leaves it out too.
            "a.",
            ".",
            "a%2E",
            "a b",
            "a%20b",
            "a/b",
            "a%2Fb",
            "ü",
            "%C3%BC",
            "%FF",
            "a%00",
            "team%253A42",
            "a%",
            "a%3",
            "a%zz",
            "a+b",
            &"x".repeat(65),
            &"%78".repeat(65),
        ] {
            assert_eq!(account(bad).unwrap_err().code(), "invalid_id", "{bad}");
        }
    }

    #[test]
    fn key_ids() {
        assert!(key("key_8Hq2Xn1Lr5Tb7Vc9Z").is_ok());
        assert_eq!(
            key("key%5F8Hq2Xn1Lr5Tb7Vc9Z"),
            Ok("key_8Hq2Xn1Lr5Tb7Vc9Z".to_owned())
        );
        for bad in [
            "key_",
            "key_8Hq2Xn1Lr5Tb7Vc9",
            "key_8Hq2Xn1Lr5Tb7Vc9Z0",
            "kez_8Hq2Xn1Lr5Tb7Vc9Z",
            "key_8Hq2Xn1Lr5Tb7Vc9_",
            "key_8Hq2Xn1Lr5Tb7Vc9%5A%5A",
            "key_8Hq2Xn1Lr5Tb7Vc%00",
        ] {
            let err = key(bad).unwrap_err();
            assert_eq!(err.field(), Some("id"), "{bad}");
        }
    }
}

#[cfg(test)]
mod decode_tests {
    use super::percent_decode;

    #[test]
    fn decodes_once_and_keeps_stray_percents() {
        assert_eq!(percent_decode("a%3Ab", false), b"a:b");
        assert_eq!(percent_decode("%253A", false), b"%3A");
        assert_eq!(percent_decode("100%", false), b"100%");
        assert_eq!(percent_decode("%g1%1", false), b"%g1%1");
        assert_eq!(percent_decode("a+b", false), b"a+b");
        assert_eq!(percent_decode("a+b%2B", true), b"a b+");
        assert_eq!(percent_decode("%e2%82%ac", false), "€".as_bytes());
    }
}
