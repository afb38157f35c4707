//! Per-isolate state: the validated configuration, each product's origin
//! signing key (derived once) and the key secret, the key-record cache, the
//! not-found cache and the usage throttle.
//!
//! Invariant: the configuration is validated at most once per isolate; a
//! failure is kept, and every request is refused with `misconfigured` until
//! a fixed configuration is deployed (which starts new isolates).

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use worker::{js_sys, wasm_bindgen::JsValue, Env};

use crate::cache::{TtlCache, UsageThrottle};
use crate::config::{
    Config, ADMIN_TOKEN_VAR, CONFIG_VAR, DEV_VAR, KEY_SECRET_PREVIOUS_VAR, KEY_SECRET_VAR,
    ORIGIN_SECRET_VAR,
};
use crate::record::KeyRecord;
use crate::secret::{AdminToken, KeySecret, OriginSecret};
use crate::signature::ProductKey;
use crate::Error;

/// What a request needs from configuration.
pub(super) struct Gateway {
    pub config: Config,
    /// Each product's signing key, by product id, derived once per isolate.
    keys: Vec<(String, ProductKey)>,
    /// Verifies key tags at the edge; tags new keys in the account objects.
    pub key_secret: KeySecret,
}

impl Gateway {
    /// `product`'s origin signing key.
    pub fn key(&self, product: &str) -> Option<&ProductKey> {
        self.keys
            .iter()
            .find(|(id, _)| id == product)
            .map(|(_, key)| key)
    }
}

thread_local! {
    static GATEWAY: OnceCell<Result<Rc<Gateway>, String>> = const { OnceCell::new() };
    static RECORDS: RefCell<Option<TtlCache<Rc<KeyRecord>>>> = const { RefCell::new(None) };
    static NOT_FOUND: RefCell<Option<TtlCache<()>>> = const { RefCell::new(None) };
    static USAGE: RefCell<UsageThrottle> = RefCell::new(UsageThrottle::default());
    static ADMIN: OnceCell<Result<AdminToken, String>> = const { OnceCell::new() };
}

/// The management API's admin token, or `misconfigured`. Its absence
/// turns off only the management API, not the gateway.
pub(super) fn admin_token(env: &Env) -> Result<AdminToken, Error> {
    ADMIN
        .with(|cell| {
            cell.get_or_init(|| {
                let raw = env.secret(ADMIN_TOKEN_VAR).map_err(|_| {
                    format!(
                        "the Worker secret {ADMIN_TOKEN_VAR} is not set (wrangler secret put \
                         {ADMIN_TOKEN_VAR}; .dev.vars locally)"
                    )
                })?;
                AdminToken::new(&raw.to_string()).map_err(str::to_owned)
            })
            .clone()
        })
        // The refusal's cause is logged where it is answered
        // (respond::problem).
        .map_err(|what| Error::Misconfigured { what })
}

/// Whether this is a local dev server (`KEYGATE_DEV=1` in `.dev.vars`).
pub(super) fn dev_mode(env: &Env) -> bool {
    js_sys::Reflect::get(env, &JsValue::from_str(DEV_VAR))
        .ok()
        .and_then(|v| v.as_string())
        .is_some_and(|v| matches!(v.trim(), "1" | "true"))
}

/// The validated gateway configuration, or `misconfigured`.
pub(super) fn gateway(env: &Env) -> Result<Rc<Gateway>, Error> {
    GATEWAY
        .with(|cell| cell.get_or_init(|| load(env).map(Rc::new)).clone())
        // The refusal's cause is logged where it is answered
        // (respond::problem, or the account object).
        .map_err(|what| Error::Misconfigured { what })
}

fn load(env: &Env) -> Result<Gateway, String> {
    let raw = js_sys::Reflect::get(env, &JsValue::from_str(CONFIG_VAR))
        .map_err(|_| format!("{CONFIG_VAR} cannot be read"))?;
    if raw.is_undefined() || raw.is_null() {
        return Err(format!(
            "{CONFIG_VAR} is not set; declare it as [vars.{CONFIG_VAR}] in wrangler.toml"
        ));
    }
    if raw.is_string() {
        return Err(format!(
            "{CONFIG_VAR} must be a TOML table ([vars.{CONFIG_VAR}]), not a string"
        ));
    }
    let json = js_sys::JSON::stringify(&raw)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| format!("{CONFIG_VAR} is not a JSON-compatible table"))?;
    let config = Config::from_json(&json).map_err(|e| e.to_string())?;
    let secret = env
        .secret(ORIGIN_SECRET_VAR)
        .map_err(|_| {
            format!(
                "the Worker secret {ORIGIN_SECRET_VAR} is not set (wrangler secret put \
                 {ORIGIN_SECRET_VAR}; .dev.vars locally)"
            )
        })?
        .to_string();
    let secret = OriginSecret::new(&secret).map_err(str::to_owned)?;
    let keys = config
        .products
        .iter()
        .map(|p| (p.id.clone(), ProductKey::derive(&secret, &p.id)))
        .collect();
    let key_secret = env
        .secret(KEY_SECRET_VAR)
        .map_err(|_| {
            format!(
                "the Worker secret {KEY_SECRET_VAR} is not set (wrangler secret put \
                 {KEY_SECRET_VAR}; .dev.vars locally)"
            )
        })?
        .to_string();
    let previous = env
        .secret(KEY_SECRET_PREVIOUS_VAR)
        .ok()
        .map(|s| s.to_string());
    let key_secret = KeySecret::new(&key_secret, previous.as_deref()).map_err(str::to_owned)?;
    Ok(Gateway {
        config,
        keys,
        key_secret,
    })
}

/// A cached record for `hash_hex`, if fresh.
pub(super) fn cached_record(hash_hex: &str, now_ms: f64) -> Option<Rc<KeyRecord>> {
    RECORDS.with(|cell| cell.borrow().as_ref()?.get(hash_hex, now_ms))
}

/// Caches a record read from KV.
pub(super) fn cache_record(config: &Config, hash_hex: String, record: Rc<KeyRecord>, now_ms: f64) {
    RECORDS.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| TtlCache::new(config.cache_ttl_seconds))
            .put(hash_hex, record, now_ms);
    });
}

/// Whether KV said recently (within `cache_ttl_seconds`) that no record
/// is stored under `hash_hex`.
pub(super) fn known_missing(hash_hex: &str, now_ms: f64) -> bool {
    NOT_FOUND.with(|cell| {
        cell.borrow()
            .as_ref()
            .is_some_and(|c| c.get(hash_hex, now_ms).is_some())
    })
}

/// Remembers that KV holds no record under `hash_hex`.
pub(super) fn note_missing(config: &Config, hash_hex: String, now_ms: f64) {
    NOT_FOUND.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| TtlCache::new(config.cache_ttl_seconds))
            .put(hash_hex, (), now_ms);
    });
}

/// Whether to report `key_id`'s use now (at most once a minute per key).
pub(super) fn should_report_usage(key_id: &str, now: i64) -> bool {
    USAGE.with(|cell| cell.borrow_mut().should_report(key_id, now))
}
