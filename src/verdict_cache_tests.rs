use super::*;

const MS: f64 = 1000.0;

#[test]
fn a_verdict_is_held_exactly_max_age_from_when_it_was_asked() {
    let mut cache = VerdictCache::default();
    let asked = 50_000.0;
    cache.put("acct", "key_1", Verdict::Current(1), asked, 3);
    assert_eq!(cache.get("acct", "key_1", asked), Some(Verdict::Current(1)));
    assert_eq!(
        cache.get("acct", "key_1", asked + 3.0 * MS - 1.0),
        Some(Verdict::Current(1)),
        "held up to the last millisecond of the window"
    );
    assert_eq!(
        cache.get("acct", "key_1", asked + 3.0 * MS),
        None,
        "due again at exactly max_age"
    );
    assert_eq!(cache.get("acct", "key_1", asked + 60.0 * MS), None);
    // A clock that steps backwards does not make an entry usable.
    assert_eq!(cache.get("acct", "key_1", asked - 1.0), None);
}

#[test]
fn a_refresh_replaces_the_verdict_and_restarts_the_window() {
    let mut cache = VerdictCache::default();
    cache.put("acct", "k", Verdict::Current("active"), 0.0, 5);
    assert_eq!(cache.get("acct", "k", 5.0 * MS), None);
    // The request that found it due asked again, at 5 s; the key was revoked.
    cache.put("acct", "k", Verdict::Current("revoked"), 5.0 * MS, 5);
    assert_eq!(
        cache.get("acct", "k", 9_999.0),
        Some(Verdict::Current("revoked"))
    );
    assert_eq!(cache.get("acct", "k", 10.0 * MS), None);
}

#[test]
fn negative_verdicts_are_held_for_the_same_window() {
    let mut cache: VerdictCache<u8> = VerdictCache::default();
    cache.put("acct", "gone", Verdict::Unknown, 1_000.0, 2);
    assert_eq!(cache.get("acct", "gone", 2_999.0), Some(Verdict::Unknown));
    assert_eq!(cache.get("acct", "gone", 3_000.0), None);
}

#[test]
fn an_older_answer_landing_late_does_not_replace_a_newer_one() {
    let mut cache = VerdictCache::default();
    // Two requests asked at 1 s and 2 s; the second's answer came first.
    cache.put("acct", "k", Verdict::Current("revoked"), 2.0 * MS, 5);
    cache.put("acct", "k", Verdict::Current("active"), 1.0 * MS, 5);
    assert_eq!(
        cache.get("acct", "k", 3.0 * MS),
        Some(Verdict::Current("revoked"))
    );
    assert_eq!(
        cache.get("acct", "k", 6_999.0),
        Some(Verdict::Current("revoked"))
    );
}

#[test]
fn keys_are_held_per_account_and_id() {
    let mut cache = VerdictCache::default();
    cache.put("a", "k", Verdict::Current(1), 0.0, 5);
    assert_eq!(cache.get("b", "k", 0.0), None);
    assert_eq!(cache.get("a", "k2", 0.0), None);
    // No id or account can be split to collide with another pair.
    cache.put("a\u{0}x", "y", Verdict::Current(2), 0.0, 5);
    assert_eq!(cache.get("a", "x\u{0}y", 0.0), None);
}

#[test]
fn zero_max_age_holds_nothing() {
    let mut cache = VerdictCache::default();
    cache.put("a", "k", Verdict::Current(1), 0.0, 0);
    assert!(cache.is_empty());
}

#[test]
fn stays_within_the_entry_cap_dropping_expired_verdicts_first() {
    let mut cache = VerdictCache::default();
    // Half the cap asked at 0 s (expired by 10 s), half at 9 s (still held).
    for i in 0..MAX_VERDICTS / 2 {
        cache.put("a", &format!("old{i}"), Verdict::Current(i), 0.0, 5);
    }
    for i in 0..MAX_VERDICTS / 2 {
        cache.put("a", &format!("new{i}"), Verdict::Current(i), 9.0 * MS, 5);
    }
    assert_eq!(cache.len(), MAX_VERDICTS);
    cache.put("a", "one more", Verdict::Current(0), 10.0 * MS, 5);
    assert_eq!(cache.len(), MAX_VERDICTS / 2 + 1, "the expired half went");
    assert_eq!(cache.get("a", "new0", 10.0 * MS), Some(Verdict::Current(0)));
    assert_eq!(
        cache.get("a", "one more", 10.0 * MS),
        Some(Verdict::Current(0))
    );

    // All live and full: everything goes, the newcomer stays.
    let mut full = VerdictCache::default();
    for i in 0..MAX_VERDICTS + 5 {
        full.put("a", &i.to_string(), Verdict::Current(i), 0.0, 5);
        assert!(full.len() <= MAX_VERDICTS);
    }
    let last = (MAX_VERDICTS + 4).to_string();
    assert_eq!(
        full.get("a", &last, 0.0),
        Some(Verdict::Current(MAX_VERDICTS + 4))
    );
    // Refreshing a held key when full evicts nothing.
    let before = full.len();
    full.put("a", &last, Verdict::Unknown, 1.0, 5);
    assert_eq!(full.len(), before);
}
