//! `POST {prefix}/keys/lookup`: finding a key by its value, for support
//! staff and leak response.
//!
//! Pure. Invariants: the key travels only in the body and is never echoed
//! (a malformed one is refused naming the member, not the value); it is
//! checked for shape and checksum here, and the edge looks it up only once
//! its tag verifies, so a forged key costs no read; the answer carries the
//! key's view and account, never the key.

use serde::Deserialize;
use serde_json::{json, Value};

use super::body;
use crate::key::{parse, WellFormedKey};
use crate::secret::ApiKey;
use crate::Error;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupBody {
    key: String,
}

/// The well-formed key in a lookup body.
pub(super) fn key(raw: &[u8]) -> Result<WellFormedKey, Error> {
    let body: LookupBody = body::decode(raw, "key", &[])?;
    parse(&ApiKey::new(&body.key)).map_err(|why| Error::InvalidField {
        field: "key".to_owned(),
        reason: format!("is not a keygate key: {why}"),
    })
}

/// The answer: `{"account", "key": KeyView}`, from the key's account and
/// the view its object answered; `None` if `view` is not a JSON object.
pub fn answer(account: &str, view: &str) -> Option<String> {
    let view: Value = serde_json::from_str(view).ok()?;
    view.is_object()
        .then(|| json!({ "account": account, "key": view }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_name_the_member_never_the_value() {
        let secret = "fai_live_notAKeyAtAllnotAKeyAtAllnotAKeyAtAllnotAKeyAtAllxx";
        for (body, code) in [
            (format!(r#"{{"key":"{secret}"}}"#), "invalid_field"),
            (r#"{"key":7}"#.to_owned(), "invalid_field"),
            ("{}".to_owned(), "invalid_field"),
            (r#"{"key":"a","other":1}"#.to_owned(), "unknown_field"),
            ("[]".to_owned(), "invalid_json"),
        ] {
            let err = key(body.as_bytes()).unwrap_err();
            assert_eq!(err.code(), code, "{body}");
            assert!(!err.to_problem(None).body.contains(secret));
        }
    }

    #[test]
    fn a_minted_key_parses() {
        let minted = crate::key::mint(
            "fai",
            crate::key::Environment::Live,
            &[7; 32],
            &crate::key::test_secret(),
        )
        .unwrap();
        let body = json!({ "key": minted.key.key().expose() }).to_string();
        assert!(key(body.as_bytes()).is_ok());
    }

    #[test]
    fn answers_wrap_the_view() {
        let out: Value =
            serde_json::from_str(&answer("acct_1", r#"{"id":"key_1"}"#).unwrap()).unwrap();
        assert_eq!(
            out,
            json!({ "account": "acct_1", "key": { "id": "key_1" } })
        );
        assert_eq!(answer("a", "oops"), None);
        assert_eq!(answer("a", "[]"), None);
    }
}
