use super::*;
use crate::manage::memory::Memory;
use crate::webhook::api::HookOp;
use crate::webhook::outbox::tests::{create, run};
use crate::webhook::outbox::Seed;

const NOW_MS: i64 = crate::webhook::outbox::tests::NOW_FOR_API * 1_000;

fn report(ledger: &Memory, key_id: &str, config: &Config) -> Result<Reply, Error> {
    report_at(ledger, key_id, config, NOW_MS, 1)
}

fn report_at(
    ledger: &Memory,
    key_id: &str,
    config: &Config,
    now_ms: i64,
    occurrences: u32,
) -> Result<Reply, Error> {
    // Each report its own event ids.
    let mut bytes = [4; 32];
    bytes[..8].copy_from_slice(&now_ms.to_le_bytes());
    let mut seed = Seed::new(bytes);
    let entropy = Entropy {
        key: [4; 32],
        id: [4; 12],
        webhook: [4; 32],
    };
    let mut plan = plan(
        config,
        ledger,
        "acct_1",
        LeakReport {
            key_id: key_id.to_owned(),
            reporter: "github".into(),
            url: Some("https://github.com/o/r/blob/main/.env".into()),
            source: Some("content".into()),
            occurrences,
        },
        now_ms,
        &entropy,
        &crate::key::test_secret(),
    );
    let rows = crate::webhook::outbox::enqueue(
        config,
        ledger,
        &ledger.hooks,
        "acct_1",
        &plan.changes,
        now_ms,
        &mut seed,
    )
    .unwrap();
    plan.changes.extend(rows);
    ledger.apply(plan.changes);
    plan.reply
}

fn kinds(ledger: &Memory) -> Vec<String> {
    ledger
        .hooks
        .outbox
        .borrow()
        .iter()
        .map(|r| r.kind.clone())
        .collect()
}

#[test]
fn a_live_key_is_revoked_and_the_leak_is_an_event() {
    let config = crate::config::tests::demo_config();
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    run(
        &ledger,
        Op::Hook {
            call: HookOp::CreateEndpoint {
                url: "https://ops.example.com/h".into(),
                event_types: vec!["key.leaked".into()],
            },
        },
        2,
    )
    .unwrap();
    let reply = report(&ledger, &id, &config).unwrap();
    assert_eq!(reply.body["label"], "true_positive");
    assert_eq!(reply.body["action"], "revoked");
    let key = ledger.key(&id).unwrap().unwrap();
    assert!(key.revoked_at.is_some());
    let kinds = kinds(&ledger);
    assert_eq!(
        kinds,
        ["key.created", "key.leaked", "key.leaked", "key.revoked"],
        "the key's webhook gets both; the endpoint wants key.leaked only"
    );
    let rows = ledger.hooks.outbox.borrow().clone();
    let leaked: serde_json::Value = serde_json::from_str(&rows[1].body).unwrap();
    assert_eq!(
        leaked["data"]["url"],
        "https://github.com/o/r/blob/main/.env"
    );
    assert_eq!(leaked["data"]["action"], "revoked");
    assert_eq!(leaked["data"]["reporter"], "github");
    let audit = ledger.events(None, 2).unwrap();
    assert_eq!(audit[0].kind, EventKind::KeyRevoked, "newest first");
    assert_eq!(audit[0].data["reason"], "leaked");
    assert_eq!(
        audit[1].kind,
        EventKind::KeyLeaked,
        "the cause, then the effect"
    );
    assert_eq!(audit[1].key_id.as_deref(), Some(id.as_str()));
    assert_eq!(audit[1].data["source"], "content");
    assert_eq!(audit[1].data["action"], "revoked");
    // Reported again: no longer live, nothing more happens.
    let again = report(&ledger, &id, &config).unwrap();
    assert_eq!(again.body["label"], "false_positive");
    assert_eq!(ledger.hooks.outbox.borrow().len(), rows.len());
}

#[test]
fn flag_keeps_the_key_working() {
    let mut config = crate::config::tests::demo_config();
    for product in &mut config.products {
        product.hooks.on_leak = OnLeak::Flag;
    }
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    let reply = report(&ledger, &id, &config).unwrap();
    assert_eq!(reply.body["action"], "flagged");
    assert_eq!(ledger.key(&id).unwrap().unwrap().revoked_at, None);
    assert_eq!(kinds(&ledger), ["key.created", "key.leaked"]);
    let audit = ledger.events(None, 1).unwrap();
    assert_eq!(audit[0].kind, EventKind::KeyLeaked);
    assert_eq!(audit[0].data["action"], "flagged");
}

