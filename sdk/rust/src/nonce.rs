//! Where nonces are remembered until their signature expires.
//!
//! Invariant: [`NonceStore::remember`] is atomic (check and store in one
//! step), and the in-memory store never forgets an unexpired nonce: when
//! full of them it refuses ([`Rule::NonceStoreFull`]) rather than reopen a
//! replay window.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::{Error, Rule};

/// Remembers nonces until they expire.
///
/// `remember` stores `nonce` until `expires` (Unix seconds) and returns
/// `Ok(true)`, or returns `Ok(false)` when it is already stored (a
/// replay), atomically. Shared across processes, back it with Redis:
/// `SET keygate:<nonce> 1 NX EXAT <expires>` answers `OK` exactly when the
/// nonce is new (a blocking client, or `tokio::task::block_in_place`).
pub trait NonceStore: Send + Sync {
    /// Remembers `nonce` until `expires`; `false` when it was already there.
    fn remember(&self, nonce: &str, expires: i64, now: i64) -> Result<bool, Error>;
}

/// In-memory [`NonceStore`] for one process: bounded, expiring.
#[derive(Debug)]
pub struct MemoryNonceStore {
    capacity: usize,
    seen: Mutex<HashMap<String, i64>>,
}

impl Default for MemoryNonceStore {
    /// Room for 100 000 unexpired nonces.
    fn default() -> Self {
        MemoryNonceStore::new(100_000)
    }
}

impl MemoryNonceStore {
    /// A store for at most `capacity` unexpired nonces.
    pub fn new(capacity: usize) -> Self {
        MemoryNonceStore {
            capacity,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// How many nonces it holds.
    pub fn len(&self) -> usize {
        self.seen.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl NonceStore for MemoryNonceStore {
    fn remember(&self, nonce: &str, expires: i64, now: i64) -> Result<bool, Error> {
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| Error::new(Rule::NonceStoreFull, "the nonce store is poisoned"))?;
        if seen.get(nonce).is_some_and(|&e| e >= now) {
            return Ok(false);
        }
        if seen.len() >= self.capacity {
            seen.retain(|_, e| *e >= now);
            if seen.len() >= self.capacity {
                return Err(Error::new(
                    Rule::NonceStoreFull,
                    format!("more than {} unexpired nonces", self.capacity),
                ));
            }
        }
        seen.insert(nonce.to_owned(), expires);
        Ok(true)
    }
}
