//! The one error type of the request path and its wire form.
//!
//! Every refusal keygate makes is an [`Error`] variant. [`Error::to_problem`]
//! maps it to an HTTP status and an RFC 9457 `application/problem+json` body
//! with a stable `code`; nothing else decides what a client sees. Invariant:
//! no variant carries the presented key, so no response can echo it.

use serde::Serialize;

use crate::time::format_rfc3339;

/// Why a request was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// No configured product serves this host and path. (404 `no_route`)
    NoRoute,
    /// The product's credential header is absent or empty. (401 `missing_key`)
    MissingKey {
        /// Display name of the product the route picked.
        product: String,
        /// How the product expects the key, e.g. `X-Salesforge-Key` or
        /// `Authorization: Bearer <key>`.
        expected: String,
    },
    /// The key presented belongs to another product, or sits in another
    /// product's header. Found without any storage read. (401 `wrong_product`)
    WrongProduct {
        /// Display name of the product the route picked.
        product: String,
        /// How that product expects its key.
        expected: String,
        /// Display name of the product the key's prefix belongs to, if known.
        key_product: Option<String>,
        /// The other product's header the key was sent in, if it was.
        sent_in: Option<String>,
    },
    /// The key does not have the keygate shape or its checksum fails.
    /// Found without any storage read. (401 `malformed_key`)
    MalformedKey {
        /// Display name of the product the route picked.
        product: String,
        /// What is wrong with the shape, never the key itself.
        reason: &'static str,
    },
    /// Well formed, but no such key is stored. (401 `invalid_key`)
    InvalidKey,
    /// The key was revoked. (401 `revoked_key`)
    RevokedKey,
    /// The key is turned off by its owner (not revoked: it can be turned
    /// on again). (401 `disabled_key`)
    DisabledKey,
    /// The key's expiry has passed. (401 `expired_key`)
    ExpiredKey {
        /// When the key expired, in Unix seconds.
        expired_at: i64,
    },
    /// The key lacks the permission this method and path require.
    /// (403 `insufficient_scope`)
    InsufficientScope {
        /// The permission that was required.
        permission: String,
    },
    /// The key (or its product) has an IP allowlist, and the request's
    /// client address (`CF-Connecting-IP`) is not in it, or is unknown.
    /// Decided after the key is found, before the permission check and
    /// before anything is forwarded or counted. (403 `ip_not_allowed`)
    IpNotAllowed {
        /// The client address as the gateway read it; `None` when it was
        /// missing or not an address.
        client: Option<String>,
    },
    /// The key store could not be read, or held an unreadable record; the
    /// request is not forwarded. (503 `storage_unavailable`)
    StorageUnavailable,
    /// The control Worker (the management API and the accounts' objects)
    /// could not be reached from the gateway: unbound, not deployed or
    /// failing. (503 `control_unavailable`)
    ControlUnavailable,
    /// The gateway and the control Worker run with different
    /// configurations, so the control side refuses the call.
    /// (503 `config_mismatch`)
    ConfigMismatch,
    /// GitHub's secret-scanning public-key document could not be fetched
    /// (or was unusable) and no earlier copy is held, so a GitHub report
    /// cannot be verified; no fetch is tried again until `retry_after`
    /// seconds have passed. (503 `github_keys_unavailable`)
    GithubKeysUnavailable {
        /// Seconds until the document is fetched again.
        retry_after: u32,
    },
    /// The origin could not be reached. (502 `upstream_unavailable`)
    UpstreamUnavailable {
        /// Display name of the product whose origin failed.
        product: String,
    },
    /// The configuration or a required secret is invalid; keygate refuses
    /// what depends on it (all traffic, or the management API for its
    /// token) until it is fixed. (500 `misconfigured`) Clients get a
    /// generic detail; only the log gets `what`.
    Misconfigured {
        /// What is wrong, naming the product and field: for the log only.
        what: String,
    },
    /// The key's account is suspended. (403 `account_suspended`)
    AccountSuspended,
    /// The path has no canonical form, so no rule could judge it. Found
    /// without any storage read. (400 `malformed_path`)
    MalformedPath {
        /// What is wrong with the path.
        reason: &'static str,
    },
    /// The request carries a header that asks the origin to use another
    /// method or path than the one judged. (400 `override_header`)
    OverrideHeader {
        /// The header, as the client named it.
        header: String,
    },

    // Management API.
    /// The admin token is missing or wrong. (401 `unauthorized`)
    Unauthorized,
    /// The verify endpoint's caller did not present the verifier token of
    /// the product it asks about. (401 `invalid_verifier_token`)
    VerifierUnauthorized,
    /// The body is not a JSON object. (400 `invalid_json`)
    InvalidJson {
        /// What the parser found, without echoing the body.
        reason: String,
    },
    /// The body has a member the operation does not take.
    /// (400 `unknown_field`)
    UnknownField {
        /// The member, e.g. `nme`.
        field: String,
        /// The members the operation takes.
        expected: &'static str,
    },
    /// A member or query parameter is missing, of the wrong type, out of
    /// range or malformed. (400 `invalid_field`)
    InvalidField {
        /// The member, e.g. `scopes[1]` or `expires_in_days`.
        field: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// A query parameter the operation does not take; every operation
    /// refuses them, so an option it lacks (`?force=true`) is never
    /// silently ignored. (400 `unknown_parameter`)
    UnknownParameter {
        /// The parameter's name, decoded.
        name: String,
        /// The parameters the operation takes, or empty for none.
        known: &'static str,
    },
    /// Several members are invalid at once; each is listed in the
    /// problem's `errors`, and `field` names the first. (400
    /// `invalid_field`)
    InvalidFields {
        /// Each member and what is wrong with it, as in [`Error::InvalidField`].
        errors: Vec<(String, String)>,
    },
    /// `product` names no configured product. (400 `unknown_product`)
    UnknownProduct {
        /// The ids that are configured.
        known: String,
    },
    /// An account or key id in the path has the wrong shape.
    /// (400 `invalid_id`)
    InvalidId {
        /// `account` or `id`.
        field: &'static str,
        /// The accepted shape.
        shape: &'static str,
    },
    /// The account has no keys and never had. (404 `account_not_found`)
    AccountNotFound,
    /// No key with this id in this account. (404 `key_not_found`)
    KeyNotFound,
    /// No management endpoint at this path. (404 `not_found`)
    NotFound,
    /// The path exists but not for this method. (405 `method_not_allowed`)
    MethodNotAllowed {
        /// The methods the path takes, for the `Allow` header.
        allow: &'static str,
    },
    /// The account already has its limit of active keys for the product.
    /// (409 `key_limit_reached`)
    KeyLimitReached {
        /// Display name of the product.
        product: String,
        /// The limit.
        limit: u32,
    },
    /// The key is revoked, expired or already rotated, so it cannot be
    /// changed or rotated. (409 `key_not_active`)
    KeyNotActive {
        /// Why, e.g. `it was revoked at 2026-11-23T06:40:00Z`.
        why: String,
    },
    /// `If-Match` names no tag the resource has now: it changed since the
    /// client read it. (412 `precondition_failed`)
    PreconditionFailed,
    /// A change from the API Keys page without its session's CSRF token,
    /// or from another site. (403 `csrf_failed`)
    CsrfFailed {
        /// Why, and what to do.
        reason: &'static str,
    },
    /// An `Idempotency-Key` sent again by the same caller with another
    /// request within 24 h (another caller's is a fresh request).
    /// (422 `idempotency_key_reused`)
    IdempotencyKeyReused {
        /// Why it cannot be replayed.
        why: &'static str,
    },
    /// A management body sent as anything but `application/json`.
    /// (415 `unsupported_media_type`)
    UnsupportedMediaType {
        /// The media type sent, if any, without parameters; already
        /// checked to be short and printable.
        sent: Option<String>,
    },
    /// The body is over the limit. (413 `body_too_large`)
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A webhook cannot do what was asked: the key has none, it was
    /// disabled, the delivery is finished, or the endpoint limit is
    /// reached. (409 `webhook_unavailable`)
    WebhookUnavailable {
        /// Why, and what to do.
        why: String,
    },
    /// No such account-level endpoint or delivery. (404 `webhook_not_found`)
    WebhookNotFound,

    // The API Keys page.
    /// A page session named a field only the operator may set (`meta`,
    /// `owner_id`, `enabled`, `environment`). (403 `forbidden_field`)
    ForbiddenField {
        /// The member, e.g. `meta`.
        field: String,
        /// The members the page's operation takes.
        allowed: &'static str,
    },
    /// A page session asked for a permission outside what its product's
    /// `portal.grantable` and the session's `scopes` allow.
    /// (403 `scope_not_grantable`)
    ScopeNotGrantable {
        /// The member, e.g. `scopes[1]`.
        field: String,
        /// The permission asked for.
        scope: String,
        /// What the page may grant for this key's product, comma-separated.
        grantable: String,
    },
    /// A page session asked for a later expiry than the key has (or none),
    /// or one past the product's `portal.max_expiry_days`.
    /// (403 `expiry_too_late`)
    ExpiryTooLate {
        /// `expires_at` or `expires_in_days`.
        field: &'static str,
        /// What the latest allowed expiry is.
        reason: String,
    },
    /// The API Keys page made as many changes as its budget allows in the
    /// window: the session's, or the account's across every page session.
    /// (429 `page_change_limit`)
    PageChangeLimit {
        /// `"session"` or `"account"`: whose budget is spent.
        whose: &'static str,
        /// The budget: changes per window.
        limit: u32,
        /// The window, in seconds.
        window: u32,
        /// Seconds until the oldest counted change leaves the window.
        retry_after: u32,
    },
    /// A portal link was asked for, but no public URL for the page is
    /// configured (`portal.public_url` or `management.host`), so none is
    /// built from the request's `Host`. (500 `portal_url_missing`)
    PortalUrlMissing,
}

