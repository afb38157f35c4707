use super::*;
use crate::config::tests::demo_config;

const NOW: i64 = 1_795_000_000;

fn parse_page(method: &str, path: &str, query: Option<&str>, body: &str) -> Result<PageOp, Error> {
    parse(
        &demo_config(),
        &Incoming {
            method,
            path,
            query,
            content_type: Some("application/json"),
            if_match: None,
            body: body.as_bytes(),
        },
        NOW,
        false,
    )
}

#[test]
fn creates_and_updates_are_read_by_the_pages_allow_list() {
    let op = parse_page(
        "POST",
        "/accounts/acct_1/keys",
        None,
        r#"{"product":"forgeai","name":"k"}"#,
    )
    .unwrap();
    assert!(matches!(op, PageOp::CreateKey(ref new) if new.name == "k"));
    let error = parse_page(
        "POST",
        "/accounts/acct_1/keys",
        None,
        r#"{"product":"forgeai","name":"k","owner_id":"bob"}"#,
    )
    .unwrap_err();
    assert_eq!(error.code(), "forbidden_field");
    let op = parse_page(
        "PATCH",
        "/accounts/acct_1/keys/key_00000000000000000",
        None,
        r#"{"name":"n"}"#,
    );
    assert!(matches!(op, Ok(PageOp::UpdateKey { .. })), "{op:?}");
    for body in [r#"{"enabled":true}"#, r#"{"meta":{"plan":"enterprise"}}"#] {
        let error = parse_page(
            "PATCH",
            "/accounts/acct_1/keys/key_00000000000000000",
            None,
            body,
        )
        .unwrap_err();
        assert_eq!(error.code(), "forbidden_field", "{body}");
    }
    let error = parse_page("POST", "/accounts/acct_1/keys", Some("force=1"), "{}").unwrap_err();
    assert_eq!(error.code(), "unknown_parameter");
    let error = parse_page(
        "PATCH",
        "/accounts/acct_1/keys/nope",
        None,
        r#"{"name":"n"}"#,
    )
    .unwrap_err();
    assert_eq!(error.code(), "invalid_id");
}

#[test]
fn the_rest_is_the_management_parser_narrowed_to_the_page() {
    assert!(matches!(
        parse_page("GET", "/accounts/acct_1/keys", Some("limit=5"), ""),
        Ok(PageOp::ListKeys { limit: 5, .. })
    ));
    assert!(matches!(
        parse_page(
            "POST",
            "/accounts/acct_1/keys/key_00000000000000000/rotate",
            None,
            r#"{"grace_seconds":0}"#
        ),
        Ok(PageOp::RotateKey { .. })
    ));
    assert!(matches!(
        parse_page(
            "DELETE",
            "/accounts/acct_1/keys/key_00000000000000000",
            None,
            ""
        ),
        Ok(PageOp::RevokeKey { .. })
    ));
    for (method, path) in [
        ("GET", "/accounts/acct_1"),
        ("PATCH", "/accounts/acct_1"),
        ("GET", "/openapi.json"),
    ] {
        let error = parse_page(method, path, None, r#"{"status":"suspended"}"#).unwrap_err();
        assert_eq!(error.code(), "not_found", "{method} {path}");
    }
}
