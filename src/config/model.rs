//! The validated configuration's types: a [`Config`] of [`Product`]s and
//! the deployment's settings, with the names and bounds they are checked
//! against.
//!
//! Invariant: a value of these types is built only by
//! [`super::validate`] (through [`Config::from_json`]), so it is valid.

use super::hooks::{Hooks, ProductHooks};
use super::portal::{Portal, ProductPortal};
use crate::pattern::{Matching, PathPattern};

/// Name of the `[vars]` entry holding the configuration.
pub const CONFIG_VAR: &str = "KEYGATE_CONFIG";
/// Name of the Worker secret used to sign identity headers.
pub const ORIGIN_SECRET_VAR: &str = "KEYGATE_ORIGIN_SECRET";
/// Name of the Worker secret that tags new keys (see [`crate::key`]).
pub const KEY_SECRET_VAR: &str = "KEYGATE_KEY_SECRET";
/// Name of the optional Worker secret that still verifies keys tagged
/// before the last key-secret rotation.
pub const KEY_SECRET_PREVIOUS_VAR: &str = "KEYGATE_KEY_SECRET_PREVIOUS";
/// Name of the KV namespace binding holding the key hash index.
pub const KEYS_BINDING: &str = "KEYS";
/// Name of the Worker secret that authenticates the management API.
pub const ADMIN_TOKEN_VAR: &str = "KEYGATE_ADMIN_TOKEN";
/// Name of the Durable Object namespace binding holding one object per
/// account.
pub const ACCOUNTS_BINDING: &str = "ACCOUNTS";
/// Name of the variable that marks a local dev server (`.dev.vars`); it
/// allows `http://localhost` webhooks.
pub const DEV_VAR: &str = "KEYGATE_DEV";

/// Default management API path prefix.
pub const DEFAULT_MANAGEMENT_PREFIX: &str = "/_keygate/v1";
/// Default number of active keys an account may hold per product.
pub const DEFAULT_KEY_LIMIT: u32 = 10;
/// Largest `key_limit` accepted.
pub const MAX_KEY_LIMIT: u32 = 1_000;

/// Default `max_signed_body`: 1 MiB.
pub const DEFAULT_MAX_SIGNED_BODY: u64 = 1 << 20;
/// Largest `max_signed_body` accepted: 32 MiB.
pub const MAX_MAX_SIGNED_BODY: u64 = 32 << 20;
/// Shortest and longest `signature_ttl_seconds` accepted.
pub const SIGNATURE_TTL_RANGE: std::ops::RangeInclusive<u32> = 10..=3600;

/// Default seconds a key record stays in an isolate's memory.
pub const DEFAULT_CACHE_TTL_SECONDS: u32 = 10;
/// Longest isolate cache allowed, in seconds.
pub const MAX_CACHE_TTL_SECONDS: u32 = 60;
/// Default (and the smallest Workers KV accepts) `cacheTtl`, in seconds.
pub const DEFAULT_KV_CACHE_TTL_SECONDS: u32 = 30;
/// Longest KV `cacheTtl` allowed, in seconds.
pub const MAX_KV_CACHE_TTL_SECONDS: u32 = 300;

/// Default `key_retention_days`.
pub const DEFAULT_KEY_RETENTION_DAYS: u32 = 90;
/// Allowed `key_retention_days`: at least the 30 days an ended key's
/// record stays at the edge, at most ten years.
pub const KEY_RETENTION_DAYS: std::ops::RangeInclusive<u32> = 30..=3650;

/// The whole gateway configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Products, in declaration order.
    pub products: Vec<Product>,
    /// Seconds a record may be served from isolate memory.
    pub cache_ttl_seconds: u32,
    /// `cacheTtl` passed to KV reads.
    pub kv_cache_ttl_seconds: u32,
    /// Whether keys issued before keys carried a tag (49-character body)
    /// are still looked up; each then costs a KV read. Default `false`.
    pub accept_untagged_keys: bool,
    /// Days a revoked, replaced or expired key stays in its account's
    /// ledger after it ended; then it is pruned (its events stay).
    pub key_retention_days: u32,
    /// Where the management API is served; `None` when it is turned off.
    pub management: Option<Management>,
    /// Where the API Keys page is served; `None` when it is turned off.
    pub portal: Option<Portal>,
    /// Webhook delivery and leak-response settings (`[webhooks]`,
    /// `[leaks]`).
    pub hooks: Hooks,
    /// Which requests the gateway logs (one line each). Default `all`.
    pub log: LogLevel,
}

/// Which requests get the gateway's one-line request log (`log` in the
/// configuration). The line never holds a key, token or query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Every request, forwarded or refused (the default).
    #[default]
    All,
    /// Refused requests and management hand-offs only: forwarded requests
    /// are not logged.
    Refusals,
    /// No request line (faults are still logged as errors).
    Off,
}

impl LogLevel {
    /// Whether a request with this outcome gets a line.
    pub fn logs(self, forwarded: bool) -> bool {
        match self {
            LogLevel::All => true,
            LogLevel::Refusals => !forwarded,
            LogLevel::Off => false,
        }
    }
}

