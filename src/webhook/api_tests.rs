use super::*;
use crate::manage::memory::Memory;
use crate::manage::op::Op;
use crate::webhook::outbox::tests::{create, run};

fn hook(ledger: &Memory, call: HookOp) -> Result<Reply, Error> {
    run(ledger, Op::Hook { call }, 50)
}

#[test]
fn an_endpoint_secret_is_shown_once() {
    let ledger = Memory::default();
    create(&ledger, false, 1);
    let created = hook(
        &ledger,
        HookOp::CreateEndpoint {
            url: "https://ops.example.com/h".into(),
            event_types: vec![],
        },
    )
    .unwrap();
    assert_eq!(created.status, 201);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert!(crate::webhook::sign::SigningKey::parse(&secret).is_ok());
    let listed = hook(&ledger, HookOp::ListEndpoints).unwrap().body;
    assert_eq!(listed["webhooks"][0]["id"], created.body["id"]);
    assert!(!listed.to_string().contains(&secret));
    assert!(listed["webhooks"][0].get("secret").is_none());
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        hook(&ledger, HookOp::DeleteEndpoint { id: id.clone() })
            .unwrap()
            .status,
        204
    );
    assert_eq!(
        hook(&ledger, HookOp::DeleteEndpoint { id }).unwrap_err(),
        Error::WebhookNotFound
    );
}

#[test]
fn endpoints_are_limited() {
    let ledger = Memory::default();
    create(&ledger, false, 1);
    for _ in 0..MAX_ENDPOINTS {
        hook(
            &ledger,
            HookOp::CreateEndpoint {
                url: "https://ops.example.com/h".into(),
                event_types: vec![],
            },
        )
        .unwrap();
    }
    let error = hook(
        &ledger,
        HookOp::CreateEndpoint {
            url: "https://ops.example.com/h".into(),
            event_types: vec![],
        },
    )
    .unwrap_err();
    assert_eq!(error.code(), "webhook_unavailable");
}

#[test]
fn unknown_accounts_have_no_webhooks() {
    let ledger = Memory::default();
    assert_eq!(
        hook(&ledger, HookOp::ListEndpoints).unwrap_err(),
        Error::AccountNotFound
    );
}

#[test]
fn a_relay_goes_to_the_key_webhook_only() {
    let ledger = Memory::default();
    let (without, _) = create(&ledger, false, 1);
    let error = hook(
        &ledger,
        HookOp::Relay {
            key_id: without,
            kind: "job.completed".into(),
            data: Map::new(),
        },
    )
    .unwrap_err();
    assert_eq!(error.code(), "webhook_unavailable");

    let (with, _) = create(&ledger, true, 2);
    let mut data = Map::new();
    data.insert("job".into(), "j_1".into());
    let reply = hook(
        &ledger,
        HookOp::Relay {
            key_id: with.clone(),
            kind: "job.completed".into(),
            data,
        },
    )
    .unwrap();
    assert_eq!(reply.status, 202);
    assert_eq!(reply.body["type"], "job.completed");
    let rows = ledger.hooks.outbox.borrow().clone();
    let relayed = rows.last().unwrap();
    assert_eq!(relayed.delivery.hook, Hook::Key(with.clone()));
    assert_eq!(
        relayed.body,
        format!(
            "{{\"type\":\"job.completed\",\"timestamp\":\"{}\",\"data\":{{\"job\":\"j_1\"}}}}",
            format_rfc3339(super::super::outbox::tests::NOW_FOR_API)
        )
    );
    // Posing as keygate is refused.
    let error = hook(
        &ledger,
        HookOp::Relay {
            key_id: with,
            kind: "key.revoked".into(),
            data: Map::new(),
        },
    )
    .unwrap_err();
    assert_eq!(error.code(), "invalid_field");
}

