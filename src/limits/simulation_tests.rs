//! The lease protocol simulated: N isolates spend from one pool under
//! interleaved requests, returns, evictions (leases never returned),
//! clock lag, key rotation mid-stream, top-ups, and refills across days
//! and calendar months (with jumps to a millisecond around each refill or
//! window edge), randomised with proptest. An isolate the pool refused
//! refuses locally until the refusal's retry time (at most a second).
//!
//! After every step it checks the bound stated in `mod.rs`:
//! * one pool only: every key of the rotation chain finds the same pool;
//! * the open leases never sum past the allowance, nor number past
//!   [`MAX_LEASES`];
//! * credits: `added + refilled == balance + outstanding + spent +
//!   forfeited`; the balance with leases never passes the cap; admitted
//!   credits never exceed `added + refilled` (never overspent), nor
//!   `spent + forfeited + outstanding`;
//! * every lease an isolate may still spend (by its own clock) is open at
//!   the ledger, so what isolates can spend unseen is within the allowance;
//! * exact totals: what the isolates admitted equals what the pool charged
//!   (direct and settled) plus what is spent from leases not settled;
//! * refills: without a cap, exactly `amount` per boundary an independent
//!   calendar counts; with one, never more;
//! * rate limits: every window of consecutive steps admitted at most
//!   `limit` when no isolate's clock lags, at most `limit + allowance`
//!   when some lag by up to [`GRACE_MS`].
//!
//! Two fixed runs besides: a crafted one that reaches the rate bound
//! exactly with lag (and stays at the limit without), and steady load
//! that prints the overshoot and the round trips per 1 000 requests.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::calendar::DAY_MS;
use super::*;
use crate::time::parse_rfc3339;

/// 2024-01-31T00:00:00Z: leap February and short months ahead.
const START: i64 = 1_706_659_200_000;

#[derive(Debug, Clone)]
enum Op {
    Request {
        isolate: usize,
        cost: u64,
        prefetch: u64,
        old_key: bool,
    },
    GiveBack {
        isolate: usize,
    },
    Evict {
        isolate: usize,
    },
    Advance(i64),
    /// To the next refill boundary (credits) or step boundary (rates),
    /// give or take a few milliseconds.
    ToEdge(i64),
    Rotate,
    Add(u64),
}

#[derive(Debug, Clone)]
enum Kind {
    Credits(CreditSpec),
    Rate(RateSpec),
}

#[derive(Debug, Clone)]
struct Scenario {
    kind: Kind,
    permille: u16,
    lags: Vec<i64>,
    ops: Vec<Op>,
}

fn every() -> impl Strategy<Value = Every> {
    prop_oneof![Just(Every::Day), Just(Every::Month)]
}

fn kind() -> impl Strategy<Value = Kind> {
    // Anchors around month ends (the 28th to the 31st) half the time.
    let offset = prop_oneof![
        -40 * DAY_MS..40 * DAY_MS,
        (-3i64..=0, 0..DAY_MS).prop_map(|(days, ms)| days * DAY_MS + ms),
    ];
    let refill = (1u64..50, every(), offset).prop_map(|(amount, every, off)| RefillSpec {
        amount,
        every,
        anchor_ms: START + off,
    });
    let credits = (
        0u64..300,
        prop::option::of(1u64..400),
        prop::option::weighted(0.75, refill),
    )
        .prop_map(|(initial, cap, refill)| {
            Kind::Credits(CreditSpec {
                initial,
                cap,
                refill,
                low_threshold: None,
            })
        });
    let period = prop_oneof![4 => 1u32..=5, 2 => 6u32..=120, 1 => Just(3_600), 1 => Just(86_400)];
    let window = prop_oneof![Just(Window::Fixed), Just(Window::Sliding)];
    let count = prop_oneof![3 => 1u64..30, 1 => 30u64..300];
    let rate = (count, period, window).prop_map(|(count, period_seconds, window)| {
        Kind::Rate(RateSpec {
            count,
            period_seconds,
            window,
        })
    });
    prop_oneof![credits, rate]
}

