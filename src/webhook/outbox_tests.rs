use super::*;
use crate::config::tests::demo_config;
use crate::key::Environment;
use crate::ledger::AccountStatus;
use crate::manage::memory::Memory;
use crate::manage::op::{NewKey, Op};
use crate::manage::{plan, Entropy, Reply};
use crate::webhook::api::{self, HookOp};
use crate::webhook::delivery::{Response, Status};

const NOW: i64 = 1_795_416_000;
pub(crate) const NOW_FOR_API: i64 = NOW;
const NOW_MS: i64 = NOW * 1_000;

/// The object's steps, in memory: plan, enqueue, commit.
pub(crate) fn run(ledger: &Memory, op: Op, seed: u8) -> Result<Reply, crate::Error> {
    let config = demo_config();
    let mut random = Seed::new([seed; 32]);
    let mut plan = match op {
        Op::Hook { call } => api::plan(&config, ledger, &ledger.hooks, call, NOW_MS, &mut random),
        op => {
            let entropy = Entropy {
                key: [seed; 32],
                id: [seed; 12],
                webhook: [seed.wrapping_add(1); 32],
            };
            plan(
                &config,
                ledger,
                "acct_1",
                op,
                NOW,
                &entropy,
                &crate::key::test_secret(),
            )
        }
    };
    let rows = enqueue(
        &config,
        ledger,
        &ledger.hooks,
        "acct_1",
        &plan.changes,
        NOW_MS,
        &mut random,
    )
    .unwrap();
    plan.changes.extend(rows);
    ledger.apply(plan.changes);
    plan.reply
}

pub(crate) fn new_key(webhook: bool) -> NewKey {
    NewKey {
        allowed_ips: Default::default(),
        product: "forgeai".into(),
        name: "CI".into(),
        scopes: None,
        environment: Environment::Live,
        expires_at: None,
        webhook_url: webhook.then(|| "https://hooks.example.com/k".to_owned()),
        owner_id: None,
        meta: None,
    }
}

pub(crate) fn create(ledger: &Memory, webhook: bool, seed: u8) -> (String, Option<String>) {
    let body = run(ledger, Op::CreateKey(new_key(webhook)), seed)
        .unwrap()
        .body;
    (
        body["id"].as_str().unwrap().to_owned(),
        body["webhook_secret"].as_str().map(str::to_owned),
    )
}

fn outbox(ledger: &Memory) -> Vec<OutboxRow> {
    ledger.hooks.outbox.borrow().clone()
}

fn body(row: &OutboxRow) -> serde_json::Value {
    serde_json::from_str(&row.body).unwrap()
}

#[test]
fn a_created_key_with_a_webhook_gets_key_created_in_the_same_commit() {
    let ledger = Memory::default();
    let (id, secret) = create(&ledger, true, 1);
    let rows = outbox(&ledger);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.delivery.hook, Hook::Key(id.clone()));
    assert_eq!(row.delivery.status, Status::Pending);
    assert_eq!(row.delivery.next_at_ms, Some(NOW_MS));
    assert!(row.delivery.event_id.starts_with("msg_"));
    assert_eq!(row.url, "https://hooks.example.com/k");
    let b = body(row);
    assert_eq!(b["type"], "key.created");
    assert_eq!(b["data"]["key_id"], id.as_str());
    assert_eq!(b["data"]["key"]["id"], id.as_str());
    // Never the secret, the key or its hash.
    let secret = secret.unwrap();
    assert!(!row.body.contains(&secret));
    let hash = ledger.key(&id).unwrap().unwrap().hash;
    assert!(!row.body.contains(&hash));
}

#[test]
fn a_key_without_a_webhook_gets_nothing() {
    let ledger = Memory::default();
    create(&ledger, false, 1);
    assert!(outbox(&ledger).is_empty());
}

