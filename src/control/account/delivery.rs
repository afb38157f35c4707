//! Webhook delivery in the account object: outbox rows added to a plan's
//! commit, the alarm that drains them, and the one `fetch` per attempt.
//!
//! Invariants: deliveries are sent from the object's alarm only, never on
//! a management request's path; a plan whose outbox rows cannot be worked
//! out is refused whole (`storage_unavailable`), so no change is stored
//! without its events; every attempt re-checks its target
//! ([`Target::parse`]), resolves its name and refuses it if any address
//! is not public ([`resolve`]; with `KEYGATE_DEV` only a target on this
//! machine is sent to) and is sent with `redirect: "manual"` (a 3xx is a
//! failure, never followed) and aborted after [`ATTEMPT_TIMEOUT_MS`]; the
//! signing secret is read from the ledger at send time and never logged;
//! the alarm is always left set for the earliest pending delivery.

use std::time::Duration;

use futures_util::future::{join_all, select, Either};
use futures_util::pin_mut;
use worker::{
    console_error, wasm_bindgen::JsValue, AbortController, Delay, Fetch, Headers, Method,
    RequestInit, RequestRedirect, Storage,
};

use super::alarm::{set_alarm_at, wake_by};
use super::hook_sql;
use super::object::Object;
use super::sql_ledger::{self, SqlLedger};
use crate::config::Config;
use crate::manage::{Change, Ledger, Plan, Store};
use crate::runtime::clock::now_ms;
use crate::runtime::{isolate, random};
use crate::webhook::api;
use crate::webhook::delivery::{Response, Status, ATTEMPT_TIMEOUT_MS};
use crate::webhook::event::Hook;
use crate::webhook::outbox::{self, HookChange, HookLedger, OutboxRow, Seed};
use crate::webhook::resolve;
use crate::webhook::sign::{self, SigningKey};
use crate::webhook::target::Target;
use crate::Error;

/// Deliveries attempted per alarm run (the rest go next run, at once).
const BATCH: u32 = 25;
/// After a failed write-back, the alarm waits this long.
const BACKOFF_MS: i64 = 15_000;
/// `User-Agent` of every delivery.
const USER_AGENT: &str = "keygate-webhooks/1";

/// 32 fresh random bytes for the outbox's ids and signatures.
pub(super) fn seed() -> Result<Seed, Error> {
    random::bytes::<32>().map(Seed::new)
}

/// Adds the outbox rows for `plan`'s events to its changes. Returns
/// whether a delivery is pending in them (then wake the alarm). If they
/// cannot be worked out, the plan is refused whole.
pub(super) fn enqueue(
    config: &Config,
    store: &SqlLedger,
    account: &str,
    plan: &mut Plan,
    now_ms: i64,
    seed: &mut Seed,
) -> bool {
    match outbox::enqueue(config, store, store, account, &plan.changes, now_ms, seed) {
        Ok(rows) => plan.changes.extend(rows),
        Err(error) => {
            console_error!("account object: cannot work out webhook deliveries");
            plan.index.clear();
            plan.changes.clear();
            plan.reply = Err(error);
            return false;
        }
    }
    plan.changes.iter().any(|c| {
        matches!(c, Change::Hook(HookChange::Outbox(row)) if row.delivery.status == Status::Pending)
    })
}

/// The alarm's delivery step: attempts every due delivery (at most
/// [`BATCH`]), stores the outcomes, and sets the alarm for the next one.
pub(super) async fn deliver(object: &Object) {
    let storage = object.storage();
    if let Err(fault) = remind(object).await {
        console_error!("account object: expiry reminders: {fault}");
    }
    let retry = match attempt_due(object).await {
        Ok(()) => None,
        Err(fault) => {
            console_error!("account object: webhook delivery: {fault}");
            Some(now_ms() + BACKOFF_MS)
        }
    };
    let store = SqlLedger(object.storage());
    let now = now_ms();
    let next = [
        store.next_due().ok().flatten(),
        next_reminder_ms(object, &store),
    ]
    .into_iter()
    .flatten()
    .min();
    // An alarm set meanwhile (a resync retry, a new delivery) is kept if
    // sooner; one at or before now is the alarm now running.
    let existing = storage
        .get_alarm()
        .await
        .ok()
        .flatten()
        .filter(|at| *at > now);
    let at = [next.map(|n| retry.map_or(n, |r| n.max(r))), existing]
        .into_iter()
        .flatten()
        .min()
        .or(retry);
    if let Some(at) = at {
        if let Err(e) = set_alarm_at(&storage, at.max(now)).await {
            console_error!("account object: cannot schedule webhook delivery: {e}");
        }
    }
}

/// The next expiry reminder after the watermark, Unix milliseconds.
fn next_reminder_ms(object: &Object, store: &SqlLedger) -> Option<i64> {
    let state = isolate::state(&object.env).ok()?;
    let since = store.reminders_since().ok().flatten()?;
    let keys = store.keys().ok()?;
    outbox::next_reminder(&state.config, &keys, since).map(|at| at.saturating_mul(1_000))
}

