//! Turning the raw table into a [`Config`], checking every field.

use std::collections::BTreeSet;

use super::model::{READ, WRITE};
use super::raw::{
    RawConfig, RawConsistency, RawCredential, RawManagement, RawMethods, RawPermission, RawProduct,
    RawPublicPath, RawRoute,
};
use super::{
    Config, ConfigError, Consistency, Credential, Management, Methods, PathCase, PermissionRule,
    Product, PublicPath, Route, Signing, Upstream, DEFAULT_CACHE_TTL_SECONDS, DEFAULT_KEY_LIMIT,
    DEFAULT_KEY_RETENTION_DAYS, DEFAULT_KV_CACHE_TTL_SECONDS, DEFAULT_MANAGEMENT_PREFIX,
    DEFAULT_MAX_SIGNED_BODY, DEFAULT_MAX_STALENESS_SECONDS, KEY_RETENTION_DAYS,
    MAX_CACHE_TTL_SECONDS, MAX_KEY_LIMIT, MAX_KV_CACHE_TTL_SECONDS, MAX_MAX_SIGNED_BODY,
    MAX_STALENESS_SECONDS, SIGNATURE_TTL_RANGE,
};
use crate::http::is_token;
use crate::key::is_valid_prefix;
use crate::pattern::{Matching, PathPattern};
use crate::signature::DEFAULT_TTL_SECONDS;

impl Config {
    /// Parses and validates the JSON form of `[vars.KEYGATE_CONFIG]`.
    pub fn from_json(json: &str) -> Result<Config, ConfigError> {
        from_json(json)
    }
}

/// In the gateway's wasm, without `serde_path_to_error` (about a tenth of
/// its code): a serde error names the member it quotes (`unknown field`,
/// `missing field`, …) but not its path. `keygate check`, the control
/// Worker and the tests read the same JSON with paths (below).
#[cfg(all(target_arch = "wasm32", feature = "gateway"))]
pub(super) fn from_json(json: &str) -> Result<Config, ConfigError> {
    let raw: RawConfig = serde_json::from_str(json).map_err(|err| {
        let mut message = err.to_string();
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        let field = message
            .split_once('`')
            .and_then(|(_, rest)| rest.split_once('`'))
            .map_or("(run keygate check for the path)", |(field, _)| field)
            .to_owned();
        ConfigError::new(field, message)
    })?;
    validate(raw)
}

#[cfg(not(all(target_arch = "wasm32", feature = "gateway")))]
pub(super) fn from_json(json: &str) -> Result<Config, ConfigError> {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    let raw: RawConfig = serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        // The JSON's line and column mean nothing to someone editing TOML.
        let mut message = err.inner().to_string();
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        // At the top level the path is "."; name the missing or repeated
        // member instead.
        let member = ["missing field `", "duplicate field `"]
            .iter()
            .find_map(|start| message.strip_prefix(start))
            .and_then(|rest| rest.split_once('`'))
            .map(|(field, _)| field.to_owned());
        let field = match member {
            Some(field) if path == "." => field,
            _ => name_products(json, &path),
        };
        ConfigError::new(field, message)
    })?;
    validate(raw)
}

/// Rewrites `products[1].x` as `products[1] (salesforge).x` when the id can
/// be read, so a serde error still names the product.
#[cfg(not(all(target_arch = "wasm32", feature = "gateway")))]
fn name_products(json: &str, path: &str) -> String {
    let Some(rest) = path.strip_prefix("products[") else {
        return path.to_owned();
    };
    let Some((index, tail)) = rest.split_once(']') else {
        return path.to_owned();
    };
    let id = index.parse::<usize>().ok().and_then(|i| {
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        value
            .get("products")?
            .get(i)?
            .get("id")?
            .as_str()
            .map(str::to_owned)
    });
    match id {
        Some(id) => format!("products[{id}]{tail}"),
        None => path.to_owned(),
    }
}

fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    if raw.products.is_empty() {
        return Err(ConfigError::new(
            "products",
            "declare at least one product ([[vars.KEYGATE_CONFIG.products]])",
        ));
    }
    let cache_ttl_seconds = raw.cache_ttl_seconds.unwrap_or(DEFAULT_CACHE_TTL_SECONDS);
    if cache_ttl_seconds > MAX_CACHE_TTL_SECONDS {
        return Err(ConfigError::new(
            "cache_ttl_seconds",
            format!("must be 0 to {MAX_CACHE_TTL_SECONDS}"),
        ));
    }
    let kv_cache_ttl_seconds = raw
        .kv_cache_ttl_seconds
        .unwrap_or(DEFAULT_KV_CACHE_TTL_SECONDS);
    if !(DEFAULT_KV_CACHE_TTL_SECONDS..=MAX_KV_CACHE_TTL_SECONDS).contains(&kv_cache_ttl_seconds) {
        return Err(ConfigError::new(
            "kv_cache_ttl_seconds",
            format!(
                "must be {DEFAULT_KV_CACHE_TTL_SECONDS} (the Workers KV minimum) to \
                 {MAX_KV_CACHE_TTL_SECONDS}"
            ),
        ));
    }

    let key_retention_days = raw.key_retention_days.unwrap_or(DEFAULT_KEY_RETENTION_DAYS);
    if !KEY_RETENTION_DAYS.contains(&key_retention_days) {
        return Err(ConfigError::new(
            "key_retention_days",
            format!(
                "must be {} (the days an ended key stays at the edge) to {}",
                KEY_RETENTION_DAYS.start(),
                KEY_RETENTION_DAYS.end()
            ),
        ));
    }

    let mut products: Vec<Product> = Vec::with_capacity(raw.products.len());
    for (index, raw_product) in raw.products.into_iter().enumerate() {
        let product = product(index, raw_product)?;
        let at = |field: &str| format!("products[{}].{field}", product.id);
        if let Some(other) = products.iter().find(|p| p.id == product.id) {
            return Err(ConfigError::new(
                at("id"),
                format!("id {:?} is used twice", other.id),
            ));
        }
        if let Some(other) = products.iter().find(|p| p.prefix == product.prefix) {
            return Err(ConfigError::new(
                at("prefix"),
                format!(
                    "prefix {:?} is already used by {}",
                    product.prefix, other.id
                ),
            ));
        }
        if let Some(other) = products.iter().find(|p| p.route == product.route) {
            return Err(ConfigError::new(
                at("route"),
                format!("the same host and path_prefix as {}", other.id),
            ));
        }
        if let Some(other) = products.iter().find(|p| {
            p.verifier_token_secret.is_some()
                && p.verifier_token_secret == product.verifier_token_secret
        }) {
            return Err(ConfigError::new(
                at("verifier_token_secret"),
                format!(
                    "is also {}'s; give each product a secret of its own, so a token for one \
                     cannot verify keys of another",
                    other.id
                ),
            ));
        }
        products.push(product);
    }
    legacy_overlaps(&products)?;
    let management = management(raw.management)?;
    let hooks = super::hooks::deployment(raw.webhooks, raw.leaks)
        .map_err(|(f, m)| ConfigError::new(f, m))?;
    if let Some(api) = &management {
        if let Some(shadowed) = products.iter().find(|p| {
            (api.host.is_none() || p.route.host == api.host)
                && api
                    .path_within(
                        p.route.host.as_deref().unwrap_or_default(),
                        &p.route.path_prefix,
                    )
                    .is_some()
        }) {
            return Err(ConfigError::new(
                format!("products[{}].route.path_prefix", shadowed.id),
                format!(
                    "lies under the management API's prefix {}; move one of them",
                    api.path_prefix
                ),
            ));
        }
    }
    let portal = super::portal::portal(
        raw.portal,
        management.is_some(),
        management.as_ref().and_then(|m| m.host.as_deref()),
    )
    .map_err(|(f, m)| ConfigError::new(format!("portal.{f}"), m))?;
    if let (Some(portal), Some(api)) = (&portal, &management) {
        let p = &portal.path_prefix;
        let m = &api.path_prefix;
        let nested = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/"));
        // A management API that owns a whole host (empty prefix) leaves
        // the page's prefix to the page, which is matched first.
        if !m.is_empty() && (nested(p, m) || nested(m, p)) {
            return Err(ConfigError::new(
                "portal.path_prefix",
                format!("overlaps the management API's prefix {m}; move one of them"),
            ));
        }
        if let Some(shadowed) = products.iter().find(|product| {
            let r = &product.route.path_prefix;
            (product.route.host.is_none() || product.route.host == api.host)
                // A product at / yields the page's prefix, as it does
                // the management API's.
                && (nested(r, p) || (r != "/" && nested(p, r)))
        }) {
            return Err(ConfigError::new(
                format!("products[{}].route.path_prefix", shadowed.id),
                format!("overlaps the API Keys page's prefix {p}; move one of them"),
            ));
        }
    }
    Ok(Config {
        products,
        cache_ttl_seconds,
        kv_cache_ttl_seconds,
        accept_untagged_keys: raw.accept_untagged_keys.unwrap_or(false),
        key_retention_days,
        management,
        portal,
        hooks,
        log: raw.log.unwrap_or_default(),
    })
}