#[test]
fn each_key_event_is_enqueued_with_its_own_id() {
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    run(
        &ledger,
        Op::UpdateKey {
            allowed_ips: Default::default(),
            id: id.clone(),
            name: Some("renamed".into()),
            scopes: None,
            expires_at: None,
            enabled: None,
            meta: None,
        },
        2,
    )
    .unwrap();
    let rotated = run(
        &ledger,
        Op::RotateKey {
            id: id.clone(),
            grace_seconds: 60,
        },
        3,
    )
    .unwrap()
    .body;
    let new_id = rotated["id"].as_str().unwrap().to_owned();
    run(&ledger, Op::RevokeKey { id: new_id.clone() }, 4).unwrap();
    let rows = outbox(&ledger);
    let types: Vec<String> = rows
        .iter()
        .map(|r| body(r)["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "key.created",
            "key.updated",
            "key.rotated",
            // The new key's revocation, and the old one's grace ending with it.
            "key.revoked",
            "key.revoked"
        ]
    );
    assert_eq!(
        body(&rows[1])["data"]["changed"],
        serde_json::json!(["name"])
    );
    assert_eq!(body(&rows[2])["data"]["new_key_id"], new_id.as_str());
    assert_eq!(
        body(&rows[2])["data"]["grace_ends_at"],
        crate::time::format_rfc3339(NOW + 60)
    );
    let mut ids: Vec<&str> = rows.iter().map(|r| r.delivery.event_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), rows.len(), "every event has its own webhook-id");
}

fn endpoint(ledger: &Memory, types: &[&str], seed: u8) -> serde_json::Value {
    let reply = run(
        ledger,
        Op::Hook {
            call: HookOp::CreateEndpoint {
                url: "https://ops.example.com/hooks".into(),
                event_types: types.iter().map(|t| t.to_string()).collect(),
            },
        },
        seed,
    )
    .unwrap();
    assert_eq!(reply.status, 201);
    reply.body
}