fn op(isolates: usize) -> impl Strategy<Value = Op> {
    let i = 0..isolates;
    let advance = prop_oneof![
        6 => 0i64..300,
        2 => 0i64..2_000,
        2 => 0i64..(LEASE_MS + GRACE_MS + 10_000),
        1 => 0i64..(2 * DAY_MS),
        1 => 0i64..(40 * DAY_MS),
    ];
    prop_oneof![
        12 => (i.clone(), 0u64..6, 0u64..40, any::<bool>()).prop_map(
            |(isolate, cost, prefetch, old_key)| Op::Request { isolate, cost, prefetch, old_key }
        ),
        2 => i.clone().prop_map(|isolate| Op::GiveBack { isolate }),
        1 => i.prop_map(|isolate| Op::Evict { isolate }),
        6 => advance.prop_map(Op::Advance),
        2 => (-2i64..=2).prop_map(Op::ToEdge),
        1 => Just(Op::Rotate),
        1 => (0u64..100).prop_map(Op::Add),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        kind(),
        prop_oneof![Just(0u16), 1u16..=200, Just(1_000)],
        1usize..6,
        any::<bool>(),
    )
        .prop_flat_map(|(kind, permille, isolates, lagging)| {
            let lag = if lagging { 0..=GRACE_MS } else { 0..=0 };
            (
                Just(kind),
                Just(permille),
                prop::collection::vec(lag, isolates),
                prop::collection::vec(op(isolates), 1..200),
            )
        })
        .prop_map(|(kind, permille, lags, ops)| Scenario {
            kind,
            permille,
            lags,
            ops,
        })
}

/// The refill boundaries after the anchor, in order, computed
/// independently of `calendar`: month by month with a plain table,
/// through RFC 3339 text.
fn reference_boundaries(refill: &RefillSpec) -> impl Iterator<Item = i64> {
    let anchor = refill.anchor_ms;
    let text = crate::time::format_rfc3339(anchor.div_euclid(1_000));
    let year: i64 = text[0..4].parse().unwrap();
    let month: i64 = text[5..7].parse().unwrap();
    let day: i64 = text[8..10].parse().unwrap();
    let clock = text[10..].to_owned();
    let ms = anchor.rem_euclid(1_000);
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let length = move |y: i64, m: i64| match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let every = refill.every;
    (1..).map(move |k| match every {
        Every::Day => anchor + k * DAY_MS,
        Every::Month => {
            let index = year * 12 + month - 1 + k;
            let (y, m) = (index / 12, index % 12 + 1);
            let d = day.min(length(y, m));
            parse_rfc3339(&format!("{y:04}-{m:02}-{d:02}{clock}")).unwrap() * 1_000 + ms
        }
    })
}

/// How many reference boundaries lie in `(from, to]`.
fn boundaries_between(refill: &RefillSpec, from: i64, to: i64) -> u64 {
    reference_boundaries(refill)
        .take_while(|at| *at <= to)
        .filter(|at| *at > from)
        .count() as u64
}

struct Sim {
    scenario: Scenario,
    now: i64,
    created: i64,
    pools: BTreeMap<PoolKey, Pool>,
    /// Each key's lineage, as the ledger stores it; the last is current.
    keys: Vec<(String, Lineage)>,
    leases: Vec<Option<Lease>>,
    /// Each isolate refuses locally until then (its clock) after the pool
    /// refused it: the retry time, at most a second away.
    refused_until: Vec<i64>,
    /// Leases of evicted isolates, never given back.
    abandoned: Vec<Lease>,
    /// Spent from leases given back after the pool forfeited them.
    spent_in_forfeited: u64,
    admitted: u64,
    /// Requests the isolates saw, and round trips to the pool they made.
    requests: u64,
    round_trips: u64,
    /// Rate: admitted per step, by the ledger's clock.
    per_step: BTreeMap<i64, u64>,
}

