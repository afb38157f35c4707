//! What a reported leak of one key does in its account: the product's
//! `on_leak` (revoke or flag) and the `key.leaked` audit event, which the
//! outbox ([`crate::webhook::outbox::enqueue`]) delivers to the key's and
//! the account's webhooks like any other.
//!
//! Pure, like [`crate::manage::account`]: decided into a [`Plan`] over the
//! ledgers, with time and random bytes passed in. Invariants: only a live
//! key (not revoked, not expired) is a true positive and is acted on; a
//! revocation is exactly the management API's revocation (the same index
//! writes and `key.revoked` event, its data naming the leak), so the edge
//! refuses the key as soon as that plan is carried out; the `key.leaked`
//! event goes into the same commit; the reporter's URL and source are
//! bounded by the parsers of [`super::github`] and [`super::gitlab`].
//! Reports are deduplicated: the edge sends one report per key per
//! scanner report, with how many times it listed the key
//! ([`LeakReport::occurrences`]); a key left live (`on_leak = "flag"`)
//! gets at most one `key.leaked` event per day
//! ([`LeakTally::EVENT_EVERY_SECONDS`]), reports in between counted on the
//! key and told in the next event's data (`occurrences`,
//! `earlier_repeats`).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{action, OnLeak};
use crate::config::Config;
use crate::manage::ledger::{Change, EventKind, EventRow, LeakTally, Ledger};
use crate::manage::op::{KeyStatus, Op};
use crate::manage::{plan as manage_plan, view, Entropy, Plan, Reply};
use crate::secret::KeySecret;
use crate::webhook::event::{self, LeakAction};
use crate::Error;

/// A report of one key, as the account object receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeakReport {
    /// The key reported (found by its hash in the index).
    pub key_id: String,
    /// Who reported it: `github` or `gitlab`.
    pub reporter: String,
    /// Where it was found.
    pub url: Option<String>,
    /// The reporter's source label (GitHub's `source`).
    pub source: Option<String>,
    /// How many times the scanner's report listed the key (at least 1).
    #[serde(default = "one")]
    pub occurrences: u32,
}

fn one() -> u32 {
    1
}

/// Decides `report` for `account` at `now` (`now_ms` in milliseconds).
/// The reply is `{ "label": "true_positive" | "false_positive", "action" }`.
pub fn plan(
    config: &Config,
    ledger: &dyn Ledger,
    account: &str,
    report: LeakReport,
    now_ms: i64,
    entropy: &Entropy,
    secret: &KeySecret,
) -> Plan {
    decide(config, ledger, account, report, now_ms, entropy, secret).unwrap_or_else(Plan::refuse)
}

fn answer(live: bool, action: Option<LeakAction>) -> serde_json::Value {
    json!({
        "label": if live { "true_positive" } else { "false_positive" },
        "action": action.map(LeakAction::as_str),
    })
}

fn decide(
    config: &Config,
    ledger: &dyn Ledger,
    account: &str,
    report: LeakReport,
    now_ms: i64,
    entropy: &Entropy,
    secret: &KeySecret,
) -> Result<Plan, Error> {
    let now = now_ms.div_euclid(1_000);
    let Some(key) = ledger.key(&report.key_id)? else {
        return Ok(Plan::reply(200, answer(false, None)));
    };
    if view::status(&key, now) != KeyStatus::Active {
        return Ok(Plan::reply(200, answer(false, None)));
    }
    let policy = config
        .product(&key.product)
        .map(|p| p.hooks.on_leak)
        .unwrap_or_default();
    let done = action(policy);
    let occurrences = report.occurrences.max(1);
    let tally = key.leaked;
    if policy == OnLeak::Flag {
        if let Some(tally) = tally.filter(|t| t.quiet_at(now)) {
            // Reported again within the day: counted, no event.
            let mut row = key.clone();
            row.leaked = Some(LeakTally {
                repeats: tally.repeats.saturating_add(occurrences),
                ..tally
            });
            let mut plan = Plan::reply(200, answer(true, Some(done)));
            plan.changes.push(Change::PutKey(row));
            return Ok(plan);
        }
    }
    let noted = LeakTally {
        event_at: now,
        repeats: 0,
    };
    let mut plan = match policy {
        OnLeak::Revoke => {
            let op = Op::RevokeKey { id: key.id.clone() };
            let mut revoke = manage_plan(config, ledger, account, op, now, entropy, secret);
            revoke.reply.as_ref().map_err(Clone::clone)?;
            for change in &mut revoke.changes {
                if let Change::AppendEvent(event) = change {
                    if event.kind == EventKind::KeyRevoked
                        && event.key_id.as_deref() == Some(key.id.as_str())
                    {
                        event.data = json!({ "reason": "leaked", "reporter": report.reporter, "url": report.url });
                    }
                }
                if let Change::PutKey(row) = change {
                    if row.id == key.id {
                        row.leaked = Some(noted);
                    }
                }
            }
            revoke
        }
        OnLeak::Flag => {
            let mut plan = Plan::reply(200, answer(true, None));
            let mut row = key.clone();
            row.leaked = Some(noted);
            plan.changes.push(Change::PutKey(row));
            plan
        }
    };
    plan.reply = Ok(Reply {
        status: 200,
        body: answer(true, Some(done)),
    });
    let mut details = event::leak_details(
        &report.reporter,
        report.url.as_deref(),
        report.source.as_deref(),
        done,
    );
    if let Some(details) = details.as_object_mut() {
        details.insert("occurrences".into(), json!(occurrences));
        details.insert(
            "earlier_repeats".into(),
            json!(tally.map_or(0, |t| t.repeats)),
        );
    }
    // First, so the audit log and the webhooks tell the cause (the leak)
    // before its effect (the revocation).
    plan.changes.insert(
        0,
        Change::AppendEvent(EventRow {
            seq: 0,
            kind: EventKind::KeyLeaked,
            at: now,
            key_id: Some(key.id.clone()),
            product: Some(key.product.clone()),
            data: details,
        }),
    );
    Ok(plan)
}

#[cfg(test)]
#[path = "respond_tests.rs"]
mod tests;
