//! Calling an account's Durable Object from the Worker.
//!
//! Invariants: the object is named by the account id, so each account has
//! exactly one; any failure to reach it, or an answer that cannot be read,
//! is `storage_unavailable` — the caller refuses rather than guesses.

use worker::{console_error, wasm_bindgen::JsValue, Context, Env, Method, RequestInit};

use super::account::Call;
use super::isolate;
use crate::config::ACCOUNTS_BINDING;
use crate::manage::Op;
use crate::record::KeyRecord;
use crate::Error;

/// The object's answer: status and body (JSON, or problem+json on errors).
pub(super) struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends `op` to `account`'s object.
pub(super) async fn call(env: &Env, account: &str, op: Op) -> Result<Answer, Error> {
    let namespace = env
        .durable_object(ACCOUNTS_BINDING)
        .map_err(|_| Error::Misconfigured {
            what: format!("the Durable Object binding {ACCOUNTS_BINDING} is missing"),
        })?;
    let failed = |what: &str, e: worker::Error| {
        console_error!("account object {what}: {e}");
        Error::StorageUnavailable
    };
    let stub = namespace
        .id_from_name(account)
        .and_then(|id| id.get_stub())
        .map_err(|e| failed("stub", e))?;
    let call = Call {
        account: account.to_owned(),
        op,
    };
    let body = serde_json::to_string(&call).map_err(|_| Error::StorageUnavailable)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let request = worker::Request::new_with_init("https://account.keygate.internal/op", &init)
        .map_err(|e| failed("request", e))?;
    let mut response = stub
        .fetch_with_request(request)
        .await
        .map_err(|e| failed("fetch", e))?;
    let status = response.status_code();
    let body = response.text().await.map_err(|e| failed("answer", e))?;
    Ok(Answer { status, body })
}

/// `consistency = "strict"`: the key's record as the account's object holds
/// it now.
pub(super) async fn verify(env: &Env, record: &KeyRecord) -> Result<KeyRecord, Error> {
    let answer = call(
        env,
        &record.account,
        Op::Verify {
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
        _ => Err(Error::StorageUnavailable),
    }
}

/// Reports a use of `record`'s key to its account, after the response and
/// at most once a minute per key per isolate. Returns whether it reports.
pub(super) fn note_use(env: &Env, ctx: &Context, record: &KeyRecord, now: i64) -> bool {
    if !isolate::should_report_usage(&record.id, now) {
        return false;
    }
    let env = env.clone();
    let account = record.account.clone();
    let id = record.id.clone();
    ctx.wait_until(async move {
        match call(&env, &account, Op::NoteUse { id, at: now }).await {
            Ok(answer) if answer.status < 300 => {}
            Ok(answer) => console_error!("usage report refused: {}", answer.status),
            Err(e) => console_error!("usage report failed: {e}"),
        }
    });
    true
}
