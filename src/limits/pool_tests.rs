//! Known answers for [`Pool`]: charging, leasing, settling, forfeits,
//! refills, the cap and refusals' retry times.

use super::calendar::DAY_MS;
use super::*;
use crate::time::parse_rfc3339;

fn at(text: &str) -> i64 {
    parse_rfc3339(text).unwrap() * 1_000
}

fn credits(initial: u64, cap: Option<u64>, refill: Option<RefillSpec>) -> CreditSpec {
    CreditSpec {
        initial,
        cap,
        refill,
        low_threshold: None,
    }
}

fn identity_holds(pool: &Pool) -> bool {
    let t = pool.totals();
    t.added + t.refilled == pool.available() + pool.outstanding() + t.spent + t.forfeited
}

fn lease(grant: Grant) -> Lease {
    match grant {
        Grant::Admitted(Some(lease)) => lease,
        other => panic!("expected a lease, got {other:?}"),
    }
}

#[test]
fn charges_the_request_and_leases_within_the_allowance() {
    let mut pool = Pool::credits(&credits(100, None, None), 5, 0);
    let mut lease = lease(pool.grant(
        Ask {
            cost: 2,
            prefetch: 50,
        },
        0,
    ));
    assert_eq!(lease.amount(), 5);
    assert_eq!(pool.available(), 93);
    assert_eq!(pool.outstanding(), 5);
    assert!(identity_holds(&pool));
    // The allowance is spent: the next ask is charged without a lease.
    let next = pool.grant(
        Ask {
            cost: 1,
            prefetch: 50,
        },
        1,
    );
    assert_eq!(next, Grant::Admitted(None));
    assert_eq!(lease.spend(3, 2), Spend::Admit);
    assert_eq!(
        pool.settle(lease.give_back(), 3),
        Settled::Closed { spent: 3 }
    );
    assert_eq!(pool.available(), 94);
    assert_eq!(pool.outstanding(), 0);
    assert_eq!(pool.totals().spent, 6);
    assert!(identity_holds(&pool));
}

#[test]
fn refuses_without_charging_and_a_zero_allowance_is_exact() {
    let mut pool = Pool::credits(&credits(10, None, None), 0, 0);
    for t in 0..10 {
        let grant = pool.grant(
            Ask {
                cost: 1,
                prefetch: 9,
            },
            t,
        );
        assert_eq!(grant, Grant::Admitted(None));
    }
    let refused = pool.grant(
        Ask {
            cost: 1,
            prefetch: 0,
        },
        10,
    );
    assert_eq!(
        refused,
        Grant::Refused(Refusal {
            credits: true,
            retry_at: None
        })
    );
    assert_eq!(pool.available(), 0);
    assert_eq!(pool.totals().spent, 10);
}

#[test]
fn a_settle_counts_once_and_never_more_than_the_lease() {
    let mut pool = Pool::credits(&credits(100, None, None), 10, 0);
    let lease = lease(pool.grant(
        Ask {
            cost: 0,
            prefetch: 10,
        },
        0,
    ));
    let id = lease.id();
    let forged = Return { id, spent: 1_000 };
    assert_eq!(pool.settle(forged, 1), Settled::Closed { spent: 10 });
    assert_eq!(pool.settle(lease.give_back(), 2), Settled::Unknown);
    assert_eq!(pool.available(), 90);
    assert!(identity_holds(&pool));
}

#[test]
fn an_unreturned_lease_is_forfeited_after_the_grace() {
    let mut pool = Pool::credits(&credits(100, None, None), 10, 0);
    let lease = lease(pool.grant(
        Ask {
            cost: 0,
            prefetch: 10,
        },
        0,
    ));
    pool.catch_up(LEASE_MS + GRACE_MS - 1);
    assert_eq!(pool.outstanding(), 10);
    pool.catch_up(LEASE_MS + GRACE_MS);
    assert_eq!(pool.outstanding(), 0);
    assert_eq!(pool.totals().forfeited, 10);
    assert_eq!(pool.available(), 90);
    assert_eq!(
        pool.settle(lease.give_back(), LEASE_MS + GRACE_MS),
        Settled::Unknown
    );
    assert!(identity_holds(&pool));
}

#[test]
fn monthly_refills_come_on_the_anchor_day_up_to_the_cap() {
    let anchor = at("2024-01-31T00:00:00Z");
    let refill = RefillSpec {
        amount: 100,
        every: Every::Month,
        anchor_ms: anchor,
    };
    let mut pool = Pool::credits(&credits(0, Some(250), Some(refill)), 0, anchor);
    pool.catch_up(at("2024-02-28T23:59:59Z"));
    assert_eq!(pool.available(), 0);
    pool.catch_up(at("2024-02-29T00:00:00Z"));
    assert_eq!(pool.available(), 100);
    // Two more months at once: 300 due, the cap keeps 250.
    pool.catch_up(at("2024-04-30T00:00:00Z"));
    assert_eq!(pool.available(), 250);
    assert_eq!(pool.totals().refilled, 250);
    assert!(identity_holds(&pool));
    // A refusal's retry time is the next refill.
    let mut empty = Pool::credits(&credits(0, None, Some(refill)), 0, anchor);
    let refused = empty.grant(
        Ask {
            cost: 1,
            prefetch: 0,
        },
        anchor + 1,
    );
    assert_eq!(
        refused,
        Grant::Refused(Refusal {
            credits: true,
            retry_at: Some(at("2024-02-29T00:00:00Z"))
        })
    );
}

