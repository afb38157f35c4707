//! The ledger's side of a limit: a [`Pool`] holds a credit balance or a
//! rate count, and the leases granted out of it.
//!
//! Invariants (checked by `simulation_tests.rs` and the `limits` fuzz
//! target under any sequence of calls):
//! * reservation: a lease is charged when granted, so what the pool may
//!   still grant never counts what an isolate holds; a credit balance is
//!   a `u64` that is never charged beyond itself;
//! * the sum of outstanding leases never exceeds `max_outstanding`;
//! * credits: `added + refilled == balance + outstanding + spent +
//!   forfeited`, exactly, and `balance + outstanding <= cap`;
//! * a lease given back is settled once: its spent part (at most its
//!   amount) is charged, the rest returns; a lease not given back within
//!   [`GRACE_MS`] of its expiry is forfeited whole (charged, never
//!   returned), so a lost or late return can only under-admit;
//! * time only moves forward: every call first catches up to `now`
//!   (refills and forfeits in clock order), and an earlier `now` is read
//!   as the latest seen.

use super::calendar::{self, Every};
use super::lease::{Lease, Return};
use super::spec::{
    allowance, CreditSpec, Enforcement, LimitSpec, Meter as MeterSpec, RateSpec, MAX_CREDITS,
    MAX_PERIOD_SECONDS, MIN_PERIOD_SECONDS,
};
use super::window::Count;

/// The longest a lease lasts, in milliseconds: an isolate renews at
/// least this often while it spends.
pub const LEASE_MS: i64 = 30_000;
/// How long after its expiry a lease may still be given back before the
/// pool forfeits it. An isolate's clock may lag the ledger's by at most
/// this for the stated bound to hold.
pub const GRACE_MS: i64 = 60_000;
/// Most leases a pool holds at once; past it, requests are admitted one
/// round trip each, without a lease.
pub const MAX_LEASES: usize = 64;

/// What an isolate asks of a pool in one round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// The cost of the request at hand: charged now, or refused.
    pub cost: u64,
    /// Cost units wanted in a lease for the requests to come (the pool
    /// grants what its allowance leaves, possibly none).
    pub prefetch: u64,
}

/// The pool's answer to an [`Ask`].
#[derive(Debug, PartialEq, Eq)]
pub enum Grant {
    /// The request at hand is admitted and charged; with a lease for the
    /// ones to come, if the allowance had room.
    Admitted(Option<Lease>),
    /// Refused: nothing was charged.
    Refused(Refusal),
}

/// Why and until when an ask is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// Credits (`credits_exhausted`) rather than a rate (`rate_limited`).
    pub credits: bool,
    /// The earliest time (Unix milliseconds) the pool may have room
    /// without anyone adding to it; `None` if it never will.
    pub retry_at: Option<i64>,
}

/// What settling a returned lease did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The lease was open: `spent` (the reported spend, at most the
    /// amount) is charged, the rest returned.
    Closed {
        /// Cost units charged.
        spent: u64,
    },
    /// No such open lease (settled before, or forfeited): nothing changes.
    Unknown,
}

/// An addition of credits the pool refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverCap {
    /// The most that could be added now (0 for a rate limit).
    pub room: u64,
}

/// A pool's running totals, in cost units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Credits the pool started with or was given.
    pub added: u64,
    /// Credits refills added.
    pub refilled: u64,
    /// Charged for requests: at the ledger, or reported from leases.
    pub spent: u64,
    /// Leases never given back, charged whole.
    pub forfeited: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Refill {
    amount: u64,
    every: Every,
    anchor: i64,
    /// Boundaries after the anchor already applied.
    done: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Meter {
    Credits {
        balance: u64,
        cap: u64,
        refill: Option<Refill>,
    },
    Rate {
        limit: u64,
        count: Count,
    },
}

/// An open lease, as the ledger keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    id: u64,
    amount: u64,
    expires_at: i64,
    /// The rate step it was charged to.
    step: i64,
}

/// One limit's authoritative state, for one [`PoolKey`](super::PoolKey).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    meter: Meter,
    max_outstanding: u64,
    outstanding: u64,
    /// Open leases, in order of expiry (granted in clock order).
    leases: Vec<Held>,
    next_id: u64,
    now: i64,
    totals: Totals,
}

