//! When to fetch GitHub's public-key document, and what to use meanwhile:
//! the per-isolate cache's rule, with the clock passed in.
//!
//! Pure: no I/O, no clock. Invariants: a document is used for at most
//! [`KEYS_TTL_MS`] before it is fetched again; a report naming a key the
//! document lacks starts a refetch at most once per [`REFETCH_AFTER_MS`];
//! every fetch is recorded as an attempt before it is sent, and after a
//! failure no fetch starts for [`backoff_ms`] (at least a minute,
//! doubling up to an hour), so a failing or rate-limiting GitHub is asked
//! at most once a minute however many reports arrive. Meanwhile the last
//! good document is used (a key it lacks is refused as unknown, `401`);
//! with none, the report is refused as unavailable (`503`), never with a
//! fetch.

/// How long a fetched public-key document is used.
pub const KEYS_TTL_MS: f64 = 3_600_000.0;
/// The least time between two fetches for a key the document lacks.
pub const REFETCH_AFTER_MS: f64 = 60_000.0;
/// The least wait after a failed fetch.
pub const MIN_BACKOFF_MS: f64 = 60_000.0;
/// The longest wait after failed fetches.
pub const MAX_BACKOFF_MS: f64 = 3_600_000.0;

/// The wait after `failures` failed fetches in a row (at least one):
/// a minute, doubling, at most an hour.
pub fn backoff_ms(failures: u32) -> f64 {
    let doublings = failures.saturating_sub(1).min(6);
    (MIN_BACKOFF_MS * f64::from(1u32 << doublings)).min(MAX_BACKOFF_MS)
}

/// The cache of one document URL: the last good document and when it was
/// fetched, and the fetch attempts since.
#[derive(Debug, Clone)]
pub struct KeyCache<K> {
    url: String,
    good: Option<(K, f64)>,
    last_attempt: Option<f64>,
    failures: u32,
}

/// What to do for a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<K> {
    /// Verify with this document (fresh, or the last good one while a
    /// fetch may not start).
    Use(K),
    /// Fetch the document (the attempt is already recorded): report the
    /// outcome with [`KeyCache::fetched`] or [`KeyCache::failed`].
    Fetch,
    /// No document, and no fetch may start for `retry_after_ms`.
    Unavailable {
        /// When a fetch may start again, in milliseconds from now.
        retry_after_ms: f64,
    },
}

impl<K: Clone> KeyCache<K> {
    /// An empty cache for `url`.
    pub fn new(url: &str) -> KeyCache<K> {
        KeyCache {
            url: url.to_owned(),
            good: None,
            last_attempt: None,
            failures: 0,
        }
    }

    /// The document URL this cache holds.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The last good document, however old: what a report is verified
    /// with when a fetch fails.
    pub fn last_good(&self) -> Option<K> {
        self.good.as_ref().map(|(keys, _)| keys.clone())
    }

    /// Failed fetches since the last good one.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// What to do at `now` (ms) for a report; `unknown_key` when the
    /// document in use lacks the report's key (a rotation may have
    /// happened). A [`Decision::Fetch`] records the attempt.
    pub fn decide(&mut self, now: f64, unknown_key: bool) -> Decision<K> {
        let fresh = self
            .good
            .as_ref()
            .is_some_and(|(_, at)| now - at < KEYS_TTL_MS && now >= *at);
        if fresh && !unknown_key {
            if let Some((keys, _)) = &self.good {
                return Decision::Use(keys.clone());
            }
        }
        let wait = if self.failures == 0 {
            REFETCH_AFTER_MS
        } else {
            backoff_ms(self.failures)
        };
        // A clock that went backwards counts as "just attempted".
        let next = self.last_attempt.map(|at| at + wait);
        match next.filter(|&next| now < next) {
            Some(next) => match &self.good {
                Some((keys, _)) => Decision::Use(keys.clone()),
                None => Decision::Unavailable {
                    retry_after_ms: (next - now).max(0.0),
                },
            },
            None => {
                self.last_attempt = Some(now);
                Decision::Fetch
            }
        }
    }

    /// Records a good document fetched at `now`.
    pub fn fetched(&mut self, keys: K, now: f64) {
        self.good = Some((keys, now));
        self.failures = 0;
    }

    /// Records a failed fetch; then [`Self::decide`] falls back to the
    /// last good document, or `Unavailable`, until the backoff ends.
    /// Returns the wait, in milliseconds.
    pub fn failed(&mut self) -> f64 {
        self.failures = self.failures.saturating_add(1);
        backoff_ms(self.failures)
    }
}

#[cfg(test)]
#[path = "github_keys_tests.rs"]
mod tests;
