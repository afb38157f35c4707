//! Targets `manage_request` and `manage_body`: the management API's
//! request and body parsers (`keygate::manage::request::parse`).
//!
//! Input of `manage_request`: one byte (method, `dev`, query present), then
//! `path NUL query NUL body`. Input of `manage_body`: one byte (endpoint,
//! `dev`), then the body of a well-formed request to that endpoint.
//! Invariants: client input is never answered with a 5xx-class error; a
//! refusal is 400, 404, 405, 412, 413 or 415; a 400 names its `field` (except
//! `invalid_json`, which says where the JSON breaks; `unknown_field` names
//! the member even when its name is empty); a 405 never lists the method
//! it refused; the problem+json body carries the status and code; parsing
//! is deterministic; an accepted request
//! carries checked ids, and an accepted body carries values in range (a
//! trimmed name of 1-64 characters with no control characters, known and
//! distinct scopes, an expiry in the next 365 days, https webhooks, a
//! grace period of at most 7 days). A webhook URL is https, or in dev
//! http(s) to this machine (`localhost`, `*.localhost`, loopback). A body's `invalid_field` names one of
//! that endpoint's members.

use keygate::manage::ids;
use keygate::manage::op::{NewKey, Op};
use keygate::manage::request::{self, Incoming, Request, MAX_EVENTS_PAGE};
use keygate::Error;

use crate::fixture::{config, NOW};

/// Parses a JSON request as the control Worker does.
fn parse(
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
    dev: bool,
) -> Result<Request, Error> {
    let incoming = Incoming {
        method,
        path,
        query,
        content_type: Some("application/json"),
        if_match: None,
        body,
    };
    request::parse(config(), &incoming, NOW, dev)
}

const METHODS: &[&str] = &[
    "GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "get",
];

/// The `manage_request` target.
pub fn manage_request(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let method = METHODS
        .get(usize::from(flags) % METHODS.len())
        .copied()
        .unwrap_or("GET");
    let dev = flags & 0x40 != 0;
    let [path, query, body] = crate::split::<3>(rest);
    let path = crate::text(path);
    let query = (flags & 0x80 != 0).then(|| crate::text(query));
    let result = parse(method, &path, query.as_deref(), body, dev);
    let again = parse(method, &path, query.as_deref(), body, dev);
    assert_eq!(result, again, "parsing is deterministic");
    match result {
        Err(err) => check_refusal(&err, method),
        Ok(Request::OpenApi) => {
            assert!(method == "GET" || method == "HEAD");
            assert_eq!(path.trim_start_matches('/'), "openapi.json");
        }
        Ok(Request::Lookup(_)) => assert_eq!(method, "POST"),
        Ok(Request::Import { account, parsed }) => {
            assert_eq!(method, "POST");
            assert!(ids::account(&account).is_ok(), "account {account:?}");
            let n = parsed.items.len();
            assert!((1..=keygate::manage::import::MAX_IMPORT_KEYS).contains(&n));
        }
        Ok(Request::Account { account, op }) => {
            // Ids arrive percent-decoded, and are checked.
            assert!(ids::account(&account).is_ok(), "account {account:?}");
            check_op(&op);
        }
    }
}

/// Which endpoint `manage_body` sends its body to, and the members its
/// body may have.
const ENDPOINTS: &[(&str, &str, &[&str])] = &[
    (
        "POST",
        "/accounts/acct_1/keys",
        &[
            "product",
            "name",
            "scopes",
            "environment",
            "expires_in_days",
            "expires_at",
            "webhook_url",
        ],
    ),
    (
        "PATCH",
        "/accounts/acct_1/keys/key_AAAAAAAAAAAAAAAAA",
        &["name", "scopes"],
    ),
    (
        "POST",
        "/accounts/acct_1/keys/key_AAAAAAAAAAAAAAAAA/rotate",
        &["grace_seconds"],
    ),
    ("PATCH", "/accounts/acct_1", &["status"]),
    (
        "POST",
        "/accounts/acct_1/keys/import",
        &["keys", "ignore_key_limit"],
    ),
];