#[test]
fn deliveries_are_listed_per_key_and_retried() {
    let ledger = Memory::default();
    let (id, _) = create(&ledger, true, 1);
    for seed in 2..6u8 {
        run(
            &ledger,
            Op::UpdateKey {
                allowed_ips: Default::default(),
                id: id.clone(),
                name: Some(format!("n{seed}")),
                scopes: None,
                expires_at: None,
                enabled: None,
                meta: None,
            },
            seed,
        )
        .unwrap();
    }
    let page = hook(
        &ledger,
        HookOp::ListDeliveries {
            key_id: id.clone(),
            limit: 3,
            before: None,
        },
    )
    .unwrap()
    .body;
    assert_eq!(page["deliveries"].as_array().unwrap().len(), 3);
    let cursor: i64 = page["next_cursor"].as_str().unwrap().parse().unwrap();
    let rest = hook(
        &ledger,
        HookOp::ListDeliveries {
            key_id: id.clone(),
            limit: 3,
            before: Some(cursor),
        },
    )
    .unwrap()
    .body;
    assert_eq!(rest["deliveries"].as_array().unwrap().len(), 2);
    assert_eq!(rest["next_cursor"], Value::Null);
    assert_eq!(rest["deliveries"][1]["type"], "key.created");

    // Delivered: not retried.
    let first = ledger.hooks.outbox.borrow()[0].clone();
    let delivery_id = first.delivery.id.clone();
    let mut seed = Seed::new([3; 32]);
    let changes = settle(
        &crate::config::tests::demo_config(),
        &ledger.hooks,
        "acct_1",
        first,
        0,
        1,
        &Response::Status(200),
        &mut seed,
    )
    .unwrap();
    ledger.apply(changes);
    let error = hook(
        &ledger,
        HookOp::RetryDelivery {
            key_id: id.clone(),
            id: delivery_id,
        },
    )
    .unwrap_err();
    assert_eq!(error.code(), "webhook_unavailable");
    // Another key's delivery is not found through this key.
    let (other, _) = create(&ledger, true, 9);
    let theirs = ledger
        .hooks
        .outbox
        .borrow()
        .last()
        .unwrap()
        .delivery
        .id
        .clone();
    assert_eq!(
        hook(
            &ledger,
            HookOp::RetryDelivery {
                key_id: id,
                id: theirs.clone()
            }
        )
        .unwrap_err(),
        Error::WebhookNotFound
    );
    assert_eq!(
        hook(
            &ledger,
            HookOp::RetryDelivery {
                key_id: other,
                id: theirs
            }
        )
        .unwrap()
        .status,
        202
    );
}

#[test]
fn a_rotated_webhook_secret_is_shown_once_and_the_old_one_signs_for_a_day() {
    let ledger = Memory::default();
    let (plain, _) = create(&ledger, false, 1);
    assert_eq!(
        hook(&ledger, HookOp::RotateSecret { key_id: plain })
            .unwrap_err()
            .code(),
        "webhook_unavailable"
    );
    let (id, old) = create(&ledger, true, 2);
    let reply = hook(&ledger, HookOp::RotateSecret { key_id: id.clone() }).unwrap();
    assert_eq!(reply.status, 200);
    let new = reply.body["webhook_secret"].as_str().unwrap().to_owned();
    assert_ne!(Some(new.clone()), old);
    let key = ledger.key(&id).unwrap().unwrap();
    assert_eq!(
        key.webhook_secret.as_ref().map(|s| s.expose()),
        Some(new.as_str())
    );
    let previous = ledger.hooks.previous_secret(&id).unwrap().unwrap();
    assert_eq!(Some(previous.secret.expose().to_owned()), old);
    let now = super::super::outbox::tests::NOW_FOR_API;
    assert_eq!(previous.until, now + 86_400);
    // The view never shows either secret again.
    let view = run(&ledger, Op::GetKey { id }, 3).unwrap().body.to_string();
    assert!(!view.contains(&new) && !view.contains(old.as_deref().unwrap()));
}