impl Pool {
    /// A credit pool at `now`: the initial balance (clamped to the cap),
    /// refills from the boundaries after `now`, leases summing to at most
    /// `max_outstanding`.
    pub fn credits(spec: &CreditSpec, max_outstanding: u64, now: i64) -> Self {
        let now = calendar::clamp(now);
        let cap = spec.cap.unwrap_or(MAX_CREDITS).min(MAX_CREDITS);
        let balance = spec.initial.min(cap);
        let refill = spec.refill.map(|r| Refill {
            amount: r.amount.min(MAX_CREDITS),
            every: r.every,
            anchor: calendar::clamp(r.anchor_ms),
            done: calendar::passed(r.anchor_ms, r.every, now),
        });
        Pool {
            meter: Meter::Credits {
                balance,
                cap,
                refill,
            },
            max_outstanding: max_outstanding.min(cap),
            outstanding: 0,
            leases: Vec::new(),
            next_id: 1,
            now,
            totals: Totals {
                added: balance,
                ..Totals::default()
            },
        }
    }

    /// A rate pool at `now` (the period clamped to 1 s-1 day).
    pub fn rate(spec: &RateSpec, max_outstanding: u64, now: i64) -> Self {
        let now = calendar::clamp(now);
        let seconds = spec
            .period_seconds
            .clamp(MIN_PERIOD_SECONDS, MAX_PERIOD_SECONDS);
        let limit = spec.count.min(MAX_CREDITS);
        Pool {
            meter: Meter::Rate {
                limit,
                count: Count::new(i64::from(seconds) * 1_000, spec.window, now),
            },
            max_outstanding: max_outstanding.min(limit),
            outstanding: 0,
            leases: Vec::new(),
            next_id: 1,
            now,
            totals: Totals::default(),
        }
    }

    /// The pool a global limit needs, its allowance from the configured
    /// share (of a rate's count; of a credit pool's cap, or else of the
    /// larger of its initial balance and refill). `None` for a local
    /// limit, which the ledger does not count.
    pub fn for_limit(spec: &LimitSpec, now: i64) -> Option<Self> {
        let Enforcement::Global {
            overshoot_permille, ..
        } = spec.enforce
        else {
            return None;
        };
        Some(match &spec.meter {
            MeterSpec::Rate(rate) => {
                Pool::rate(rate, allowance(rate.count, overshoot_permille), now)
            }
            MeterSpec::Credits(credits) => {
                let basis = credits
                    .cap
                    .unwrap_or_else(|| credits.initial.max(credits.refill.map_or(0, |r| r.amount)));
                Pool::credits(credits, allowance(basis, overshoot_permille), now)
            }
        })
    }

    /// Charges `ask.cost` and leases up to `ask.prefetch` at `now`, or
    /// refuses and charges nothing.
    pub fn grant(&mut self, ask: Ask, now: i64) -> Grant {
        self.catch_up(now);
        let now = self.now;
        let available = self.available();
        if ask.cost > available {
            return Grant::Refused(self.refusal(ask.cost));
        }
        self.charge(ask.cost);
        self.totals.spent = self.totals.spent.saturating_add(ask.cost);
        let room = self.max_outstanding.saturating_sub(self.outstanding);
        let amount = if self.leases.len() < MAX_LEASES {
            ask.prefetch.min(available - ask.cost).min(room)
        } else {
            0
        };
        if amount == 0 {
            return Grant::Admitted(None);
        }
        self.charge(amount);
        self.outstanding += amount;
        let (expires_at, step) = match &self.meter {
            Meter::Credits { .. } => (now + LEASE_MS, 0),
            Meter::Rate { count, .. } => ((now + LEASE_MS).min(count.step_end()), count.step()),
        };
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        self.leases.push(Held {
            id,
            amount,
            expires_at,
            step,
        });
        Grant::Admitted(Some(Lease::new(id, amount, expires_at)))
    }

    /// Settles a returned lease at `now`.
    pub fn settle(&mut self, returned: Return, now: i64) -> Settled {
        self.catch_up(now);
        let Some(at) = self.leases.iter().position(|h| h.id == returned.id) else {
            return Settled::Unknown;
        };
        let held = self.leases.remove(at);
        let spent = returned.spent.min(held.amount);
        let unspent = held.amount - spent;
        self.outstanding -= held.amount;
        self.totals.spent = self.totals.spent.saturating_add(spent);
        match &mut self.meter {
            Meter::Credits { balance, .. } => *balance += unspent,
            Meter::Rate { count, .. } => count.uncharge(held.step, unspent),
        }
        Settled::Closed { spent }
    }

