use super::*;

const DAY: i64 = 86_400;
const EXP: i64 = 1_800_000_000;

fn defaults(_: &str) -> Vec<i64> {
    DEFAULT_OFFSETS_SECONDS.to_vec()
}

fn key(id: &str, expires_at: Option<i64>, revoked_at: Option<i64>) -> KeyTimes<'_> {
    KeyTimes {
        key_id: id,
        product: "p",
        expires_at,
        revoked_at,
    }
}

#[test]
fn seven_days_one_day_and_expiry() {
    let keys = [key("k", Some(EXP), None)];
    let all = due(&keys, &defaults, 0, i64::MAX);
    let got: Vec<(i64, Reminder)> = all.iter().map(|d| (d.at, d.reminder)).collect();
    assert_eq!(
        got,
        vec![
            (
                EXP - 7 * DAY,
                Reminder::Expiring {
                    before_seconds: 7 * DAY
                }
            ),
            (
                EXP - DAY,
                Reminder::Expiring {
                    before_seconds: DAY
                }
            ),
            (EXP, Reminder::Expired),
        ]
    );
    assert_eq!(next_due(&keys, &defaults, 0), Some(EXP - 7 * DAY));
    assert_eq!(next_due(&keys, &defaults, EXP - 7 * DAY), Some(EXP - DAY));
    assert_eq!(next_due(&keys, &defaults, EXP - 1), Some(EXP));
    assert_eq!(next_due(&keys, &defaults, EXP), None);
}

#[test]
fn windows_are_half_open_so_each_event_is_emitted_once() {
    let keys = [key("k", Some(EXP), None)];
    // At exactly the moment: due. The next window starts after it.
    assert_eq!(due(&keys, &defaults, EXP - 1, EXP).len(), 1);
    assert_eq!(due(&keys, &defaults, EXP, EXP + 100).len(), 0);
    // However the alarm's runs cut the timeline, the total is 3.
    for step in [997, 3_600, DAY, 10 * DAY] {
        let mut since = EXP - 30 * DAY;
        let mut count = 0;
        while since < EXP + DAY {
            let now = since + step;
            count += due(&keys, &defaults, since, now).len();
            since = now;
        }
        assert_eq!(count, 3, "step {step}");
    }
}

#[test]
fn a_late_alarm_sends_everything_it_missed_in_order() {
    let keys = [key("b", Some(EXP), None), key("a", Some(EXP - DAY), None)];
    let all = due(&keys, &defaults, EXP - 30 * DAY, EXP + 1);
    assert_eq!(all.len(), 6);
    assert!(all.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn revoked_and_unexpiring_keys_get_nothing_after_revocation() {
    let keys = [
        key("never", None, None),
        key("revoked", Some(EXP), Some(EXP - 2 * DAY)),
    ];
    let all = due(&keys, &defaults, 0, i64::MAX);
    assert_eq!(
        all.len(),
        1,
        "only the 7-day reminder, sent before revocation"
    );
    assert_eq!(
        all[0].reminder,
        Reminder::Expiring {
            before_seconds: 7 * DAY
        }
    );
    assert_eq!(next_due(&keys, &defaults, EXP - 7 * DAY), None);
}

#[test]
fn offsets_are_per_product() {
    let custom = |product: &str| match product {
        "p" => vec![3_600, 0, -5],
        _ => vec![],
    };
    let keys = [key("k", Some(EXP), None)];
    let all = due(&keys, &custom, 0, i64::MAX);
    assert_eq!(all.len(), 2, "non-positive offsets are ignored");
    assert_eq!(all[0].at, EXP - 3_600);
    let other = [KeyTimes {
        product: "q",
        ..key("k", Some(EXP), None)
    }];
    assert_eq!(
        due(&other, &custom, 0, i64::MAX).len(),
        1,
        "only key.expired"
    );
}

#[test]
fn extreme_times_do_not_overflow() {
    let keys = [
        key("k", Some(i64::MIN), None),
        key("j", Some(i64::MAX), None),
    ];
    let huge = |_: &str| vec![i64::MAX];
    let _ = due(&keys, &huge, i64::MIN, i64::MAX);
    let _ = next_due(&keys, &huge, i64::MIN);
}
