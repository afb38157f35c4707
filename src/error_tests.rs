use super::*;

fn all() -> Vec<Error> {
    vec![
        Error::NoRoute,
        Error::MissingKey {
            product: "Salesforge".into(),
            expected: "the X-Salesforge-Key header".into(),
        },
        Error::WrongProduct {
            product: "Salesforge".into(),
            expected: "the X-Salesforge-Key header".into(),
            key_product: Some("Mailforge".into()),
            sent_in: None,
        },
        Error::MalformedKey {
            product: "Salesforge".into(),
            reason: "its checksum does not match; it may be mistyped",
        },
        Error::InvalidKey,
        Error::RevokedKey,
        Error::DisabledKey,
        Error::ExpiredKey {
            expired_at: 1_795_416_000,
        },
        Error::InsufficientScope {
            permission: "execute_flows".into(),
        },
        Error::IpNotAllowed {
            client: Some("198.51.100.7".into()),
        },
        Error::IpNotAllowed { client: None },
        Error::StorageUnavailable,
        Error::UpstreamUnavailable {
            product: "Salesforge".into(),
        },
        Error::Misconfigured {
            what: "KEYGATE_CONFIG.products: missing".into(),
        },
        Error::AccountSuspended,
        Error::Unauthorized,
        Error::InvalidJson {
            reason: "expected value at line 1 column 1".into(),
        },
        Error::UnknownField {
            field: "nme".into(),
            expected: "product, name",
        },
        Error::InvalidField {
            field: "name".into(),
            reason: "must be 1-64 characters".into(),
        },
        Error::UnknownProduct {
            known: "salesforge, forgeai".into(),
        },
        Error::InvalidFields {
            errors: vec![
                ("name".into(), "must be 1 to 64 characters".into()),
                ("expires_in_days".into(), "must be 1 to 365".into()),
            ],
        },
        Error::UnknownParameter {
            name: "force".into(),
            known: "",
        },
        Error::InvalidId {
            field: "account",
            shape: "1-64 characters of A-Z, a-z, 0-9, '_', '.', ':', '-'",
        },
        Error::AccountNotFound,
        Error::KeyNotFound,
        Error::NotFound,
        Error::MethodNotAllowed { allow: "GET, POST" },
        Error::KeyLimitReached {
            product: "ForgeAI".into(),
            limit: 10,
        },
        Error::KeyNotActive {
            why: "it was revoked at 2026-11-23T06:40:00Z".into(),
        },
        Error::BodyTooLarge { limit: 65_536 },
        Error::VerifierUnauthorized,
        Error::UnsupportedMediaType {
            sent: Some("text/plain".into()),
        },
        Error::PreconditionFailed,
        Error::MalformedPath {
            reason: "it contains an empty segment ('//')",
        },
        Error::OverrideHeader {
            header: "X-HTTP-Method-Override".into(),
        },
        Error::ControlUnavailable,
        Error::ConfigMismatch,
        Error::GithubKeysUnavailable { retry_after: 60 },
        Error::IdempotencyKeyReused {
            why: "it was used for another request (another path or body)",
        },
        Error::ForbiddenField {
            field: "meta".into(),
            allowed: "product, name, scopes",
        },
        Error::ScopeNotGrantable {
            field: "scopes[0]".into(),
            scope: "admin".into(),
            grantable: "read, execute_flows".into(),
        },
        Error::ExpiryTooLate {
            field: "expires_at",
            reason: "the key expires at 2027-01-01T00:00:00Z".into(),
        },
        Error::PageChangeLimit {
            whose: "session",
            limit: 20,
            window: 600,
            retry_after: 42,
        },
        Error::PortalUrlMissing,
    ]
}