    /// Settles `returned` and answers `ask`, in one round trip.
    pub fn renew(&mut self, returned: Option<Return>, ask: Ask, now: i64) -> Grant {
        if let Some(returned) = returned {
            self.settle(returned, now);
        }
        self.grant(ask, now)
    }

    /// Adds `amount` credits at `now` (the management API's top-up), or
    /// refuses it whole when it would pass the cap.
    pub fn add(&mut self, amount: u64, now: i64) -> Result<(), OverCap> {
        self.catch_up(now);
        let held = self.held();
        let Meter::Credits { balance, cap, .. } = &mut self.meter else {
            return Err(OverCap { room: 0 });
        };
        let room = cap.saturating_sub(held);
        if amount > room {
            return Err(OverCap { room });
        }
        *balance += amount;
        self.totals.added = self.totals.added.saturating_add(amount);
        Ok(())
    }

    /// Catches up to `now`: refills and forfeits, in clock order.
    pub fn catch_up(&mut self, now: i64) {
        let now = calendar::clamp(now).max(self.now);
        while let Some(first) = self.leases.first().copied() {
            let forfeit_at = first.expires_at.saturating_add(GRACE_MS);
            if forfeit_at > now {
                break;
            }
            self.refill_until(forfeit_at);
            self.leases.remove(0);
            self.outstanding -= first.amount;
            self.totals.forfeited = self.totals.forfeited.saturating_add(first.amount);
        }
        self.refill_until(now);
        if let Meter::Rate { count, .. } = &mut self.meter {
            count.advance(now);
        }
        self.now = now;
    }

    fn refill_until(&mut self, t: i64) {
        let held = self.held();
        let Meter::Credits {
            balance,
            cap,
            refill: Some(refill),
        } = &mut self.meter
        else {
            return;
        };
        let passed = calendar::passed(refill.anchor, refill.every, t);
        let due = passed.saturating_sub(refill.done);
        if due == 0 {
            return;
        }
        // Each boundary adds `amount` up to the cap; in a row, that is the
        // sum up to the cap.
        let added = refill
            .amount
            .saturating_mul(due)
            .min(cap.saturating_sub(held));
        *balance += added;
        refill.done = passed;
        self.totals.refilled = self.totals.refilled.saturating_add(added);
    }

    fn charge(&mut self, n: u64) {
        match &mut self.meter {
            Meter::Credits { balance, .. } => *balance = balance.saturating_sub(n),
            Meter::Rate { count, .. } => count.charge(n),
        }
    }

    fn refusal(&self, cost: u64) -> Refusal {
        match &self.meter {
            Meter::Credits { refill, cap, .. } => {
                let refill_at = refill
                    .filter(|r| r.amount > 0 && cost <= *cap)
                    .and_then(|r| calendar::next_after(r.anchor, r.every, self.now));
                let lease_end = self.leases.first().map(|h| h.expires_at.max(self.now));
                Refusal {
                    credits: true,
                    retry_at: match (refill_at, lease_end) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    },
                }
            }
            Meter::Rate { limit, count } => Refusal {
                credits: false,
                retry_at: count.room_at(*limit, cost),
            },
        }
    }

    /// What the pool may still charge or lease now: the credit balance, or
    /// the rate's room in its window.
    pub fn available(&self) -> u64 {
        match &self.meter {
            Meter::Credits { balance, .. } => *balance,
            Meter::Rate { limit, count } => limit.saturating_sub(count.used()),
        }
    }

    /// The balance with what is leased out: what a refill tops up to the
    /// cap (a rate pool's window count).
    pub fn held(&self) -> u64 {
        match &self.meter {
            Meter::Credits { balance, .. } => balance.saturating_add(self.outstanding),
            Meter::Rate { count, .. } => count.used(),
        }
    }

    /// A credit pool's cap; `None` for a rate pool.
    pub fn cap(&self) -> Option<u64> {
        match &self.meter {
            Meter::Credits { cap, .. } => Some(*cap),
            Meter::Rate { .. } => None,
        }
    }

    /// Cost units in open leases.
    pub fn outstanding(&self) -> u64 {
        self.outstanding
    }

    /// The most the open leases may sum to: the stated overshoot bound.
    pub fn max_outstanding(&self) -> u64 {
        self.max_outstanding
    }

    /// How many leases are open.
    pub fn lease_count(&self) -> usize {
        self.leases.len()
    }

    /// The running totals.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// The latest time the pool has seen.
    pub fn now(&self) -> i64 {
        self.now
    }
}
