//! What both Workers' adapters need from the platform: the per-isolate
//! state ([`isolate`]), the KV read ([`kv`]), calls to the accounts'
//! Durable Objects ([`accounts`]), responses ([`respond`]), the one clock
//! ([`clock`]), the one source of random bytes ([`random`]), the one
//! capped body reader ([`body`]) and the one log-line writer ([`log`]);
//! and which part of a path the management API and the page are addressed
//! by (below).
//!
//! Invariant: nothing here decides; it reads the runtime and hands the
//! pure core what it asks for. Neither Worker's folder is imported here.

pub(crate) mod accounts;
pub(crate) mod body;
pub(crate) mod clock;
pub(crate) mod isolate;
pub(crate) mod kv;
pub(crate) mod log;
pub(crate) mod random;
pub(crate) mod respond;

use worker::Env;

use crate::path;

/// The management API's part of the path, when the request is addressed
/// to it.
pub(crate) fn management_path(
    env: &Env,
    authority: &str,
    path: &path::CanonicalPath,
) -> Option<String> {
    let gateway = isolate::state(env).ok()?;
    let api = gateway.config.management.as_ref()?;
    api.path_within(&path::canonical_host(authority), path.as_str())
        .map(str::to_owned)
}

/// The API Keys page's part of the path, when the request is addressed
/// to it: served on the management API's host (any host when it has
/// none), under the page's own prefix.
pub(crate) fn portal_path(
    env: &Env,
    authority: &str,
    path: &path::CanonicalPath,
) -> Option<String> {
    let gateway = isolate::state(env).ok()?;
    let api = gateway.config.management.as_ref()?;
    let portal = gateway.config.portal.as_ref()?;
    if api
        .host
        .as_deref()
        .is_some_and(|h| h != path::canonical_host(authority))
    {
        return None;
    }
    portal.path_within(path.as_str()).map(str::to_owned)
}