impl Sim {
    fn new(scenario: Scenario) -> Self {
        let first = Lineage::first("key_first");
        let key = PoolKey {
            limit: "main".into(),
            subject: Subject::Key(first.clone()),
        };
        let pool = match &scenario.kind {
            Kind::Credits(spec) => {
                let basis = spec
                    .cap
                    .unwrap_or_else(|| spec.initial.max(spec.refill.map_or(0, |r| r.amount)));
                Pool::credits(spec, allowance(basis, scenario.permille), START)
            }
            Kind::Rate(spec) => Pool::rate(spec, allowance(spec.count, scenario.permille), START),
        };
        let isolates = scenario.lags.len();
        Sim {
            scenario,
            now: START,
            created: START,
            pools: BTreeMap::from([(key, pool)]),
            keys: vec![("key_first".into(), first)],
            leases: (0..isolates).map(|_| None).collect(),
            refused_until: vec![i64::MIN; isolates],
            abandoned: Vec::new(),
            spent_in_forfeited: 0,
            admitted: 0,
            requests: 0,
            round_trips: 0,
            per_step: BTreeMap::new(),
        }
    }

    /// The pool a request under `key_id` spends from, found as the ledger
    /// would: by the key's lineage, never its id.
    fn pool_for(&mut self, old_key: bool) -> &mut Pool {
        let index = if old_key && self.keys.len() > 1 {
            self.keys.len() - 2
        } else {
            self.keys.len() - 1
        };
        let lineage = self.keys[index].1.clone();
        let key = PoolKey {
            limit: "main".into(),
            subject: Subject::Key(lineage),
        };
        let fresh = self.pools.values().next().unwrap().clone();
        // A missing pool would be a fresh allowance: the check below
        // catches it, since only one pool may exist.
        self.pools.entry(key).or_insert(fresh)
    }

    fn admit(&mut self, cost: u64) {
        self.admitted += cost;
        if let Kind::Rate(spec) = &self.scenario.kind {
            let step = i64::from(spec.period_seconds) * 1_000 / spec.window.steps() as i64;
            *self.per_step.entry(self.now.div_euclid(step)).or_default() += cost;
        }
    }