#[test]
fn account_endpoints_receive_the_types_they_want() {
    let ledger = Memory::default();
    create(&ledger, false, 1);
    let all = endpoint(&ledger, &[], 2);
    let only = endpoint(&ledger, &["account.suspended"], 3);
    run(
        &ledger,
        Op::SetStatus {
            status: AccountStatus::Suspended,
        },
        4,
    )
    .unwrap();
    let rows = outbox(&ledger);
    let to = |id: &serde_json::Value| {
        rows.iter()
            .filter(|r| r.delivery.hook == Hook::Endpoint(id.as_str().unwrap().into()))
            .map(|r| body(r)["type"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(to(&all["id"]), ["account.suspended"]);
    assert_eq!(to(&only["id"]), ["account.suspended"]);
    // The account events go to every working key's own webhook as well.
    run(
        &ledger,
        Op::SetStatus {
            status: AccountStatus::Active,
        },
        5,
    )
    .unwrap();
    let rows = outbox(&ledger);
    assert_eq!(
        rows.iter()
            .filter(|r| body(r)["type"] == "account.reactivated")
            .count(),
        1,
        "only the endpoint that wants every type"
    );
}

#[test]
fn a_refused_create_at_the_limit_reaches_the_account_endpoints() {
    let ledger = Memory::default();
    let config = demo_config();
    let limit = config.product("forgeai").unwrap().key_limit;
    create(&ledger, false, 1);
    endpoint(&ledger, &["key.limit_reached"], 2);
    for seed in 10..(10 + limit as u8) {
        let _ = run(&ledger, Op::CreateKey(new_key(false)), seed);
    }
    let rows = outbox(&ledger);
    assert_eq!(rows.len(), 1);
    let b = body(&rows[0]);
    assert_eq!(b["type"], "key.limit_reached");
    assert_eq!(b["data"]["limit"], limit);
    assert_eq!(b["data"]["product"], "forgeai");
}

#[test]
fn a_410_disables_the_webhook_and_tells_the_other_endpoints() {
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    endpoint(&ledger, &["webhook.disabled"], 2);
    run(&ledger, Op::RevokeKey { id: id.clone() }, 3).unwrap();
    let rows = outbox(&ledger);
    assert_eq!(
        rows.len(),
        2,
        "created and revoked, both to the key's webhook"
    );
    let config = demo_config();
    let mut seed = Seed::new([9; 32]);
    let first = rows[0].clone();
    let changes = api::settle(
        &config,
        &ledger.hooks,
        "acct_1",
        first,
        NOW_MS,
        12,
        &Response::Status(410),
        &mut seed,
    )
    .unwrap();
    ledger.apply(changes);
    let rows = outbox(&ledger);
    assert_eq!(rows[0].delivery.status, Status::Disabled);
    assert_eq!(
        rows[1].delivery.status,
        Status::Disabled,
        "its other pending row stops"
    );
    let disabled = ledger.hooks.disabled().unwrap();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].hook, Hook::Key(id.clone()));
    let told: Vec<&OutboxRow> = rows
        .iter()
        .filter(|r| r.kind == "webhook.disabled")
        .collect();
    assert_eq!(told.len(), 1);
    assert!(matches!(told[0].delivery.hook, Hook::Endpoint(_)));
    assert_eq!(body(told[0])["data"]["status"], 410);
    let audit = ledger.events(None, 1).unwrap();
    assert_eq!(
        audit[0].kind,
        EventKind::WebhookDisabled,
        "and it is recorded"
    );
    assert_eq!(audit[0].key_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        audit[0].data,
        serde_json::json!({ "webhook": { "kind": "key", "id": id }, "url": "https://hooks.example.com/k", "status": 410 })
    );
    // Later events no longer go to the disabled webhook.
    let count = outbox(&ledger).len();
    run(
        &ledger,
        Op::UpdateKey {
            allowed_ips: Default::default(),
            id,
            name: Some("x".into()),
            scopes: None,
            expires_at: None,
            enabled: None,
            meta: None,
        },
        4,
    )
    .unwrap_err();
    assert_eq!(outbox(&ledger).len(), count);
}

#[test]
fn failures_keep_the_webhook_id_and_follow_the_schedule() {
    let ledger = Memory::default();
    create(&ledger, true, 1);
    let config = demo_config();
    let mut seed = Seed::new([7; 32]);
    let mut row = outbox(&ledger)[0].clone();
    let id = row.delivery.event_id.clone();
    for (i, response) in [
        Response::Status(500),
        Response::Status(302),
        Response::Timeout,
    ]
    .iter()
    .enumerate()
    {
        let changes = api::settle(
            &config,
            &ledger.hooks,
            "acct_1",
            row.clone(),
            NOW_MS,
            5,
            response,
            &mut seed,
        )
        .unwrap();
        assert_eq!(changes.len(), 1);
        ledger.apply(changes);
        row = outbox(&ledger)[0].clone();
        assert_eq!(row.delivery.event_id, id);
        assert_eq!(row.delivery.attempts, i as u32 + 1);
        assert_eq!(row.delivery.status, Status::Pending);
        assert!(row.delivery.next_at_ms.unwrap() > NOW_MS);
    }
    assert!(row.delivery.log[1]
        .error
        .as_deref()
        .unwrap()
        .contains("redirects are not followed"));
    let changes = api::settle(
        &config,
        &ledger.hooks,
        "acct_1",
        row,
        NOW_MS,
        5,
        &Response::Status(204),
        &mut seed,
    )
    .unwrap();
    ledger.apply(changes);
    assert_eq!(outbox(&ledger)[0].delivery.status, Status::Delivered);
    assert_eq!(ledger.hooks.next_due().unwrap(), None);
}

#[test]
fn seeds_never_repeat() {
    let mut seed = Seed::new([0; 32]);
    let a = seed.event_id();
    let b = seed.event_id();
    assert_ne!(a, b);
    assert_eq!(a.len(), 4 + 32);
    assert_ne!(Seed::new([1; 32]).draw(), Seed::new([2; 32]).draw());
}

#[test]
fn an_account_event_reaches_a_shared_webhook_once() {
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    run(
        &ledger,
        Op::RotateKey {
            id,
            grace_seconds: 600,
        },
        2,
    )
    .unwrap();
    run(
        &ledger,
        Op::SetStatus {
            status: AccountStatus::Suspended,
        },
        3,
    )
    .unwrap();
    let suspended: Vec<OutboxRow> = outbox(&ledger)
        .into_iter()
        .filter(|r| r.kind == "account.suspended")
        .collect();
    assert_eq!(
        suspended.len(),
        1,
        "the old and new key share URL and secret"
    );
}

#[test]
fn expiry_reminders_are_sent_once_each_with_the_watermark() {
    let ledger = Memory::default();
    let config = demo_config();
    let day = 86_400;
    let reply = run(
        &ledger,
        Op::CreateKey(NewKey {
            expires_at: Some(NOW + 10 * day),
            ..new_key(true)
        }),
        1,
    )
    .unwrap();
    let id = reply.body["id"].as_str().unwrap().to_owned();
    endpoint(&ledger, &["key.expired"], 2);
    let keys = ledger.keys().unwrap();
    assert_eq!(next_reminder(&config, &keys, NOW), Some(NOW + 3 * day));
    let mut seed = Seed::new([5; 32]);
    let mut step = |since: i64, now: i64| -> Vec<(String, Hook)> {
        let changes = reminders(
            &config,
            &ledger,
            &ledger.hooks,
            "acct_1",
            since,
            now,
            now * 1_000,
            &mut seed,
        )
        .unwrap();
        assert!(matches!(
            changes.last(),
            Some(Change::Hook(HookChange::RemindersSince(at))) if *at == now
        ));
        let rows: Vec<(String, Hook)> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Hook(HookChange::Outbox(r)) => {
                    Some((r.kind.clone(), r.delivery.hook.clone()))
                }
                _ => None,
            })
            .collect();
        ledger.apply(changes);
        rows
    };
    // Nothing is due yet.
    assert!(step(NOW, NOW + day).is_empty());
    // The 7-day reminder, to the key's webhook only (the endpoint wants key.expired).
    let rows = step(NOW + day, NOW + 3 * day + 5);
    assert_eq!(rows, [("key.expiring".to_owned(), Hook::Key(id.clone()))]);
    assert_eq!(
        ledger.hooks.reminders_since().unwrap(),
        Some(NOW + 3 * day + 5)
    );
    // The 1-day reminder and the expiry, however late the alarm runs.
    let rows = step(NOW + 3 * day + 5, NOW + 20 * day);
    let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["key.expiring", "key.expired", "key.expired"]);
    // Each moment once.
    assert!(step(NOW + 20 * day, NOW + 30 * day).is_empty());
    let expiring: Vec<serde_json::Value> = outbox(&ledger)
        .iter()
        .filter(|r| r.kind == "key.expiring")
        .map(body)
        .collect();
    assert_eq!(expiring[0]["data"]["seconds_before"], 7 * day);
    assert_eq!(expiring[1]["data"]["seconds_before"], day);
}

