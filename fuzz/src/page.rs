//! Targets `page_body` and `portal_grant`: the API Keys page's key bodies
//! (`keygate::manage::page_create`, `page_update`, then
//! `keygate::portal::call::restrict`) and the portal-session grant
//! (`keygate::portal::session::portal_session`, then `Scope::ceiling`).
//!
//! Input of `page_body`: one byte (bit 0: create or update; bit 1: `dev`;
//! bits 2-4: the session's scope, one of [`SESSIONS`]; bit 5: the
//! configuration lets page users set `allowed_ips`), then the body.
//! Input of `portal_grant`: one byte (bit 0: `dev`), then the body.
//! Invariants of `page_body`: parsing is deterministic; a refusal is 400,
//! 403, 413 or 415, a 403 only `forbidden_field` (naming an operator-only
//! member), `scope_not_grantable` or `expiry_too_late`; `unknown_field`
//! never names a page member or an operator-only one; a body whose object
//! names `meta`, `owner_id`, `enabled` or `environment` is never accepted,
//! nor one naming `allowed_ips` unless `portal.editable_allowed_ips` is on
//! (and no accepted body or restricted op carries a list otherwise);
//! an accepted create has scopes within the product's `portal.grantable`
//! and an expiry within its `portal.max_expiry_days` (that expiry when none
//! was asked); once restricted to a session, the management op carries no
//! `meta`, no `enabled`, the session's holder only, a live environment,
//! scopes within the session's ceiling, and an update's expiry only as
//! "no later than the key's". Invariants of `portal_grant`: deterministic;
//! a refusal is 400, 413 or 415 naming a grant member; an accepted grant
//! has configured products, a lifetime of 60 to 3 600 s, a `return_url` of
//! the right scheme, and scopes that are non-empty, distinct and each
//! grantable by one of its products; every product's ceiling is within
//! its `portal.grantable`.

use std::sync::OnceLock;

use keygate::config::{Config, Product};
use keygate::manage::op::{Expiry, Op};
use keygate::manage::{page_create, page_update, OPERATOR_ONLY};
use keygate::manage::{PAGE_CREATE_FIELDS, PAGE_UPDATE_FIELDS};
use keygate::manage::{PAGE_CREATE_FIELDS_WITH_IPS, PAGE_UPDATE_FIELDS_WITH_IPS};
use keygate::portal::call::{restrict, Need};
use keygate::portal::op::PageOp;
use keygate::portal::scope::Scope;
use keygate::portal::session::portal_session;
use keygate::Error;

use crate::fixture::{CONFIG_JSON, NOW};

/// The fixture with page settings on forgeai: it grants three of its
/// permissions (not `write` or `manage_deployments`), for at most 30 days.
/// Page users may not set `allowed_ips` (the default).
pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| page_config(false))
}

/// [`config`] with `portal.editable_allowed_ips = true`.
pub fn config_editable_ips() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| page_config(true))
}

fn page_config(editable_ips: bool) -> Config {
    let mut json = CONFIG_JSON.replacen(
        r#""key_limit": 3,"#,
        r#""key_limit": 3, "portal": {"grantable": ["read", "execute_flows", "view_logs"], "max_expiry_days": 30},"#,
        1,
    );
    if editable_ips {
        json = json.replacen(
            r#""cache_ttl_seconds": 5,"#,
            r#""cache_ttl_seconds": 5, "portal": {"editable_allowed_ips": true},"#,
            1,
        );
    }
    match Config::from_json(&json) {
        Ok(config) => config,
        Err(err) => panic!("the page fuzz config is invalid: {err}"),
    }
}

const DAY: i64 = 86_400;

/// A session's products, holder and scopes.
type Session = (
    Option<&'static [&'static str]>,
    Option<&'static str>,
    Option<&'static [&'static str]>,
);

/// The sessions a `page_body` input may run in.
const SESSIONS: &[Session] = &[
    (None, None, None),
    (Some(&["forgeai"]), Some("user-1"), None),
    (Some(&["forgeai"]), Some("user-1"), Some(&["read"])),
    (None, Some("user-2"), Some(&["view_logs", "write"])),
    (
        Some(&["mailforge", "forgeai"]),
        None,
        Some(&["read", "write"]),
    ),
    (Some(&["salesforge"]), Some("u"), None),
    (None, None, Some(&["manage_deployments"])),
    (
        Some(&["forgeai"]),
        None,
        Some(&["execute_flows", "view_logs"]),
    ),
];

