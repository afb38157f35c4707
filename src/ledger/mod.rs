//! The account ledger: the rows an account's Durable Object keeps (the
//! account, its keys, its audit events), the changes a plan writes to
//! them, and the views the management API shows of them.
//!
//! Invariant: these are plain data and read access ([`Ledger`]); nothing
//! here decides. Every room that plans over an account (`manage`,
//! `webhook`, `leak`, `portal`) stands above this one.

pub mod ids;
mod rows;
pub mod view;

pub use rows::{
    ended_by, AccountRow, AccountStatus, Change, EventKind, EventRow, IndexWrite, KeyFilter,
    KeyRow, Ledger, RECORD_RETENTION_SECONDS,
};
