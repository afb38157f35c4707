//! Target `limits`: the lease arithmetic (`keygate::limits`), driven by a
//! sequence of grant, spend, settle, refill and top-up operations from
//! four isolates on one pool.
//!
//! Input: an 8-byte header, then operations of 3 bytes each (`op`, `a`,
//! `b`; a short tail is ignored). Header: `flags` (bit 0 a rate pool, bit 1
//! a sliding window, bit 2 a cap, bit 3 a refill, bit 4 monthly, bits 5-6
//! the isolates' clock lag: none, 1 s, half the grace, the grace), the
//! allowance in units of 4 permille, two bytes of initial balance or rate
//! count (little-endian), two of cap or period, the refill amount and the
//! anchor's offset in days (signed). An operation's low three bits pick
//! it and the next two the isolate:
//! 0. a request of cost `a % 16` wanting a lease of `b`: spent from the
//!    isolate's lease, or (renewing) from the pool;
//! 1. the isolate gives its lease back;
//! 2. the isolate is evicted: its lease is never given back;
//! 3. the clock moves `a * b` milliseconds; 4. `a * b` minutes;
//! 5. `a` credits are added (refused past the cap, or for a rate);
//! 6. a stale return reaches the pool (a lease settled before, or never
//!    issued), spent `b`;
//! 7. the isolate's round trip (its lease back, then a request of cost 1)
//!    reaches the pool stamped `a * b` ms behind the pool's clock.
//!
//! Invariants, after every operation:
//! * the open leases sum to at most the allowance and number at most
//!   `MAX_LEASES`; a stale return changes nothing; a clock behind the
//!   pool's does not move it back;
//! * credits: `added + refilled == balance + outstanding + spent +
//!   forfeited`; the balance with leases never passes the cap; what the
//!   isolates admitted never exceeds `added + refilled` (never below zero
//!   under any interleaving) nor `spent + forfeited + outstanding`; without
//!   a cap, refills are exactly the amount per boundary passed;
//! * rates: the window never holds more than the limit;
//! * exact totals: admitted == charged at the pool (directly and by
//!   settles) + spent from leases not settled + spent from leases given
//!   back after their forfeit;
//! * every lease an isolate may still spend by its clock is open at the
//!   pool.

use keygate::limits::calendar::{self, DAY_MS};
use keygate::limits::{
    allowance, Ask, CreditSpec, Every, Grant, Lease, Pool, RateSpec, RefillSpec, Return, Settled,
    Spend, Window, GRACE_MS, MAX_LEASES,
};

/// 2024-01-31T00:00:00Z.
const START: i64 = 1_706_659_200_000;
const ISOLATES: usize = 4;

struct Driver {
    pool: Pool,
    rate_limit: Option<u64>,
    refill: Option<(RefillSpec, bool)>,
    lag: i64,
    now: i64,
    leases: [Option<Lease>; ISOLATES],
    abandoned: Vec<Lease>,
    settled_ids: Vec<u64>,
    spent_in_forfeited: u64,
    admitted: u64,
}

fn byte(data: &[u8], at: usize) -> u8 {
    data.get(at).copied().unwrap_or(0)
}

impl Driver {
    fn new(header: &[u8]) -> Self {
        let flags = byte(header, 0);
        let permille = u16::from(byte(header, 1)) * 4;
        let word = |at| u64::from(u16::from_le_bytes([byte(header, at), byte(header, at + 1)]));
        let (first, second) = (word(2), word(4));
        let lag = match (flags >> 5) & 3 {
            0 => 0,
            1 => 1_000,
            2 => GRACE_MS / 2,
            _ => GRACE_MS,
        };
        let mut refill = None;
        let (pool, rate_limit) = if flags & 1 == 1 {
            let spec = RateSpec {
                count: first,
                period_seconds: u32::try_from(second % 86_400 + 1).unwrap_or(1),
                window: if flags & 2 == 2 {
                    Window::Sliding
                } else {
                    Window::Fixed
                },
            };
            let pool = Pool::rate(&spec, allowance(first, permille), START);
            (pool, Some(first))
        } else {
            let cap = (flags & 4 == 4).then_some(second);
            let spec = RefillSpec {
                amount: u64::from(byte(header, 6)),
                every: if flags & 16 == 16 {
                    Every::Month
                } else {
                    Every::Day
                },
                anchor_ms: START + i64::from(byte(header, 7) as i8) * DAY_MS,
            };
            if flags & 8 == 8 {
                refill = Some((spec, cap.is_none()));
            }
            let credits = CreditSpec {
                initial: first,
                cap,
                refill: refill.map(|(spec, _)| spec),
                low_threshold: None,
            };
            let basis = cap.unwrap_or(first.max(spec.amount));
            (
                Pool::credits(&credits, allowance(basis, permille), START),
                None,
            )
        };
        Driver {
            pool,
            rate_limit,
            refill,
            lag,
            now: START,
            leases: [None, None, None, None],
            abandoned: Vec::new(),
            settled_ids: Vec::new(),
            spent_in_forfeited: 0,
            admitted: 0,
        }
    }

    fn settle(&mut self, lease: Lease, now: i64) {
        let (id, spent) = (lease.id(), lease.spent());
        if self.pool.settle(lease.give_back(), now) == Settled::Unknown {
            self.spent_in_forfeited += spent;
        }
        self.settled_ids.push(id);
    }

