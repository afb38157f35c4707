use super::*;
use crate::config::tests::demo_config;
use crate::key::Environment;

const NOW: i64 = 1_795_416_000;
const ID: &str = "key_8Hq2Xn1Lr5Tb7Vc9Z";

fn call(method: &str, path: &str, query: Option<&str>, body: &str) -> Result<Request, Error> {
    let incoming = Incoming {
        method,
        path,
        query,
        content_type: Some("application/json"),
        if_match: None,
        body: body.as_bytes(),
    };
    parse(&demo_config(), &incoming, NOW, false)
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
            product: Some("forgeai".into()),
            owner_id: None,
            limit: 50,
            after: None,
        }
    );
    let Op::CreateKey(new) = op(
        "POST",
        "/accounts/acct_1/keys",
        None,
        r#"{"product":"forgeai","name":"CI","expires_in_days":90}"#,
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
            allowed_ips: Default::default(),
            id: ID.into(),
            name: None,
            scopes: Some(vec!["read".into()]),
            expires_at: None,
            enabled: None,
            meta: None,
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
    assert_eq!(
        err,
        Error::MethodNotAllowed {
            allow: "GET, HEAD, POST"
        }
    );
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
        ("unknown_parameter", Some("stauts".into()))
    );
    let events = "/accounts/acct_1/events";
    for bad in ["limit=0", "limit=101", "limit=x"] {
        assert_eq!(
            code("GET", events, Some(bad), ""),
            ("invalid_field", Some("limit".into()))
        );
    }
    for bad in [
        "cursor=-1",
        "cursor=0",
        "cursor=007",
        "cursor=1234567890123456789",
    ] {
        assert_eq!(
            code("GET", events, Some(bad), ""),
            ("invalid_field", Some("cursor".into())),
            "{bad}"
        );
    }
    // Found by the manage_request fuzz target: a parameter without a name
    // was refused with an empty `field`.
    // And one whose value is not UTF-8 once decoded (`(&=%ac…`), or whose
    // name is not, named no field or a garbled one.
    for nameless in [
        "=x",
        "status=active&=",
        "=",
        "(&=%acct_",
        "=%FF",
        "%FF=1",
        "%FF",
    ] {
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

#[test]
fn percent_encoded_ids_are_decoded() {
    // Generated clients send ':' as %3A; the canonical path keeps it.
    match call(
        "GET",
        "/accounts/team%3A42/keys/key%5F8Hq2Xn1Lr5Tb7Vc9Z",
        None,
        "",
    ) {
        Ok(Request::Account { account, op }) => {
            assert_eq!(account, "team:42");
            assert_eq!(op, Op::GetKey { id: ID.into() });
        }
        other => panic!("{other:?}"),
    }
    for bad in ["team%253A42", "team%2", "a%C3%BC", "a%00b"] {
        assert_eq!(
            code("GET", &format!("/accounts/{bad}"), None, ""),
            ("invalid_id", Some("account".into())),
            "{bad}"
        );
    }
}

/// Every operation refuses a query parameter it does not take, with one
/// code; the path's ids are checked first.
#[test]
fn unknown_query_parameters_are_refused_everywhere() {
    let key = format!("/accounts/acct_1/keys/{ID}");
    let rotate = format!("{key}/rotate");
    let cases: [(&str, &str, &str); 9] = [
        ("GET", "/accounts/acct_1", ""),
        ("PATCH", "/accounts/acct_1", r#"{"status":"active"}"#),
        ("GET", "/accounts/acct_1/keys", ""),
        (
            "POST",
            "/accounts/acct_1/keys",
            r#"{"product":"forgeai","name":"a"}"#,
        ),
        ("GET", &key, ""),
        ("PATCH", &key, r#"{"name":"a"}"#),
        ("DELETE", &key, ""),
        ("POST", &rotate, r#"{"grace_seconds":0}"#),
        ("GET", "/accounts/acct_1/events", ""),
    ];
    for (method, path, body) in cases {
        assert!(call(method, path, None, body).is_ok(), "{method} {path}");
        for query in ["force=true", "x=1", "x", "x=", "%66orce=1", "limit=1&x=1"] {
            let err = call(method, path, Some(query), body).unwrap_err();
            assert_eq!(err.code(), "unknown_parameter", "{method} {path}?{query}");
            assert_eq!(err.status(), 400);
        }
        // The path's ids come first.
        let bad_path = path.replace("acct_1", "a%20b");
        assert_eq!(
            code(method, &bad_path, Some("x=1"), body),
            ("invalid_id", Some("account".into()))
        );
    }
    assert_eq!(
        code("DELETE", &key, Some("force=true"), ""),
        ("unknown_parameter", Some("force".into()))
    );
    // An empty query string, or stray separators, are no parameters.
    assert!(call("GET", "/accounts/acct_1", Some(""), "").is_ok());
    assert!(call("GET", "/accounts/acct_1", Some("&&"), "").is_ok());
}

/// `?limit=` and repeats are refused, as the schema's types say.
#[test]
fn empty_and_repeated_query_values_are_refused() {
    let keys = "/accounts/acct_1/keys";
    let events = "/accounts/acct_1/events";
    for (path, query, field) in [
        (keys, "status=", "status"),
        (keys, "product=", "product"),
        (keys, "status", "status"),
        (keys, "status=active&status=revoked", "status"),
        (events, "limit=", "limit"),
        (events, "cursor=", "cursor"),
        (events, "limit=1&limit=1", "limit"),
        (events, "cursor=%FF", "cursor"),
        (events, "limit=+5", "limit"),
    ] {
        assert_eq!(
            code("GET", path, Some(query), ""),
            ("invalid_field", Some(field.into())),
            "{query}"
        );
    }
    assert_eq!(
        op("GET", keys, Some("st%61tus=%61ctive"), ""),
        Op::ListKeys {
            status: Some(KeyStatus::Active),
            product: None,
            owner_id: None,
            limit: 50,
            after: None,
        }
    );
}

#[test]
fn head_is_get_without_a_body() {
    assert_eq!(op("HEAD", "/accounts/acct_1", None, ""), Op::GetAccount);
    assert_eq!(
        op("HEAD", &format!("/accounts/acct_1/keys/{ID}"), None, ""),
        Op::GetKey { id: ID.into() }
    );
    assert_eq!(
        call("HEAD", "/openapi.json", None, ""),
        Ok(Request::OpenApi)
    );
    assert_eq!(
        call(
            "HEAD",
            &format!("/accounts/acct_1/keys/{ID}/rotate"),
            None,
            ""
        )
        .unwrap_err(),
        Error::MethodNotAllowed { allow: "POST" }
    );
    assert_eq!(
        call("PUT", "/accounts/acct_1", None, "").unwrap_err(),
        Error::MethodNotAllowed {
            allow: "GET, HEAD, PATCH"
        }
    );
}

#[test]
fn bodies_must_be_declared_json() {
    let key = format!("/accounts/acct_1/keys/{ID}");
    let rotate = format!("{key}/rotate");
    let cases: [(&str, &str, &str); 4] = [
        ("PATCH", "/accounts/acct_1", r#"{"status":"active"}"#),
        (
            "POST",
            "/accounts/acct_1/keys",
            r#"{"product":"forgeai","name":"a"}"#,
        ),
        ("PATCH", &key, r#"{"name":"a"}"#),
        ("POST", &rotate, r#"{"grace_seconds":0}"#),
    ];
    let with = |method, path, content_type, body: &str| {
        let incoming = Incoming {
            method,
            path,
            query: None,
            content_type,
            if_match: None,
            body: body.as_bytes(),
        };
        parse(&demo_config(), &incoming, NOW, false)
    };
    for (method, path, body) in cases {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;charset=UTF-8",
        ] {
            assert!(with(method, path, Some(ok), body).is_ok(), "{ok}");
        }
        for bad in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonx"),
            Some("application/problem+json"),
            Some("application/json\u{1}"),
        ] {
            let err = with(method, path, bad, body).unwrap_err();
            assert_eq!(err.code(), "unsupported_media_type", "{bad:?}");
            assert_eq!(err.status(), 415);
        }
    }
    // A control character or a long type is not echoed.
    let err = with("POST", "/accounts/acct_1/keys", Some("text/\u{7}x"), "{}").unwrap_err();
    assert!(!err.detail().contains('\u{7}'));
    let long = format!("text/{}", "x".repeat(100));
    let err = with("POST", "/accounts/acct_1/keys", Some(&long), "{}").unwrap_err();
    assert!(!err.detail().contains(&long));
    // Operations without a body do not look at it.
    assert!(with("DELETE", &key, None, "").is_ok());
    assert!(with("GET", &key, Some("text/plain"), "").is_ok());
}

#[test]
fn if_match_guards_only_changes() {
    let key = format!("/accounts/acct_1/keys/{ID}");
    let with = |method, path: &str, if_match, body: &str| {
        let incoming = Incoming {
            method,
            path,
            query: None,
            content_type: Some("application/json"),
            if_match,
            body: body.as_bytes(),
        };
        match parse(&demo_config(), &incoming, NOW, false) {
            Ok(Request::Account { op, .. }) => Ok(op),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        }
    };
    let tag = Some("\"0123\"");
    for (method, path, body) in [
        ("PATCH", key.as_str(), r#"{"name":"a"}"#),
        ("DELETE", key.as_str(), ""),
        ("POST", &format!("{key}/rotate"), r#"{"grace_seconds":0}"#),
        ("PATCH", "/accounts/acct_1", r#"{"status":"active"}"#),
    ] {
        let op = with(method, path, tag, body).unwrap();
        assert!(matches!(op, Op::IfMatch { .. }), "{method} {path}: {op:?}");
        assert_eq!(
            with(method, path, Some("not a tag"), body)
                .unwrap_err()
                .field(),
            Some("If-Match")
        );
        assert!(!matches!(
            with(method, path, None, body).unwrap(),
            Op::IfMatch { .. }
        ));
        // Empty is absent (proxies drop empty fields).
        for empty in ["", "  "] {
            assert!(!matches!(
                with(method, path, Some(empty), body).unwrap(),
                Op::IfMatch { .. }
            ));
        }
    }
    // Reads and creates ignore it.
    assert_eq!(
        with("GET", &key, tag, "").unwrap(),
        Op::GetKey { id: ID.into() }
    );
    assert!(matches!(
        with(
            "POST",
            "/accounts/acct_1/keys",
            tag,
            r#"{"product":"forgeai","name":"a"}"#
        )
        .unwrap(),
        Op::CreateKey(_)
    ));
}

#[test]
fn keys_list_by_owner() {
    assert_eq!(
        op(
            "GET",
            "/accounts/acct_1/keys",
            Some("owner_id=a%2Bb%40example.com"),
            ""
        ),
        Op::ListKeys {
            status: None,
            product: None,
            owner_id: Some("a+b@example.com".into()),
            limit: 50,
            after: None,
        }
    );
    for bad in ["owner_id=", "owner_id=a%20b", "owner_id=a&owner_id=b"] {
        assert_eq!(
            code("GET", "/accounts/acct_1/keys", Some(bad), ""),
            ("invalid_field", Some("owner_id".into())),
            "{bad}"
        );
    }
}

#[test]
fn the_key_list_pages_by_limit_and_cursor() {
    let keys = "/accounts/acct_1/keys";
    let cursor = format!("1795416000.{ID}");
    assert_eq!(
        op(
            "GET",
            keys,
            Some(&format!("limit=100&cursor={cursor}&status=active")),
            ""
        ),
        Op::ListKeys {
            status: Some(KeyStatus::Active),
            product: None,
            owner_id: None,
            limit: 100,
            after: Some(crate::manage::listing::KeyCursor {
                created_at: 1_795_416_000,
                id: ID.into(),
            }),
        }
    );
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=1.5", "limit"),
        ("limit=-1", "limit"),
        ("limit=", "limit"),
        ("cursor=", "cursor"),
        ("cursor=12", "cursor"),
        ("cursor=abc.key_8Hq2Xn1Lr5Tb7Vc9Z", "cursor"),
        ("cursor=1.key_%2F", "cursor"),
    ] {
        assert_eq!(
            code("GET", keys, Some(query), ""),
            ("invalid_field", Some(field.into())),
            "{query}"
        );
    }
}