/// The `manage_body` target.
pub fn manage_body(data: &[u8]) {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let Some((method, path, members)) = ENDPOINTS.get(usize::from(flags) % ENDPOINTS.len()) else {
        return;
    };
    let dev = flags & 0x80 != 0;
    match parse(method, path, None, body, dev) {
        Err(err) => {
            check_refusal(&err, method);
            let root = |field: &str| {
                field
                    .split(['.', '['])
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            };
            match &err {
                Error::InvalidField { field, .. } => {
                    assert!(members.contains(&root(field).as_str()), "field {field:?}");
                }
                Error::InvalidFields { errors } => {
                    assert!(errors.len() > 1, "one fault is InvalidField");
                    for (field, _) in errors {
                        assert!(members.contains(&root(field).as_str()), "field {field:?}");
                    }
                }
                Error::UnknownField { field, .. } => {
                    assert!(!members.contains(&field.as_str()), "field {field:?}");
                }
                Error::InvalidJson { .. } | Error::UnknownProduct { .. } => {}
                other => panic!("a body was refused with {other:?}"),
            }
        }
        Ok(Request::Account { account, op }) => {
            assert_eq!(account, "acct_1");
            if let Op::CreateKey(new) = &op {
                check_new_key(new, dev);
            }
            check_op(&op);
        }
        Ok(Request::Import { account, parsed }) if path.ends_with("/import") => {
            assert_eq!(account, "acct_1");
            // A refused item names its own member, under `keys[i]`.
            for (at, item) in parsed.items.iter().enumerate() {
                if let Err(err) = item {
                    let field = err.field().unwrap_or_default();
                    assert!(field.starts_with(&format!("keys[{at}]")), "{err:?}");
                }
            }
        }
        Ok(other) => panic!("{path} parsed as {other:?}"),
    }
}

fn check_refusal(err: &Error, method: &str) {
    let status = err.status();
    assert!(
        matches!(status, 400 | 404 | 405 | 412 | 413 | 415),
        "client input answered {status}: {err:?}"
    );
    if let Error::InvalidJson { reason } = err {
        assert!(!reason.is_empty());
    } else if let Error::UnknownField { field, expected } = err {
        // `field` is the member's name, which may be "" (`{"": 1}`); the
        // detail then still lists the members to use.
        assert!(!expected.is_empty(), "{err:?} for {field:?}");
    } else if status == 400 {
        assert!(
            err.field().is_some_and(|f| !f.is_empty()),
            "a 400 names no field: {err:?}"
        );
    }
    if let Error::MethodNotAllowed { allow } = err {
        assert!(
            !allow.split(", ").any(|m| m == method),
            "405 for an allowed {method}"
        );
    }
    let problem = err.to_problem(None);
    assert_eq!(problem.status, status);
    let body: serde_json::Value = match serde_json::from_str(&problem.body) {
        Ok(body) => body,
        Err(e) => panic!("problem body is not JSON ({e}): {}", problem.body),
    };
    assert_eq!(body.get("code").and_then(|c| c.as_str()), Some(err.code()));
    assert_eq!(
        body.get("status").and_then(|s| s.as_u64()),
        Some(u64::from(status))
    );
}

fn check_name(name: &str) {
    assert_eq!(name, name.trim());
    assert!((1..=64).contains(&name.chars().count()), "name {name:?}");
    assert!(!name.chars().any(char::is_control), "name {name:?}");
}

fn check_op(op: &Op) {
    match op {
        Op::GetKey { id } | Op::RevokeKey { id } => assert!(ids::key(id).is_ok()),
        Op::UpdateKey { id, name, .. } => {
            assert!(ids::key(id).is_ok());
            if let Some(name) = name {
                check_name(name);
            }
        }
        Op::RotateKey { id, grace_seconds } => {
            assert!(ids::key(id).is_ok());
            assert!((0..=7 * 86_400).contains(grace_seconds));
        }
        Op::ListEvents { limit, before } => {
            assert!((1..=MAX_EVENTS_PAGE).contains(limit));
            assert!(before.is_none_or(|b| b > 0));
        }
        Op::ListKeys {
            product: Some(product),
            ..
        } => assert!(config().product(product).is_some()),
        Op::Verify { .. } | Op::NoteUse { .. } => {
            panic!("the edge's own op from a request: {op:?}")
        }
        _ => {}
    }
}

fn check_new_key(new: &NewKey, dev: bool) {
    let Some(product) = config().product(&new.product) else {
        panic!("unknown product {:?} accepted", new.product);
    };
    check_name(&new.name);
    if let Some(scopes) = &new.scopes {
        assert!(!scopes.is_empty());
        for (i, scope) in scopes.iter().enumerate() {
            assert!(product.known_permissions.contains(scope), "scope {scope:?}");
            assert!(
                !scopes.iter().take(i).any(|s| s == scope),
                "repeated {scope:?}"
            );
        }
    }
    if let Some(at) = new.expires_at {
        assert!(at > NOW && at <= NOW + 365 * 86_400, "expires_at {at}");
    }
    if let Some(url) = &new.webhook_url {
        assert!(
            url.starts_with("https://") || (dev && this_machine(url)),
            "webhook_url {url:?}"
        );
    }
}

/// Whether `url` is http(s) to this machine, read independently:
/// `localhost`, a `*.localhost` name (RFC 6761; libFuzzer found
/// `http:///.localhost//…`, which the WHATWG parser reads as host
/// `.localhost`) or a loopback address.
fn this_machine(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    matches!(url.scheme(), "http" | "https")
        && match url.host() {
            Some(url::Host::Domain(name)) => name == "localhost" || name.ends_with(".localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}