#[test]
fn wire_table() {
    let expected = [
        (404, "no_route"),
        (401, "missing_key"),
        (401, "wrong_product"),
        (401, "malformed_key"),
        (401, "invalid_key"),
        (401, "revoked_key"),
        (401, "disabled_key"),
        (401, "expired_key"),
        (403, "insufficient_scope"),
        (403, "ip_not_allowed"),
        (403, "ip_not_allowed"),
        (503, "storage_unavailable"),
        (502, "upstream_unavailable"),
        (500, "misconfigured"),
        (403, "account_suspended"),
        (401, "unauthorized"),
        (400, "invalid_json"),
        (400, "unknown_field"),
        (400, "invalid_field"),
        (400, "unknown_product"),
        (400, "invalid_field"),
        (400, "unknown_parameter"),
        (400, "invalid_id"),
        (404, "account_not_found"),
        (404, "key_not_found"),
        (404, "not_found"),
        (405, "method_not_allowed"),
        (409, "key_limit_reached"),
        (409, "key_not_active"),
        (413, "body_too_large"),
        (401, "invalid_verifier_token"),
        (415, "unsupported_media_type"),
        (412, "precondition_failed"),
        (400, "malformed_path"),
        (400, "override_header"),
        (503, "control_unavailable"),
        (503, "config_mismatch"),
        (503, "github_keys_unavailable"),
        (422, "idempotency_key_reused"),
        (403, "forbidden_field"),
        (403, "scope_not_grantable"),
        (403, "expiry_too_late"),
        (429, "page_change_limit"),
        (500, "portal_url_missing"),
    ];
    assert_eq!(all().len(), expected.len());
    for (error, (status, code)) in all().iter().zip(expected) {
        let problem = error.to_problem(Some("ApiKey realm=\"Salesforge\"".into()));
        assert_eq!(problem.status, status, "{code}");
        let body: serde_json::Value = serde_json::from_str(&problem.body).unwrap();
        assert_eq!(body["code"], code);
        assert_eq!(body["status"], status);
        assert_eq!(body["type"], format!("urn:keygate:error:{code}"));
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(body["detail"].as_str().is_some_and(|d| d.len() > 20));
        assert_eq!(problem.www_authenticate.is_some(), status == 401, "{code}");
        assert_eq!(
            problem.retry_after.is_some(),
            status == 502 || status == 503 || status == 429
        );
        assert_eq!(problem.allow.is_some(), status == 405, "{code}");
        assert_eq!(body["field"].as_str(), error.field(), "{code}");
    }
}

#[test]
fn field_errors_name_the_field() {
    let problem = Error::InvalidField {
        field: "scopes[1]".into(),
        reason: "is not a permission of ForgeAI".into(),
    }
    .to_problem(None);
    let body: serde_json::Value = serde_json::from_str(&problem.body).unwrap();
    assert_eq!(body["field"], "scopes[1]");
    assert_eq!(
        body["detail"],
        "`scopes[1]` is not a permission of ForgeAI."
    );
    let limit = Error::KeyLimitReached {
        product: "ForgeAI".into(),
        limit: 10,
    };
    assert!(limit.detail().contains("10 active ForgeAI keys"));
}

#[test]
fn details_tell_the_caller_what_to_do() {
    let wrong = &all()[2];
    assert_eq!(
        wrong.detail(),
        "This is a Mailforge key; the Salesforge API expects a Salesforge key in the \
         X-Salesforge-Key header."
    );
    assert!(all()[7].detail().contains("2026-11-23T06:40:00Z"));
    assert!(all()[8].detail().contains("`execute_flows`"));
}

#[test]
fn a_401_without_a_route_still_challenges() {
    let problem = Error::InvalidKey.to_problem(None);
    assert_eq!(
        problem.www_authenticate.as_deref(),
        Some("ApiKey realm=\"keygate\"")
    );
}

#[test]
fn field_problems_list_every_field() {
    let many = Error::InvalidFields {
        errors: vec![
            ("name".into(), "must be 1 to 64 characters".into()),
            ("scopes[1]".into(), "repeats an earlier scope".into()),
        ],
    };
    let body: serde_json::Value = serde_json::from_str(&many.to_problem(None).body).unwrap();
    assert_eq!(body["code"], "invalid_field");
    assert_eq!(body["field"], "name");
    assert_eq!(body["errors"][0]["field"], "name");
    assert_eq!(body["errors"][1]["field"], "scopes[1]");
    assert_eq!(
        body["errors"][1]["detail"],
        "`scopes[1]` repeats an earlier scope."
    );
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    assert!(body["detail"].as_str().unwrap().contains("`scopes[1]`"));
    // One invalid field is a list of one; other codes have none.
    let one = Error::InvalidField {
        field: "name".into(),
        reason: "must be 1 to 64 characters".into(),
    };
    let body: serde_json::Value = serde_json::from_str(&one.to_problem(None).body).unwrap();
    assert_eq!(body["errors"].as_array().unwrap().len(), 1);
    let body: serde_json::Value =
        serde_json::from_str(&Error::NotFound.to_problem(None).body).unwrap();
    assert!(body.get("errors").is_none());
}

#[test]
fn a_page_change_limit_says_when_to_retry() {
    let problem = Error::PageChangeLimit {
        whose: "account",
        limit: 100,
        window: 86_400,
        retry_after: 42,
    }
    .to_problem(None);
    assert_eq!(problem.status, 429);
    assert_eq!(problem.retry_after, Some(42));
    assert!(
        problem.body.contains("in the last 24 hours"),
        "{}",
        problem.body
    );
    assert!(
        problem.body.contains("Retry in 42 seconds"),
        "{}",
        problem.body
    );
}
