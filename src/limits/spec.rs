//! The config side of plans and limits, as plain data.
//!
//! Invariant: nothing here is read from `KEYGATE_CONFIG` yet, and nothing
//! enforces it: these are the shapes the pools in this room are built
//! from ([`Pool::rate`](super::Pool::rate),
//! [`Pool::credits`](super::Pool::credits)), and the bounds a validator
//! will check. A user can configure none of it until the edge enforces it
//! (issue 20).

use super::calendar::Every;
use super::window::Window;

/// Shortest rate-limit period, in seconds.
pub const MIN_PERIOD_SECONDS: u32 = 1;
/// Longest rate-limit period, in seconds (a day).
pub const MAX_PERIOD_SECONDS: u32 = 86_400;
/// Most credits a balance, a cap, a refill or a cost may hold: below 2^53,
/// so every figure is exact in JSON and JavaScript.
pub const MAX_CREDITS: u64 = 1_000_000_000_000_000;
/// The largest overshoot allowance, in thousandths of the limit (100%).
pub const MAX_OVERSHOOT_PERMILLE: u16 = 1_000;

/// A named set of limits a key is on (e.g. `free`, `pro`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The plan's name, unique in its product.
    pub name: String,
    /// Its limits, each checked on every request of a key on the plan.
    pub limits: Vec<LimitSpec>,
    /// What a request costs, by the permission its route requires; a
    /// request matching no rule costs 1.
    pub costs: Vec<CostRule>,
}

/// One named limit of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSpec {
    /// The limit's name, unique in its plan (a key's override names it).
    pub name: String,
    /// Whose requests it counts together.
    pub per: Per,
    /// What it counts.
    pub meter: Meter,
    /// Where it is counted, and so its bound.
    pub enforce: Enforcement,
}

/// Whose requests one pool counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Each key (and the keys that replace it by rotation) alone.
    Key,
    /// All keys of one holder (`owner_id`) together.
    Holder,
    /// All keys of the account together.
    Account,
}

/// What a limit counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meter {
    /// At most `count` per period.
    Rate(RateSpec),
    /// A balance, spent per request, optionally refilled.
    Credits(CreditSpec),
}

/// A rate limit: `count` cost units per `period_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSpec {
    /// Cost units a period admits.
    pub count: u64,
    /// The period, [`MIN_PERIOD_SECONDS`] to [`MAX_PERIOD_SECONDS`].
    pub period_seconds: u32,
    /// Fixed or sliding.
    pub window: Window,
}

/// A credit balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditSpec {
    /// The balance a new pool starts with.
    pub initial: u64,
    /// The most the balance (with what is leased out) may hold; a refill
    /// stops there. `None` is [`MAX_CREDITS`].
    pub cap: Option<u64>,
    /// How the balance grows back.
    pub refill: Option<RefillSpec>,
    /// The balance under which `key.credits_low` is sent (not yet used).
    pub low_threshold: Option<u64>,
}

/// A refill: `amount` credits at every boundary after the anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefillSpec {
    /// Credits added at each boundary (up to the cap).
    pub amount: u64,
    /// Daily or monthly (calendar months, the anchor's day of month,
    /// clamped to the month's last day).
    pub every: Every,
    /// The first boundary's origin, Unix milliseconds (UTC).
    pub anchor_ms: i64,
}

/// Where a limit is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// Cloudflare's Rate Limiting binding, per location (rate limits of 10
    /// or 60 s only). No global bound: each location counts alone.
    Local,
    /// The account's Durable Object is the ledger; isolates spend from
    /// leases whose sum is bounded by `overshoot_permille` of the limit.
    Global {
        /// The allowance, in thousandths of the limit: 0 is exact (every
        /// request a round trip to the ledger), 50 is 5%.
        overshoot_permille: u16,
        /// What the edge does when the ledger cannot be reached.
        on_unreachable: FailMode,
    },
}

/// The answer when the ledger cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// Refuse (503): the default for credits.
    Closed,
    /// Admit without counting.
    Open,
}

/// What a request costs under a permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostRule {
    /// The permission a route requires (as in the product's rules).
    pub permission: String,
    /// Cost units spent by one request.
    pub cost: u64,
    /// Spend only when the origin answers 2xx or 3xx.
    pub successful_only: bool,
}

/// The lease allowance of a limit whose size is `basis` (a rate limit's
/// count, a credit pool's cap or initial balance): `permille` thousandths
/// of it, rounded down, so it never exceeds the stated share.
pub fn allowance(basis: u64, permille: u16) -> u64 {
    let permille = u128::from(permille.min(MAX_OVERSHOOT_PERMILLE));
    let share = u128::from(basis.min(MAX_CREDITS)) * permille / 1_000;
    u64::try_from(share).unwrap_or(MAX_CREDITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowance_rounds_down_and_is_bounded() {
        assert_eq!(allowance(1_000, 50), 50);
        assert_eq!(allowance(999, 50), 49);
        assert_eq!(allowance(19, 50), 0);
        assert_eq!(allowance(1_000, 0), 0);
        assert_eq!(allowance(10, 5_000), 10);
        assert_eq!(allowance(u64::MAX, 1_000), MAX_CREDITS);
    }
}