#[test]
fn a_reminder_before_the_key_existed_is_skipped() {
    let ledger = Memory::default();
    let config = demo_config();
    // Expires in 2 days: the 7-day moment was 5 days before it was made.
    run(
        &ledger,
        Op::CreateKey(NewKey {
            expires_at: Some(NOW + 2 * 86_400),
            ..new_key(true)
        }),
        1,
    )
    .unwrap();
    let mut seed = Seed::new([6; 32]);
    let changes = reminders(
        &config,
        &ledger,
        &ledger.hooks,
        "acct_1",
        NOW - 10 * 86_400,
        NOW + 86_400,
        0,
        &mut seed,
    )
    .unwrap();
    let kinds: Vec<serde_json::Value> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Hook(HookChange::Outbox(r)) => Some(body(r)["data"]["seconds_before"].clone()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, [serde_json::json!(86_400)]);
}

/// Each kind of audit event, by a `match` that stops compiling when a kind
/// is added: the test below must then produce it too.
fn kind_index(kind: EventKind) -> usize {
    match kind {
        EventKind::KeyCreated => 0,
        EventKind::KeyUpdated => 1,
        EventKind::KeyRotated => 2,
        EventKind::KeyRevoked => 3,
        EventKind::KeyLimitReached => 4,
        EventKind::KeyLeaked => 5,
        EventKind::AccountSuspended => 6,
        EventKind::AccountReactivated => 7,
        EventKind::WebhookDisabled => 8,
    }
}

