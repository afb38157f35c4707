//! Usage limits: rate limits and credits, counted by a ledger and spent at
//! the edge from leases, with a stated bound (issue 20).
//!
//! Pure: every function takes the time (Unix milliseconds) as an argument
//! and performs no I/O. Nothing here is configurable or enforced yet: the
//! gateway, the control Worker and the config do not use this room, and
//! it is compiled natively only (tests, fuzzing), not into the Workers.
//!
//! # The lease protocol
//!
//! The account's Durable Object keeps one [`Pool`] per limit and
//! [`Subject`] (a [`PoolKey`]): a credit balance, or a rate count over
//! fixed or sliding windows of 1 s to a day. An isolate asks the pool for
//! the request at hand and a little more ([`Pool::grant`] with an
//! [`Ask`]): the request's cost is charged at once, and a [`Lease`] of up
//! to `prefetch` units is charged too and handed out. The isolate then
//! spends the lease locally ([`Lease::spend`]), with no round trip, until
//! it runs out or expires ([`LEASE_MS`]); then it gives it back and asks
//! again in one round trip ([`Pool::renew`]), and the pool charges what
//! was spent and takes back the rest ([`Pool::settle`]). A lease not given
//! back within [`GRACE_MS`] of its expiry (an evicted isolate) is
//! forfeited: charged whole.
//!
//! # The bound
//!
//! Leases are charged when granted, and the open leases of a pool sum to
//! at most its allowance `A` (`max_outstanding`): the configured share of
//! the limit (`overshoot_permille`; e.g. 50 is 5%), rounded down.
//!
//! * **Credits** are never overspent, under any interleaving of isolates,
//!   lost or late returns, or clock lag: what isolates admit is at most
//!   `spent + forfeited + outstanding`, the balance is never charged
//!   below zero, so admitted credits never exceed `added + refilled`, and
//!   the accounting is exact: `added + refilled == balance + outstanding +
//!   spent + forfeited`. The balance with what is leased out never exceeds
//!   the cap. The price of leasing is the other side: up to `A` credits
//!   may sit in other isolates' leases while a request is refused, and an
//!   evicted isolate's unspent lease is forfeited (counted apart).
//! * **Rate limits**: any window (the `steps` consecutive steps of
//!   [`Window`]: one period for a fixed window, the last period in tenths
//!   for a sliding one) admits at most `limit` when isolates' clocks do
//!   not lag the ledger's, since a rate lease expires with the step it
//!   was charged to; and at most `limit + A` when they lag by up to
//!   [`GRACE_MS`]: only leases open at the window's start, `A` in all,
//!   can be spent late into it. That is the worst-case overshoot: the sum
//!   of outstanding leases, and it is reached (`simulation_tests.rs`). An
//!   isolate lagging by more than the grace may spend a lease the pool
//!   has forfeited: credits stay safe (the forfeit charged it whole), a
//!   rate window may then pass `limit + A`.
//! * **Round trips**: one per lease (a renewal settles and asks at once),
//!   so about `1 000 / lease size` per 1 000 requests at a steady rate;
//!   a lease is at most `A`, shared by the isolates that hold one.
//! * `A = 0` is exact: no lease is granted, every request is charged at
//!   the ledger in its own round trip.
//! * **Refills** come exactly on the clock ([`calendar`]): each boundary
//!   after the anchor (every day, or every calendar month on the anchor's
//!   day, clamped to short months' last day) adds its amount once, up to
//!   the cap, in clock order with forfeits.
//! * **Rotation**: a pool is keyed by the key's [`Lineage`] (the first
//!   key id of its rotation chain), never by the key's hash: a rotated key
//!   keeps its balance and its count.
//!
//! The rooms: [`spec`] (the config's plain data), [`subject`] (pool keys),
//! [`calendar`] (refill boundaries), [`window`] (rate counts), [`lease`]
//! (the isolate's side) and [`pool`] (the ledger's side).

pub mod calendar;
pub mod lease;
pub mod pool;
pub mod spec;
pub mod subject;
pub mod window;

pub use calendar::Every;
pub use lease::{Lease, Return, Spend};
pub use pool::{
    Ask, Grant, OverCap, Pool, Refusal, Settled, Totals, GRACE_MS, LEASE_MS, MAX_LEASES,
};
pub use spec::{
    allowance, CostRule, CreditSpec, Enforcement, FailMode, LimitSpec, Meter, Per, Plan, RateSpec,
    RefillSpec,
};
pub use subject::{Lineage, PoolKey, Subject};
pub use window::Window;

#[cfg(test)]
mod pool_tests;
#[cfg(test)]
mod simulation_tests;
