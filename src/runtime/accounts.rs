//! Calling an account's Durable Object, which the control Worker owns.
//!
//! Invariants: the object is named by the account id, so each account has
//! exactly one; every call carries the caller's configuration digest; any
//! failure to reach the object, or an answer that cannot be read, is
//! refused (`storage_unavailable`, `control_unavailable` when the binding
//! is missing, `config_mismatch` when the object says so) — the caller
//! refuses rather than guesses. What each Worker sends is its own: the
//! gateway's [`EdgeCall`](crate::seam::EdgeCall)s, the control Worker's
//! calls.

use worker::{console_error, wasm_bindgen::JsValue, Env, Headers, Method, RequestInit};

use crate::config::ACCOUNTS_BINDING;
use crate::seam::DIGEST_HEADER;
use crate::Error;

/// The object's answer: status and body (JSON, or problem+json on errors).
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

/// Posts `body` to `path` of `account`'s object, with `digest`.
pub(crate) async fn send(
    env: &Env,
    account: &str,
    path: &str,
    body: &str,
    digest: &str,
) -> Result<Answer, Error> {
    let namespace = env.durable_object(ACCOUNTS_BINDING).map_err(|_| {
        console_error!(
            "the Durable Object binding {ACCOUNTS_BINDING} is missing; bind the control \
             Worker's Account class (keygate render writes it)"
        );
        Error::ControlUnavailable
    })?;
    let failed = |what: &str, e: worker::Error| {
        console_error!("account object {what}: {e}");
        Error::StorageUnavailable
    };
    let stub = namespace
        .id_from_name(account)
        .and_then(|id| id.get_stub())
        .map_err(|e| failed("stub", e))?;
    let headers = Headers::new();
    headers
        .set(DIGEST_HEADER, digest)
        .map_err(|e| failed("request", e))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(body)));
    let url = format!("https://account.keygate.internal{path}");
    let request = worker::Request::new_with_init(&url, &init).map_err(|e| failed("request", e))?;
    let mut response = stub
        .fetch_with_request(request)
        .await
        .map_err(|e| failed("fetch", e))?;
    let status = response.status_code();
    let body = response.text().await.map_err(|e| failed("answer", e))?;
    Ok(Answer { status, body })
}
