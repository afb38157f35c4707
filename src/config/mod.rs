//! Typed, validated gateway configuration.
//!
//! The operator declares products in `wrangler.toml` under
//! `[vars.KEYGATE_CONFIG]`. [`Config::from_json`] parses and validates that
//! table once per isolate. Invariant: a [`Config`] value is always valid —
//! prefixes and routes are unique, patterns parse, URLs are absolute — so
//! the request path never re-checks it. An invalid table yields a
//! [`ConfigError`] naming the product and field, and the edge answers
//! `500 misconfigured` until it is fixed.
//!
//! The rooms, one way down: [`validate`](self) reads the [`raw`](self)
//! shapes and builds the [`model`](self) types, with the client tables
//! (`clients`), webhook and leak settings (`hooks`), the page's (`portal`,
//! `brand`) and the service URLs (`http_url`) below it.

pub(crate) mod brand;
mod clients;
mod error;
mod hooks;
mod http_url;
mod model;
mod portal;
mod raw;
mod text_or;
mod validate;
mod verify_meta;
mod warnings;

pub use error::ConfigError;
pub use hooks::{check_retry_schedule, Hooks, OnExposure, ProductHooks};
pub use model::*;
pub use portal::{host_of, is_loopback, Portal, ProductPortal, DEFAULT_PORTAL_PREFIX};
pub use validate::is_permission_name;
pub use warnings::warnings;
/// The constants the webhook and leak modules share with the config.
pub mod hook_defaults {
    pub use super::hooks::{
        DEFAULT_KEYS_URL, DEFAULT_OFFSETS_SECONDS, MAX_ATTEMPTS, MAX_DELAY_MS,
        STANDARD_DELAYS_SECONDS,
    };
}

#[cfg(test)]
pub(crate) mod tests;
