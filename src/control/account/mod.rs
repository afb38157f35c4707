//! The per-account Durable Object: the source of truth for one account's
//! keys and audit log, in the object's SQLite storage.
//!
//! Invariants: an object creates its tables only for a create, so reads
//! of unknown accounts store nothing; mutations run one at a time (an
//! async lock held across the KV writes), so the key limit holds exactly
//! under concurrency; plans are carried out by [`manage::execute()`] —
//! index first, then one `transactionSync`, nothing half-written — and
//! when it leaves dirty keys, the object's alarm runs
//! [`manage::resync()`] until the index converges. The alarm also prunes
//! (as every change does): kept Idempotency-Key answers are deleted
//! within a minute of their 24 hours, ended keys after their retention.
//! Every call must carry the caller's configuration digest, equal to this
//! Worker's ([`crate::seam`]); otherwise it is refused with
//! `503 config_mismatch` and nothing is read or changed. The gateway's
//! calls arrive on [`EDGE_CALL_PATH`] and can only be an
//! [`EdgeCall`].

mod hook_sql;
mod delivery;
mod portal;
mod sql_ledger;

use std::cell::Cell;

use futures_util::lock::Mutex;
use serde::{Deserialize, Serialize};
use worker::{
    console_error, durable_object, js_sys, wasm_bindgen::JsCast, DurableObject, Env, KvStore,
    Request, Response, Result, SqlStorage, State,
};

use crate::runtime::isolate;
use crate::runtime::kv::KvIndex;
use sql_ledger::SqlLedger;
use crate::config::KEYS_BINDING;
use crate::manage::idempotency::KEPT_SECONDS;
use crate::manage::{self, Entropy, Op, Store};
use crate::seam::{digest_matches, EdgeCall, DIGEST_HEADER, EDGE_CALL_PATH};
use crate::Error;

/// The path, on the object's internal host, of the control Worker's
/// management calls.
pub(super) const OP_PATH: &str = "/op";
/// The path of the control Worker's portal calls
/// ([`crate::portal::call::PortalCall`]).
pub(super) const PORTAL_PATH: &str = "/portal";

/// Seconds after an answer's 24 hours that the alarm deletes it.
const PRUNE_SLACK_SECONDS: i64 = 60;

/// Milliseconds before a failed index write is retried.
const RESYNC_AFTER_MS: i64 = 15_000;

/// What the Worker sends the object.
#[derive(Serialize, Deserialize)]
pub(super) struct Call {
    /// The account the object holds (its name).
    pub account: String,
    /// What to do.
    pub op: Op,
}

/// One account's keys and audit log.
#[durable_object]
pub struct Account {
    state: State,
    pub(super) env: Env,
    pub(super) mutations: Mutex<()>,
    schema_ready: Cell<bool>,
}

