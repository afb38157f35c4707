use super::*;
use crate::config::tests::demo_config;
use crate::key::Environment;

const NOW: i64 = 1_795_416_000;
const ID: &str = "key_8Hq2Xn1Lr5Tb7Vc9Z";

fn call(method: &str, path: &str, query: Option<&str>, body: &str) -> Result<Request, Error> {
    parse(
        &demo_config(),
        method,
        path,
        query,
        body.as_bytes(),
        NOW,
        false,
    )
}

fn op(method: &str, path: &str, query: Option<&str>, body: &str) -> Op {
    match call(method, path, query, body) {
        Ok(Request::Account { account, op }) => {
            assert_eq!(account, "acct_1");
            op
        }
        other => panic!("{method} {path}: {other:?}"),
    }
}

fn code(
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &str,
) -> (&'static str, Option<String>) {
    let err = call(method, path, query, body).unwrap_err();
    (err.code(), err.field().map(str::to_owned))
}

#[test]
fn routes_every_operation() {
    assert_eq!(call("GET", "/openapi.json", None, ""), Ok(Request::OpenApi));
    assert_eq!(op("GET", "/accounts/acct_1", None, ""), Op::GetAccount);
    assert_eq!(
        op(
            "PATCH",
            "/accounts/acct_1",
            None,
            r#"{"status":"suspended"}"#
        ),
        Op::SetStatus {
            status: crate::manage::AccountStatus::Suspended
        }
    );
    assert_eq!(
        op(
            "GET",
            "/accounts/acct_1/keys",
            Some("status=revoked&product=forgeai"),
            ""
        ),
        Op::ListKeys {
            status: Some(KeyStatus::Revoked),
            product: Some("forgeai".into())
        }
    );
    let Op::CreateKey(new) = op(
        "POST",
        "/accounts/acct_1/keys",
        None,
        r#"{"product":"forgeai","name":" CI ","expires_in_days":90}"#,
    ) else {
        panic!("not a create")
    };
    assert_eq!(new.name, "CI");
    assert_eq!(new.environment, Environment::Live);
    assert_eq!(new.expires_at, Some(NOW + 90 * 86_400));
    assert_eq!(new.scopes, None);
    let key_path = format!("/accounts/acct_1/keys/{ID}");
    assert_eq!(op("GET", &key_path, None, ""), Op::GetKey { id: ID.into() });
    assert_eq!(
        op("PATCH", &key_path, None, r#"{"scopes":["read"]}"#),
        Op::UpdateKey {
            id: ID.into(),
            name: None,
            scopes: Some(vec!["read".into()])
        }
    );
    assert_eq!(
        op("DELETE", &key_path, None, ""),
        Op::RevokeKey { id: ID.into() }
    );
    assert_eq!(
        op(
            "POST",
            &format!("{key_path}/rotate"),
            None,
            r#"{"grace_seconds":3600}"#
        ),
        Op::RotateKey {
            id: ID.into(),
            grace_seconds: 3600
        }
    );
    assert_eq!(
        op(
            "GET",
            "/accounts/acct_1/events",
            Some("limit=2&cursor=17"),
            ""
        ),
        Op::ListEvents {
            limit: 2,
            before: Some(17)
        }
    );
    assert_eq!(
        op("GET", "/accounts/acct_1/events", None, ""),
        Op::ListEvents {
            limit: DEFAULT_EVENTS_PAGE,
            before: None
        }
    );
}

#[test]
fn unknown_paths_and_methods() {
    assert_eq!(code("GET", "", None, ""), ("not_found", None));
    assert_eq!(code("GET", "/accounts", None, ""), ("not_found", None));
    assert_eq!(
        code("GET", "/accounts/a/keys/", None, ""),
        ("invalid_id", Some("id".into()))
    );
    assert_eq!(
        code("GET", "/accounts/a/other", None, ""),
        ("not_found", None)
    );
    let err = call("PUT", "/accounts/acct_1/keys", None, "").unwrap_err();
    assert_eq!(err, Error::MethodNotAllowed { allow: "GET, POST" });
    assert_eq!(
        code("POST", "/openapi.json", None, ""),
        ("method_not_allowed", None)
    );
    assert!(is_openapi("GET", "/openapi.json"));
    assert!(!is_openapi("GET", "/accounts/a"));
}

#[test]
fn ids_are_checked_before_anything_else() {
    let long = "a".repeat(65);
    assert_eq!(
        code("GET", &format!("/accounts/{long}/keys"), None, ""),
        ("invalid_id", Some("account".into()))
    );
    assert_eq!(
        code("GET", "/accounts/a%20b/keys", None, ""),
        ("invalid_id", Some("account".into()))
    );
    assert_eq!(
        code("DELETE", "/accounts/acct_1/keys/key_short", None, ""),
        ("invalid_id", Some("id".into()))
    );
}

#[test]
fn query_parameters_are_checked() {
    let keys = "/accounts/acct_1/keys";
    assert_eq!(
        code("GET", keys, Some("status=gone"), ""),
        ("invalid_field", Some("status".into()))
    );
    assert_eq!(
        code("GET", keys, Some("product=nope"), ""),
        ("invalid_field", Some("product".into()))
    );
    assert_eq!(
        code("GET", keys, Some("stauts=active"), ""),
        ("invalid_field", Some("stauts".into()))
    );
    let events = "/accounts/acct_1/events";
    for bad in ["limit=0", "limit=101", "limit=x"] {
        assert_eq!(
            code("GET", events, Some(bad), ""),
            ("invalid_field", Some("limit".into()))
        );
    }
    assert_eq!(
        code("GET", events, Some("cursor=-1"), ""),
        ("invalid_field", Some("cursor".into()))
    );
    // Found by the manage_request fuzz target: a parameter without a name
    // was refused with an empty `field`.
    for nameless in ["=x", "status=active&=", "="] {
        assert_eq!(
            code("GET", keys, Some(nameless), ""),
            ("invalid_field", Some("query".into())),
            "{nameless}"
        );
    }
}

#[test]
fn body_over_the_limit_is_refused_first() {
    let big = " ".repeat(BODY_LIMIT + 1);
    assert_eq!(
        code("POST", "/accounts/acct_1/keys", None, &big),
        ("body_too_large", None)
    );
}
