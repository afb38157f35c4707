//! The KV hash index: record lookups through the isolate caches, and the
//! writes of the accounts' Durable Objects ([`KvIndex`]).
//!
//! Invariants: only a [`TaggedKey`] is looked up, so a forged key costs no
//! read; at most one KV read per request, none when the isolate cache
//! holds the record or KV said "no such key" within `cache_ttl_seconds`; a
//! failed or unreadable read is `storage_unavailable`, never a pass. Only
//! the accounts' Durable Objects write the index.

#[cfg(feature = "gateway")]
use std::rc::Rc;

use worker::{console_error, Env};

#[cfg(feature = "gateway")]
use super::isolate;
#[cfg(feature = "gateway")]
use crate::config::Config;
use crate::config::KEYS_BINDING;
use crate::key::TaggedKey;
use crate::record::KeyRecord;
use crate::Error;

/// The record stored under `key`'s hash, `None` if there is none. Counts
/// the KV reads made (0 or 1) into `reads`, for the request log.
#[cfg(feature = "gateway")]
pub(crate) async fn lookup(
    env: &Env,
    config: &Config,
    key: &TaggedKey,
    now_ms: f64,
    reads: &mut u32,
) -> Result<Option<Rc<KeyRecord>>, Error> {
    let hex = key.hash().to_hex();
    if let Some(record) = isolate::cached_record(&hex, now_ms) {
        return Ok(Some(record));
    }
    if isolate::known_missing(&hex, now_ms) {
        return Ok(None);
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
        isolate::note_missing(config, hex, now_ms);
        return Ok(None);
    };
    let record = KeyRecord::from_json(&text).map(Rc::new).map_err(|e| {
        console_error!("{e}");
        Error::StorageUnavailable
    })?;
    isolate::cache_record(config, hex, Rc::clone(&record), now_ms);
    Ok(Some(record))
}

/// The record stored under `key`'s hash, read straight from KV with no
/// isolate cache: the control Worker's lookup of a key by value.
#[cfg(feature = "control")]
pub(crate) async fn read(env: &Env, key: &TaggedKey) -> Result<Option<KeyRecord>, Error> {
    let store = env.kv(KEYS_BINDING).map_err(|_| Error::Misconfigured {
        what: format!("the KV namespace binding {KEYS_BINDING} is missing"),
    })?;
    let text = store.get(&key.hash().to_hex()).text().await.map_err(|e| {
        console_error!("KV read failed: {e}");
        Error::StorageUnavailable
    })?;
    text.map(|text| {
        KeyRecord::from_json(&text).map_err(|e| {
            console_error!("{e}");
            Error::StorageUnavailable
        })
    })
    .transpose()
}
