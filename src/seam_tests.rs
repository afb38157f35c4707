use super::*;
use crate::manage::Op;

#[test]
fn digest_ignores_member_order_and_spacing() {
    let a = r#"{"products":[{"id":"sf","prefix":"sf"}],"cache_ttl_seconds":10}"#;
    let b = "{ \"cache_ttl_seconds\": 10,\n \"products\": [ {\"prefix\":\"sf\", \"id\":\"sf\"} ] }";
    assert_eq!(config_digest(a), config_digest(b));
    assert_eq!(config_digest(a).map(|d| d.len()), Some(64));
}

#[test]
fn digest_changes_with_any_value_or_order_of_items() {
    let base = config_digest(r#"{"a":[1,2],"b":"x"}"#);
    for other in [
        r#"{"a":[2,1],"b":"x"}"#,
        r#"{"a":[1,2],"b":"y"}"#,
        r#"{"a":[1,2],"b":"x","c":null}"#,
        r#"{"a":[1,2]}"#,
        r#"{"a":[1,2],"b":"x "}"#,
    ] {
        assert_ne!(base, config_digest(other), "{other}");
    }
}

#[test]
fn digest_of_non_json_is_none() {
    assert_eq!(config_digest("{"), None);
    assert_eq!(config_digest(""), None);
}

#[test]
fn digest_known_answer() {
    // sha256(b"{}"), computed independently (Python hashlib).
    assert_eq!(
        config_digest("{ }").as_deref(),
        Some("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    );
}

#[test]
fn digest_matching_needs_the_header() {
    let own = "ab".repeat(32);
    assert!(digest_matches(&own, Some(&own)));
    assert!(digest_matches(&own, Some(&format!(" {own} "))));
    assert!(!digest_matches(&own, None));
    assert!(!digest_matches(&own, Some("")));
    assert!(!digest_matches(&own, Some(&"cd".repeat(32))));
    assert!(!digest_matches(&own, Some(&own[..63])));
}

#[test]
fn edge_calls_are_wire_compatible_with_the_objects_ops() {
    // The object reads a gateway call as the management `Op` it stands for.
    for (edge, op) in [
        (
            EdgeOp::Verify { id: "key_1".into() },
            Op::Verify { id: "key_1".into() },
        ),
        (
            EdgeOp::NoteUse {
                id: "key_1".into(),
                at: 7,
            },
            Op::NoteUse {
                id: "key_1".into(),
                at: 7,
            },
        ),
    ] {
        let json = serde_json::to_string(&edge).unwrap();
        assert_eq!(json, serde_json::to_string(&op).unwrap());
        assert_eq!(Op::from(edge), op);
    }
}

#[test]
fn edge_calls_refuse_management_ops_and_unknown_fields() {
    for text in [
        r#"{"account":"a","op":{"op":"revoke_key","id":"key_1"}}"#,
        r#"{"account":"a","op":{"op":"create_key","product":"sf","name":"n"}}"#,
        r#"{"account":"a","op":{"op":"verify","id":"key_1","extra":1}}"#,
        r#"{"account":"a","op":{"op":"verify","id":"key_1"},"extra":1}"#,
        r#"{"op":{"op":"verify","id":"key_1"}}"#,
    ] {
        assert!(serde_json::from_str::<EdgeCall>(text).is_err(), "{text}");
    }
    let ok: EdgeCall =
        serde_json::from_str(r#"{"account":"a","op":{"op":"note_use","id":"k","at":1}}"#).unwrap();
    assert_eq!(ok.account, "a");
}

// The hand-off takes every control endpoint's largest body (checked when
// the tests compile).
const _: () = {
    assert!(crate::manage::BODY_LIMIT <= HANDOFF_BODY_LIMIT);
    assert!(crate::manage::import::IMPORT_BODY_LIMIT <= HANDOFF_BODY_LIMIT);
    assert!(crate::leak::github::MAX_BODY_BYTES <= HANDOFF_BODY_LIMIT);
    assert!(crate::leak::gitlab::MAX_BODY_BYTES <= HANDOFF_BODY_LIMIT);
};