#[test]
fn an_unknown_key_is_a_false_positive() {
    let config = crate::config::tests::demo_config();
    let ledger = Memory::default();
    create(&ledger, false, 1);
    let reply = report(&ledger, "key_00000000000000000", &config).unwrap();
    assert_eq!(reply.body["label"], "false_positive");
}

/// Issue 18 (Low 5): with `on_leak = "flag"` the key stays live, so a
/// report listing it 50 times, and that report replayed, would each have
/// made events and deliveries. Now: one `key.leaked` per key per report
/// (the edge groups the report: `occurrences`), at most one per key per
/// day, the repeats counted and told in the next event's data.
#[test]
fn a_flagged_key_gets_one_leak_event_per_day_with_repeats_counted() {
    let mut config = crate::config::tests::demo_config();
    for product in &mut config.products {
        product.hooks.on_leak = OnLeak::Flag;
    }
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    let leaked_events = |ledger: &Memory| {
        ledger
            .events(None, 100)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == EventKind::KeyLeaked)
            .collect::<Vec<_>>()
    };
    let reply = report_at(&ledger, &id, &config, NOW_MS, 50).unwrap();
    assert_eq!(reply.body["label"], "true_positive");
    assert_eq!(kinds(&ledger), ["key.created", "key.leaked"]);
    let first = leaked_events(&ledger);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].data["occurrences"], 50);
    assert_eq!(first[0].data["earlier_repeats"], 0);
    // Replayed, and reported again, within the day: counted, no event.
    for (i, occurrences) in [50u32, 1, 3].into_iter().enumerate() {
        let at = NOW_MS + 1_000 * (1 + i as i64) * 3_600;
        let reply = report_at(&ledger, &id, &config, at, occurrences).unwrap();
        assert_eq!(reply.body["label"], "true_positive", "still live");
        assert_eq!(reply.body["action"], "flagged");
    }
    let last_quiet = NOW_MS + 1_000 * (LeakTally::EVENT_EVERY_SECONDS - 1);
    report_at(&ledger, &id, &config, last_quiet, 1).unwrap();
    assert_eq!(leaked_events(&ledger).len(), 1);
    assert_eq!(kinds(&ledger), ["key.created", "key.leaked"]);
    assert_eq!(
        ledger.key(&id).unwrap().unwrap().leaked,
        Some(LeakTally {
            event_at: NOW_MS / 1_000,
            repeats: 55
        })
    );
    // A day after the event: one more, telling the repeats.
    let next_day = NOW_MS + 1_000 * LeakTally::EVENT_EVERY_SECONDS;
    report_at(&ledger, &id, &config, next_day, 2).unwrap();
    let events = leaked_events(&ledger);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].data["occurrences"], 2, "newest first");
    assert_eq!(events[0].data["earlier_repeats"], 55);
    assert_eq!(kinds(&ledger), ["key.created", "key.leaked", "key.leaked"]);
    let delivered: serde_json::Value =
        serde_json::from_str(&ledger.hooks.outbox.borrow()[2].body).unwrap();
    assert_eq!(delivered["data"]["earlier_repeats"], 55);
    assert_eq!(delivered["data"]["occurrences"], 2);
    assert_eq!(ledger.key(&id).unwrap().unwrap().revoked_at, None);
}

/// With `on_leak = "revoke"` the first report ends the key; the revoke
/// and its `key.revoked` happen once, the event's data counting the
/// report's occurrences.
#[test]
fn a_revoked_key_is_revoked_once_per_report() {
    let config = crate::config::tests::demo_config();
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    report_at(&ledger, &id, &config, NOW_MS, 50).unwrap();
    let again = report_at(&ledger, &id, &config, NOW_MS, 50).unwrap();
    assert_eq!(again.body["label"], "false_positive");
    assert_eq!(kinds(&ledger), ["key.created", "key.leaked", "key.revoked"]);
    let audit = ledger.events(None, 10).unwrap();
    assert_eq!(audit[1].data["occurrences"], 50);
}
