//! The `Keygate-Key-Meta` header: the members of a key's `meta` that its
//! product forwards to the origin (`forward_meta`).
//!
//! Pure. Invariants: only members the product lists are forwarded, never
//! the rest of `meta`; the value is compact JSON in visible ASCII alone
//! (every other character is a `\u` escape), so it can be signed
//! ([`crate::signature`]) and no client or key holder can add a header
//! line through it; members appear sorted by name, so the same meta always
//! gives the same bytes.

use serde_json::{Map, Value};

/// The header's value for a key with `meta`, for a product forwarding
/// `allowed`: `None` when the product forwards no member (no header);
/// otherwise a JSON object of the allowed members present (`{}` when the
/// key has none of them), so an origin can tell "no meta" from "not
/// configured".
pub fn forwarded(allowed: &[String], meta: Option<&Map<String, Value>>) -> Option<String> {
    if allowed.is_empty() {
        return None;
    }
    let chosen: std::collections::BTreeMap<&str, &Value> = meta
        .into_iter()
        .flatten()
        .filter(|(name, _)| allowed.iter().any(|a| a == *name))
        .map(|(name, value)| (name.as_str(), value))
        .collect();
    let json = serde_json::to_string(&chosen).unwrap_or_else(|_| "{}".to_owned());
    Some(ascii_only(&json))
}

/// `json` with each character outside visible ASCII and space written as a
/// JSON `\u` escape (UTF-16, so a surrogate pair above U+FFFF). Outside
/// strings compact JSON has only visible ASCII, so the result is the same
/// JSON value.
fn ascii_only(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if (' '..='~').contains(&c) {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_listed_members_sorted() {
        let m = meta(json!({"plan": "pro", "secret": "x", "org": {"id": 7}, "a": 1}));
        assert_eq!(
            forwarded(&names(&["plan", "org"]), Some(&m)).as_deref(),
            Some(r#"{"org":{"id":7},"plan":"pro"}"#)
        );
        assert_eq!(forwarded(&[], Some(&m)), None);
        assert_eq!(forwarded(&names(&["plan"]), None).as_deref(), Some("{}"));
        assert_eq!(
            forwarded(&names(&["nope"]), Some(&m)).as_deref(),
            Some("{}")
        );
    }

    #[test]
    fn the_value_is_visible_ascii_and_the_same_json() {
        let m = meta(json!({
            "plan": "pro\r\nX-Evil: 1 \u{7f} é 😀 \"q\" \\",
        }));
        let value = forwarded(&names(&["plan"]), Some(&m)).unwrap();
        assert!(value.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{value}");
        assert!(!value.contains('\r') && !value.contains('\n'));
        let back: Value = serde_json::from_str(&value).unwrap();
        assert_eq!(back, Value::Object(m));
        assert!(value.contains("\\u00e9") && value.contains("\\ud83d\\ude00"));
    }
}