/// After a key changed: the alarm goes off for its next expiry reminder
/// (unless it is set sooner), so reminders need no other traffic.
pub(super) async fn wake_for_reminders(config: &Config, store: &SqlLedger, storage: &Storage) {
    let Ok(Some(since)) = store.reminders_since() else {
        return;
    };
    let Ok(keys) = store.keys() else {
        return;
    };
    if let Some(at) = outbox::next_reminder(config, &keys, since) {
        wake_by(storage, at.saturating_mul(1_000)).await;
    }
}

/// The alarm's reminder step: the `key.expiring` and `key.expired` events
/// due since the watermark, stored with the new watermark in one commit.
async fn remind(object: &Object) -> Result<(), String> {
    let code = |e: Error| e.code().to_owned();
    if !sql_ledger::has_tables(&object.sql()).map_err(code)? {
        return Ok(());
    }
    let now_ms = now_ms();
    let now = now_ms.div_euclid(1_000);
    hook_sql::ensure(&object.sql(), now).map_err(code)?;
    let store = SqlLedger(object.storage());
    let _turn = object.mutations.lock().await;
    let since = store.reminders_since().map_err(code)?.unwrap_or(now);
    if since >= now {
        return Ok(());
    }
    let state = isolate::state(&object.env).map_err(code)?;
    let account = store
        .account()
        .map_err(code)?
        .map(|a| a.id)
        .unwrap_or_default();
    let mut seed = seed().map_err(code)?;
    let changes = outbox::reminders(
        &state.config,
        &store,
        &store,
        &account,
        since,
        now,
        now_ms,
        &mut seed,
    )
    .map_err(code)?;
    store.commit(changes)
}

async fn attempt_due(object: &Object) -> Result<(), String> {
    let store = SqlLedger(object.storage());
    if !sql_ledger::has_tables(&object.sql()).map_err(|e| e.code().to_owned())? {
        return Ok(());
    }
    hook_sql::ensure(&object.sql(), now_ms().div_euclid(1_000)).map_err(|e| e.code().to_owned())?;
    let state = isolate::state(&object.env).map_err(|e| e.code().to_owned())?;
    let dev = isolate::dev_mode(&object.env);
    let resolver = &state.config.hooks.dns_resolver;
    let due = store
        .due(now_ms(), BATCH)
        .map_err(|e| e.code().to_owned())?;
    if due.is_empty() {
        return Ok(());
    }
    let account = store
        .account()
        .map_err(|e| e.code().to_owned())?
        .map(|a| a.id)
        .unwrap_or_default();
    let mut changes = Vec::new();
    let mut jobs = Vec::new();
    for row in due {
        match signing_keys(&store, &row.delivery.hook, now_ms().div_euclid(1_000)) {
            Ok(Some(keys)) => jobs.push((row, keys)),
            Ok(None) => changes.push(api::orphaned(row)),
            Err(error) => return Err(error.code().to_owned()),
        }
    }
    let results = join_all(jobs.into_iter().map(|(row, keys)| async move {
        let started = now_ms();
        let response = attempt(&row, &keys, resolver, dev).await;
        let latency = u32::try_from((now_ms() - started).max(0)).unwrap_or(u32::MAX);
        (row, started, latency, response)
    }))
    .await;
    let _turn = object.mutations.lock().await;
    let mut seed = seed().map_err(|e| e.code().to_owned())?;
    for (row, started, latency, response) in results {
        // A manual retry or a 410 elsewhere may have changed the row while
        // it was in flight; the attempt happened all the same.
        let current = store
            .delivery(&row.delivery.id)
            .map_err(|e| e.code().to_owned())?
            .unwrap_or(row);
        if current.delivery.status == Status::Disabled {
            // Stopped while in flight (its endpoint deleted, or a 410 on
            // another delivery): it stays stopped.
            continue;
        }
        changes.extend(
            api::settle(
                &state.config,
                &store,
                &account,
                current,
                started,
                latency,
                &response,
                &mut seed,
            )
            .map_err(|e| e.code().to_owned())?,
        );
    }
    store.commit(changes)
}

/// The keys that sign deliveries to `hook` now; `None` if the webhook is
/// gone (an endpoint deleted, a key without a secret).
fn signing_keys(
    store: &SqlLedger,
    hook: &Hook,
    now: i64,
) -> Result<Option<Vec<SigningKey>>, Error> {
    let secrets = match hook {
        Hook::Key(id) => store
            .key(id)?
            .and_then(|k| k.webhook_secret)
            .map(|current| {
                let previous = store.previous_secret(id).ok().flatten();
                sign::Secrets {
                    current,
                    previous: previous.map(|p| (p.secret, p.until)),
                }
            }),
        Hook::Endpoint(id) => store
            .endpoints()?
            .into_iter()
            .find(|e| e.id == *id)
            .map(|e| sign::Secrets {
                current: e.secret,
                previous: None,
            }),
    };
    let Some(secrets) = secrets else {
        return Ok(None);
    };
    match secrets.signing_keys(now) {
        Ok(keys) => Ok(Some(keys)),
        Err(_) => {
            console_error!("account object: a stored webhook secret is unreadable");
            Ok(None)
        }
    }
}

