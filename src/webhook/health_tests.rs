use super::*;
use crate::config::tests::demo_config;
use crate::ledger::Ledger;
use crate::manage::memory::Memory;
use crate::webhook::api;
use crate::webhook::delivery::Response;
use crate::webhook::outbox::tests::create;
use crate::webhook::outbox::{OutboxRow, Seed};

const NOW_MS: i64 = crate::webhook::outbox::tests::NOW_FOR_API * 1_000;

fn health(ledger: &Memory, id: &str) -> Option<Health> {
    let key = ledger.key(id).unwrap().unwrap();
    key.webhook_url.and_then(|_| of(&ledger.hooks, id).unwrap())
}

fn rows(ledger: &Memory) -> Vec<OutboxRow> {
    ledger.hooks.outbox.borrow().clone()
}

/// One attempt of the first row, `at_ms` after the start.
fn attempt(ledger: &Memory, at_ms: i64, response: Response) {
    let row = rows(ledger).remove(0);
    let mut seed = Seed::new([7; 32]);
    let changes = api::settle(
        &demo_config(),
        &ledger.hooks,
        "acct_1",
        row,
        NOW_MS + at_ms,
        9,
        &response,
        &mut seed,
    )
    .unwrap();
    ledger.apply(changes);
}

#[test]
fn a_key_without_a_webhook_has_no_health() {
    let ledger = Memory::default();
    let (id, _) = create(&ledger, false, 1);
    assert_eq!(health(&ledger, &id), None);
    let mut view = serde_json::json!({ "id": id, "webhook_url": null });
    annotate(&mut view, &ledger.hooks).unwrap();
    assert_eq!(view["webhook"], Value::Null, "present, and null");
}

#[test]
fn nothing_sent_yet_is_healthy() {
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    let h = health(&ledger, &id).unwrap();
    assert_eq!(h.state, State::Healthy);
    assert_eq!(h.last_attempt, None);
    assert_eq!((h.retrying_deliveries, h.failed_deliveries), (0, 0));
}

#[test]
fn a_failed_attempt_reads_failing_until_one_succeeds() {
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    attempt(&ledger, 0, Response::Status(500));
    let h = health(&ledger, &id).unwrap();
    assert_eq!(h.state, State::Failing);
    assert_eq!(h.retrying_deliveries, 1);
    let last = h.last_attempt.unwrap();
    assert_eq!(last.status, Some(500));
    assert!(last.error.unwrap().contains("not a 2xx"));
    attempt(&ledger, 5_000, Response::Status(200));
    let h = health(&ledger, &id).unwrap();
    assert_eq!(h.state, State::Healthy);
    assert_eq!(h.retrying_deliveries, 0);
    assert_eq!(h.last_attempt.unwrap().status, Some(200));
}

#[test]
fn a_network_error_is_failing_with_no_status() {
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    attempt(&ledger, 0, Response::Timeout);
    let h = health(&ledger, &id).unwrap();
    assert_eq!(h.state, State::Failing);
    assert_eq!(h.last_attempt.unwrap().status, None);
}

#[test]
fn given_up_deliveries_are_counted() {
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    let attempts = crate::webhook::delivery::Schedule::standard().attempts();
    for n in 0..attempts {
        attempt(&ledger, i64::from(n) * 1_000, Response::Status(503));
    }
    let h = health(&ledger, &id).unwrap();
    assert_eq!(h.state, State::Failing);
    assert_eq!((h.retrying_deliveries, h.failed_deliveries), (0, 1));
}

#[test]
fn a_410_disables_it_whatever_came_before() {
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    attempt(&ledger, 0, Response::Status(410));
    let h = health(&ledger, &id).unwrap();
    assert_eq!(h.state, State::Disabled);
    assert!(h.disabled_at.is_some());
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["state"], "disabled");
    assert_eq!(json["last_attempt"]["status"], 410);
}