#[test]
fn boundaries_before_the_pool_existed_are_not_paid() {
    let anchor = at("2024-01-01T00:00:00Z");
    let refill = RefillSpec {
        amount: 5,
        every: Every::Day,
        anchor_ms: anchor,
    };
    let mut pool = Pool::credits(&credits(0, None, Some(refill)), 0, anchor + 10 * DAY_MS + 1);
    assert_eq!(pool.available(), 0);
    pool.catch_up(anchor + 11 * DAY_MS);
    assert_eq!(pool.available(), 5);
}

#[test]
fn additions_stop_at_the_cap() {
    let mut pool = Pool::credits(&credits(90, Some(100), None), 10, 0);
    let _lease = lease(pool.grant(
        Ask {
            cost: 0,
            prefetch: 10,
        },
        0,
    ));
    assert_eq!(pool.add(11, 1), Err(OverCap { room: 10 }));
    assert_eq!(pool.add(10, 1), Ok(()));
    assert_eq!(pool.held(), 100);
    assert!(identity_holds(&pool));
    let mut rate = Pool::rate(
        &RateSpec {
            count: 5,
            period_seconds: 1,
            window: Window::Fixed,
        },
        0,
        0,
    );
    assert_eq!(rate.add(1, 0), Err(OverCap { room: 0 }));
}

#[test]
fn rate_leases_end_with_their_step_and_refusals_say_when() {
    let spec = RateSpec {
        count: 10,
        period_seconds: 10,
        window: Window::Sliding,
    };
    let mut pool = Pool::rate(&spec, 3, 500);
    let mut lease = lease(pool.grant(
        Ask {
            cost: 6,
            prefetch: 10,
        },
        500,
    ));
    assert_eq!(lease.amount(), 3);
    assert_eq!(lease.expires_at(), 1_000);
    assert_eq!(lease.spend(1, 999), Spend::Admit);
    assert_eq!(lease.spend(1, 1_000), Spend::Renew);
    // The unspent 2 go back to step 0.
    assert_eq!(
        pool.settle(lease.give_back(), 1_500),
        Settled::Closed { spent: 1 }
    );
    assert_eq!(pool.available(), 3);
    let refused = pool.grant(
        Ask {
            cost: 4,
            prefetch: 0,
        },
        1_500,
    );
    assert_eq!(
        refused,
        Grant::Refused(Refusal {
            credits: false,
            retry_at: Some(10_000)
        })
    );
    assert!(matches!(
        pool.grant(
            Ask {
                cost: 10,
                prefetch: 0
            },
            10_000
        ),
        Grant::Admitted(None)
    ));
}

#[test]
fn a_local_limit_has_no_pool_and_global_ones_state_their_share() {
    let rate = RateSpec {
        count: 1_000,
        period_seconds: 60,
        window: Window::Fixed,
    };
    let mut spec = LimitSpec {
        name: "per-minute".into(),
        per: Per::Key,
        meter: Meter::Rate(rate),
        enforce: Enforcement::Local,
    };
    assert!(Pool::for_limit(&spec, 0).is_none());
    spec.enforce = Enforcement::Global {
        overshoot_permille: 50,
        on_unreachable: FailMode::Open,
    };
    assert_eq!(Pool::for_limit(&spec, 0).unwrap().max_outstanding(), 50);
    spec.meter = Meter::Credits(credits(10, Some(400), None));
    assert_eq!(Pool::for_limit(&spec, 0).unwrap().max_outstanding(), 20);
}

#[test]
fn the_lease_table_is_bounded() {
    let mut pool = Pool::credits(&credits(1_000, None, None), 1_000, 0);
    let mut held = Vec::new();
    for t in 0..(MAX_LEASES as i64 + 3) {
        if let Grant::Admitted(Some(lease)) = pool.grant(
            Ask {
                cost: 0,
                prefetch: 1,
            },
            t,
        ) {
            held.push(lease);
        }
    }
    assert_eq!(held.len(), MAX_LEASES);
    assert_eq!(pool.lease_count(), MAX_LEASES);
}

#[test]
fn refills_and_forfeits_apply_in_clock_order() {
    // Full at the cap; a refill boundary at 60 s, then the lease's forfeit
    // at 90 s, both caught up in one call at 100 s: the refill found no
    // room, and the forfeit does not make room after the fact.
    let t0 = 1_000 * DAY_MS;
    let refill = RefillSpec {
        amount: 50,
        every: Every::Day,
        anchor_ms: t0 + 60_000 - DAY_MS,
    };
    let mut pool = Pool::credits(&credits(100, Some(100), Some(refill)), 10, t0);
    let _evicted = lease(pool.grant(
        Ask {
            cost: 0,
            prefetch: 10,
        },
        t0,
    ));
    pool.catch_up(t0 + 100_000);
    assert_eq!(pool.totals().refilled, 0);
    assert_eq!(pool.totals().forfeited, 10);
    assert_eq!(pool.available(), 90);
    // The next boundary refills up to the cap.
    pool.catch_up(t0 + 60_000 + DAY_MS);
    assert_eq!(pool.totals().refilled, 10);
    assert!(identity_holds(&pool));
}
