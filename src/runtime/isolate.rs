//! Per-isolate state: the validated configuration and its digest, and the
//! key secret (the gateway verifies key tags with it, the control Worker's
//! account objects tag new keys); in the gateway, each product's origin
//! signing key (derived once); in the control Worker, the admin token.
//! (The gateway's record caches are its own: `gateway/lookup.rs`.)
//!
//! Invariant: the configuration is validated at most once per isolate; a
//! failure is kept, and every request is refused with `misconfigured` until
//! a fixed configuration is deployed (which starts new isolates).

use std::cell::OnceCell;
use std::rc::Rc;

use worker::{js_sys, wasm_bindgen::JsValue, Env};

#[cfg(feature = "gateway")]
use crate::config::ORIGIN_SECRET_VAR;
use crate::config::{Config, CONFIG_VAR, KEY_SECRET_PREVIOUS_VAR, KEY_SECRET_VAR};
#[cfg(feature = "control")]
use crate::config::{ADMIN_TOKEN_VAR, DEV_VAR};
#[cfg(feature = "control")]
use crate::secret::AdminToken;
use crate::secret::KeySecret;
#[cfg(feature = "gateway")]
use crate::secret::OriginSecret;
#[cfg(feature = "gateway")]
use crate::signature::ProductKey;
use crate::Error;

/// What a request needs from configuration, once per isolate.
pub(crate) struct Isolate {
    pub config: Config,
    /// [`crate::seam::config_digest`] of the configuration, sent on every
    /// call across the seam.
    pub digest: String,
    /// Each product's signing key, by product id, derived once per isolate.
    #[cfg(feature = "gateway")]
    keys: Vec<(String, ProductKey)>,
    /// Verifies key tags at the edge; tags new keys in the account objects.
    pub key_secret: KeySecret,
}

#[cfg(feature = "gateway")]
impl Isolate {
    /// `product`'s origin signing key.
    pub fn key(&self, product: &str) -> Option<&ProductKey> {
        self.keys
            .iter()
            .find(|(id, _)| id == product)
            .map(|(_, key)| key)
    }
}

thread_local! {
    static STATE: OnceCell<Result<Rc<Isolate>, String>> = const { OnceCell::new() };
}

#[cfg(feature = "control")]
thread_local! {
    static ADMIN: OnceCell<Result<AdminToken, String>> = const { OnceCell::new() };
}

/// The management API's admin token, or `misconfigured`. Its absence
/// turns off only the management API, not the gateway.
#[cfg(feature = "control")]
pub(crate) fn admin_token(env: &Env) -> Result<AdminToken, Error> {
    ADMIN
        .with(|cell| {
            cell.get_or_init(|| {
                let raw = required_secret(env, ADMIN_TOKEN_VAR)?;
                AdminToken::new(&raw).map_err(str::to_owned)
            })
            .clone()
        })
        // The refusal's cause is logged where it is answered.
        .map_err(|what| Error::Misconfigured { what })
}

/// Whether this is a local dev server (`KEYGATE_DEV=1` in `.dev.vars`).
#[cfg(feature = "control")]
pub(crate) fn dev_mode(env: &Env) -> bool {
    js_sys::Reflect::get(env, &JsValue::from_str(DEV_VAR))
        .ok()
        .and_then(|v| v.as_string())
        .is_some_and(|v| matches!(v.trim(), "1" | "true"))
}

/// The validated configuration (and in the gateway the signing keys), or
/// `misconfigured`. The control Worker needs no origin secret.
pub(crate) fn state(env: &Env) -> Result<Rc<Isolate>, Error> {
    STATE
        .with(|cell| cell.get_or_init(|| load(env).map(Rc::new)).clone())
        // The refusal's cause is logged where it is answered
        // (respond::problem, or the account object).
        .map_err(|what| Error::Misconfigured { what })
}

fn load(env: &Env) -> Result<Isolate, String> {
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
    let digest = crate::seam::config_digest(&json)
        .ok_or_else(|| format!("{CONFIG_VAR} is not a JSON-compatible table"))?;
    Ok(Isolate {
        #[cfg(feature = "gateway")]
        keys: signing_keys(env, &config)?,
        key_secret: key_secret(env)?,
        config,
        digest,
    })
}

/// The Worker secret `name`; its absence says how to set it.
fn required_secret(env: &Env, name: &str) -> Result<String, String> {
    env.secret(name).map(|s| s.to_string()).map_err(|_| {
        format!(
            "the Worker secret {name} is not set (wrangler secret put {name}; .dev.vars locally)"
        )
    })
}

/// The key secret, and the previous one while it is rotated.
fn key_secret(env: &Env) -> Result<KeySecret, String> {
    let current = required_secret(env, KEY_SECRET_VAR)?;
    let previous = env
        .secret(KEY_SECRET_PREVIOUS_VAR)
        .ok()
        .map(|s| s.to_string());
    KeySecret::new(&current, previous.as_deref()).map_err(str::to_owned)
}

/// Each product's origin signing key, derived from the origin secret.
#[cfg(feature = "gateway")]
fn signing_keys(env: &Env, config: &Config) -> Result<Vec<(String, ProductKey)>, String> {
    let secret = required_secret(env, ORIGIN_SECRET_VAR)?;
    let secret = OriginSecret::new(&secret).map_err(str::to_owned)?;
    Ok(config
        .products
        .iter()
        .map(|p| (p.id.clone(), ProductKey::derive(&secret, &p.id)))
        .collect())
}
