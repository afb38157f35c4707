//! Webhooks, the pure part: Standard Webhooks signing ([`sign`]), event
//! types and payloads ([`event`]), where a delivery may go ([`target`]),
//! the outbox delivery state machine and retry schedule ([`delivery`]),
//! the time-based key events ([`reminder`]), a key's webhook as its view
//! shows it ([`health`]) and the send-time lookup of a target's name
//! ([`resolve`]).
//!
//! Pure: no I/O, no clock, no randomness. Time and random bytes come in as
//! arguments, so the account object's alarm and the management handlers
//! decide nothing themselves: they store rows, call these functions and
//! perform the `fetch` these functions describe.
//!
//! The control Worker's alone: none of it is compiled into the gateway
//! (`src/lib.rs`). It stands on the ledger and extends its `Change` with
//! the webhook tables' writes ([`Change`], [`Plan`]).

pub mod api;
pub mod delivery;
pub mod event;
pub mod health;
pub mod outbox;
pub mod reminder;
pub mod resolve;
pub mod sign;
pub mod target;

pub use outbox::{Change, Plan};
