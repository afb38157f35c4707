//! What ties a management response to its request: the request id (a
//! `Keygate-Request-Id` header, a problem's `instance`, the log line) and
//! the `Location` of a key made by a 201.
//!
//! Pure: the id's random bytes come in as an argument. Invariant: the id
//! is 32 lowercase hex digits, safe in a header, a URN and a log line, and
//! a problem body gains `instance` without losing any member.

use serde_json::Value;

/// Request ids and a problem's `instance`, shared with the refusals
/// both Workers make before the management API.
pub use crate::error::{instance, request_id, with_instance};
/// The header every management response carries.
pub use crate::forward::headers::REQUEST_ID as HEADER;

/// The `Location` of the key a 201 `created` body describes, under the
/// management `prefix`: `{prefix}/accounts/{account}/keys/{id}`. `None`
/// when the body names no well-formed key id. `account` is already
/// checked ([`super::ids`]), and its characters need no escaping.
pub fn location(prefix: &str, account: &str, created: &str) -> Option<String> {
    let body: Value = serde_json::from_str(created).ok()?;
    let id = body.get("id")?.as_str()?;
    let id = crate::ledger::ids::key(id).ok()?;
    Some(format!("{prefix}/accounts/{account}/keys/{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_hex() {
        let id = request_id(&[
            0x00, 0x01, 0xab, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ]);
        assert_eq!(id, "0001abff000000000000000000000010");
        assert_eq!(instance(&id), format!("urn:keygate:request:{id}"));
    }

    #[test]
    fn problems_gain_an_instance_and_keep_the_rest() {
        let body = r#"{"type":"urn:keygate:error:not_found","code":"not_found","status":404}"#;
        let stamped: Value = serde_json::from_str(&with_instance(body, "ab")).unwrap();
        assert_eq!(stamped["instance"], "urn:keygate:request:ab");
        assert_eq!(stamped["code"], "not_found");
        assert_eq!(stamped["status"], 404);
        // A problem that already had one gets this request's.
        let again: Value =
            serde_json::from_str(&with_instance(&stamped.to_string(), "cd")).unwrap();
        assert_eq!(again["instance"], "urn:keygate:request:cd");
        for odd in ["", "[]", "not json", "\"x\""] {
            assert_eq!(with_instance(odd, "ab"), odd);
        }
    }

    #[test]
    fn locations_name_the_new_key() {
        let body = r#"{"id":"key_8Hq2Xn1Lr5Tb7Vc9Z","key":"secret"}"#;
        assert_eq!(
            location("/_keygate/v1", "team:42", body).as_deref(),
            Some("/_keygate/v1/accounts/team:42/keys/key_8Hq2Xn1Lr5Tb7Vc9Z")
        );
        assert_eq!(
            location("", "a", body).as_deref(),
            Some("/accounts/a/keys/key_8Hq2Xn1Lr5Tb7Vc9Z")
        );
        for odd in [
            r#"{"id":"key_short"}"#,
            r#"{"id":7}"#,
            "{}",
            "x",
            r#"{"id":"key_8Hq2Xn1Lr5Tb7Vc9Z\r\nX: y"}"#,
        ] {
            assert_eq!(location("/p", "a", odd), None, "{odd}");
        }
    }
}