/// Issue 18: a delivered event carries the same data as its audit event,
/// for every kind of event (README promised `"reason": "leaked"` on a leak
/// revocation and `{"replacement_revoked": id}` on a grace ended by its
/// replacement's revocation; neither was delivered).
#[test]
fn every_delivered_event_carries_its_audit_events_data() {
    let config = demo_config();
    let ledger = Memory::default();
    let (a, _) = create(&ledger, true, 2);
    endpoint(&ledger, &[], 1);
    run(
        &ledger,
        Op::UpdateKey {
            allowed_ips: Default::default(),
            id: a.clone(),
            name: Some("renamed".into()),
            scopes: None,
            expires_at: None,
            enabled: None,
            meta: None,
        },
        3,
    )
    .unwrap();
    let rotated = run(
        &ledger,
        Op::RotateKey {
            id: a.clone(),
            grace_seconds: 600,
        },
        4,
    )
    .unwrap();
    let b = rotated.body["id"].as_str().unwrap().to_owned();
    // B's revocation ends A's grace: A's key.revoked names B.
    run(&ledger, Op::RevokeKey { id: b.clone() }, 5).unwrap();
    // A leak revocation: key.leaked, then key.revoked with the reason.
    let (c, _) = create(&ledger, true, 6);
    let mut seed = Seed::new([7; 32]);
    let entropy = Entropy {
        key: [7; 32],
        id: [7; 12],
        webhook: [7; 32],
    };
    let report = crate::leak::respond::LeakReport {
        key_id: c.clone(),
        reporter: "github".into(),
        url: Some("https://github.com/o/r/blob/main/.env".into()),
        source: Some("content".into()),
        occurrences: 3,
    };
    let test_secret = crate::key::test_secret();
    let mut leak = crate::leak::respond::plan(
        &config,
        &ledger,
        "acct_1",
        report,
        NOW_MS,
        &entropy,
        &test_secret,
    );
    let rows = enqueue(
        &config,
        &ledger,
        &ledger.hooks,
        "acct_1",
        &leak.changes,
        NOW_MS,
        &mut seed,
    )
    .unwrap();
    leak.changes.extend(rows);
    ledger.apply(leak.changes);
    for (status, seed) in [(AccountStatus::Suspended, 8), (AccountStatus::Active, 9)] {
        run(&ledger, Op::SetStatus { status }, seed).unwrap();
    }
    let limit = config.product("forgeai").unwrap().key_limit;
    for seed in 20..=(20 + limit as u8) {
        let _ = run(&ledger, Op::CreateKey(new_key(false)), seed);
    }
    // A's own webhook answers 410: webhook.disabled.
    let first = outbox(&ledger)
        .into_iter()
        .find(|r| r.delivery.hook == Hook::Key(a.clone()))
        .unwrap();
    let changes = api::settle(
        &config,
        &ledger.hooks,
        "acct_1",
        first,
        NOW_MS,
        12,
        &Response::Status(410),
        &mut seed,
    )
    .unwrap();
    ledger.apply(changes);

    let audit = ledger.events(None, 1_000).unwrap();
    let delivered: Vec<serde_json::Value> = outbox(&ledger).iter().map(body).collect();
    let mut seen = [false; 9];
    for event in &audit {
        seen[kind_index(event.kind)] = true;
        let wire = serde_json::to_value(event.kind).unwrap();
        let audit_data = event.data.as_object().unwrap();
        let carried = delivered.iter().any(|d| {
            d["type"] == wire
                && event.key_id.as_ref().is_none_or(|id| {
                    d["data"]["key_id"] == id.as_str() || wire == "webhook.disabled"
                })
                && audit_data
                    .iter()
                    .all(|(name, value)| d["data"][name] == *value)
        });
        assert!(
            carried,
            "no delivery of {wire} carries its audit data {}; delivered: {delivered:#?}",
            event.data
        );
    }
    assert_eq!(seen, [true; 9], "every kind of event was produced");
    // The two promises, spelled out.
    let revoked = |id: &str| {
        delivered
            .iter()
            .filter(|d| d["type"] == "key.revoked" && d["data"]["key_id"] == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(revoked(&a)
        .iter()
        .all(|d| d["data"]["replacement_revoked"] == b.as_str()));
    assert!(!revoked(&a).is_empty());
    assert!(revoked(&c).iter().all(|d| d["data"]["reason"] == "leaked"));
    assert!(!revoked(&c).is_empty());
}
