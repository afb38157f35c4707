//! The KV hash index, read: the record stored under a key's hash.
//!
//! Invariants: only a `TaggedKey`'s hash is read (the callers hold one),
//! so a forged key costs no read; a failed or unreadable read is `storage_unavailable`, never a
//! pass; a missing binding is `misconfigured`. Only the accounts' Durable
//! Objects write the index (`control/account/index.rs`).

use worker::{console_error, Env, KvStore};

use crate::config::KEYS_BINDING;
use crate::record::KeyRecord;
use crate::Error;

/// The index's KV namespace.
pub(crate) fn store(env: &Env) -> Result<KvStore, Error> {
    env.kv(KEYS_BINDING).map_err(|_| Error::Misconfigured {
        what: format!("the KV namespace binding {KEYS_BINDING} is missing"),
    })
}

/// The record stored under `hash_hex`, `None` if there is none; with
/// `cache_ttl`, KV's own edge cache may answer for that many seconds.
pub(crate) async fn get(
    store: &KvStore,
    hash_hex: &str,
    cache_ttl: Option<u32>,
) -> Result<Option<KeyRecord>, Error> {
    let get = store.get(hash_hex);
    let get = match cache_ttl {
        Some(ttl) => get.cache_ttl(u64::from(ttl)),
        None => get,
    };
    let text = get.text().await.map_err(|e| {
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
