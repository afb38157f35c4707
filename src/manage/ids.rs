//! The shapes of account and key ids in management paths.
//!
//! Invariant: an id that passes these checks is safe in a header, a
//! Durable Object name and a log line, so it is checked before anything is
//! read or stored.

use crate::record::is_header_safe_id;
use crate::Error;

/// What an account id looks like, for error messages.
pub const ACCOUNT_SHAPE: &str = "1-64 characters of A-Z, a-z, 0-9, '_', '.', ':' and '-'";
/// What a key id looks like, for error messages.
pub const KEY_SHAPE: &str = "key_ followed by 17 letters and digits";

/// Checks an account id from a path.
pub fn account(id: &str) -> Result<&str, Error> {
    if is_header_safe_id(id) {
        Ok(id)
    } else {
        Err(Error::InvalidId {
            field: "account",
            shape: ACCOUNT_SHAPE,
        })
    }
}

/// Checks a key id from a path: `key_` and 17 base62 characters.
pub fn key(id: &str) -> Result<&str, Error> {
    let ok = id
        .strip_prefix("key_")
        .is_some_and(|rest| rest.len() == 17 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok {
        Ok(id)
    } else {
        Err(Error::InvalidId {
            field: "id",
            shape: KEY_SHAPE,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        for ok in ["a", "acct_42", "org:1.team-2", &"x".repeat(64)] {
            assert_eq!(account(ok), Ok(ok));
        }
        for bad in ["", "a b", "a%20b", "a/b", "ü", &"x".repeat(65)] {
            assert_eq!(account(bad).unwrap_err().code(), "invalid_id", "{bad}");
        }
    }

    #[test]
    fn key_ids() {
        assert!(key("key_8Hq2Xn1Lr5Tb7Vc9Z").is_ok());
        for bad in [
            "key_",
            "key_8Hq2Xn1Lr5Tb7Vc9",
            "key_8Hq2Xn1Lr5Tb7Vc9Z0",
            "kez_8Hq2Xn1Lr5Tb7Vc9Z",
            "key_8Hq2Xn1Lr5Tb7Vc9_",
        ] {
            let err = key(bad).unwrap_err();
            assert_eq!(err.field(), Some("id"), "{bad}");
        }
    }
}