fn session(index: u8) -> Scope {
    let (products, owner, scopes) = SESSIONS
        .get(usize::from(index) % SESSIONS.len())
        .copied()
        .unwrap_or((None, None, None));
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Scope {
        products: products.map(owned),
        owner_id: owner.map(str::to_owned),
        scopes: scopes.map(owned),
    }
}

fn product(id: &str) -> &'static Product {
    match config().product(id) {
        Some(product) => product,
        None => panic!("unknown product {id:?} accepted"),
    }
}

/// Whether `body` is a JSON object naming an operator-only member
/// (`allowed_ips` too unless `editable_ips`).
fn names_operator_field(body: &[u8], editable_ips: bool) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .is_some_and(|members| {
            OPERATOR_ONLY.iter().any(|f| members.contains_key(*f))
                || (!editable_ips && members.contains_key("allowed_ips"))
        })
}

fn check_refusal(err: &Error, fields: &str, editable_ips: bool) {
    let status = err.status();
    assert!(
        matches!(status, 400 | 403 | 413 | 415),
        "page body answered {status}: {err:?}"
    );
    match err {
        Error::ForbiddenField { field, .. } => assert!(
            OPERATOR_ONLY.contains(&field.as_str()) || (field == "allowed_ips" && !editable_ips),
            "forbade {field:?}"
        ),
        Error::UnknownField { field, .. } => {
            assert!(
                !OPERATOR_ONLY.contains(&field.as_str()),
                "unknown {field:?}"
            );
            assert!(
                !fields.split(", ").any(|f| f == field),
                "unknown page member {field:?}"
            );
        }
        Error::ScopeNotGrantable { field, .. } => assert!(field.starts_with("scopes")),
        Error::ExpiryTooLate { .. } => {}
        other => assert_ne!(status, 403, "a page refusal {other:?}"),
    }
    let problem = err.to_problem(None);
    assert_eq!(problem.status, status);
    let body: serde_json::Value = match serde_json::from_str(&problem.body) {
        Ok(body) => body,
        Err(e) => panic!("problem body is not JSON ({e}): {}", problem.body),
    };
    assert_eq!(body.get("code").and_then(|c| c.as_str()), Some(err.code()));
}

fn within(scopes: &[String], ceiling: &[String]) {
    for scope in scopes {
        assert!(ceiling.contains(scope), "{scope:?} beyond {ceiling:?}");
    }
}

/// The `page_body` target.
pub fn page_body(data: &[u8]) {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let create = flags & 1 == 0;
    let dev = flags & 2 != 0;
    let scope = session(flags >> 2);
    let editable = flags & 32 != 0;
    let config = || {
        if editable {
            config_editable_ips()
        } else {
            self::config()
        }
    };
    let (create_fields, update_fields) = if editable {
        (PAGE_CREATE_FIELDS_WITH_IPS, PAGE_UPDATE_FIELDS_WITH_IPS)
    } else {
        (PAGE_CREATE_FIELDS, PAGE_UPDATE_FIELDS)
    };
    let forbidden = names_operator_field(body, editable);
    if create {
        let result = page_create(config(), body, NOW, dev);
        assert_eq!(result, page_create(config(), body, NOW, dev));
        let new = match result {
            Err(err) => return check_refusal(&err, create_fields, editable),
            Ok(new) => new,
        };
        assert!(
            !forbidden,
            "a body naming an operator-only field was accepted"
        );
        assert!(
            editable || new.allowed_ips.is_none(),
            "a list the page may not set"
        );
        let product = product(&new.product);
        if let Some(scopes) = &new.scopes {
            within(scopes, &product.portal.grantable);
        }
        if let Some(days) = product.portal.max_expiry_days {
            let at = new.expires_at.unwrap_or(i64::MAX);
            assert!(at > NOW && at <= NOW + days * DAY, "expires_at {at}");
        }
        match restrict(config(), &scope, PageOp::CreateKey(new.clone())) {
            Err(err) => check_refusal(&err, create_fields, editable),
            Ok((Op::CreateKey(key), Need::Nothing)) => {
                assert!(
                    editable || key.allowed_ips.is_empty(),
                    "a list the page may not set"
                );
                assert_eq!(key.allowed_ips, new.allowed_ips.clone().unwrap_or_default());
                assert!(scope.allows_product(&key.product));
                assert_eq!(key.owner_id, scope.owner_id, "the holder is the session's");
                assert_eq!(key.meta, None);
                assert_eq!(key.environment, keygate::key::Environment::Live);
                assert_eq!(key.expires_at, new.expires_at);
                let ceiling = scope.ceiling(product);
                match &key.scopes {
                    Some(scopes) => within(scopes, &ceiling),
                    None => within(&product.default_scopes, &ceiling),
                }
            }
            Ok(other) => panic!("a create restricted to {other:?}"),
        }
    } else {
        let result = page_update(config(), body, NOW);
        assert_eq!(result, page_update(config(), body, NOW));
        let change = match result {
            Err(err) => return check_refusal(&err, update_fields, editable),
            Ok(change) => change,
        };
        assert!(
            !forbidden,
            "a body naming an operator-only field was accepted"
        );
        assert!(
            editable || change.allowed_ips.is_none(),
            "a list the page may not set"
        );
        let op = PageOp::UpdateKey {
            id: "key_AAAAAAAAAAAAAAAAA".to_owned(),
            change: change.clone(),
        };
        match restrict(config(), &scope, op) {
            Ok((
                Op::UpdateKey {
                    enabled,
                    meta,
                    expires_at,
                    scopes,
                    allowed_ips,
                    ..
                },
                Need::Key { scopes: asked, .. },
            )) => {
                assert_eq!(enabled, None);
                assert_eq!(meta, None);
                assert_eq!(allowed_ips, change.allowed_ips, "the list asked, no other");
                assert_eq!(scopes, asked, "the object checks the scopes it runs");
                match expires_at {
                    None => assert!(change.expires_at.is_none()),
                    Some(Expiry::Earlier(at)) => {
                        assert!(at > NOW && at <= NOW + 365 * DAY, "expires_at {at}")
                    }
                    Some(other) => panic!("a page update sets {other:?}"),
                }
            }
            other => panic!("an update restricted to {other:?}"),
        }
    }
}

