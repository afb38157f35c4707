//! Per-isolate memory: the key-record and not-found caches ([`TtlCache`])
//! and the usage throttle.
//!
//! Pure: callers pass the time. Both structures are bounded, so a flood of
//! distinct keys cannot grow an isolate's memory without limit. Expiry and
//! revocation are still checked on every request against the cached
//! record, so caching only delays changes made in storage, by at most the
//! TTL.

use std::collections::HashMap;

/// Most entries either structure holds.
pub const MAX_ENTRIES: usize = 10_000;

/// A time-bounded map from key hash to a value fetched from storage.
#[derive(Debug)]
pub struct TtlCache<V> {
    ttl_ms: f64,
    entries: HashMap<String, (V, f64)>,
}

impl<V: Clone> TtlCache<V> {
    /// A cache whose entries live `ttl_seconds` (0 disables it).
    pub fn new(ttl_seconds: u32) -> Self {
        TtlCache {
            ttl_ms: f64::from(ttl_seconds) * 1000.0,
            entries: HashMap::new(),
        }
    }

    /// The value stored under `key` if it is younger than the TTL at
    /// `now_ms`.
    pub fn get(&self, key: &str, now_ms: f64) -> Option<V> {
        let (value, stored_at) = self.entries.get(key)?;
        (now_ms - stored_at < self.ttl_ms && now_ms >= *stored_at).then(|| value.clone())
    }

    /// Stores `value` under `key` at `now_ms`, evicting stale entries (or,
    /// if none are stale, everything) when full.
    pub fn put(&mut self, key: String, value: V, now_ms: f64) {
        if self.ttl_ms <= 0.0 {
            return;
        }
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(&key) {
            let ttl = self.ttl_ms;
            self.entries.retain(|_, (_, at)| now_ms - *at < ttl);
            if self.entries.len() >= MAX_ENTRIES {
                self.entries.clear();
            }
        }
        self.entries.insert(key, (value, now_ms));
    }

    /// Number of entries held, stale or not.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Seconds between two usage reports for the same key from one isolate.
pub const USAGE_REPORT_INTERVAL_SECONDS: i64 = 60;

/// Decides when a key's use is worth reporting: at most once a minute per
/// key per isolate.
#[derive(Debug, Default)]
pub struct UsageThrottle {
    last_report: HashMap<String, i64>,
}

impl UsageThrottle {
    /// Whether to report `key_id`'s use at `now` (Unix seconds); if so, the
    /// report is recorded.
    pub fn should_report(&mut self, key_id: &str, now: i64) -> bool {
        if let Some(last) = self.last_report.get(key_id) {
            if now - last < USAGE_REPORT_INTERVAL_SECONDS && now >= *last {
                return false;
            }
        }
        if self.last_report.len() >= MAX_ENTRIES && !self.last_report.contains_key(key_id) {
            self.last_report
                .retain(|_, last| now - *last < USAGE_REPORT_INTERVAL_SECONDS);
            if self.last_report.len() >= MAX_ENTRIES {
                self.last_report.clear();
            }
        }
        self.last_report.insert(key_id.to_owned(), now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_exactly_the_ttl() {
        let mut cache = TtlCache::new(10);
        cache.put("a".into(), 1, 1_000.0);
        assert_eq!(cache.get("a", 1_000.0), Some(1));
        assert_eq!(cache.get("a", 10_999.0), Some(1));
        assert_eq!(cache.get("a", 11_000.0), None);
        assert_eq!(cache.get("b", 1_000.0), None);
        // A clock that steps backwards does not extend an entry's life.
        assert_eq!(cache.get("a", 999.0), None);
    }

    #[test]
    fn zero_ttl_disables_caching() {
        let mut cache = TtlCache::new(0);
        cache.put("a".into(), 1, 0.0);
        assert!(cache.is_empty());
    }

    #[test]
    fn stays_bounded() {
        let mut cache = TtlCache::new(10);
        for i in 0..MAX_ENTRIES + 5 {
            cache.put(i.to_string(), i, 0.0);
        }
        assert!(cache.len() <= MAX_ENTRIES);
        assert_eq!(
            cache.get(&(MAX_ENTRIES + 4).to_string(), 0.0),
            Some(MAX_ENTRIES + 4)
        );
    }

    #[test]
    fn usage_is_reported_once_a_minute() {
        let mut throttle = UsageThrottle::default();
        assert!(throttle.should_report("k1", 100));
        assert!(!throttle.should_report("k1", 159));
        assert!(throttle.should_report("k2", 159));
        assert!(throttle.should_report("k1", 160));
        assert!(!throttle.should_report("k1", 219));
    }
}
