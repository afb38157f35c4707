use super::*;

const T0: f64 = 1_800_000_000_000.0;
const MINUTE: f64 = 60_000.0;

#[test]
fn the_backoff_is_at_least_a_minute_and_at_most_an_hour() {
    assert_eq!(backoff_ms(0), MINUTE);
    assert_eq!(backoff_ms(1), MINUTE);
    assert_eq!(backoff_ms(2), 2.0 * MINUTE);
    assert_eq!(backoff_ms(3), 4.0 * MINUTE);
    for failures in 0..100 {
        let wait = backoff_ms(failures);
        assert!(
            (MINUTE..=60.0 * MINUTE).contains(&wait),
            "{failures}: {wait}"
        );
        assert!(backoff_ms(failures + 1) >= wait);
    }
    assert_eq!(backoff_ms(u32::MAX), 60.0 * MINUTE);
}

/// Issue 18 (Low 1): GitHub fails (403, rate limited) from the start:
/// ten reports in the next minute make one fetch, and are refused as
/// unavailable without another; after the backoff, one more fetch.
#[test]
fn a_failed_fetch_is_not_retried_within_the_backoff() {
    let mut cache: KeyCache<&str> = KeyCache::new("https://api.github.com/keys");
    let mut fetches = 0;
    for i in 0..10 {
        let now = T0 + f64::from(i) * 1_000.0;
        match cache.decide(now, true) {
            Decision::Fetch => {
                fetches += 1;
                assert_eq!(cache.failed(), MINUTE);
            }
            Decision::Unavailable { retry_after_ms } => {
                assert!(
                    retry_after_ms > 0.0 && retry_after_ms <= MINUTE,
                    "{retry_after_ms}"
                );
            }
            Decision::Use(_) => panic!("no document yet"),
        }
    }
    assert_eq!(fetches, 1);
    // The bound: not one millisecond early.
    assert!(matches!(
        cache.decide(T0 + MINUTE - 1.0, false),
        Decision::Unavailable { .. }
    ));
    assert_eq!(cache.decide(T0 + MINUTE, false), Decision::Fetch);
    cache.failed();
    // Second failure: two minutes.
    assert!(matches!(
        cache.decide(T0 + 3.0 * MINUTE - 1.0, false),
        Decision::Unavailable { .. }
    ));
    assert_eq!(cache.decide(T0 + 3.0 * MINUTE, false), Decision::Fetch);
    cache.fetched("doc", T0 + 3.0 * MINUTE);
    assert_eq!(cache.failures(), 0);
    assert_eq!(
        cache.decide(T0 + 3.0 * MINUTE + 1.0, false),
        Decision::Use("doc")
    );
}

/// After a good document, a failed refresh keeps serving it: a known key
/// verifies, an unknown one is answered from it (401) until the backoff
/// ends, with no fetch.
#[test]
fn the_last_good_document_is_served_while_backing_off() {
    let mut cache = KeyCache::new("u");
    assert_eq!(cache.decide(T0, false), Decision::Fetch);
    cache.fetched("v1", T0);
    // An unknown key within a minute of the fetch: no refetch.
    assert_eq!(cache.decide(T0 + 30_000.0, true), Decision::Use("v1"));
    // After a minute: one refetch, which fails.
    assert_eq!(cache.decide(T0 + MINUTE, true), Decision::Fetch);
    cache.failed();
    for i in 0..50 {
        let now = T0 + MINUTE + f64::from(i) * 1_000.0;
        assert_eq!(cache.decide(now, true), Decision::Use("v1"), "{i}");
    }
    // Even past its hour, the stale document is used while backing off.
    let mut stale = KeyCache::new("u");
    assert_eq!(stale.decide(T0, false), Decision::Fetch);
    stale.fetched("v1", T0);
    assert_eq!(stale.decide(T0 + KEYS_TTL_MS, false), Decision::Fetch);
    stale.failed();
    assert_eq!(
        stale.decide(T0 + KEYS_TTL_MS + 1.0, false),
        Decision::Use("v1")
    );
    assert_eq!(
        stale.decide(T0 + KEYS_TTL_MS + MINUTE, false),
        Decision::Fetch
    );
}

#[test]
fn a_fresh_document_is_used_for_an_hour() {
    let mut cache = KeyCache::new("u");
    assert_eq!(cache.decide(T0, false), Decision::Fetch);
    cache.fetched("v1", T0);
    assert_eq!(
        cache.decide(T0 + KEYS_TTL_MS - 1.0, false),
        Decision::Use("v1")
    );
    assert_eq!(cache.decide(T0 + KEYS_TTL_MS, false), Decision::Fetch);
    // A clock that went backwards never starts a fetch storm.
    let mut back: KeyCache<&str> = KeyCache::new("u");
    assert_eq!(back.decide(T0, false), Decision::Fetch);
    back.failed();
    assert!(matches!(
        back.decide(T0 - 5_000.0, false),
        Decision::Unavailable { .. }
    ));
}

#[test]
fn the_last_good_document_outlives_failures() {
    let mut cache = KeyCache::new("u");
    assert_eq!(cache.last_good(), None);
    assert_eq!(cache.decide(T0, false), Decision::Fetch);
    cache.fetched("v1", T0);
    for _ in 0..5 {
        cache.failed();
    }
    assert_eq!(cache.last_good(), Some("v1"));
}
