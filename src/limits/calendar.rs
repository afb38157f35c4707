//! Refill boundaries on the clock: every day, or every calendar month,
//! from an anchor.
//!
//! Invariant: the k-th boundary is computed from the anchor itself, never
//! from the boundary before it, so nothing drifts: a monthly anchor on the
//! 31st refills on the 31st of long months and on the last day of short
//! ones (Jan 31, Feb 28 or 29, Mar 31, ...), at the anchor's time of day
//! (UTC). Boundaries strictly increase with k. Times are clamped to
//! 1970-9999 ([`MAX_TIME_MS`]), so no input overflows.

use crate::time::{civil_from_days, days_from_civil, days_in_month};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// The last millisecond of 9999-12-31 UTC: later times are read as it.
pub const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// How often a refill comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    /// Every 24 hours from the anchor.
    Day,
    /// On the anchor's day of every month (the month's last day when it is
    /// shorter), at the anchor's time of day.
    Month,
}

/// `t` within 1970-9999.
pub fn clamp(t: i64) -> i64 {
    t.clamp(0, MAX_TIME_MS)
}

/// The `k`-th boundary after `anchor` (`k = 0` is the anchor itself), in
/// Unix milliseconds; `None` past [`MAX_TIME_MS`].
pub fn boundary(anchor: i64, every: Every, k: u64) -> Option<i64> {
    let anchor = clamp(anchor);
    let k = i64::try_from(k).ok()?;
    let at = match every {
        Every::Day => anchor.checked_add(k.checked_mul(DAY_MS)?)?,
        Every::Month => {
            let (year, month, day) = civil_from_days(anchor.div_euclid(DAY_MS));
            let time_of_day = anchor.rem_euclid(DAY_MS);
            let months = (year * 12 + month - 1).checked_add(k)?;
            let (year, month) = (months.div_euclid(12), months.rem_euclid(12) + 1);
            if year > 9_999 {
                return None;
            }
            let day = day.min(days_in_month(year, month));
            days_from_civil(year, month, day) * DAY_MS + time_of_day
        }
    };
    (at <= MAX_TIME_MS).then_some(at)
}

/// How many boundaries after the anchor (`k >= 1`) are at or before `t`.
pub fn passed(anchor: i64, every: Every, t: i64) -> u64 {
    let (anchor, t) = (clamp(anchor), clamp(t));
    if t < anchor {
        return 0;
    }
    let k = match every {
        Every::Day => (t - anchor) / DAY_MS,
        Every::Month => {
            let month_index = |ms: i64| {
                let (year, month, _) = civil_from_days(ms.div_euclid(DAY_MS));
                year * 12 + month - 1
            };
            // The boundary in t's month is at or before t, or the one
            // before it is (it lies in the month before t's).
            let k = month_index(t) - month_index(anchor);
            let in_month = u64::try_from(k)
                .ok()
                .and_then(|k| boundary(anchor, every, k));
            if in_month.is_some_and(|at| at <= t) {
                k
            } else {
                k - 1
            }
        }
    };
    u64::try_from(k).unwrap_or(0)
}

/// The first boundary after `t`, if there is one before [`MAX_TIME_MS`].
pub fn next_after(anchor: i64, every: Every, t: i64) -> Option<i64> {
    let anchor = clamp(anchor);
    if clamp(t) < anchor {
        return Some(anchor);
    }
    boundary(anchor, every, passed(anchor, every, t).checked_add(1)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_rfc3339;

    fn at(text: &str) -> i64 {
        parse_rfc3339(text).unwrap() * 1_000
    }

    #[test]
    fn months_keep_the_anchor_day_without_drift() {
        let anchor = at("2024-01-31T12:00:00Z");
        let expected = [
            "2024-01-31T12:00:00Z",
            "2024-02-29T12:00:00Z",
            "2024-03-31T12:00:00Z",
            "2024-04-30T12:00:00Z",
            "2024-05-31T12:00:00Z",
        ];
        for (k, text) in expected.iter().enumerate() {
            assert_eq!(boundary(anchor, Every::Month, k as u64), Some(at(text)));
        }
        assert_eq!(
            boundary(anchor, Every::Month, 13),
            Some(at("2025-02-28T12:00:00Z"))
        );
    }

    #[test]
    fn passed_counts_boundaries_at_or_before_t() {
        let anchor = at("2024-01-31T12:00:00Z");
        assert_eq!(passed(anchor, Every::Month, anchor - 1), 0);
        assert_eq!(passed(anchor, Every::Month, anchor), 0);
        assert_eq!(passed(anchor, Every::Month, at("2024-02-29T11:59:59Z")), 0);
        assert_eq!(passed(anchor, Every::Month, at("2024-02-29T12:00:00Z")), 1);
        assert_eq!(passed(anchor, Every::Month, at("2024-03-01T00:00:00Z")), 1);
        assert_eq!(passed(anchor, Every::Month, at("2024-03-31T11:59:59Z")), 1);
        assert_eq!(passed(anchor, Every::Month, at("2025-01-31T12:00:00Z")), 12);
        assert_eq!(passed(anchor, Every::Day, anchor + DAY_MS - 1), 0);
        assert_eq!(passed(anchor, Every::Day, anchor + 3 * DAY_MS), 3);
    }

    #[test]
    fn next_after_is_the_following_boundary() {
        let anchor = at("2024-01-31T12:00:00Z");
        assert_eq!(next_after(anchor, Every::Month, anchor - 5), Some(anchor));
        assert_eq!(
            next_after(anchor, Every::Month, anchor),
            Some(at("2024-02-29T12:00:00Z"))
        );
        assert_eq!(
            next_after(anchor, Every::Day, anchor + 1),
            Some(anchor + DAY_MS)
        );
        assert_eq!(next_after(anchor, Every::Month, MAX_TIME_MS), None);
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        for t in [i64::MIN, -1, 0, MAX_TIME_MS, i64::MAX] {
            for every in [Every::Day, Every::Month] {
                let _ = passed(t, every, i64::MAX);
                let _ = passed(0, every, t);
                let _ = next_after(t, every, t);
                assert_eq!(boundary(MAX_TIME_MS, every, u64::MAX), None);
            }
        }
    }
}
