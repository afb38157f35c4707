//! The KV hash index: record lookups (through the isolate cache) and usage
//! notes.
//!
//! Invariants: at most one KV read per request, none when the isolate cache
//! holds the record; a failed or unreadable read is `storage_unavailable`,
//! never a pass; usage is written after the response, in `wait_until`.

use std::rc::Rc;

use worker::{console_error, Context, Env};

use super::isolate;
use crate::config::{Config, KEYS_BINDING};
use crate::key::KeyHash;
use crate::record::KeyRecord;
use crate::Error;

/// KV key prefix under which the last use of a key id is noted.
pub(super) const LAST_USED_PREFIX: &str = "last_used:";

/// The record stored under `hash`, `None` if there is none. Counts the KV
/// reads made (0 or 1) into `reads`, for the request log.
pub(super) async fn lookup(
    env: &Env,
    config: &Config,
    hash: &KeyHash,
    now_ms: f64,
    reads: &mut u32,
) -> Result<Option<Rc<KeyRecord>>, Error> {
    let hex = hash.to_hex();
    if let Some(record) = isolate::cached_record(&hex, now_ms) {
        return Ok(Some(record));
    }
    let store = env.kv(KEYS_BINDING).map_err(|_| Error::Misconfigured {
        what: format!("the KV namespace binding {KEYS_BINDING} is missing"),
    })?;
    *reads += 1;
    let text = store
        .get(&hex)
        .cache_ttl(u64::from(config.kv_cache_ttl_seconds))
        .text()
        .await
        .map_err(|e| {
            console_error!("KV read failed: {e}");
            Error::StorageUnavailable
        })?;
    let Some(text) = text else {
        return Ok(None);
    };
    let record = KeyRecord::from_json(&text).map(Rc::new).map_err(|e| {
        console_error!("{e}");
        Error::StorageUnavailable
    })?;
    isolate::cache_record(config, hex, Rc::clone(&record), now_ms);
    Ok(Some(record))
}

/// Notes that `key_id` was used at `now`, at most once a minute per key per
/// isolate, without delaying the response.
pub(super) fn note_usage(env: &Env, ctx: &Context, key_id: &str, now: i64) {
    if !isolate::should_report_usage(key_id, now) {
        return;
    }
    let Ok(store) = env.kv(KEYS_BINDING) else {
        return;
    };
    let name = format!("{LAST_USED_PREFIX}{key_id}");
    ctx.wait_until(async move {
        let written = match store.put(&name, now.to_string()) {
            Ok(put) => put.execute().await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            console_error!("usage note failed: {e}");
        }
    });
}
