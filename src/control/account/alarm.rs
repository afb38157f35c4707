//! The account object's alarm clock: one alarm per object, which delivery,
//! reminders, pruning and the index resync all share.
//!
//! Invariant: a time goes in as an absolute `Date` (workers-rs reads a bare
//! integer as an offset from now), and a wake-up never postpones an alarm
//! that is due sooner.

use worker::{console_error, js_sys, wasm_bindgen::JsValue, Storage};

use crate::runtime::clock;

/// Seconds after an answer's 24 hours that the alarm deletes it.
const PRUNE_SLACK_SECONDS: i64 = 60;

/// Milliseconds before a failed index write is retried.
const RESYNC_AFTER_MS: i64 = 15_000;

/// Sets the alarm for the Unix time `at_ms`.
pub(super) async fn set_alarm_at(storage: &Storage, at_ms: i64) -> worker::Result<()> {
    let date = js_sys::Date::new(&JsValue::from_f64(at_ms as f64));
    storage.set_alarm(worker::ScheduledTime::new(date)).await
}

/// Sets the alarm for `at_ms` unless one is set sooner.
pub(super) async fn wake_by(storage: &Storage, at_ms: i64) {
    let current = storage.get_alarm().await.ok().flatten();
    if current.is_none_or(|c| c > at_ms) {
        if let Err(e) = set_alarm_at(storage, at_ms).await {
            console_error!("account object: cannot schedule webhook delivery: {e}");
        }
    }
}

/// The Unix milliseconds at which to prune an answer kept until `at`
/// (Unix seconds): a minute later.
pub(super) fn prune_time_ms(at: i64) -> i64 {
    at.saturating_add(PRUNE_SLACK_SECONDS).saturating_mul(1000)
}

/// Schedules the alarm to prune at `at` (Unix seconds) plus a minute,
/// unless it is due sooner already.
pub(super) async fn prune_at(storage: &Storage, at: i64) {
    wake_by(storage, prune_time_ms(at)).await;
}

/// Schedules the alarm to retry a failed index write.
pub(super) async fn retry_later(storage: &Storage) {
    let at = clock::now_ms() + RESYNC_AFTER_MS;
    if let Err(e) = set_alarm_at(storage, at).await {
        console_error!("account object: cannot schedule a resync: {e}");
    }
}