fn management(raw: Option<RawManagement>) -> Result<Option<Management>, ConfigError> {
    let raw = raw.unwrap_or(RawManagement {
        enabled: None,
        path_prefix: None,
        host: None,
    });
    if raw.enabled == Some(false) {
        return Ok(None);
    }
    let prefix = raw
        .path_prefix
        .unwrap_or_else(|| DEFAULT_MANAGEMENT_PREFIX.to_owned());
    let route = route(RawRoute {
        host: raw.host,
        path_prefix: Some(prefix),
        strip_prefix: false,
    })
    .map_err(|(field, message)| {
        ConfigError::new(
            format!("management.{}", field.trim_start_matches("route.")),
            message,
        )
    })?;
    if route.host.is_none() && route.path_prefix == "/" {
        return Err(ConfigError::new(
            "management.path_prefix",
            "\"/\" would hide every product; use a prefix such as /_keygate/v1, or a host",
        ));
    }
    Ok(Some(Management {
        path_prefix: if route.path_prefix == "/" {
            String::new()
        } else {
            route.path_prefix
        },
        host: route.host,
    }))
}

fn product(index: usize, raw: RawProduct) -> Result<Product, ConfigError> {
    if !is_valid_id(&raw.id) {
        return Err(ConfigError::new(
            format!("products[{index}].id"),
            "must be 1-32 characters of a-z, 0-9 and '-', starting with a letter",
        ));
    }
    let at = |field: &str| format!("products[{}].{field}", raw.id);
    let name = raw.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ConfigError::new(
            at("name"),
            "must be 1-64 printable characters",
        ));
    }
    if !is_valid_prefix(&raw.prefix) {
        return Err(ConfigError::new(
            at("prefix"),
            "must be 2-8 characters of a-z and 0-9, starting with a letter",
        ));
    }
    let credential = credential(raw.key).map_err(|m| ConfigError::new(at("key"), m))?;
    let route = route(raw.route).map_err(|(f, m)| ConfigError::new(at(f), m))?;
    let upstream = upstream(&raw.upstream).map_err(|m| ConfigError::new(at("upstream"), m))?;

    let mut permissions = Vec::with_capacity(raw.permissions.len());
    for (i, rule) in raw.permissions.into_iter().enumerate() {
        permissions.push(
            permission(rule)
                .map_err(|(f, m)| ConfigError::new(at(&format!("permissions[{i}].{f}")), m))?,
        );
    }
    let public_paths = raw
        .public_paths
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            public_path(p).map_err(|m| ConfigError::new(at(&format!("public_paths[{i}]")), m))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut known: BTreeSet<String> = [READ, WRITE].iter().map(|s| (*s).to_owned()).collect();
    known.extend(permissions.iter().map(|r| r.permission.clone()));
    let known_permissions: Vec<String> = known.into_iter().collect();
    let default_scopes = match raw.default_scopes {
        None => known_permissions.clone(),
        Some(scopes) => {
            if let Some(unknown) = scopes.iter().find(|s| !known_permissions.contains(s)) {
                return Err(ConfigError::new(
                    at("default_scopes"),
                    format!(
                        "{unknown:?} is not a permission of this product (known: {})",
                        known_permissions.join(", ")
                    ),
                ));
            }
            scopes
        }
    };

    let key_limit = raw.key_limit.unwrap_or(DEFAULT_KEY_LIMIT);
    if !(1..=MAX_KEY_LIMIT).contains(&key_limit) {
        return Err(ConfigError::new(
            at("key_limit"),
            format!("must be 1 to {MAX_KEY_LIMIT}"),
        ));
    }

    let consistency = consistency(raw.consistency, raw.max_staleness_seconds)
        .map_err(|(f, m)| ConfigError::new(at(f), m))?;

    let signing = signing(
        raw.sign_body,
        raw.max_signed_body,
        raw.signature_ttl_seconds,
    )
    .map_err(|(f, m)| ConfigError::new(at(f), m))?;

    let cors =
        super::clients::cors(raw.cors, &credential).map_err(|(f, m)| ConfigError::new(at(f), m))?;
    let websocket =
        super::clients::websocket(raw.websocket).map_err(|(f, m)| ConfigError::new(at(f), m))?;
    let hooks = super::hooks::product(raw.on_leak, raw.expiry_reminders_seconds)
        .map_err(|(f, m)| ConfigError::new(at(f), m))?;

    let forward_meta = super::verify_meta::forward_meta(raw.forward_meta)
        .map_err(|m| ConfigError::new(at("forward_meta"), m))?;
    let verifier_token_secret =
        super::verify_meta::verifier_token_secret(raw.verifier_token_secret)
            .map_err(|m| ConfigError::new(at("verifier_token_secret"), m))?;
    let allowed_ips = crate::ip_allow::AllowList::parse(&raw.allowed_ips.unwrap_or_default())
        .map_err(|f| {
            let (index, reason) = f.into_iter().next().unwrap_or_default();
            let field = match index {
                Some(i) => format!("allowed_ips[{i}]"),
                None => "allowed_ips".to_owned(),
            };
            ConfigError::new(at(&field), reason)
        })?;

    let legacy = raw
        .legacy
        .map(|l| legacy(l.prefix))
        .transpose()
        .map_err(|m| ConfigError::new(at("legacy.prefix"), m))?;

    let portal =
        super::portal::product_portal(raw.portal, name, &known_permissions, &default_scopes)
            .map_err(|(f, m)| ConfigError::new(at(f), m))?;
    Ok(Product {
        id: raw.id,
        name: name.to_owned(),
        prefix: raw.prefix,
        credential,
        route,
        upstream,
        permissions,
        public_paths,
        known_permissions,
        default_scopes,
        key_limit,
        consistency,
        matching: Matching {
            case_sensitive: raw.path_case.unwrap_or_default() == PathCase::Sensitive,
            path_params: raw.allow_path_params.unwrap_or(false),
        },
        origin_cache: raw.origin_cache.unwrap_or(false),
        signing,
        cors,
        websocket,
        trust_forwarded: raw.trust_forwarded.unwrap_or(false),
        forward_meta,
        verifier_token_secret,
        allowed_ips,
        legacy,
        portal,
        hooks,
    })
}

