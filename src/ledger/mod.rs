//! The account ledger: the rows an account's Durable Object keeps (the
//! account, its keys, its audit events), the changes a plan writes to
//! them, and the views the management API shows of them.
//!
//! Invariant: these are plain data and read access ([`Ledger`]); nothing
//! here decides. Every room that plans over an account (`manage`,
//! `webhook`, `leak`, `portal`) stands above this one.

pub mod ids;
mod plan;
mod rows;
pub mod view;

pub use plan::{Entropy, Plan, Reply};
pub use rows::{
    ended_by, status, AccountRow, AccountStatus, Change, EventKind, EventRow, IdempotentRow,
    IndexWrite, KeyCursor, KeyFilter, KeyRow, KeyStatus, LeakTally, Ledger, Meta, MAX_META_BYTES,
    RECORD_RETENTION_SECONDS,
};
