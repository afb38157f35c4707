//! The gateway's key-record lookup: KV through the isolate's caches.
//!
//! Invariants: at most one KV read per request, none when the isolate
//! cache holds the record or KV said "no such key" within
//! `cache_ttl_seconds`; a cached record is one KV returned; a use is
//! reported at most once a minute per key per isolate
//! ([`should_report_usage`]).

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use crate::cache::{TtlCache, UsageThrottle};
use crate::config::Config;
use crate::key::TaggedKey;
use crate::record::KeyRecord;
use crate::runtime::kv;
use crate::Error;

thread_local! {
    static RECORDS: RefCell<Option<TtlCache<Rc<KeyRecord>>>> = const { RefCell::new(None) };
    static NOT_FOUND: RefCell<Option<TtlCache<()>>> = const { RefCell::new(None) };
    static USAGE: RefCell<UsageThrottle> = RefCell::new(UsageThrottle::default());
}

/// The record stored under `key`'s hash, `None` if there is none. Counts
/// the KV reads made (0 or 1) into `reads`, for the request log.
pub(super) async fn lookup(
    env: &Env,
    config: &Config,
    key: &TaggedKey,
    now_ms: f64,
    reads: &mut u32,
) -> Result<Option<Rc<KeyRecord>>, Error> {
    let hex = key.hash().to_hex();
    if let Some(record) = cached_record(&hex, now_ms) {
        return Ok(Some(record));
    }
    if known_missing(&hex, now_ms) {
        return Ok(None);
    }
    let store = kv::store(env)?;
    *reads += 1;
    let Some(record) = kv::get(&store, &hex, Some(config.kv_cache_ttl_seconds)).await? else {
        note_missing(config, hex, now_ms);
        return Ok(None);
    };
    let record = Rc::new(record);
    cache_record(config, hex, Rc::clone(&record), now_ms);
    Ok(Some(record))
}

/// A cached record for `hash_hex`, if fresh.
fn cached_record(hash_hex: &str, now_ms: f64) -> Option<Rc<KeyRecord>> {
    RECORDS.with(|cell| cell.borrow().as_ref()?.get(hash_hex, now_ms))
}

/// Caches a record read from KV.
fn cache_record(config: &Config, hash_hex: String, record: Rc<KeyRecord>, now_ms: f64) {
    RECORDS.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| TtlCache::new(config.cache_ttl_seconds))
            .put(hash_hex, record, now_ms);
    });
}

/// Whether to report `key_id`'s use now (at most once a minute per key).
pub(super) fn should_report_usage(key_id: &str, now: i64) -> bool {
    USAGE.with(|cell| cell.borrow_mut().should_report(key_id, now))
}

/// Whether KV recently had no record under `hash_hex`.
fn known_missing(hash_hex: &str, now_ms: f64) -> bool {
    NOT_FOUND.with(|cell| {
        cell.borrow()
            .as_ref()
            .is_some_and(|c| c.get(hash_hex, now_ms).is_some())
    })
}

/// Remembers that KV has no record under `hash_hex`, for the record
/// cache's TTL.
fn note_missing(config: &Config, hash_hex: String, now_ms: f64) {
    NOT_FOUND.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| TtlCache::new(config.cache_ttl_seconds))
            .put(hash_hex, (), now_ms);
    });
}