    fn give_back(&mut self, lease: Lease) {
        let spent = lease.spent();
        let now = self.now;
        if self.pool_for(false).settle(lease.give_back(), now) == Settled::Unknown {
            self.spent_in_forfeited += spent;
        }
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::Request {
                isolate,
                cost,
                prefetch,
                old_key,
            } => {
                self.requests += 1;
                let local = self.now - self.scenario.lags[isolate];
                if let Some(lease) = &mut self.leases[isolate] {
                    if lease.spend(cost, local) == Spend::Admit {
                        self.admit(cost);
                        return;
                    }
                }
                if self.leases[isolate].is_none() && local < self.refused_until[isolate] {
                    return;
                }
                let returned = self.leases[isolate].take();
                let spent = returned.as_ref().map_or(0, Lease::spent);
                let now = self.now;
                let pool = self.pool_for(old_key);
                let returned = returned.map(Lease::give_back);
                let known = returned.map(|r| pool.settle(r, now));
                let grant = pool.grant(Ask { cost, prefetch }, now);
                self.round_trips += 1;
                if known == Some(Settled::Unknown) {
                    self.spent_in_forfeited += spent;
                }
                match grant {
                    Grant::Admitted(lease) => {
                        self.admit(cost);
                        self.leases[isolate] = lease;
                    }
                    Grant::Refused(refusal) => {
                        let lag = self.scenario.lags[isolate];
                        let retry = refusal.retry_at.map_or(i64::MAX, |at| at - lag);
                        self.refused_until[isolate] = retry.min(local + 1_000);
                    }
                }
            }
            Op::GiveBack { isolate } => {
                if let Some(lease) = self.leases[isolate].take() {
                    self.give_back(lease);
                }
            }
            Op::Evict { isolate } => {
                if let Some(lease) = self.leases[isolate].take() {
                    self.abandoned.push(lease);
                }
            }
            Op::Advance(ms) => self.now += ms,
            Op::ToEdge(offset) => {
                let next = match &self.scenario.kind {
                    Kind::Credits(spec) => spec.refill.as_ref().and_then(|refill| {
                        reference_boundaries(refill).find(|at| *at + offset > self.now)
                    }),
                    Kind::Rate(spec) => {
                        let step =
                            i64::from(spec.period_seconds) * 1_000 / spec.window.steps() as i64;
                        Some((self.now.div_euclid(step) + 1) * step)
                    }
                };
                if let Some(next) = next {
                    self.now = self.now.max(next + offset);
                }
            }
            Op::Rotate => {
                let (_, lineage) = self.keys.last().unwrap().clone();
                let id = format!("key_rotated{}", self.keys.len());
                self.keys.push((id, lineage.rotated()));
            }
            Op::Add(amount) => {
                let now = self.now;
                let pool = self.pool_for(false);
                let before = pool.totals().added;
                let rate = pool.cap().is_none();
                match pool.add(amount, now) {
                    Ok(()) => assert_eq!(pool.totals().added, before + amount),
                    Err(OverCap { room }) => assert!(rate && room == 0 || room < amount),
                }
            }
        }
    }

    fn check(&mut self) {
        assert_eq!(self.pools.len(), 1, "a rotated key found a new pool");
        let now = self.now;
        let pool = self.pools.values_mut().next().unwrap();
        pool.catch_up(now);
        let pool = pool.clone();
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
            "admitted = charged + spent from unsettled leases"
        );
        // Every lease an isolate may still spend is open at the ledger.
        let spendable: u64 = self
            .leases
            .iter()
            .zip(&self.scenario.lags)
            .filter_map(|(lease, lag)| lease.as_ref().filter(|l| now - lag < l.expires_at()))
            .map(Lease::left)
            .sum();
        assert!(
            spendable <= pool.outstanding(),
            "a spendable lease was closed"
        );
        if let Kind::Credits(spec) = &self.scenario.kind {
            assert_eq!(
                t.added + t.refilled,
                pool.available() + pool.outstanding() + t.spent + t.forfeited,
                "credit identity"
            );
            assert!(pool.held() <= pool.cap().unwrap());
            assert!(self.admitted <= t.added + t.refilled, "overspent");
            assert!(self.admitted <= t.spent + t.forfeited + pool.outstanding());
            if let Some(refill) = &spec.refill {
                let due = refill.amount * boundaries_between(refill, self.created, now);
                if spec.cap.is_none() {
                    assert_eq!(t.refilled, due, "refills on the clock");
                } else {
                    assert!(t.refilled <= due);
                }
            }
        }
    }

    /// The most a window admitted past the limit (rate pools).
    fn overshoot(&self) -> u64 {
        let Kind::Rate(spec) = &self.scenario.kind else {
            return 0;
        };
        let steps = spec.window.steps() as i64;
        self.per_step
            .keys()
            .map(|first| {
                let sum: u64 = self
                    .per_step
                    .range(*first..first + steps)
                    .map(|(_, n)| n)
                    .sum();
                sum.saturating_sub(spec.count)
            })
            .max()
            .unwrap_or(0)
    }

    fn check_windows(&self) {
        let Kind::Rate(spec) = &self.scenario.kind else {
            return;
        };
        let steps = spec.window.steps() as i64;
        let lagging = self.scenario.lags.iter().any(|lag| *lag > 0);
        let pool = self.pools.values().next().unwrap();
        let bound = spec.count + if lagging { pool.max_outstanding() } else { 0 };
        for first in self.per_step.keys() {
            let sum: u64 = self
                .per_step
                .range(*first..first + steps)
                .map(|(_, n)| n)
                .sum();
            assert!(
                sum <= bound,
                "window from step {first} admitted {sum} > {bound}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn leases_keep_the_stated_bound(scenario in scenario()) {
        let ops = scenario.ops.clone();
        let mut sim = Sim::new(scenario);
        for op in &ops {
            sim.step(op);
            sim.check();
        }
        sim.check_windows();
    }
}

#[test]
fn fifty_concurrent_requests_against_ten_credits_admit_ten_when_exact() {
    let spec = CreditSpec {
        initial: 10,
        cap: None,
        refill: None,
        low_threshold: None,
    };
    let mut pool = Pool::credits(&spec, allowance(10, 0), START);
    let admitted = (0..50)
        .filter(|i| {
            let ask = Ask {
                cost: 1,
                prefetch: 5,
            };
            matches!(pool.grant(ask, START + i), Grant::Admitted(_))
        })
        .count();
    assert_eq!(admitted, 10);
}

/// Steady load, measured: four isolates (in one run, two with clocks
/// lagging by the full grace) take turns sending requests of cost 1, at
/// 800 and at 2 000 a second, for 20 s, against 1 000 a second with a 5%
/// allowance (50), each asking for a quarter of it (12) as its lease and
/// refusing locally until a refusal's retry time. Prints what a window
/// admitted past the limit and the round trips per 1 000 requests
/// (`cargo test -p keygate --lib steady_load -- --nocapture`).
#[test]
fn steady_load_stays_within_the_allowance() {
    for window in [Window::Fixed, Window::Sliding] {
        for lags in [vec![0; 4], vec![0, 0, GRACE_MS, GRACE_MS]] {
            for per_second in [800u64, 2_000] {
                let spec = RateSpec {
                    count: 1_000,
                    period_seconds: 1,
                    window,
                };
                let mut ops = Vec::new();
                let mut sent = 0u64;
                for ms in 1..=20_000u64 {
                    while sent < ms * per_second / 1_000 {
                        ops.push(Op::Request {
                            isolate: (sent % 4) as usize,
                            cost: 1,
                            prefetch: 12,
                            old_key: false,
                        });
                        sent += 1;
                    }
                    ops.push(Op::Advance(1));
                }
                let lagging = lags[3] > 0;
                let mut sim = Sim::new(Scenario {
                    kind: Kind::Rate(spec),
                    permille: 50,
                    lags: lags.clone(),
                    ops: ops.clone(),
                });
                for op in &ops {
                    sim.step(op);
                }
                sim.check();
                sim.check_windows();
                let overshoot = sim.overshoot();
                println!(
                    "{window:?}, lag {}, {per_second} a second: overshoot {overshoot} \
                     (bound {}), {} round trips per 1 000 requests, {} of {} admitted",
                    if lagging { "60 s" } else { "0" },
                    if lagging { 50 } else { 0 },
                    sim.round_trips * 1_000 / sim.requests,
                    sim.admitted,
                    sim.requests
                );
                assert!(overshoot <= if lagging { 50 } else { 0 });
            }
        }
    }
}

/// The bound is tight: an isolate lagging by the grace takes a lease of
/// the whole allowance (10) 2 ms before a fixed window ends, another
/// isolate then fills the next window (100), and the lagging one spends
/// its lease into it too: 110. Without lag the lease ends with its window
/// and the late requests are refused.
#[test]
fn the_rate_bound_is_reached_with_lag_and_not_without() {
    for lag in [GRACE_MS, 0] {
        let spec = RateSpec {
            count: 100,
            period_seconds: 1,
            window: Window::Fixed,
        };
        let request = |isolate, prefetch| Op::Request {
            isolate,
            cost: 1,
            prefetch,
            old_key: false,
        };
        let mut ops = vec![Op::Advance(998), request(1, 10), Op::Advance(2)];
        ops.extend((0..100).map(|_| request(0, 0)));
        ops.extend((0..10).map(|_| request(1, 0)));
        let mut sim = Sim::new(Scenario {
            kind: Kind::Rate(spec),
            permille: 100,
            lags: vec![0, lag],
            ops: ops.clone(),
        });
        assert_eq!(START % 1_000, 0);
        for op in &ops {
            sim.step(op);
            sim.check();
        }
        sim.check_windows();
        assert_eq!(sim.overshoot(), if lag > 0 { 10 } else { 0 });
    }
}
