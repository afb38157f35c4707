//! The KV hash index as an account's object writes it: the only writer of
//! the index the gateway reads.
//!
//! Invariant: a write or delete that fails is reported to
//! [`crate::manage::execute()`], which applies no ledger change without
//! its index write and leaves the key dirty for the alarm's resync.

use worker::KvStore;

use crate::manage::{Index, IndexWrite};

/// The KV hash index, as an account's object writes it.
pub(super) struct KvIndex(pub(super) KvStore);

impl Index for KvIndex {
    async fn put(&self, write: &IndexWrite) -> std::result::Result<(), String> {
        let mut put = self
            .0
            .put(&write.hash, write.record.to_json())
            .map_err(|e| e.to_string())?;
        if let Some(at) = write.expiration.and_then(|at| u64::try_from(at).ok()) {
            put = put.expiration(at);
        }
        put.execute().await.map_err(|e| e.to_string())
    }

    async fn delete(&self, hash: &str) -> std::result::Result<(), String> {
        self.0.delete(hash).await.map_err(|e| e.to_string())
    }
}
