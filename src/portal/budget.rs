//! The API Keys page's change budget: how many changes (create, rename,
//! rescope, rotate, revoke) page sessions may make.
//!
//! Every change the page makes is recorded with its time and session, and
//! stays counted for its window whatever becomes of the key: a key
//! created and then revoked costs two changes, so churning keys (each
//! one a KV write and a row kept for the retention period) is bounded.
//! Two budgets hold at once: a session's (`portal.changes_per_session` in
//! any [`SESSION_WINDOW_SECONDS`]) and the account's across all its page
//! sessions (`portal.changes_per_account` in any
//! [`ACCOUNT_WINDOW_SECONDS`]), so asking for new sessions does not reset
//! it. Pure: the clock comes in as `now`. Invariant: the change that
//! would make a count exceed its budget is refused (`429
//! page_change_limit`) with the seconds until the oldest counted change
//! leaves its window; reads never count.

use crate::config::Portal;
use crate::manage::Op;
use crate::Error;

/// A session's window: 10 minutes.
pub const SESSION_WINDOW_SECONDS: i64 = 600;
/// The account's window: 24 hours.
pub const ACCOUNT_WINDOW_SECONDS: i64 = 86_400;

/// One change the page made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The session that made it.
    pub session: String,
    /// Unix seconds.
    pub at: i64,
}

/// Whether `op` changes anything: everything but the page's reads counts
/// (so an op added later counts until it is named a read here).
pub fn is_change(op: &Op) -> bool {
    match op {
        Op::ListKeys { .. } | Op::GetKey { .. } | Op::ListEvents { .. } => false,
        Op::Once { then, .. } | Op::IfMatch { then, .. } => is_change(then),
        _ => true,
    }
}

/// Whether one more change by `session` fits at `now`, given the
/// account's recorded `changes` (of every session; older ones are
/// ignored).
pub fn admit(portal: &Portal, changes: &[Change], session: &str, now: i64) -> Result<(), Error> {
    let refusal = |whose: &'static str, limit: u32, window: i64, counted: Vec<i64>| {
        if counted.len() < limit as usize {
            return None;
        }
        let oldest = counted.iter().min().copied().unwrap_or(now);
        let wait = oldest.saturating_add(window).saturating_sub(now).max(1);
        Some(Error::PageChangeLimit {
            whose,
            limit,
            window: u32::try_from(window).unwrap_or(u32::MAX),
            retry_after: u32::try_from(wait).unwrap_or(u32::MAX),
        })
    };
    let within = |window: i64, of_session: bool| -> Vec<i64> {
        changes
            .iter()
            .filter(|c| c.at <= now && now - c.at < window)
            .filter(|c| !of_session || c.session == session)
            .map(|c| c.at)
            .collect()
    };
    let account = refusal(
        "account",
        portal.changes_per_account,
        ACCOUNT_WINDOW_SECONDS,
        within(ACCOUNT_WINDOW_SECONDS, false),
    );
    let own = refusal(
        "session",
        portal.changes_per_session,
        SESSION_WINDOW_SECONDS,
        within(SESSION_WINDOW_SECONDS, true),
    );
    // Both spent: the longer wait is the true one.
    match (account, own) {
        (Some(a), Some(s)) => Err(if wait(&a) >= wait(&s) { a } else { s }),
        (Some(refused), None) | (None, Some(refused)) => Err(refused),
        (None, None) => Ok(()),
    }
}

fn wait(error: &Error) -> u32 {
    match error {
        Error::PageChangeLimit { retry_after, .. } => *retry_after,
        _ => 0,
    }
}

/// Changes older than this at `now` can be forgotten.
pub fn forget_before(now: i64) -> i64 {
    now.saturating_sub(ACCOUNT_WINDOW_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::demo_config;

    fn portal(per_session: u32, per_account: u32) -> Portal {
        let mut portal = demo_config().portal.unwrap();
        portal.changes_per_session = per_session;
        portal.changes_per_account = per_account;
        portal
    }

    fn change(session: &str, at: i64) -> Change {
        Change {
            session: session.into(),
            at,
        }
    }

    fn retry(result: Result<(), Error>) -> (&'static str, u32) {
        match result {
            Err(Error::PageChangeLimit {
                whose, retry_after, ..
            }) => (whose, retry_after),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_session_makes_exactly_its_budget_then_waits_for_the_oldest() {
        let p = portal(3, 100);
        let mut log = Vec::new();
        for at in [1_000, 1_100, 1_200] {
            assert_eq!(admit(&p, &log, "s1", at), Ok(()));
            log.push(change("s1", at));
        }
        // The 4th, at any time inside the window of the first.
        assert_eq!(retry(admit(&p, &log, "s1", 1_300)), ("session", 300));
        assert_eq!(retry(admit(&p, &log, "s1", 1_599)), ("session", 1));
        // At 1 000 + 600 the first change leaves the window.
        assert_eq!(admit(&p, &log, "s1", 1_600), Ok(()));
        // Another session of the account is not held up by s1's budget.
        assert_eq!(admit(&p, &log, "s2", 1_300), Ok(()));
    }

    #[test]
    fn the_account_budget_spans_sessions_and_a_day() {
        let p = portal(20, 5);
        let log: Vec<Change> = (0..5)
            .map(|i| change(&format!("s{i}"), 10_000 + i))
            .collect();
        assert_eq!(retry(admit(&p, &log, "fresh", 10_010)), ("account", 86_390));
        assert_eq!(
            retry(admit(&p, &log, "fresh", 10_000 + 86_399)),
            ("account", 1)
        );
        assert_eq!(admit(&p, &log, "fresh", 10_000 + 86_400), Ok(()));
    }

    #[test]
    fn both_spent_answers_the_longer_wait() {
        let p = portal(2, 2);
        let log = vec![change("s1", 0), change("s1", 500)];
        assert_eq!(retry(admit(&p, &log, "s1", 550)), ("account", 85_850));
    }

    #[test]
    fn reads_never_count_and_wrapped_changes_do() {
        assert!(!is_change(&Op::ListKeys {
            status: None,
            product: None,
            owner_id: None,
            limit: 50,
            after: None
        }));
        assert!(!is_change(&Op::GetKey { id: "k".into() }));
        assert!(!is_change(&Op::ListEvents {
            limit: 50,
            before: None
        }));
        assert!(is_change(&Op::RevokeKey { id: "k".into() }));
        assert!(is_change(&Op::RotateKey {
            id: "k".into(),
            grace_seconds: 0
        }));
        assert!(is_change(&Op::IfMatch {
            if_match: crate::manage::etag::IfMatch::Any,
            then: Box::new(Op::RevokeKey { id: "k".into() })
        }));
        assert_eq!(forget_before(100_000), 13_600);
    }
}
