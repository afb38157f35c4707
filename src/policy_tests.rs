use super::*;
use crate::config::tests::demo_config;
use crate::config::Product;
use crate::key::{mint, Environment};

const NOW: i64 = 1_795_416_000;

/// An anonymous admission to any path, for other modules' tests.
pub(crate) fn admit_any<'a>(product: &'a Product, method: &str, path: &str) -> Authorized<'a> {
    Authorized {
        product,
        method: method.to_owned(),
        path: path.to_owned(),
        identity: None,
        permission: None,
    }
}

fn record(product: &str, scopes: &[&str]) -> KeyRecord {
    KeyRecord {
        allowed_ips: Default::default(),
        v: 1,
        id: "key_1".into(),
        account: "acct_1".into(),
        product: product.into(),
        environment: Environment::Live,
        name: "ci".into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        created_at: NOW - 1_000,
        expires_at: None,
        revoked_at: None,
        prefix: "x".into(),
        last4: "y".into(),
        suspended: false,
        disabled: false,
        owner_id: None,
        meta: None,
    }
}

fn decide(
    product: &str,
    prefix: &str,
    rec: &KeyRecord,
    method: &str,
    path: &str,
) -> Result<Option<String>, Error> {
    let config = demo_config();
    let product = config.product(product).unwrap();
    let key = mint(
        prefix,
        Environment::Live,
        &[7; 32],
        &crate::key::test_secret(),
    )
    .unwrap()
    .key;
    authorize(
        product,
        &key,
        rec,
        RequestFacts {
            method,
            path,
            client: None,
        },
        NOW,
    )
    .map(|a| a.permission().map(str::to_owned))
}

/// Name, record, method, path, expected permission or error code.
type Case = (
    &'static str,
    KeyRecord,
    &'static str,
    &'static str,
    Result<&'static str, &'static str>,
);