impl DurableObject for Account {
    fn new(state: State, env: Env) -> Self {
        Account {
            state,
            env,
            mutations: Mutex::new(()),
            schema_ready: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let text = req.text().await?;
        if req.path() == PORTAL_PATH {
            let answer = match self.check_digest(&req) {
                Ok(()) => portal::serve(self, &text).await,
                Err(error) => Err(error),
            };
            let (status, body) =
                answer.unwrap_or_else(|error| (error.status(), error.to_problem(None).body));
            if status == 204 || body.is_empty() {
                return Ok(Response::empty()?.with_status(status));
            }
            return Ok(Response::ok(body)?.with_status(status));
        }
        let (status, body) = match self.admit(&req, &text) {
            Ok(call) => match self.run(call).await {
                Ok(reply) => (
                    reply.status,
                    if reply.body.is_null() {
                        String::new()
                    } else {
                        reply.body.to_string()
                    },
                ),
                Err(error) => {
                    if let Error::Misconfigured { what } = &error {
                        console_error!("account object: misconfigured: {what}");
                    }
                    (error.status(), error.to_problem(None).body)
                }
            },
            Err(error) => (error.status(), error.to_problem(None).body),
        };
        // A 204 must be built without a body: workerd warns about (and
        // the runtime log must stay free of) a null-body status with "".
        if status == 204 {
            return Ok(Response::empty()?.with_status(status));
        }
        Ok(Response::ok(body)?.with_status(status))
    }

    async fn alarm(&self) -> Result<Response> {
        let _turn = self.mutations.lock().await;
        if let Err(fault) = self.prune().await {
            console_error!("account object: prune failed: {fault}");
        }
        // After the prune's own schedule: a resync retry comes sooner and
        // replaces it, and that alarm prunes again.
        if let Err(fault) = self.resync().await {
            console_error!("account object: index resync failed: {fault}");
            self.retry_later().await;
        }
        drop(_turn);
        delivery::deliver(self).await;
        Response::ok("")
    }
}

impl Account {
    /// The call in `text`, if its caller runs with this Worker's
    /// configuration and it is readable: a gateway's call only as one of
    /// its [`EdgeCall`]s.
    fn admit(&self, req: &Request, text: &str) -> std::result::Result<Call, Error> {
        self.check_digest(req)?;
        let unreadable = |e: serde_json::Error| {
            console_error!("account object: unreadable call: {e}");
            Error::StorageUnavailable
        };
        let path = req.path();
        if path == EDGE_CALL_PATH {
            let call: EdgeCall = serde_json::from_str(text).map_err(unreadable)?;
            Ok(Call {
                account: call.account,
                op: call.op.into(),
            })
        } else if path == OP_PATH {
            serde_json::from_str(text).map_err(unreadable)
        } else {
            Err(Error::NotFound)
        }
    }

    /// Refuses a caller whose configuration differs from this Worker's.
    fn check_digest(&self, req: &Request) -> std::result::Result<(), Error> {
        let state = isolate::state(&self.env)?;
        let sent = req.headers().get(DIGEST_HEADER).ok().flatten();
        if !digest_matches(&state.digest, sent.as_deref()) {
            console_error!("account object: the caller's configuration differs from ours");
            return Err(Error::ConfigMismatch);
        }
        Ok(())
    }

    pub(super) fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    pub(super) fn storage(&self) -> worker::Storage {
        self.state.storage()
    }

    fn ensure_schema(&self) -> std::result::Result<(), Error> {
        if self.schema_ready.get() {
            return Ok(());
        }
        sql_ledger::create_or_upgrade(&self.sql())?;
        self.schema_ready.set(true);
        Ok(())
    }

    pub(super) async fn run(&self, call: Call) -> std::result::Result<manage::Reply, Error> {
        // An account that was never made has no tables: answer what the
        // plan would (account_not_found) without creating them, so reads
        // of unknown accounts leave no storage behind.
        if call.op.needs_account()
            && !self.schema_ready.get()
            && !sql_ledger::has_tables(&self.sql())?
        {
            return Err(Error::AccountNotFound);
        }
        self.ensure_schema()?;
        hook_sql::ensure(&self.sql(), (js_sys::Date::now() / 1000.0).floor() as i64)?;
        let state = isolate::state(&self.env)?;
        // Reads and use reports need no turn: they see committed state.
        let _turn = match &call.op {
            Op::ListKeys { .. }
            | Op::GetKey { .. }
            | Op::ListEvents { .. }
            | Op::GetAccount
            | Op::Verify { .. }
            | Op::NoteUse { .. } => None,
            _ => Some(self.mutations.lock().await),
        };
        let now = (js_sys::Date::now() / 1000.0).floor() as i64;
        let now_ms = js_sys::Date::now() as i64;
        let entropy = entropy()?;
        let mut seed = delivery::seed()?;
        let store = SqlLedger(self.state.storage());
        let kept_answer = matches!(call.op, Op::Once { .. });
        let viewed = matches!(call.op, Op::GetKey { .. });
        let mut plan = match call.op {
            Op::Hook {
                call: crate::webhook::api::HookOp::Leaked { report },
            } => crate::leak::respond::plan(
                &state.config,
                &store,
                &call.account,
                report,
                now_ms,
                &entropy,
                &state.key_secret,
            ),
            Op::Hook { call: hook } => {
                crate::webhook::api::plan(&state.config, &store, &store, hook, now_ms, &mut seed)
            }
            op => manage::plan(
                &state.config,
                &store,
                &call.account,
                op,
                now,
                &entropy,
                &state.key_secret,
            ),
        };
        if let (true, Ok(reply)) = (viewed, &mut plan.reply) {
            crate::webhook::health::annotate(&mut reply.body, &store)?;
        }
        let deliveries = delivery::enqueue(
            &state.config,
            &store,
            &call.account,
            &mut plan,
            now_ms,
            &mut seed,
        );
        let keys_changed = plan
            .changes
            .iter()
            .any(|c| matches!(c, manage::Change::PutKey(_)));
        let index = KvIndex(self.kv()?);
        let outcome = manage::execute(plan, &index, &store).await;
        if deliveries {
            delivery::wake_by(&self.state.storage(), now_ms).await;
        }
        if keys_changed {
            delivery::wake_for_reminders(&state.config, &store, &self.state.storage())
                .await;
        }
        for fault in &outcome.faults {
            console_error!("account object: {fault}");
        }
        if outcome.resync {
            self.retry_later().await;
        }
        if kept_answer && outcome.reply.is_ok() {
            self.prune_at(now.saturating_add(KEPT_SECONDS)).await;
        }
        outcome.reply
    }

