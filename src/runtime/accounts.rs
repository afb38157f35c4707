//! Calling an account's Durable Object, which the control Worker owns.
//!
//! Invariants: the object is named by the account id, so each account has
//! exactly one; every call carries the caller's configuration digest; any
//! failure to reach the object, or an answer that cannot be read, is
//! refused (`storage_unavailable`, `control_unavailable` when the binding
//! is missing, `config_mismatch` when the object says so) — the caller
//! refuses rather than guesses. The gateway sends only
//! [`EdgeCall`](crate::seam::EdgeCall)s.

use worker::{console_error, wasm_bindgen::JsValue, Env, Headers, Method, RequestInit};

#[cfg(feature = "gateway")]
use super::isolate;
use crate::config::ACCOUNTS_BINDING;
#[cfg(feature = "gateway")]
use crate::record::KeyRecord;
use crate::seam::DIGEST_HEADER;
#[cfg(feature = "gateway")]
use crate::seam::{EdgeCall, EdgeOp, EDGE_CALL_PATH};
use crate::Error;
#[cfg(feature = "gateway")]
use worker::Context;

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

/// Sends the gateway's `op` to `account`'s object.
#[cfg(feature = "gateway")]
async fn call(env: &Env, account: &str, op: EdgeOp) -> Result<Answer, Error> {
    let gateway = isolate::state(env)?;
    let call = EdgeCall {
        account: account.to_owned(),
        op,
    };
    let body = serde_json::to_string(&call).map_err(|_| Error::StorageUnavailable)?;
    send(env, account, EDGE_CALL_PATH, &body, &gateway.digest).await
}

/// `consistency = "strict"`: the key's record as the account's object holds
/// it now.
#[cfg(feature = "gateway")]
pub(crate) async fn verify(env: &Env, record: &KeyRecord) -> Result<KeyRecord, Error> {
    let answer = call(
        env,
        &record.account,
        EdgeOp::Verify {
            id: record.id.clone(),
        },
    )
    .await?;
    match answer.status {
        200 => KeyRecord::from_json(&answer.body).map_err(|e| {
            console_error!("account object verdict: {e}");
            Error::StorageUnavailable
        }),
        404 => Err(Error::InvalidKey),
        503 if is_mismatch(&answer.body) => Err(Error::ConfigMismatch),
        status => {
            console_error!("account object refused a verdict: {status}");
            Err(Error::StorageUnavailable)
        }
    }
}

/// Whether a refusal from the object is `config_mismatch`.
#[cfg(feature = "gateway")]
fn is_mismatch(body: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Coded<'a> {
        code: &'a str,
    }
    serde_json::from_str::<Coded>(body).is_ok_and(|p| p.code == Error::ConfigMismatch.code())
}

/// Reports a use of `record`'s key to its account, after the response and
/// at most once a minute per key per isolate. Returns whether it reports.
#[cfg(feature = "gateway")]
pub(crate) fn note_use(env: &Env, ctx: &Context, record: &KeyRecord, now: i64) -> bool {
    if !isolate::should_report_usage(&record.id, now) {
        return false;
    }
    let env = env.clone();
    let account = record.account.clone();
    let id = record.id.clone();
    ctx.wait_until(async move {
        match call(&env, &account, EdgeOp::NoteUse { id, at: now }).await {
            Ok(answer) if answer.status < 300 => {}
            Ok(answer) => console_error!("usage report refused: {}", answer.status),
            Err(e) => console_error!("usage report failed: {e}"),
        }
    });
    true
}