/// A `legacy.prefix` that a keygate key could start with (`sf_…` when a
/// product's prefix is `sf`), or that another product's legacy prefix
/// starts with, would make one key two formats: refused.
fn legacy_overlaps(products: &[Product]) -> Result<(), ConfigError> {
    for product in products {
        let Some(legacy) = &product.legacy else {
            continue;
        };
        let at = format!("products[{}].legacy.prefix", product.id);
        let overlaps = |a: &str, b: &str| a.starts_with(b) || b.starts_with(a);
        if let Some(other) = products
            .iter()
            .find(|p| overlaps(&legacy.prefix, &format!("{}_", p.prefix)))
        {
            return Err(ConfigError::new(
                at,
                format!(
                    "overlaps {}'s key prefix {:?}: keys in keygate's format start with it",
                    other.id,
                    format!("{}_", other.prefix)
                ),
            ));
        }
        if let Some(other) = products.iter().find(|p| {
            p.id != product.id
                && p.legacy
                    .as_ref()
                    .is_some_and(|l| overlaps(&l.prefix, &legacy.prefix))
        }) {
            return Err(ConfigError::new(
                at,
                format!(
                    "overlaps {}'s legacy prefix; give each product its own",
                    other.id
                ),
            ));
        }
    }
    Ok(())
}

