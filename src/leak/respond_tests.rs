use super::*;
use crate::manage::memory::Memory;
use crate::webhook::api::HookOp;
use crate::webhook::outbox::tests::{create, run};
use crate::webhook::outbox::Seed;

const NOW_MS: i64 = crate::webhook::outbox::tests::NOW_FOR_API * 1_000;

fn report(ledger: &Memory, key_id: &str, config: &Config) -> Result<Reply, Error> {
    let mut seed = Seed::new([4; 32]);
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
        },
        NOW_MS,
        &entropy,
        &crate::key::test_secret(),
    );
    let rows = crate::webhook::outbox::enqueue(
        config,
        ledger,
        &ledger.hooks,
        "acct_1",
        &plan.changes,
        NOW_MS,
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