/// A window of `seconds` in words: `hour`, `24 hours`, `10 minutes`.
fn span(seconds: u32) -> String {
    match (seconds % 3_600, seconds / 3_600, seconds / 60) {
        (0, 1, _) => "hour".to_owned(),
        (0, hours, _) => format!("{hours} hours"),
        (_, _, 1) => "minute".to_owned(),
        (_, _, minutes) => format!("{minutes} minutes"),
    }
}

/// The wire form of an [`Error`]: status, headers and problem+json body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// HTTP status code.
    pub status: u16,
    /// Value for `WWW-Authenticate`, present on every 401.
    pub www_authenticate: Option<String>,
    /// Value for `Retry-After`, present where retrying can help.
    pub retry_after: Option<u32>,
    /// Value for `Allow`, present on 405.
    pub allow: Option<&'static str>,
    /// The `application/problem+json` body.
    pub body: String,
}

/// Content type of every refusal.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    type_uri: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<FieldProblem<'a>>>,
}

/// One invalid member in a problem's `errors`.
#[derive(Serialize)]
struct FieldProblem<'a> {
    field: &'a str,
    detail: String,
}

impl Error {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Error::NoRoute => 404,
            Error::MissingKey { .. }
            | Error::WrongProduct { .. }
            | Error::MalformedKey { .. }
            | Error::InvalidKey
            | Error::RevokedKey
            | Error::DisabledKey
            | Error::ExpiredKey { .. }
            | Error::Unauthorized
            | Error::VerifierUnauthorized => 401,
            Error::InvalidJson { .. }
            | Error::UnknownField { .. }
            | Error::InvalidField { .. }
            | Error::InvalidFields { .. }
            | Error::UnknownParameter { .. }
            | Error::UnknownProduct { .. }
            | Error::InvalidId { .. }
            | Error::MalformedPath { .. }
            | Error::OverrideHeader { .. } => 400,
            Error::InsufficientScope { .. }
            | Error::IpNotAllowed { .. }
            | Error::AccountSuspended
            | Error::CsrfFailed { .. } => 403,
            Error::PageChangeLimit { .. } => 429,
            Error::PortalUrlMissing => 500,
            Error::AccountNotFound | Error::KeyNotFound | Error::NotFound => 404,
            Error::MethodNotAllowed { .. } => 405,
            Error::UnsupportedMediaType { .. } => 415,
            Error::PreconditionFailed => 412,
            Error::IdempotencyKeyReused { .. } => 422,
            Error::KeyLimitReached { .. } | Error::KeyNotActive { .. } => 409,
            Error::WebhookUnavailable { .. } => 409,
            Error::WebhookNotFound => 404,
            Error::ForbiddenField { .. }
            | Error::ScopeNotGrantable { .. }
            | Error::ExpiryTooLate { .. } => 403,
            Error::BodyTooLarge { .. } => 413,
            Error::Misconfigured { .. } => 500,
            Error::UpstreamUnavailable { .. } => 502,
            Error::StorageUnavailable | Error::ControlUnavailable | Error::ConfigMismatch => 503,
            Error::GithubKeysUnavailable { .. } => 503,
        }
    }

    /// The stable, machine-readable code. Never changes once published.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NoRoute => "no_route",
            Error::MissingKey { .. } => "missing_key",
            Error::WrongProduct { .. } => "wrong_product",
            Error::MalformedKey { .. } => "malformed_key",
            Error::InvalidKey => "invalid_key",
            Error::RevokedKey => "revoked_key",
            Error::DisabledKey => "disabled_key",
            Error::ExpiredKey { .. } => "expired_key",
            Error::InsufficientScope { .. } => "insufficient_scope",
            Error::IpNotAllowed { .. } => "ip_not_allowed",
            Error::StorageUnavailable => "storage_unavailable",
            Error::ControlUnavailable => "control_unavailable",
            Error::ConfigMismatch => "config_mismatch",
            Error::GithubKeysUnavailable { .. } => "github_keys_unavailable",
            Error::UpstreamUnavailable { .. } => "upstream_unavailable",
            Error::Misconfigured { .. } => "misconfigured",
            Error::AccountSuspended => "account_suspended",
            Error::MalformedPath { .. } => "malformed_path",
            Error::OverrideHeader { .. } => "override_header",
            Error::Unauthorized => "unauthorized",
            Error::InvalidJson { .. } => "invalid_json",
            Error::UnknownField { .. } => "unknown_field",
            Error::InvalidField { .. } | Error::InvalidFields { .. } => "invalid_field",
            Error::UnknownParameter { .. } => "unknown_parameter",
            Error::UnknownProduct { .. } => "unknown_product",
            Error::InvalidId { .. } => "invalid_id",
            Error::AccountNotFound => "account_not_found",
            Error::KeyNotFound => "key_not_found",
            Error::NotFound => "not_found",
            Error::MethodNotAllowed { .. } => "method_not_allowed",
            Error::KeyLimitReached { .. } => "key_limit_reached",
            Error::KeyNotActive { .. } => "key_not_active",
            Error::BodyTooLarge { .. } => "body_too_large",
            Error::VerifierUnauthorized => "invalid_verifier_token",
            Error::UnsupportedMediaType { .. } => "unsupported_media_type",
            Error::PreconditionFailed => "precondition_failed",
            Error::CsrfFailed { .. } => "csrf_failed",
            Error::PageChangeLimit { .. } => "page_change_limit",
            Error::PortalUrlMissing => "portal_url_missing",
            Error::IdempotencyKeyReused { .. } => "idempotency_key_reused",
            Error::WebhookUnavailable { .. } => "webhook_unavailable",
            Error::WebhookNotFound => "webhook_not_found",
            Error::ForbiddenField { .. } => "forbidden_field",
            Error::ScopeNotGrantable { .. } => "scope_not_grantable",
            Error::ExpiryTooLate { .. } => "expiry_too_late",
        }
    }

    /// A short, human-readable summary of the code.
    pub fn title(&self) -> &'static str {
        match self {
            Error::NoRoute => "No API at this address",
            Error::MissingKey { .. } => "API key missing",
            Error::WrongProduct { .. } => "Key for another product",
            Error::MalformedKey { .. } => "Malformed API key",
            Error::InvalidKey => "Unknown API key",
            Error::RevokedKey => "API key revoked",
            Error::DisabledKey => "API key disabled",
            Error::ExpiredKey { .. } => "API key expired",
            Error::InsufficientScope { .. } => "Permission missing",
            Error::IpNotAllowed { .. } => "Client address not allowed",
            Error::StorageUnavailable => "Key store unavailable",
            Error::ControlUnavailable => "Control plane unavailable",
            Error::ConfigMismatch => "Configuration mismatch",
            Error::GithubKeysUnavailable { .. } => "GitHub's public keys unavailable",
            Error::UpstreamUnavailable { .. } => "Origin unavailable",
            Error::Misconfigured { .. } => "Gateway misconfigured",
            Error::AccountSuspended => "Account suspended",
            Error::MalformedPath { .. } => "Malformed path",
            Error::OverrideHeader { .. } => "Override header refused",
            Error::Unauthorized => "Admin token missing or wrong",
            Error::InvalidJson { .. } => "Body is not a JSON object",
            Error::UnknownField { .. } => "Unknown field",
            Error::InvalidField { .. } => "Invalid field",
            Error::InvalidFields { .. } => "Invalid fields",
            Error::UnknownParameter { .. } => "Unknown query parameter",
            Error::UnknownProduct { .. } => "Unknown product",
            Error::InvalidId { .. } => "Invalid id",
            Error::AccountNotFound => "Account not found",
            Error::KeyNotFound => "Key not found",
            Error::NotFound => "Not found",
            Error::MethodNotAllowed { .. } => "Method not allowed",
            Error::KeyLimitReached { .. } => "Key limit reached",
            Error::KeyNotActive { .. } => "Key not active",
            Error::BodyTooLarge { .. } => "Body too large",
            Error::VerifierUnauthorized => "Verifier token missing or wrong",
            Error::UnsupportedMediaType { .. } => "Unsupported media type",
            Error::PreconditionFailed => "Precondition failed",
            Error::CsrfFailed { .. } => "Cross-site request refused",
            Error::PageChangeLimit { .. } => "Too many changes from the API Keys page",
            Error::PortalUrlMissing => "No public URL for the API Keys page",
            Error::IdempotencyKeyReused { .. } => "Idempotency-Key reused",
            Error::WebhookUnavailable { .. } => "Webhook unavailable",
            Error::WebhookNotFound => "Webhook or delivery not found",
            Error::ForbiddenField { .. } => "Field set by the operator only",
            Error::ScopeNotGrantable { .. } => "Permission not grantable here",
            Error::ExpiryTooLate { .. } => "Expiry later than allowed",
        }
    }

    /// What happened and how the caller can fix the request.
    pub fn detail(&self) -> String {
        match self {
            Error::NoRoute => "No API is served at this host and path. Check the URL against \
                 the API's documentation."
                .to_owned(),
            Error::MissingKey { product, expected } => {
                format!("This {product} endpoint needs an API key. Send it as {expected}.")
            }
            Error::WrongProduct {
                product,
                expected,
                key_product,
                sent_in,
            } => {
                let found = match (key_product, sent_in) {
                    (Some(owner), Some(header)) => {
                        format!("This is a {owner} key, sent in {header}")
                    }
                    (Some(owner), None) => format!("This is a {owner} key"),
                    (None, Some(header)) => {
                        format!("The key was sent in {header}, another product's header")
                    }
                    (None, None) => "This key belongs to another product".to_owned(),
                };
                format!("{found}; the {product} API expects a {product} key in {expected}.")
            }
            Error::MalformedKey { product, reason } => format!(
                "The key sent is not a well-formed {product} key ({reason}). Copy the whole \
                 key again from where it was issued."
            ),
            Error::InvalidKey => "No such API key exists. Check that the whole key was \
                 copied, or create a new key."
                .to_owned(),
            Error::RevokedKey => {
                "This API key was revoked. Use a current key or create a new one.".to_owned()
            }
            Error::DisabledKey => "This API key is turned off by its owner. Ask them to turn \
                 it on again, or use another key."
                .to_owned(),
            Error::ExpiredKey { expired_at } => format!(
                "This API key expired at {}. Create a new key.",
                format_rfc3339(*expired_at)
            ),
            Error::InsufficientScope { permission } => format!(
                "This API key lacks the `{permission}` permission this request needs. Grant \
                 `{permission}` to the key, or use a key that has it."
            ),
            // The allowlist itself is never shown: a leaked key's holder
            // learns only that its own address is refused.
            Error::IpNotAllowed { client } => match client {
                Some(ip) => format!(
                    "This API key may be used only from the networks its IP allowlist names, \
                     and this request came from {ip}. Call from an allowed network, or ask \
                     the key's owner to add {ip} (or its range) to the key's allowed_ips."
                ),
                None => "This API key may be used only from the networks its IP allowlist \
                     names, and this request's client address is unknown, so it is refused. \
                     Call from an allowed network through the gateway (a verify call sends the \
                     client's address as client_ip)."
                    .to_owned(),
            },
            Error::StorageUnavailable => "The key store could not be read or written, so \
                 nothing was forwarded or changed. Retry shortly with backoff."
                .to_owned(),
            Error::ControlUnavailable => "keygate's control Worker (the management API and \
                 the accounts' key ledgers) could not be reached, so nothing was changed or \
                 forwarded. Retry shortly with backoff; operators: check that the control \
                 Worker is deployed and bound to the gateway."
                .to_owned(),
            Error::ConfigMismatch => "keygate's gateway and control Worker run with different \
                 configurations, so the control Worker refuses until both are deployed from \
                 the same config. Retry shortly; operators: render both with `keygate render` \
                 and deploy both."
                .to_owned(),
            Error::GithubKeysUnavailable { retry_after } => format!(
                "GitHub's secret-scanning public-key document could not be fetched, so this \
                 report cannot be verified and nothing was changed. It is fetched again in \
                 {retry_after} seconds at the earliest; retry the report then. Operators: check \
                 leaks.github_keys_url and the log."
            ),
            Error::UpstreamUnavailable { product } => {
                format!("The {product} origin could not be reached. Retry shortly with backoff.")
            }
            // `what` may name origins and fields: it goes to the log only.
            Error::Misconfigured { .. } => "keygate refuses this request until its operator \
                 fixes its configuration; the operator finds the cause in the Worker's log. \
                 Retry later."
                .to_owned(),
            Error::AccountSuspended => "The account is suspended: its API keys are refused, \
                 and no key can be created or rotated. Reactivate the account (or ask the API \
                 provider to) to use it again."
                .to_owned(),
            Error::MalformedPath { reason } => format!(
                "The request path is refused: {reason}. Send the path in plain form: one '/' \
                 between segments, no encoded '/' or '\\', no control characters."
            ),
            Error::OverrideHeader { header } => format!(
                "The {header} header asks the API to use another method or path than the \
                 request line, and is refused. Send the request with the method and path you \
                 mean, without {header}."
            ),
            Error::Unauthorized => "The management API needs the admin token. Send it as \
                 Authorization: Bearer <KEYGATE_ADMIN_TOKEN>."
                .to_owned(),
            Error::VerifierUnauthorized => "The verify endpoint needs the verifier token of the \
                 product named in the body, and no other token (not the admin token, not another \
                 product's). Send it as Authorization: Bearer <token>, the value of the Worker \
                 secret that product's verifier_token_secret names."
                .to_owned(),
            Error::InvalidJson { reason } => {
                format!("The body must be a JSON object ({reason}). Fix the JSON and retry.")
            }
            Error::UnknownField { field, expected } => format!(
                "`{field}` is not a field of this request. Remove it; the fields are: {expected}."
            ),
            Error::InvalidField { field, reason } => format!("`{field}` {reason}."),
            Error::InvalidFields { errors } => errors
                .iter()
                .map(|(field, reason)| format!("`{field}` {reason}."))
                .collect::<Vec<_>>()
                .join(" "),
            Error::UnknownParameter { name, known } => {
                if known.is_empty() {
                    format!(
                        "`{name}` is not a query parameter of this operation, which takes none. \
                         Remove it."
                    )
                } else {
                    format!(
                        "`{name}` is not a query parameter of this operation. Remove it; the \
                         parameters are: {known}."
                    )
                }
            }
            Error::UnknownProduct { known } => {
                format!("`product` is not a configured product. Use one of: {known}.")
            }
            Error::InvalidId { field, shape } => {
                format!("The {field} id in the path is not valid: it must be {shape}.")
            }
            Error::AccountNotFound => "This account has no keys. Create its first key with \
                 POST /accounts/{account}/keys."
                .to_owned(),
            Error::KeyNotFound => "This account has no key with this id. List the account's \
                 keys with GET /accounts/{account}/keys."
                .to_owned(),
            Error::NotFound => "No management endpoint at this path. See openapi.json under \
                 the management prefix."
                .to_owned(),
            Error::MethodNotAllowed { allow } => {
                format!("This endpoint does not take this method. It takes: {allow}.")
            }
            Error::KeyLimitReached { product, limit } => format!(
                "This account already has {limit} active {product} keys, the limit (a rotated \
                 key counts until its grace ends). Revoke a key you no longer need, or rotate \
                 with grace_seconds 0, then retry."
            ),
            Error::KeyNotActive { why } => {
                format!("This key cannot be changed or rotated: {why}. Create a new key instead.")
            }
            Error::BodyTooLarge { limit } => {
                format!("The body is over {limit} bytes. Send a smaller body.")
            }
            Error::CsrfFailed { reason } => format!("Refused: {reason}."),
            Error::PageChangeLimit {
                whose,
                limit,
                window,
                retry_after,
            } => format!(
                "This {whose} made {limit} changes through the API Keys page in the last {}, \
                 the most allowed (changes to keys since revoked count too). Retry in \
                 {retry_after} seconds.",
                span(*window)
            ),
            Error::PortalUrlMissing => "keygate builds API Keys page links only from its \
                 configuration, never from the request's Host, and none is configured. \
                 Operators: set portal.public_url (or management.host) in KEYGATE_CONFIG."
                .to_owned(),
            Error::WebhookUnavailable { why } => format!("Refused: {why}."),
            Error::WebhookNotFound => "No webhook endpoint or delivery has this id in this \
                 account. List them (GET …/webhooks or …/keys/{id}/deliveries) for the ids."
                .to_owned(),
            Error::PreconditionFailed => "The resource changed since you read it: If-Match names \
                 none of its entity tags. Read it again (its ETag is the new tag) and retry."
                .to_owned(),
            Error::IdempotencyKeyReused { why } => format!(
                "This Idempotency-Key was used within the last 24 hours, but {why}. Send a new \
                 Idempotency-Key for a new request; retry a request only with its own key and \
                 exactly the same body."
            ),
            Error::ForbiddenField { field, allowed } => format!(
                "`{field}` is set by the API provider only; this page cannot set or change it. \
                 Remove it; the page's fields are: {allowed}."
            ),
            Error::ScopeNotGrantable {
                field,
                scope,
                grantable,
            } => {
                let may = if grantable.is_empty() {
                    "none".to_owned()
                } else {
                    grantable.clone()
                };
                format!(
                    "`{field}`: this page cannot grant the `{scope}` permission. It may grant: \
                     {may}. Ask the API provider for a key with `{scope}`."
                )
            }
            Error::ExpiryTooLate { field, reason } => format!(
                "`{field}`: this page may shorten a key's life but not lengthen it; {reason}."
            ),
            Error::UnsupportedMediaType { sent } => match sent {
                Some(sent) => format!(
                    "The body was sent as {sent}. Send it as JSON with \
                     Content-Type: application/json."
                ),
                None => "The body has no Content-Type. Send it as JSON with \
                         Content-Type: application/json."
                    .to_owned(),
            },
        }
    }

    /// The request member at fault, for the problem's `field`.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::UnknownField { field, .. }
            | Error::InvalidField { field, .. }
            | Error::ForbiddenField { field, .. }
            | Error::ScopeNotGrantable { field, .. } => Some(field),
            Error::ExpiryTooLate { field, .. } => Some(field),
            Error::InvalidFields { errors } => errors.first().map(|(field, _)| field.as_str()),
            Error::UnknownParameter { name, .. } => Some(name),
            Error::UnknownProduct { .. } => Some("product"),
            Error::InvalidId { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Every invalid member, for the problem's `errors`: present exactly
    /// when the code is `invalid_field`.
    fn errors(&self) -> Option<Vec<FieldProblem<'_>>> {
        fn one<'e>(field: &'e str, reason: &str) -> FieldProblem<'e> {
            FieldProblem {
                field,
                detail: format!("`{field}` {reason}."),
            }
        }
        match self {
            Error::InvalidField { field, reason } => Some(vec![one(field, reason)]),
            Error::InvalidFields { errors } => Some(
                errors
                    .iter()
                    .map(|(field, reason)| one(field, reason))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The full wire form. `challenge` is the route's `WWW-Authenticate`
    /// value, used on 401s (see [`crate::config::Credential::challenge`]).
    pub fn to_problem(&self, challenge: Option<String>) -> Problem {
        let status = self.status();
        let code = self.code();
        let body = ProblemBody {
            type_uri: format!("urn:keygate:error:{code}"),
            title: self.title(),
            status,
            code,
            detail: self.detail(),
            field: self.field(),
            errors: self.errors(),
        };
        let body = serde_json::to_string(&body).unwrap_or_else(|_| {
            format!(r#"{{"type":"urn:keygate:error:{code}","status":{status},"code":"{code}"}}"#)
        });
        let www_authenticate = (status == 401)
            .then(|| challenge.unwrap_or_else(|| "ApiKey realm=\"keygate\"".to_owned()));
        let retry_after = match self {
            Error::GithubKeysUnavailable { retry_after } => Some((*retry_after).max(1)),
            Error::StorageUnavailable
            | Error::UpstreamUnavailable { .. }
            | Error::ControlUnavailable
            | Error::ConfigMismatch => Some(1),
            Error::PageChangeLimit { retry_after, .. } => Some((*retry_after).max(1)),
            _ => None,
        };
        let allow = match self {
            Error::MethodNotAllowed { allow } => Some(*allow),
            _ => None,
        };
        Problem {
            status,
            www_authenticate,
            retry_after,
            allow,
            body,
        }
    }
}

/// A request id from 16 random bytes: 32 lowercase hex digits, safe in a
/// header, a URN and a log line.
pub fn request_id(bytes: &[u8; 16]) -> String {
    crate::key::hash::hex(bytes)
}

/// The problem `instance` for a request id (RFC 9457 §3.1.5: a URI
/// naming this occurrence).
pub fn instance(request_id: &str) -> String {
    format!("urn:keygate:request:{request_id}")
}

/// `problem` (a problem+json object) with `instance` set for
/// `request_id`; anything that is not a JSON object is returned as is.
pub fn with_instance(problem: &str, request_id: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(problem) {
        Ok(serde_json::Value::Object(mut members)) => {
            members.insert(
                "instance".to_owned(),
                serde_json::Value::from(instance(request_id)),
            );
            serde_json::Value::Object(members).to_string()
        }
        _ => problem.to_owned(),
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.detail())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
