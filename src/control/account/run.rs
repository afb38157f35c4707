//! Running one call in the account object: the plan over the ledger, its
//! webhook deliveries, and the plan carried out.
//!
//! Invariants: mutations run one at a time (the object's lock is held
//! across the KV writes), so the key limit holds exactly under
//! concurrency; reads and use reports need no turn, since they see
//! committed state; plans are carried out by [`manage::execute()`] —
//! index first, then one `transactionSync`, nothing half-written — and
//! when it leaves dirty keys the alarm is set to resync them; an account
//! that was never made has no tables, and reading it creates none.

use worker::console_error;

use super::alarm;
use super::call::{Call, LeakCall};
use super::delivery;
use super::hook_sql;
use super::index::KvIndex;
use super::object::Object;
use super::sql_ledger::{self, SqlLedger};
use crate::leak::respond::LeakReport;
use crate::manage::idempotency::KEPT_SECONDS;
use crate::manage::{self, Entropy, Op};
use crate::runtime::{clock, isolate, random};
use crate::Error;

/// What the object is asked to decide.
enum Job {
    /// A management operation.
    Op(Op),
    /// A secret scanner's report.
    Leak(LeakReport),
}

impl Object {
    /// Runs a management operation.
    pub(super) async fn run(&self, call: Call) -> Result<manage::Reply, Error> {
        execute(self, &call.account, Job::Op(call.op)).await
    }

    /// Acts on a leak report.
    pub(super) async fn run_leak(&self, call: LeakCall) -> Result<manage::Reply, Error> {
        execute(self, &call.account, Job::Leak(call.report)).await
    }
}

async fn execute(object: &Object, account: &str, job: Job) -> Result<manage::Reply, Error> {
    let needs_account = match &job {
        Job::Op(op) => op.needs_account(),
        Job::Leak(_) => true,
    };
    // An account that was never made has no tables: answer what the
    // plan would (account_not_found) without creating them, so reads
    // of unknown accounts leave no storage behind.
    if needs_account && !object.schema_ready() && !sql_ledger::has_tables(&object.sql())? {
        return Err(Error::AccountNotFound);
    }
    object.ensure_schema()?;
    hook_sql::ensure(&object.sql(), clock::now())?;
    let state = isolate::state(&object.env)?;
    // Reads and use reports need no turn: they see committed state.
    let _turn = match &job {
        Job::Op(
            Op::ListKeys { .. }
            | Op::GetKey { .. }
            | Op::ListEvents { .. }
            | Op::GetAccount
            | Op::Verify { .. }
            | Op::NoteUse { .. },
        ) => None,
        _ => Some(object.mutations.lock().await),
    };
    let now_ms = clock::now_ms();
    let now = now_ms.div_euclid(1_000);
    let entropy = entropy()?;
    let mut seed = delivery::seed()?;
    let store = SqlLedger(object.storage());
    let kept_answer = matches!(job, Job::Op(Op::Once { .. }));
    let viewed = matches!(job, Job::Op(Op::GetKey { .. }));
    let mut plan = match job {
        Job::Leak(report) => crate::leak::respond::plan(
            &state.config,
            &store,
            account,
            report,
            now_ms,
            &entropy,
            &state.key_secret,
        ),
        Job::Op(Op::Hook { call: hook }) => {
            crate::webhook::api::plan(&state.config, &store, &store, hook, now_ms, &mut seed)
        }
        Job::Op(op) => manage::plan(
            &state.config,
            &store,
            account,
            op,
            now,
            &entropy,
            &state.key_secret,
        ),
    };
    if let (true, Ok(reply)) = (viewed, &mut plan.reply) {
        crate::webhook::health::annotate(&mut reply.body, &store)?;
    }
    let deliveries =
        delivery::enqueue(&state.config, &store, account, &mut plan, now_ms, &mut seed);
    let keys_changed = plan
        .changes
        .iter()
        .any(|c| matches!(c, manage::Change::PutKey(_)));
    let index = KvIndex(object.kv()?);
    let outcome = manage::execute(plan, &index, &store).await;
    if deliveries {
        alarm::wake_by(&object.storage(), now_ms).await;
    }
    if keys_changed {
        delivery::wake_for_reminders(&state.config, &store, &object.storage()).await;
    }
    for fault in &outcome.faults {
        console_error!("account object: {fault}");
    }
    if outcome.resync {
        alarm::retry_later(&object.storage()).await;
    }
    if kept_answer && outcome.reply.is_ok() {
        alarm::prune_at(&object.storage(), now.saturating_add(KEPT_SECONDS)).await;
    }
    outcome.reply
}

/// Fresh random bytes for a plan.
fn entropy() -> Result<Entropy, Error> {
    let buf = random::bytes::<{ 32 + 12 + 32 }>()?;
    let mut entropy = Entropy {
        key: [0; 32],
        id: [0; 12],
        webhook: [0; 32],
    };
    let (key, rest) = buf.split_at(32);
    let (id, webhook) = rest.split_at(12);
    entropy.key.copy_from_slice(key);
    entropy.id.copy_from_slice(id);
    entropy.webhook.copy_from_slice(webhook);
    Ok(entropy)
}