    fn kv(&self) -> std::result::Result<KvStore, Error> {
        self.env.kv(KEYS_BINDING).map_err(|_| Error::Misconfigured {
            what: format!("the KV namespace binding {KEYS_BINDING} is missing"),
        })
    }

    /// Schedules the alarm to prune at `at` (Unix seconds) plus a minute,
    /// unless it is due sooner already.
    async fn prune_at(&self, at: i64) {
        let at_ms = at.saturating_add(PRUNE_SLACK_SECONDS).saturating_mul(1000);
        // An absolute time, and only if no alarm is due sooner.
        delivery::wake_by(&self.state.storage(), at_ms).await;
    }

    /// Drops what has outlived its retention, then schedules the next
    /// prune for the oldest kept answer still waiting.
    async fn prune(&self) -> std::result::Result<(), String> {
        self.ensure_schema().map_err(|e| e.code().to_owned())?;
        let state = isolate::state(&self.env).map_err(|e| e.code().to_owned())?;
        let now = (js_sys::Date::now() / 1000.0).floor() as i64;
        let store = SqlLedger(self.state.storage());
        store.commit(vec![manage::retention::prune(&state.config, now)])?;
        if let Some(oldest) = store.oldest_answer().map_err(|e| e.code().to_owned())? {
            let at = oldest.saturating_add(KEPT_SECONDS);
            let at_ms = at.saturating_add(PRUNE_SLACK_SECONDS).saturating_mul(1000);
            // An absolute time: workers-rs reads a bare integer as an
            // offset from now.
            delivery::set_alarm_at(&self.state.storage(), at_ms)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    async fn retry_later(&self) {
        let at = js_sys::Date::now() as i64 + RESYNC_AFTER_MS;
        if let Err(e) = delivery::set_alarm_at(&self.state.storage(), at).await {
            console_error!("account object: cannot schedule a resync: {e}");
        }
    }

    /// Rewrites the KV record of every dirty key from the ledger.
    async fn resync(&self) -> std::result::Result<(), String> {
        self.ensure_schema().map_err(|e| e.code().to_owned())?;
        let index = KvIndex(self.kv().map_err(|e| e.to_string())?);
        let now = (js_sys::Date::now() / 1000.0).floor() as i64;
        manage::resync(&index, &SqlLedger(self.state.storage()), now)
            .await
            .map(drop)
    }
}

/// Fresh random bytes from the runtime's CSPRNG.
fn entropy() -> std::result::Result<Entropy, Error> {
    let mut buf = [0u8; 32 + 12 + 32];
    let global: worker::web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    global
        .crypto()
        .and_then(|c| c.get_random_values_with_u8_array(&mut buf))
        .map_err(|_| Error::StorageUnavailable)?;
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