/// A `legacy.prefix`: 2 to [`super::model::MAX_LEGACY_PREFIX_BYTES`]
/// visible ASCII characters. Overlaps with keygate prefixes are checked
/// across products.
fn legacy(prefix: String) -> Result<super::model::Legacy, String> {
    let max = super::model::MAX_LEGACY_PREFIX_BYTES;
    if !(2..=max).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("must be 2 to {max} visible ASCII characters"));
    }
    Ok(super::model::Legacy { prefix })
}

/// `consistency` and, for `bounded` only, `max_staleness_seconds`.
fn consistency(
    raw: Option<RawConsistency>,
    max_staleness_seconds: Option<u32>,
) -> Result<Consistency, (&'static str, String)> {
    match raw.unwrap_or(RawConsistency::Edge) {
        RawConsistency::Bounded => {
            let seconds = max_staleness_seconds.unwrap_or(DEFAULT_MAX_STALENESS_SECONDS);
            if !(1..=MAX_STALENESS_SECONDS).contains(&seconds) {
                return Err((
                    "max_staleness_seconds",
                    format!("must be 1 to {MAX_STALENESS_SECONDS}"),
                ));
            }
            Ok(Consistency::Bounded {
                max_staleness_seconds: seconds,
            })
        }
        _ if max_staleness_seconds.is_some() => Err((
            "max_staleness_seconds",
            "applies only with consistency = \"bounded\"; remove it or set that".to_owned(),
        )),
        RawConsistency::Edge => Ok(Consistency::Edge),
        RawConsistency::Strict => Ok(Consistency::Strict),
    }
}

fn signing(
    sign_body: Option<bool>,
    max_signed_body: Option<u64>,
    ttl: Option<u32>,
) -> Result<Signing, (&'static str, String)> {
    let sign_body = sign_body.unwrap_or(false);
    if max_signed_body.is_some() && !sign_body {
        return Err((
            "max_signed_body",
            "applies only with sign_body = true; remove it or turn sign_body on".to_owned(),
        ));
    }
    let max_signed_body = max_signed_body.unwrap_or(DEFAULT_MAX_SIGNED_BODY);
    if !(1..=MAX_MAX_SIGNED_BODY).contains(&max_signed_body) {
        return Err((
            "max_signed_body",
            format!("must be 1 to {MAX_MAX_SIGNED_BODY} bytes (32 MiB)"),
        ));
    }
    let ttl_seconds = ttl.unwrap_or(DEFAULT_TTL_SECONDS);
    if !SIGNATURE_TTL_RANGE.contains(&ttl_seconds) {
        return Err((
            "signature_ttl_seconds",
            format!(
                "must be {} to {} seconds",
                SIGNATURE_TTL_RANGE.start(),
                SIGNATURE_TTL_RANGE.end()
            ),
        ));
    }
    Ok(Signing {
        sign_body,
        max_signed_body,
        ttl_seconds,
    })
}

/// Methods a public path admits when its entry names none.
const PUBLIC_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

fn public_path(raw: RawPublicPath) -> Result<PublicPath, String> {
    let (path, methods) = match raw {
        RawPublicPath::Path(path) => (
            path,
            Methods::Only(PUBLIC_METHODS.iter().map(|m| (*m).to_owned()).collect()),
        ),
        RawPublicPath::Entry(entry) => (entry.path, methods(entry.methods)?),
    };
    Ok(PublicPath {
        path: PathPattern::parse(&path)?,
        methods,
    })
}

/// Methods as written; a list naming `GET` also covers `HEAD`, since
/// origins send HEAD to the GET handler.
fn methods(raw: RawMethods) -> Result<Methods, String> {
    let mut list = match raw {
        RawMethods::One(m) if m.trim() == "*" => return Ok(Methods::Any),
        RawMethods::One(m) => vec![m],
        RawMethods::Many(list) => list,
    };
    if list.is_empty() {
        return Err("list at least one method, or \"*\"".to_owned());
    }
    if let Some(bad) = list
        .iter()
        .find(|m| !is_token(m) || m.bytes().any(|b| b.is_ascii_lowercase()))
    {
        return Err(format!("{bad:?} is not an uppercase HTTP method"));
    }
    if let Some(refused) = list.iter().find(|m| crate::http::is_refused_method(m)) {
        return Err(format!(
            "{refused} is refused on every path and cannot be listed"
        ));
    }
    if list.iter().any(|m| m == "GET") && !list.iter().any(|m| m == "HEAD") {
        list.push("HEAD".to_owned());
    }
    Ok(Methods::Only(list))
}

