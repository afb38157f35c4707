//! Webhooks, the pure part: Standard Webhooks signing ([`sign`]), event
//! types and payloads ([`event`]), where a delivery may go ([`target`]),
//! the outbox delivery state machine and retry schedule ([`delivery`]) and
//! the time-based key events ([`reminder`]).
//!
//! Pure: no I/O, no clock, no randomness. Time and random bytes come in as
//! arguments, so the account object's alarm and the management handlers
//! decide nothing themselves: they store rows, call these functions and
//! perform the `fetch` these functions describe.

pub mod api;
pub mod delivery;
pub mod event;
pub mod outbox;
pub mod reminder;
pub mod sign;
pub mod target;