/// Resolves `target`'s name (A and AAAA at once) and admits it only if
/// every address is public.
async fn resolved(target: &Target, resolver: &str) -> Result<(), String> {
    let Some(host) = target.url().host_str() else {
        return Err("it has no host".to_owned());
    };
    let lookups = resolve::RECORD_TYPES
        .iter()
        .map(|(record, kind)| lookup(resolver, host, record, *kind));
    let mut addresses = Vec::new();
    for found in join_all(lookups).await {
        addresses.extend(found?);
    }
    target.admits_resolved(&addresses).map_err(|why| {
        format!(
            "{host} resolves to an address that is not public: {}",
            why.describe()
        )
    })
}

/// One DNS-over-HTTPS query, bounded in time.
async fn lookup(
    resolver: &str,
    host: &str,
    record: &str,
    kind: u16,
) -> Result<Vec<std::net::IpAddr>, String> {
    let failed = |why: String| format!("the name could not be resolved: {why}");
    let headers = Headers::new();
    headers
        .set("Accept", "application/dns-json")
        .map_err(|_| failed("the query cannot be built".to_owned()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    let url = resolve::query_url(resolver, host, record);
    let request = worker::Request::new_with_init(&url, &init)
        .map_err(|_| failed("the query cannot be built".to_owned()))?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = async {
        let mut response = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|e| failed(e.to_string()))?;
        if response.status_code() != 200 {
            return Err(failed(format!(
                "the resolver answered {}",
                response.status_code()
            )));
        }
        let body = response.bytes().await.map_err(|e| failed(e.to_string()))?;
        resolve::addresses(&body, kind).map_err(failed)
    };
    let timer = Delay::from(Duration::from_millis(resolve::LOOKUP_TIMEOUT_MS));
    pin_mut!(fetch);
    pin_mut!(timer);
    match select(fetch, timer).await {
        Either::Left((found, _)) => found,
        Either::Right(((), _)) => {
            controller.abort();
            Err(failed("the resolver did not answer in time".to_owned()))
        }
    }
}

/// One attempt: check the target, sign, POST, wait at most the timeout.
async fn attempt(row: &OutboxRow, keys: &[SigningKey], resolver: &str, dev: bool) -> Response {
    let target = match Target::parse(&row.url, dev) {
        Ok(target) => target,
        Err(why) => return Response::Refused(why.describe().to_owned()),
    };
    if target.is_name() && !target.is_local() && resolve::used(resolver, dev) {
        if let Err(why) = resolved(&target, resolver).await {
            return Response::Refused(why);
        }
    }
    // A dev run (`KEYGATE_DEV`, `make dev`, the end-to-end tests) sends
    // only to this machine: it has no business posting keys' events to
    // the Internet, and test machines have no DNS.
    if dev && !target.is_local() {
        return Response::Refused("KEYGATE_DEV sends webhooks only to this machine".to_owned());
    }
    let timestamp = now_ms().div_euclid(1_000);
    let signed = match sign::sign(keys, &row.delivery.event_id, timestamp, row.body.as_bytes()) {
        Ok(signed) => signed,
        Err(_) => return Response::Refused("the webhook cannot be signed".to_owned()),
    };
    let headers = Headers::new();
    let set = |name: &str, value: &str| headers.set(name, value);
    let built = set("Content-Type", "application/json")
        .and_then(|()| set("User-Agent", USER_AGENT))
        .and_then(|()| {
            signed
                .pairs()
                .into_iter()
                .try_for_each(|(name, value)| set(name, value))
        });
    if built.is_err() {
        return Response::Refused("the request cannot be built".to_owned());
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(JsValue::from_str(&row.body)));
    let request = match worker::Request::new_with_init(target.url().as_str(), &init) {
        Ok(request) => request,
        Err(_) => return Response::Refused("the request cannot be built".to_owned()),
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let request = Fetch::Request(request);
    let fetch = request.send_with_signal(&signal);
    let timer = Delay::from(Duration::from_millis(u64::from(ATTEMPT_TIMEOUT_MS)));
    pin_mut!(fetch);
    pin_mut!(timer);
    match select(fetch, timer).await {
        Either::Left((Ok(response), _)) => {
            let status = response.status_code();
            // The answer's body is never read: cancel it, so a receiver
            // that streams forever holds nothing up.
            let raw: worker::web_sys::Response = response.into();
            if let Some(body) = raw.body() {
                let _ = body.cancel();
            }
            Response::Status(status)
        }
        Either::Left((Err(e), _)) => Response::Network(e.to_string()),
        Either::Right(((), _)) => {
            controller.abort();
            Response::Timeout
        }
    }
}
