//! The gateway's calls to an account's Durable Object: the current record
//! of a key (`consistency = "strict"`, and `"bounded"` through
//! [`super::bounded`]) and the reports of a key's use.
//!
//! Invariants: the gateway sends only [`EdgeCall`]s ([`crate::seam`]);
//! a verdict that cannot be read is `storage_unavailable`, a differing
//! configuration `config_mismatch`, an unknown key `invalid_key` — the
//! gateway refuses rather than guesses; a use is reported after the
//! response, at most once a minute per key per isolate.

use worker::{console_error, Context, Env};

use crate::record::KeyRecord;
use crate::runtime::accounts::{send, Answer};
use crate::runtime::isolate;
use crate::seam::{EdgeCall, EdgeOp, EDGE_CALL_PATH};
use crate::Error;

/// Sends the gateway's `op` to `account`'s object.
async fn call(env: &Env, account: &str, op: EdgeOp) -> Result<Answer, Error> {
    let gateway = isolate::state(env)?;
    let call = EdgeCall {
        account: account.to_owned(),
        op,
    };
    let body = serde_json::to_string(&call).map_err(|_| Error::StorageUnavailable)?;
    send(env, account, EDGE_CALL_PATH, &body, &gateway.digest).await
}

/// `consistency = "strict"` (and a due `"bounded"` verdict): the key's
/// record as the account's object holds it now.
pub(super) async fn verify(env: &Env, record: &KeyRecord) -> Result<KeyRecord, Error> {
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
fn is_mismatch(body: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Coded<'a> {
        code: &'a str,
    }
    serde_json::from_str::<Coded>(body).is_ok_and(|p| p.code == Error::ConfigMismatch.code())
}

/// Reports a use of `record`'s key to its account, after the response and
/// at most once a minute per key per isolate. Returns whether it reports.
pub(super) fn note_use(env: &Env, ctx: &Context, record: &KeyRecord, now: i64) -> bool {
    if !super::lookup::should_report_usage(&record.id, now) {
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
