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
pub(crate) mod body;
pub mod etag;
pub mod execute;
mod format_chars;
pub mod idempotency;
pub mod import;
pub mod listing;
pub mod lookup;
#[cfg(test)]
pub(crate) mod memory;
pub mod name;
pub mod once;
#[cfg(test)]
mod once_tests;
pub mod op;
pub mod openapi;
pub mod request;
pub mod retention;
pub mod trace;
mod writable;

/// The ledger's ids and views, where they were before `src/ledger/`.
pub use crate::ledger::{ids, view};
pub use crate::ledger::{
    AccountRow, AccountStatus, EventKind, EventRow, IndexWrite, KeyFilter, KeyRow, Ledger,
};
pub use crate::webhook::Change;
pub use account::{plan, Entropy, Plan, Reply};
pub use body::page::{
    editable_allowed_ips, grantable_scopes, page_create, page_update, PageNewKey, PageUpdate,
    OPERATOR_ONLY, PAGE_CREATE_FIELDS, PAGE_CREATE_FIELDS_WITH_IPS, PAGE_UPDATE_FIELDS,
    PAGE_UPDATE_FIELDS_WITH_IPS,
};
pub use body::{BODY_LIMIT, MAX_EXPIRY_DAYS};
pub use execute::{execute, resync, Index, Outcome, Store};
pub use op::Op;