fn is_valid_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    (1..=32).contains(&id.len())
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `name` is a permission name: `[a-z][a-z0-9_:.-]{0,63}`.
pub fn is_permission_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    (1..=64).contains(&name.len())
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b':' | b'.' | b'-')
        })
}

fn credential(raw: RawCredential) -> Result<Credential, String> {
    let header = raw.header.trim().to_owned();
    if !is_token(&header) {
        return Err(format!("header {header:?} is not a valid HTTP header name"));
    }
    let lower = header.to_ascii_lowercase();
    if lower.starts_with("keygate-")
        || matches!(lower.as_str(), "host" | "content-length" | "cookie")
    {
        return Err(format!("header {header:?} cannot carry keys"));
    }
    let scheme = match raw.scheme.map(|s| s.trim().to_owned()) {
        Some(s) if !is_token(&s) => return Err(format!("scheme {s:?} is not a valid auth scheme")),
        other => other,
    };
    if scheme.is_none() && lower == "authorization" {
        return Err("the Authorization header needs a scheme, e.g. scheme = \"Bearer\"".to_owned());
    }
    Ok(Credential { header, scheme })
}

fn route(raw: RawRoute) -> Result<Route, (&'static str, String)> {
    let host = match raw.host.map(|h| h.trim().to_ascii_lowercase()) {
        Some(h)
            if h.is_empty()
                || !h
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')) =>
        {
            return Err((
                "route.host",
                format!("{h:?} is not a host name (no scheme, port or path)"),
            ))
        }
        other => other,
    };
    let prefix = raw.path_prefix.unwrap_or_else(|| "/".to_owned());
    if !prefix.starts_with('/') || prefix.contains(['?', '#', '*', ' ']) || prefix.contains("//") {
        return Err((
            "route.path_prefix",
            format!("{prefix:?} must be a plain path starting with '/'"),
        ));
    }
    let path_prefix = match prefix.trim_end_matches('/') {
        "" => "/".to_owned(),
        p => p.to_owned(),
    };
    // Requests are routed on their canonical path, so a prefix must be one.
    if crate::path::canonicalize(&path_prefix).map(|c| c.as_str() == path_prefix) != Ok(true) {
        return Err((
            "route.path_prefix",
            format!(
                "{prefix:?} is not in canonical form (no '.' or '..' segments, no escapes of \
                 letters, digits or -._~, no ';')"
            ),
        ));
    }
    if path_prefix.contains(';') {
        return Err((
            "route.path_prefix",
            format!("{prefix:?} must not contain ';'"),
        ));
    }
    if host.is_none() && path_prefix == "/" && raw.strip_prefix {
        return Err((
            "route.strip_prefix",
            "there is no prefix to strip".to_owned(),
        ));
    }
    Ok(Route {
        host,
        path_prefix,
        strip_prefix: raw.strip_prefix,
    })
}

fn upstream(raw: &str) -> Result<Upstream, String> {
    // Messages show the URL without userinfo or query: they reach the log.
    let shown = super::error::redact_url(raw);
    let url = super::http_url::HttpUrl::parse(raw).map_err(|e| match e {
        super::http_url::UrlError::Scheme => format!("{shown:?} must be an http or https URL"),
        e => format!("{shown:?} is not an absolute URL ({e})"),
    })?;
    if url.has_query() || url.has_fragment() || url.has_userinfo() {
        return Err(format!(
            "{shown:?} must not have a query, fragment or credentials"
        ));
    }
    Ok(Upstream {
        origin: url.origin(),
        base_path: url.path().trim_end_matches('/').to_owned(),
    })
}

fn permission(raw: RawPermission) -> Result<PermissionRule, (&'static str, String)> {
    let methods = methods(raw.method).map_err(|m| ("method", m))?;
    let path = PathPattern::parse(&raw.path).map_err(|m| ("path", m))?;
    if !is_permission_name(&raw.permission) {
        return Err((
            "permission",
            format!(
                "{:?} must be 1-64 characters of a-z, 0-9, '_', ':', '.', '-', starting with a letter",
                raw.permission
            ),
        ));
    }
    Ok(PermissionRule {
        methods,
        path,
        permission: raw.permission,
    })
}