/// Where the management API is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Management {
    /// Path prefix without trailing slash, e.g. `/_keygate/v1`.
    pub path_prefix: String,
    /// Lowercase host to serve it on; any host when `None`.
    pub host: Option<String>,
}

impl Management {
    /// The path under the prefix, if `host` and `path` are the API's:
    /// `/accounts/a/keys` for `/_keygate/v1/accounts/a/keys`.
    pub fn path_within<'p>(&self, host: &str, path: &'p str) -> Option<&'p str> {
        if self.host.as_deref().is_some_and(|h| h != host) {
            return None;
        }
        let rest = path.strip_prefix(self.path_prefix.as_str())?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    }
}

/// How fresh a product's verdicts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consistency {
    /// KV plus the isolate cache: changes apply within the documented bound.
    #[default]
    Edge,
    /// The account's Durable Object confirms every verdict: changes apply
    /// on the very next request.
    Strict,
    /// The account's Durable Object's verdict for a key is held per isolate
    /// for at most `max_staleness_seconds`: changes apply within that plus
    /// one round trip, for at most one object call per key per isolate per
    /// window.
    Bounded {
        /// How long a verdict is held: 1 to [`MAX_STALENESS_SECONDS`].
        max_staleness_seconds: u32,
    },
}

/// `max_staleness_seconds` when a bounded product does not say.
pub const DEFAULT_MAX_STALENESS_SECONDS: u32 = 5;
/// The longest `max_staleness_seconds` allowed.
pub const MAX_STALENESS_SECONDS: u32 = 60;

/// How a product's origin compares path literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathCase {
    /// Without regard to ASCII case, as Express, Koa and ASP.NET route.
    #[default]
    Insensitive,
    /// Exactly, for origins that really are case-sensitive.
    Sensitive,
}

/// A path forwarded without a key, for some methods.
#[derive(Debug, Clone)]
pub struct PublicPath {
    /// The paths.
    pub path: PathPattern,
    /// The methods admitted without a key (default GET, HEAD, OPTIONS).
    pub methods: Methods,
}

/// One product: an API sold with its own keys.
#[derive(Debug, Clone)]
pub struct Product {
    /// Stable id, e.g. `salesforge`; stored in key records.
    pub id: String,
    /// Display name, e.g. `Salesforge`; used in messages.
    pub name: String,
    /// Key prefix, e.g. `sf`; unique across products.
    pub prefix: String,
    /// Where the key is read.
    pub credential: Credential,
    /// Which requests belong to this product.
    pub route: Route,
    /// Where admitted requests go.
    pub upstream: Upstream,
    /// Permission rules, first match wins.
    pub permissions: Vec<PermissionRule>,
    /// Paths forwarded without a key, for the methods each names.
    pub public_paths: Vec<PublicPath>,
    /// Every permission name this product knows: `read`, `write` and those
    /// named by its rules.
    pub known_permissions: Vec<String>,
    /// Scopes a new key gets when none are asked for.
    pub default_scopes: Vec<String>,
    /// Most active keys an account may hold for this product.
    pub key_limit: u32,
    /// How fresh verdicts are.
    pub consistency: Consistency,
    /// How paths are compared with rules and public paths.
    pub matching: Matching,
    /// Whether the origin's own caching may apply to forwarded requests
    /// (`origin_cache = true`). Off by default: responses are fetched with
    /// `cache: "no-store"`, so no response is ever shared between keys.
    pub origin_cache: bool,
    /// How requests to the origin are signed.
    pub signing: Signing,
    /// How browsers' cross-origin calls are handled.
    pub cors: crate::cors::Cors,
    /// WebSocket upgrades: where a browser's key may be, how long a socket
    /// may stay open.
    pub websocket: WebSocketConfig,
    /// Whether client-sent `X-Forwarded-*`, `Forwarded`, `X-Real-IP` and
    /// `True-Client-IP` reach the origin (`trust_forwarded = true`); off by
    /// default, since any client can write them.
    pub trust_forwarded: bool,
    /// The members of a key's `meta` forwarded to the origin, signed, in
    /// `Keygate-Key-Meta` (`forward_meta`); none by default.
    pub forward_meta: Vec<String>,
    /// The Worker secret holding this product's verifier token
    /// (`verifier_token_secret`): the only credential the gateway's
    /// `POST {prefix}/verify` accepts for this product. `None`: verify is
    /// off for it.
    pub verifier_token_secret: Option<String>,
    /// The client ranges the product's keys may be used from when a key
    /// has no `allowed_ips` of its own (`allowed_ips`); empty: anywhere. A
    /// key's own list replaces this one, it does not add to it.
    pub allowed_ips: crate::ip_allow::AllowList,
    /// Keys in a foreign format the product also accepts (`legacy`), found
    /// by hash alone; `None`: keygate's format only.
    pub legacy: Option<Legacy>,
    /// How the product looks on the API Keys page.
    pub portal: ProductPortal,
    /// `on_leak` and `expiry_reminders_seconds`.
    pub hooks: ProductHooks,
}

