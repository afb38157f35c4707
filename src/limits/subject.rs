//! Which pool a request spends from: a limit's name and whose requests it
//! counts together.
//!
//! Invariant: a pool is keyed by stable ids, never by a key's hash or
//! text. A key is counted under its [`Lineage`]: the id of the first key
//! of its rotation chain, which every key made by rotating it inherits. So
//! a rotated key keeps its balance and its rate count, and the old key,
//! still valid during its grace period, spends from the same pool as its
//! replacement: rotating cannot mint a fresh allowance.

/// The id of the first key of a rotation chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lineage(String);

impl Lineage {
    /// The lineage a newly created key starts: its own id.
    pub fn first(key_id: &str) -> Self {
        Lineage(key_id.to_owned())
    }

    /// The lineage of a key made by rotating a key of this lineage: the
    /// same one (the new key's id plays no part).
    pub fn rotated(&self) -> Self {
        self.clone()
    }

    /// The stable id, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whose requests a pool counts together.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// One key and the keys that replaced it by rotation.
    Key(Lineage),
    /// All keys of one holder (`owner_id`).
    Holder(String),
    /// All keys of the account.
    Account,
}

/// A pool's key in the account's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolKey {
    /// The limit's name in its plan.
    pub limit: String,
    /// Whose requests it counts.
    pub subject: Subject,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_key_keeps_its_pool() {
        let first = Lineage::first("key_A1b2C3d4E5f6G7h8J");
        let pool = PoolKey {
            limit: "credits".into(),
            subject: Subject::Key(first.clone()),
        };
        let after_two_rotations = first.rotated().rotated();
        let rotated = PoolKey {
            limit: "credits".into(),
            subject: Subject::Key(after_two_rotations),
        };
        assert_eq!(pool, rotated);
        assert_eq!(first.as_str(), "key_A1b2C3d4E5f6G7h8J");
        assert_ne!(pool.subject, Subject::Key(Lineage::first("key_other")));
    }
}
