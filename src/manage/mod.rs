//! The management API's pure core: HTTP requests in, account decisions out.
//!
//! The flow is [`request::parse`] (authentication aside, done by the edge
//! with [`crate::secret::AdminToken`]) → an [`Op`] sent to the account's
//! Durable Object → [`account::plan`] over that object's [`Ledger`] → a
//! [`Plan`]: the KV index writes, the ledger changes and the reply, which
//! [`execute()`] carries out against the [`Index`] and [`Store`]. Pure:
//! the clock, randomness and storage come in as arguments, so every rule —
//! limits, rotation, suspension, validation — is tested natively.
//! Invariant: a plan's changes are applied only after its index writes
//! succeed, so the source of truth never claims what the edge cannot see.

pub mod account;
mod body;
pub mod etag;
pub mod execute;
mod format_chars;
pub mod idempotency;
pub mod ids;
pub mod ledger;
pub mod listing;
pub mod lookup;
#[cfg(test)]
pub(crate) mod memory;
pub mod name;
#[cfg(test)]
mod once_tests;
pub mod op;
pub mod openapi;
pub mod request;
pub mod retention;
pub mod trace;
pub mod view;

pub use account::{plan, Entropy, Plan, Reply};
pub use body::{
    grantable_scopes, page_create, page_update, portal_session, PageNewKey, PageUpdate,
    MAX_EXPIRY_DAYS, OPERATOR_ONLY, PAGE_CREATE_FIELDS, PAGE_UPDATE_FIELDS,
};
pub use execute::{execute, resync, Index, Outcome, Store};
pub use ledger::{
    AccountRow, AccountStatus, Change, EventKind, EventRow, IndexWrite, KeyFilter, KeyRow, Ledger,
};
pub use op::Op;

/// Largest request body the management API reads, in bytes.
pub const BODY_LIMIT: usize = 65_536;