/// How a product's forwarded requests are signed (RFC 9421).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signing {
    /// Read the body (up to `max_signed_body`) and sign its
    /// `Content-Digest`; otherwise the body streams unsigned.
    pub sign_body: bool,
    /// Largest body, in bytes, read when `sign_body` is on.
    pub max_signed_body: u64,
    /// `expires - created`, in seconds.
    pub ttl_seconds: u32,
}

/// Where a product's key is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Header name as configured, e.g. `X-Salesforge-Key`.
    pub header: String,
    /// Authorization scheme, e.g. `Bearer`, when the header carries one.
    pub scheme: Option<String>,
}

impl Credential {
    /// How a client must send the key, for messages:
    /// `X-Salesforge-Key` or `Authorization: Bearer <key>`.
    pub fn describe(&self) -> String {
        match &self.scheme {
            Some(scheme) => format!("{}: {scheme} <key>", self.header),
            None => format!("the {} header", self.header),
        }
    }

    /// Whether `name` is this credential's header (case-insensitive).
    pub fn is_header(&self, name: &str) -> bool {
        self.header.eq_ignore_ascii_case(name)
    }

    /// The `WWW-Authenticate` challenge for a refusal on this product.
    /// `presented` says whether a key was sent (RFC 6750 adds
    /// `error="invalid_token"` then).
    pub fn challenge(&self, product_name: &str, presented: bool) -> String {
        let realm = product_name.replace(['"', '\\'], "");
        match &self.scheme {
            Some(scheme) if presented => {
                format!("{scheme} realm=\"{realm}\", error=\"invalid_token\"")
            }
            Some(scheme) => format!("{scheme} realm=\"{realm}\""),
            None => format!("ApiKey realm=\"{realm}\", header=\"{}\"", self.header),
        }
    }
}

/// A product's origin: `scheme://host[:port]` and an optional base path
/// that is put before every forwarded path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `scheme://host[:port]`, e.g. `https://api.salesforge.ai`.
    pub origin: String,
    /// Base path without trailing slash, e.g. `/v2`; empty for none.
    pub base_path: String,
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.origin, self.base_path)
    }
}

/// Which requests belong to a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Lowercase host to match, without port; any host when `None`.
    pub host: Option<String>,
    /// Path prefix, `/` or a path without trailing slash.
    pub path_prefix: String,
    /// Whether to remove `path_prefix` before forwarding.
    pub strip_prefix: bool,
}

/// Which HTTP methods a rule covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Methods {
    /// Every method (`"*"`).
    Any,
    /// These methods, uppercase.
    Only(Vec<String>),
}

impl Methods {
    /// Whether `method` is covered.
    pub fn contains(&self, method: &str) -> bool {
        match self {
            Methods::Any => true,
            Methods::Only(list) => list.iter().any(|m| m.eq_ignore_ascii_case(method)),
        }
    }
}

/// `method + path pattern -> permission`.
#[derive(Debug, Clone)]
pub struct PermissionRule {
    /// Methods covered.
    pub methods: Methods,
    /// Paths covered, as the origin sees them.
    pub path: PathPattern,
    /// Permission required.
    pub permission: String,
}

impl Config {
    /// The product whose key prefix is `prefix`.
    pub fn product_by_prefix(&self, prefix: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.prefix == prefix)
    }

    /// The product with id `id`.
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }
}

/// The permission a request needs when no rule matches: `read` for GET,
/// HEAD and OPTIONS, `write` otherwise.
pub fn default_permission(method: &str) -> &'static str {
    if ["GET", "HEAD", "OPTIONS"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
    {
        READ
    } else {
        WRITE
    }
}

/// The permission every product knows: what GET, HEAD and OPTIONS need.
pub(crate) const READ: &str = "read";
/// The permission every product knows: what other methods need.
pub(crate) const WRITE: &str = "write";

/// A product's WebSocket settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketConfig {
    /// Whether a `Sec-WebSocket-Protocol` entry may carry the key.
    pub key_in_protocol: bool,
    /// A query parameter that may carry the key, e.g. `api_key`.
    pub key_query: Option<String>,
    /// Seconds after which keygate closes an open socket (both ends).
    pub max_connection_seconds: u32,
}

/// Default `max_connection_seconds`: one hour.
pub const DEFAULT_MAX_CONNECTION_SECONDS: u32 = 3600;
/// Largest `max_connection_seconds` accepted: one day.
pub const MAX_MAX_CONNECTION_SECONDS: u32 = 86_400;

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            key_in_protocol: false,
            key_query: None,
            max_connection_seconds: DEFAULT_MAX_CONNECTION_SECONDS,
        }
    }
}

/// A product's foreign key format (`legacy = { prefix = "sk_live_" }`):
/// keys that start with `prefix` are not keygate's (no checksum, no keyed
/// tag), so the gateway looks them up by hash, and a forged one costs one
/// KV read (then none while the miss is cached). New keys are still
/// minted in keygate's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Legacy {
    /// 2 to [`MAX_LEGACY_PREFIX_BYTES`] visible ASCII characters, never a
    /// product's `<prefix>_`.
    pub prefix: String,
}

/// Longest `legacy.prefix`, in bytes.
pub const MAX_LEGACY_PREFIX_BYTES: usize = 32;