#[test]
fn decision_table() {
    let base = record("forgeai", &["read", "execute_flows"]);
    let with = |f: &dyn Fn(&mut KeyRecord)| {
        let mut r = base.clone();
        f(&mut r);
        r
    };
    let cases: Vec<Case> = vec![
        (
            "plain read",
            base.clone(),
            "GET",
            "/api/v1/chatflows",
            Ok("read"),
        ),
        ("HEAD is a read", base.clone(), "HEAD", "/x", Ok("read")),
        (
            "rule permission held",
            base.clone(),
            "POST",
            "/api/v1/prediction/abc",
            Ok("execute_flows"),
        ),
        (
            "default write missing",
            base.clone(),
            "POST",
            "/api/v1/chatflows",
            Err("insufficient_scope"),
        ),
        (
            "rule permission missing",
            base.clone(),
            "GET",
            "/api/v1/logs/today",
            Err("insufficient_scope"),
        ),
        (
            "any-method rule",
            base.clone(),
            "DELETE",
            "/api/v1/deployments/9",
            Err("insufficient_scope"),
        ),
        (
            "expires in 1 s",
            with(&|r| r.expires_at = Some(NOW + 1)),
            "GET",
            "/",
            Ok("read"),
        ),
        (
            "expires now",
            with(&|r| r.expires_at = Some(NOW)),
            "GET",
            "/",
            Err("expired_key"),
        ),
        (
            "expired",
            with(&|r| r.expires_at = Some(NOW - 1)),
            "GET",
            "/",
            Err("expired_key"),
        ),
        (
            "revocation scheduled later",
            with(&|r| r.revoked_at = Some(NOW + 1)),
            "GET",
            "/",
            Ok("read"),
        ),
        (
            "revoked now",
            with(&|r| r.revoked_at = Some(NOW)),
            "GET",
            "/",
            Err("revoked_key"),
        ),
        (
            "revoked and expired says revoked",
            with(&|r| {
                r.revoked_at = Some(NOW - 5);
                r.expires_at = Some(NOW - 5)
            }),
            "GET",
            "/",
            Err("revoked_key"),
        ),
        (
            "expired before scope",
            with(&|r| {
                r.expires_at = Some(NOW);
                r.scopes.clear()
            }),
            "GET",
            "/",
            Err("expired_key"),
        ),
        (
            "suspended account",
            with(&|r| r.suspended = true),
            "GET",
            "/",
            Err("account_suspended"),
        ),
        (
            "revoked key of a suspended account says revoked",
            with(&|r| {
                r.suspended = true;
                r.revoked_at = Some(NOW - 5)
            }),
            "GET",
            "/",
            Err("revoked_key"),
        ),
        (
            "record of another product",
            with(&|r| r.product = "salesforge".into()),
            "GET",
            "/",
            Err("invalid_key"),
        ),
        (
            "record of another environment",
            with(&|r| r.environment = Environment::Test),
            "GET",
            "/",
            Err("invalid_key"),
        ),
    ];
    for (name, rec, method, path, expected) in cases {
        let got = decide("forgeai", "fai", &rec, method, path);
        match (got, expected) {
            (Ok(permission), Ok(want)) => assert_eq!(permission.as_deref(), Some(want), "{name}"),
            (Err(err), Err(want)) => assert_eq!(err.code(), want, "{name}"),
            (got, _) => panic!("{name}: got {got:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn insufficient_scope_names_the_permission() {
    let rec = record("forgeai", &["read"]);
    let err = decide("forgeai", "fai", &rec, "POST", "/api/v1/prediction/1").unwrap_err();
    assert_eq!(
        err,
        Error::InsufficientScope {
            permission: "execute_flows".into()
        }
    );
}

#[test]
fn expired_error_carries_the_expiry() {
    let mut rec = record("forgeai", &["read"]);
    rec.expires_at = Some(NOW - 60);
    let err = decide("forgeai", "fai", &rec, "GET", "/").unwrap_err();
    assert_eq!(
        err,
        Error::ExpiredKey {
            expired_at: NOW - 60
        }
    );
}

#[test]
fn authorized_carries_identity_and_request() {
    let config = demo_config();
    let product = config.product("forgeai").unwrap();
    let key = mint(
        "fai",
        Environment::Live,
        &[7; 32],
        &crate::key::test_secret(),
    )
    .unwrap()
    .key;
    let rec = record("forgeai", &["read"]);
    let facts = RequestFacts {
        client: None,
        method: "GET",
        path: "/api/v1/x",
    };
    let ok = authorize(product, &key, &rec, facts, NOW).unwrap();
    assert_eq!(ok.product().id, "forgeai");
    assert_eq!((ok.method(), ok.path()), ("GET", "/api/v1/x"));
    assert_eq!(ok.identity().unwrap().account, "acct_1");
}

#[test]
fn public_paths_need_no_key() {
    let config = demo_config();
    let fai = config.product("forgeai").unwrap();
    let get = |path| RequestFacts {
        client: None,
        method: "GET",
        path,
    };
    assert!(admit_public(fai, get("/api/account")).is_some());
    assert!(admit_public(fai, get("/status/db/ok")).is_some());
    assert!(admit_public(fai, get("/api/accounts")).is_none());
    let public = admit_public(fai, get("/status")).unwrap();
    assert!(public.identity().is_none() && public.permission().is_none());
    assert!(admit_public(config.product("mailforge").unwrap(), get("/health")).is_none());
}

#[test]
fn required_permission_rules_then_defaults() {
    let config = demo_config();
    let fai = config.product("forgeai").unwrap();
    assert_eq!(
        required_permission(fai, "POST", "/api/v1/prediction/x"),
        "execute_flows"
    );
    assert_eq!(
        required_permission(fai, "GET", "/api/v1/prediction/x"),
        "read"
    );
    assert_eq!(
        required_permission(fai, "head", "/api/v1/logs"),
        "view_logs"
    );
    assert_eq!(
        required_permission(fai, "PUT", "/api/v1/deployments"),
        "manage_deployments"
    );
    assert_eq!(required_permission(fai, "PUT", "/other"), "write");
}

#[test]
fn a_rule_naming_get_covers_head() {
    let config = demo_config();
    let mf = config.product("mailforge").unwrap();
    assert_eq!(
        required_permission(mf, "GET", "/v1/admin/users"),
        "admin_read"
    );
    assert_eq!(
        required_permission(mf, "HEAD", "/v1/admin/users"),
        "admin_read"
    );
    assert_eq!(required_permission(mf, "POST", "/v1/admin/users"), "write");
}

#[test]
fn rules_judge_every_spelling_an_origin_routes_alike() {
    let config = demo_config();
    let fai = config.product("forgeai").unwrap();
    for path in [
        "/api/v1/logs/x",
        "/api/v1/Logs/x",
        "/API/V1/LOGS",
        "/api/v1/logs/",
        "/api/v1/logs.json",
        "/api/v1/log%C5%BF/x",
    ] {
        assert_eq!(required_permission(fai, "GET", path), "view_logs", "{path}");
    }
    for path in [
        "/api/v1/deployments/d1",
        "/api/v1/Deployments/d1",
        "/api/v1/deployments.xml",
    ] {
        assert_eq!(
            required_permission(fai, "GET", path),
            "manage_deployments",
            "{path}"
        );
    }
}

#[test]
fn public_paths_admit_only_their_methods() {
    let config = demo_config();
    let mf = config.product("mailforge").unwrap();
    let facts = |method, path| RequestFacts {
        method,
        path,
        client: None,
    };
    for method in ["GET", "HEAD", "OPTIONS"] {
        assert!(
            admit_public(mf, facts(method, "/docs/a")).is_some(),
            "{method}"
        );
    }
    for method in ["DELETE", "POST", "PUT", "PROPFIND", "PURGE", "TRACE"] {
        assert!(
            admit_public(mf, facts(method, "/docs/a")).is_none(),
            "{method}"
        );
    }
    assert!(admit_public(mf, facts("POST", "/hooks/in")).is_some());
    assert!(admit_public(mf, facts("GET", "/hooks/in")).is_none());
    assert!(admit_public(mf, facts("GET", "/DOCS/a/")).is_some());
}

#[test]
fn trace_track_and_connect_are_refused_everywhere() {
    for method in ["TRACE", "trace", "TRACK", "CONNECT"] {
        assert!(is_refused_method(method), "{method}");
    }
    for method in ["GET", "POST", "OPTIONS", "PROPFIND"] {
        assert!(!is_refused_method(method), "{method}");
    }
}

#[test]
fn settled_refusals_need_no_request_and_leave_scope_to_the_object() {
    let config = demo_config();
    let product = config.product("forgeai").unwrap();
    let key = mint(
        "fai",
        Environment::Live,
        &[7; 32],
        &crate::key::test_secret(),
    )
    .unwrap()
    .key;
    let settled = |rec: &KeyRecord, now| settled_refusal(product, &key, rec, now).map(|e| e.code());
    let active = record("forgeai", &["read"]);
    assert_eq!(settled(&active, NOW), None);
    // A scope the KV record lacks may have been granted since: not settled.
    let no_scopes = record("forgeai", &[]);
    assert_eq!(settled(&no_scopes, NOW), None);
    let revoked = KeyRecord {
        revoked_at: Some(NOW),
        ..active.clone()
    };
    assert_eq!(settled(&revoked, NOW), Some("revoked_key"));
    assert_eq!(settled(&revoked, NOW - 1), None);
    let expired = KeyRecord {
        expires_at: Some(NOW),
        ..active.clone()
    };
    assert_eq!(settled(&expired, NOW), Some("expired_key"));
    let suspended = KeyRecord {
        suspended: true,
        ..active.clone()
    };
    assert_eq!(settled(&suspended, NOW), Some("account_suspended"));
    // Disabled: refused with its own code, after revocation and expiry and
    // before suspension.
    let disabled = KeyRecord {
        disabled: true,
        ..active.clone()
    };
    assert_eq!(settled(&disabled, NOW), Some("disabled_key"));
    let both = KeyRecord {
        suspended: true,
        ..disabled.clone()
    };
    assert_eq!(settled(&both, NOW), Some("disabled_key"));
    let revoked_too = KeyRecord {
        revoked_at: Some(NOW),
        ..disabled.clone()
    };
    assert_eq!(settled(&revoked_too, NOW), Some("revoked_key"));
    // Old records (no member) are on; a disabled one round-trips.
    assert!(!KeyRecord::from_json(&active.to_json()).unwrap().disabled);
    assert!(!active.to_json().contains("disabled"));
    assert!(KeyRecord::from_json(&disabled.to_json()).unwrap().disabled);
    let other = record("salesforge", &["read"]);
    assert_eq!(settled(&other, NOW), Some("invalid_key"));
}

#[test]
fn preflights_pass_without_a_key_only_when_the_origin_answers_cors() {
    let mut config = crate::config::tests::demo_config();
    let facts = RequestFacts {
        client: None,
        method: "OPTIONS",
        path: "/v1/leads",
    };
    let preflight: &[(&str, &str)] = &[
        ("Origin", "https://app.example"),
        ("Access-Control-Request-Method", "POST"),
    ];
    let plain_options: &[(&str, &str)] = &[("Origin", "https://app.example")];
    let product = config.products.first_mut().unwrap();
    assert!(admit_preflight(product, facts, preflight).is_none());
    product.cors = crate::cors::Cors::Origin;
    let product = &*product;
    let admitted = admit_preflight(product, facts, preflight).unwrap();
    assert!(admitted.identity().is_none());
    assert_eq!(admitted.method(), "OPTIONS");
    assert!(admit_preflight(product, facts, plain_options).is_none());
    let get = RequestFacts {
        client: None,
        method: "GET",
        path: "/v1/leads",
    };
    assert!(admit_preflight(product, get, preflight).is_none());
}

/// `decide` with a client address, on a product whose default allowlist is
/// `product_ips` (JSON list, or none).
fn decide_from(
    product_ips: Option<&str>,
    rec: &KeyRecord,
    client: Option<&str>,
    method: &str,
    path: &str,
) -> Result<Option<String>, Error> {
    let json = match product_ips {
        Some(list) => crate::config::tests::DEMO_JSON.replacen(
            r#""key_limit": 3,"#,
            &format!(r#""key_limit": 3, "allowed_ips": {list},"#),
            1,
        ),
        None => crate::config::tests::DEMO_JSON.to_owned(),
    };
    let config = crate::config::Config::from_json(&json).unwrap();
    let product = config.product("forgeai").unwrap();
    let key = mint(
        "fai",
        Environment::Live,
        &[7; 32],
        &crate::key::test_secret(),
    )
    .unwrap()
    .key;
    let client = client.map(|c| c.parse().unwrap());
    authorize(
        product,
        &key,
        rec,
        RequestFacts {
            method,
            path,
            client,
        },
        NOW,
    )
    .map(|a| a.permission().map(str::to_owned))
}

fn with_ips(mut rec: KeyRecord, list: &[&str]) -> KeyRecord {
    rec.allowed_ips = crate::ip_allow::AllowList::parse(list).unwrap();
    rec
}

#[test]
fn a_key_allowlist_admits_its_networks_only() {
    let rec = with_ips(
        record("forgeai", &["read"]),
        &["203.0.113.0/24", "2001:db8::/32"],
    );
    let from = |client| decide_from(None, &rec, client, "GET", "/api/v1/flows");
    assert_eq!(from(Some("203.0.113.9")), Ok(Some("read".into())));
    assert_eq!(from(Some("::ffff:203.0.113.9")), Ok(Some("read".into())));
    assert_eq!(from(Some("2001:db8:1::5")), Ok(Some("read".into())));
    let refused = from(Some("198.51.100.7")).unwrap_err();
    assert_eq!(refused.code(), "ip_not_allowed");
    assert_eq!(refused.status(), 403);
    assert!(refused.detail().contains("198.51.100.7"));
    assert!(
        !refused.detail().contains("203.0.113"),
        "the list is never shown"
    );
    assert_eq!(
        from(Some("2001:db9::1")).unwrap_err().code(),
        "ip_not_allowed"
    );
    // Fail closed: no client address, no admission.
    assert_eq!(from(None).unwrap_err().code(), "ip_not_allowed");
    // Without a list, anyone (and no address) is admitted.
    let open = record("forgeai", &["read"]);
    assert!(decide_from(None, &open, None, "GET", "/x").is_ok());
}

#[test]
fn the_product_default_applies_unless_the_key_has_its_own() {
    let default = Some(r#"["10.0.0.0/8"]"#);
    let plain = record("forgeai", &["read"]);
    assert!(decide_from(default, &plain, Some("10.1.2.3"), "GET", "/x").is_ok());
    assert_eq!(
        decide_from(default, &plain, Some("192.0.2.1"), "GET", "/x")
            .unwrap_err()
            .code(),
        "ip_not_allowed"
    );
    assert_eq!(
        decide_from(default, &plain, None, "GET", "/x")
            .unwrap_err()
            .code(),
        "ip_not_allowed"
    );
    // A key's own list replaces the default: it does not add to it.
    let own = with_ips(record("forgeai", &["read"]), &["192.0.2.0/24"]);
    assert!(decide_from(default, &own, Some("192.0.2.1"), "GET", "/x").is_ok());
    assert_eq!(
        decide_from(default, &own, Some("10.1.2.3"), "GET", "/x")
            .unwrap_err()
            .code(),
        "ip_not_allowed"
    );
    // A key may be opened to every address explicitly.
    let anywhere = with_ips(record("forgeai", &["read"]), &["::/0"]);
    assert!(decide_from(default, &anywhere, Some("192.0.2.1"), "GET", "/x").is_ok());
    assert!(decide_from(default, &anywhere, Some("2001:db8::1"), "GET", "/x").is_ok());
}

#[test]
fn the_allowlist_is_judged_after_the_key_and_before_permission() {
    let far = Some("198.51.100.7");
    // Key refusals come first: a revoked key is revoked wherever it is used.
    let mut revoked = with_ips(record("forgeai", &["read"]), &["10.0.0.0/8"]);
    revoked.revoked_at = Some(NOW - 1);
    let code = |r: Result<Option<String>, Error>| r.unwrap_err().code();
    assert_eq!(
        code(decide_from(None, &revoked, far, "GET", "/x")),
        "revoked_key"
    );
    let mut disabled = with_ips(record("forgeai", &["read"]), &["10.0.0.0/8"]);
    disabled.disabled = true;
    assert_eq!(
        code(decide_from(None, &disabled, far, "GET", "/x")),
        "disabled_key"
    );
    let mut suspended = with_ips(record("forgeai", &["read"]), &["10.0.0.0/8"]);
    suspended.suspended = true;
    assert_eq!(
        code(decide_from(None, &suspended, far, "GET", "/x")),
        "account_suspended"
    );
    // Then the address, before the permission: a key lacking the scope,
    // used from elsewhere, learns nothing about its scopes.
    let narrow = with_ips(record("forgeai", &["read"]), &["10.0.0.0/8"]);
    assert_eq!(
        code(decide_from(
            None,
            &narrow,
            far,
            "POST",
            "/api/v1/prediction/x"
        )),
        "ip_not_allowed"
    );
    assert_eq!(
        code(decide_from(
            None,
            &narrow,
            Some("10.0.0.1"),
            "POST",
            "/api/v1/prediction/x"
        )),
        "insufficient_scope"
    );
}