const GRANT_MEMBERS: &[&str] = &[
    "return_url",
    "products",
    "owner_id",
    "scopes",
    "expires_in_seconds",
];

/// The `portal_grant` target.
pub fn portal_grant(data: &[u8]) {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let dev = flags & 1 != 0;
    let result = portal_session(config(), body, dev);
    assert_eq!(result, portal_session(config(), body, dev));
    let grant = match result {
        Err(err) => {
            let status = err.status();
            assert!(
                matches!(status, 400 | 413 | 415),
                "grant answered {status}: {err:?}"
            );
            let root = |field: &str| {
                field
                    .split(['.', '['])
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            };
            match &err {
                Error::InvalidField { field, .. } => {
                    assert!(GRANT_MEMBERS.contains(&root(field).as_str()), "{field:?}")
                }
                Error::InvalidFields { errors } => {
                    for (field, _) in errors {
                        assert!(GRANT_MEMBERS.contains(&root(field).as_str()), "{field:?}");
                    }
                }
                Error::UnknownField { field, .. } => {
                    assert!(!GRANT_MEMBERS.contains(&field.as_str()), "{field:?}")
                }
                Error::InvalidJson { .. } | Error::BodyTooLarge { .. } => {}
                other => panic!("a grant refused with {other:?}"),
            }
            return;
        }
        Ok(grant) => grant,
    };
    assert!((60..=3_600).contains(&grant.expires_in_seconds));
    let scheme_ok = grant.return_url.starts_with("https://")
        || (dev && grant.return_url.starts_with("http://"));
    assert!(scheme_ok, "return_url {:?}", grant.return_url);
    let scope = &grant.scope;
    let products: Vec<&Product> = config()
        .products
        .iter()
        .filter(|p| scope.allows_product(&p.id))
        .collect();
    if let Some(list) = &scope.products {
        assert!(!list.is_empty());
        for id in list {
            product(id);
        }
    }
    if let Some(scopes) = &scope.scopes {
        assert!(!scopes.is_empty());
        for (i, s) in scopes.iter().enumerate() {
            assert!(!scopes.iter().take(i).any(|t| t == s), "repeated {s:?}");
            assert!(
                products.iter().any(|p| p.portal.grantable.contains(s)),
                "{s:?} is grantable by none of the session's products"
            );
        }
    }
    for p in products {
        let ceiling = scope.ceiling(p);
        within(&ceiling, &p.portal.grantable);
        if let Some(scopes) = &scope.scopes {
            within(&ceiling, scopes);
        }
    }
}