    /// A request at the isolate: spent from its lease if that covers it,
    /// else the lease goes back and the pool is asked, at `now`.
    fn request(&mut self, isolate: usize, cost: u64, prefetch: u64) {
        let local = self.now - self.lag;
        if let Some(Some(lease)) = self.leases.get_mut(isolate) {
            if lease.spend(cost, local) == Spend::Admit {
                self.admitted += cost;
                return;
            }
        }
        self.renew(isolate, cost, prefetch, self.now);
    }

    /// The isolate's round trip: its lease settled, then the ask, both
    /// reaching the pool stamped `at`.
    fn renew(&mut self, isolate: usize, cost: u64, prefetch: u64, at: i64) {
        if let Some(lease) = self.leases.get_mut(isolate).and_then(Option::take) {
            self.settle(lease, at);
        }
        if let Grant::Admitted(lease) = self.pool.grant(Ask { cost, prefetch }, at) {
            self.admitted += cost;
            if let Some(slot) = self.leases.get_mut(isolate) {
                *slot = lease;
            }
        }
    }

    fn step(&mut self, op: u8, a: u8, b: u8) {
        let isolate = usize::from((op >> 3) & 3);
        let (a64, b64) = (u64::from(a), u64::from(b));
        match op & 7 {
            0 => self.request(isolate, a64 % 16, b64),
            1 => {
                if let Some(lease) = self.leases.get_mut(isolate).and_then(Option::take) {
                    self.settle(lease, self.now);
                }
            }
            2 => {
                if let Some(lease) = self.leases.get_mut(isolate).and_then(Option::take) {
                    self.abandoned.push(lease);
                }
            }
            3 => self.now += i64::from(a) * i64::from(b),
            4 => self.now += i64::from(a) * i64::from(b) * 60_000,
            5 => {
                self.pool.catch_up(self.now);
                let before = self.pool.totals();
                let room = self
                    .pool
                    .cap()
                    .unwrap_or(0)
                    .saturating_sub(self.pool.held());
                match self.pool.add(a64, self.now) {
                    Ok(()) => assert!(self.rate_limit.is_none() && a64 <= room),
                    Err(refused) => {
                        assert!(self.rate_limit.is_some() || a64 > refused.room);
                        assert_eq!(self.pool.totals(), before, "a refused top-up counted");
                    }
                }
            }
            6 => {
                let id = match self.settled_ids.get(usize::from(a)) {
                    Some(id) => *id,
                    None => (1 << 40) + a64,
                };
                let before = self.pool.clone();
                let stale = Return { id, spent: b64 };
                assert_eq!(self.pool.settle(stale, self.now), Settled::Unknown);
                let mut caught_up = before;
                caught_up.catch_up(self.now);
                assert_eq!(self.pool, caught_up, "a stale return changed the pool");
            }
            _ => {
                let seen = self.pool.now();
                let behind = self.now - i64::from(a) * i64::from(b);
                self.renew(isolate, 1, b64 % 8, behind.min(seen));
                assert_eq!(self.pool.now(), seen, "the pool's clock moved back");
            }
        }
    }

    fn check(&mut self) {
        self.pool.catch_up(self.now);
        let pool = &self.pool;
        let t = pool.totals();
        assert!(pool.outstanding() <= pool.max_outstanding());
        assert!(pool.lease_count() <= MAX_LEASES);
        let unsettled: u64 = self
            .leases
            .iter()
            .flatten()
            .chain(&self.abandoned)
            .map(Lease::spent)
            .sum();
        assert_eq!(
            self.admitted,
            t.spent + unsettled + self.spent_in_forfeited,
            "exact totals"
        );
        let now = calendar::clamp(self.now);
        let spendable: u64 = self
            .leases
            .iter()
            .flatten()
            .filter(|l| now - self.lag < l.expires_at())
            .map(Lease::left)
            .sum();
        assert!(
            spendable <= pool.outstanding(),
            "a spendable lease was closed"
        );
        match self.rate_limit {
            Some(limit) => assert!(pool.held() <= limit, "the window passed its limit"),
            None => {
                assert_eq!(
                    t.added + t.refilled,
                    pool.available() + pool.outstanding() + t.spent + t.forfeited,
                    "credit identity"
                );
                assert!(pool.cap().is_some_and(|cap| pool.held() <= cap));
                assert!(self.admitted <= t.added + t.refilled, "overspent");
                assert!(self.admitted <= t.spent + t.forfeited + pool.outstanding());
                if let Some((refill, uncapped)) = self.refill {
                    let boundaries = calendar::passed(refill.anchor_ms, refill.every, now)
                        - calendar::passed(refill.anchor_ms, refill.every, START);
                    let due = refill.amount * boundaries;
                    assert!(t.refilled <= due);
                    if uncapped {
                        assert_eq!(t.refilled, due, "refills on the clock");
                    }
                }
            }
        }
    }
}

/// Runs the operations `data` encodes, checking the invariants after each.
pub fn limits(data: &[u8]) {
    let (header, ops) = data.split_at(data.len().min(8));
    let mut driver = Driver::new(header);
    for op in ops.chunks_exact(3) {
        driver.step(byte(op, 0), byte(op, 1), byte(op, 2));
        driver.check();
    }
}
