use super::*;
use crate::config::tests::demo_config;
use crate::key::{parse, Environment, KeyHash};
use crate::manage::memory::Memory;
use crate::manage::op::KeyStatus;
use crate::secret::ApiKey;

const NOW: i64 = 1_795_416_000;

/// The object's steps, in memory.
pub(in crate::manage) trait Run {
    fn run(&self, op: Op, now: i64, seed: u8) -> (Vec<IndexWrite>, Result<Reply, Error>);
    fn ok(&self, op: Op, now: i64, seed: u8) -> serde_json::Value {
        self.run(op, now, seed).1.unwrap().body
    }
    fn err(&self, op: Op, now: i64) -> Error {
        self.run(op, now, 99).1.unwrap_err()
    }
}

impl Run for Memory {
    /// Plans and, like the object, applies the changes.
    fn run(&self, op: Op, now: i64, seed: u8) -> (Vec<IndexWrite>, Result<Reply, Error>) {
        let entropy = Entropy {
            key: [seed; 32],
            id: [seed; 12],
            webhook: [seed.wrapping_add(1); 32],
        };
        let plan = plan(
            &demo_config(),
            self,
            "acct_1",
            op,
            now,
            &entropy,
            &crate::key::test_secret(),
        );
        self.apply(plan.changes);
        (plan.index, plan.reply)
    }
}

fn new_key(product: &str) -> NewKey {
    NewKey {
        allowed_ips: Default::default(),
        product: product.into(),
        name: "CI".into(),
        scopes: None,
        environment: Environment::Live,
        expires_at: None,
        webhook_url: None,
        owner_id: None,
        meta: None,
    }
}

fn create(ledger: &Memory, new: NewKey, seed: u8) -> serde_json::Value {
    ledger.ok(Op::CreateKey(new), NOW, seed)
}

fn id_of(reply: &serde_json::Value) -> String {
    reply["id"].as_str().unwrap().to_owned()
}

#[test]
fn create_returns_the_key_once_and_indexes_only_its_hash() {
    let ledger = Memory::default();
    let (index, reply) = ledger.run(
        Op::CreateKey(NewKey {
            webhook_url: Some("https://hooks.example.com/k".into()),
            expires_at: Some(NOW + 86_400),
            ..new_key("forgeai")
        }),
        NOW,
        1,
    );
    let reply = reply.unwrap();
    assert_eq!(reply.status, 201);
    let body = reply.body;
    let key = body["key"].as_str().unwrap();
    let parsed = parse(&ApiKey::new(key)).unwrap();
    assert!(key.starts_with("fai_live_"));
    assert_eq!(
        body["masked"],
        format!("{}…{}", parsed.display_prefix(), parsed.last4())
    );
    assert_eq!(body["scopes"], serde_json::json!(["read", "execute_flows"]));
    assert_eq!(body["status"], "active");
    assert_eq!(body["expires_at"], "2026-11-24T06:40:00Z");
    let secret = body["webhook_secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));

    assert_eq!(index.len(), 1);
    let write = &index[0];
    assert_eq!(write.hash, KeyHash::of(&ApiKey::new(key)).to_hex());
    assert_eq!(write.record.account, "acct_1");
    assert_eq!(write.record.id, id_of(&body));
    assert_eq!(
        write.expiration,
        Some(NOW + 86_400 + crate::ledger::RECORD_RETENTION_SECONDS)
    );

    // Never again: not in a listing, not in a get, not the hash either.
    let listed = ledger
        .ok(
            Op::ListKeys {
                status: None,
                product: None,
                owner_id: None,
                limit: 100,
                after: None,
            },
            NOW,
            0,
        )
        .to_string();
    let got = ledger
        .ok(Op::GetKey { id: id_of(&body) }, NOW, 0)
        .to_string();
    for shown in [&listed, &got] {
        assert!(!shown.contains(key));
        assert!(!shown.contains(secret));
        assert!(!shown.contains(&write.hash));
        assert!(shown.contains("https://hooks.example.com/k"));
    }
    let account = ledger.ok(Op::GetAccount, NOW, 0);
    assert_eq!(account["status"], "active");
}

#[test]
fn other_operations_need_an_existing_account() {
    let ledger = Memory::default();
    for op in [
        Op::ListKeys {
            status: None,
            product: None,
            owner_id: None,
            limit: 100,
            after: None,
        },
        Op::GetAccount,
        Op::ListEvents {
            limit: 5,
            before: None,
        },
        Op::RevokeKey {
            id: "key_00000000000000000".into(),
        },
    ] {
        assert_eq!(ledger.err(op, NOW), Error::AccountNotFound);
    }
    create(&ledger, new_key("salesforge"), 1);
    assert_eq!(
        ledger.err(
            Op::GetKey {
                id: "key_00000000000000000".into()
            },
            NOW
        ),
        Error::KeyNotFound
    );
}

#[test]
fn the_limit_counts_active_keys_per_product() {
    // forgeai has key_limit = 3 in the demo config.
    let ledger = Memory::default();
    let ids: Vec<String> = (1..=3)
        .map(|seed| id_of(&create(&ledger, new_key("forgeai"), seed)))
        .collect();
    let (index, reply) = ledger.run(Op::CreateKey(new_key("forgeai")), NOW, 9);
    assert_eq!(
        reply.unwrap_err(),
        Error::KeyLimitReached {
            product: "ForgeAI".into(),
            limit: 3
        }
    );
    assert!(index.is_empty(), "a refusal writes nothing to the edge");
    let events = ledger.ok(
        Op::ListEvents {
            limit: 1,
            before: None,
        },
        NOW,
        0,
    );
    assert_eq!(events["events"][0]["type"], "key.limit_reached");
    assert_eq!(events["events"][0]["data"]["limit"], 3);

    // Other products have their own count.
    create(&ledger, new_key("salesforge"), 10);
    // A rotation with a grace needs a free slot: the old key still works.
    let (index, refused) = ledger.run(
        Op::RotateKey {
            id: ids[0].clone(),
            grace_seconds: 60,
        },
        NOW,
        11,
    );
    assert_eq!(refused.unwrap_err().code(), "key_limit_reached");
    assert!(index.is_empty());
    // With no grace the old key frees its slot at once.
    ledger.ok(
        Op::RotateKey {
            id: ids[0].clone(),
            grace_seconds: 0,
        },
        NOW,
        11,
    );
    assert!(ledger
        .run(Op::CreateKey(new_key("forgeai")), NOW, 12)
        .1
        .is_err());
    ledger.ok(Op::RevokeKey { id: ids[1].clone() }, NOW, 0);
    create(&ledger, new_key("forgeai"), 13);
    assert!(ledger
        .run(Op::CreateKey(new_key("forgeai")), NOW, 14)
        .1
        .is_err());
    let short = Memory::default();
    short.ok(
        Op::CreateKey(NewKey {
            expires_at: Some(NOW + 10),
            ..new_key("forgeai")
        }),
        NOW,
        1,
    );
    create(&short, new_key("forgeai"), 2);
    create(&short, new_key("forgeai"), 3);
    assert!(short
        .run(Op::CreateKey(new_key("forgeai")), NOW, 4)
        .1
        .is_err());
    assert!(short
        .run(Op::CreateKey(new_key("forgeai")), NOW + 10, 5)
        .1
        .is_ok());
}

#[test]
fn rotation_chains_cannot_get_around_the_limit() {
    // The report: key_limit = 2, six rotations with a 7-day grace
    // left 8 working keys. Salesforge has key_limit = 10, so use a config
    // with 2.
    let ledger = Memory::default();
    let mut config = demo_config();
    for product in &mut config.products {
        product.key_limit = 2;
    }
    let run = |op: Op, now: i64, seed: u8| {
        let entropy = Entropy {
            key: [seed; 32],
            id: [seed; 12],
            webhook: [seed; 32],
        };
        let plan = plan(
            &config,
            &ledger,
            "acct_1",
            op,
            now,
            &entropy,
            &crate::key::test_secret(),
        );
        ledger.apply(plan.changes);
        plan.reply
    };
    let mut id = id_of(
        &run(Op::CreateKey(new_key("salesforge")), NOW, 1)
            .unwrap()
            .body,
    );
    let mut refusals = 0;
    for (i, seed) in (2..8u8).enumerate() {
        let now = NOW + i as i64;
        match run(
            Op::RotateKey {
                id: id.clone(),
                grace_seconds: 604_800,
            },
            now,
            seed,
        ) {
            Ok(reply) => id = id_of(&reply.body),
            Err(e) => {
                assert_eq!(e.code(), "key_limit_reached");
                refusals += 1;
            }
        }
    }
    assert_eq!(refusals, 5, "only the first rotation fits in 2 slots");
    let working = ledger
        .keys()
        .unwrap()
        .iter()
        .filter(|k| k.holds_a_slot(NOW + 10))
        .count();
    assert_eq!(working, 2);
    // Revoking the key in its grace frees its slot for the next rotation.
    let listed = ledger.keys().unwrap();
    let in_grace = listed
        .iter()
        .find(|k| k.replaced_by.is_some())
        .unwrap()
        .id
        .clone();
    run(Op::RevokeKey { id: in_grace }, NOW + 20, 0).unwrap();
    assert!(run(
        Op::RotateKey {
            id,
            grace_seconds: 604_800
        },
        NOW + 21,
        9
    )
    .is_ok());
}

#[test]
fn rotation_keeps_everything_but_the_value_and_bounds_the_old_key() {
    let ledger = Memory::default();
    let created = create(
        &ledger,
        NewKey {
            scopes: Some(vec!["read".into()]),
            expires_at: Some(NOW + 1_000),
            webhook_url: Some("https://h.example.com/".into()),
            ..new_key("forgeai")
        },
        1,
    );
    let old_id = id_of(&created);
    let (index, reply) = ledger.run(
        Op::RotateKey {
            id: old_id.clone(),
            grace_seconds: 300,
        },
        NOW + 10,
        2,
    );
    let rotated = reply.unwrap();
    assert_eq!(rotated.status, 201);
    let new = rotated.body;
    assert_ne!(new["key"], created["key"]);
    assert_ne!(new["id"], created["id"]);
    for field in [
        "name",
        "scopes",
        "expires_at",
        "webhook_url",
        "product",
        "environment",
    ] {
        assert_eq!(new[field], created[field], "{field}");
    }
    assert!(
        new.get("webhook_secret").is_none(),
        "the secret is shown once only"
    );
    assert_eq!(new["previous"]["id"], old_id.as_str());
    assert_eq!(new["previous"]["replaced_by"], new["id"]);
    assert_eq!(new["previous"]["status"], "active");
    assert_eq!(new["previous"]["revoked_at"], "2026-11-23T06:45:10Z");
    assert_eq!(index.len(), 2);
    assert_eq!(index[1].record.revoked_at, Some(NOW + 310));

    let old = ledger.ok(Op::GetKey { id: old_id.clone() }, NOW + 310, 0);
    assert_eq!(old["status"], "revoked");
    let err = ledger.err(
        Op::RotateKey {
            id: old_id.clone(),
            grace_seconds: 0,
        },
        NOW + 20,
    );
    assert_eq!(err.code(), "key_not_active");
    assert!(err.detail().contains(new["id"].as_str().unwrap()));

    // A grace longer than the remaining life ends at the expiry.
    let new_id = id_of(&new);
    let again = ledger.ok(
        Op::RotateKey {
            id: new_id,
            grace_seconds: 604_800,
        },
        NOW + 20,
        3,
    );
    assert_eq!(again["previous"]["revoked_at"], "2026-11-23T06:56:40Z");
    let events = ledger.ok(
        Op::ListEvents {
            limit: 10,
            before: None,
        },
        NOW,
        0,
    );
    assert_eq!(events["events"][0]["type"], "key.rotated");
    assert_eq!(events["events"][0]["data"]["grace_seconds"], 604_800);
}

#[test]
fn revocation_is_immediate_final_and_idempotent() {
    let ledger = Memory::default();
    let id = id_of(&create(&ledger, new_key("salesforge"), 1));
    let (index, reply) = ledger.run(Op::RevokeKey { id: id.clone() }, NOW + 5, 0);
    let revoked = reply.unwrap().body;
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(index[0].record.revoked_at, Some(NOW + 5));
    assert_eq!(
        index[0].expiration,
        Some(NOW + 5 + crate::ledger::RECORD_RETENTION_SECONDS)
    );
    let (index, again) = ledger.run(Op::RevokeKey { id: id.clone() }, NOW + 50, 0);
    assert!(index.is_empty());
    assert_eq!(again.unwrap().body, revoked);
    let err = ledger.err(
        Op::UpdateKey {
            allowed_ips: Default::default(),
            id: id.clone(),
            name: Some("x".into()),
            scopes: None,
            expires_at: None,
            enabled: None,
            meta: None,
        },
        NOW + 60,
    );
    assert_eq!(err.code(), "key_not_active");
    let revokes = ledger.ok(
        Op::ListEvents {
            limit: 10,
            before: None,
        },
        NOW,
        0,
    )["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "key.revoked")
        .count();
    assert_eq!(revokes, 1);
}

#[test]
fn updates_check_scopes_against_the_keys_product() {
    let ledger = Memory::default();
    let id = id_of(&create(&ledger, new_key("forgeai"), 1));
    let patch = |name: Option<&str>, scopes: Option<&[&str]>| Op::UpdateKey {
        allowed_ips: Default::default(),
        id: id.clone(),
        name: name.map(str::to_owned),
        scopes: scopes.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
        expires_at: None,
        enabled: None,
        meta: None,
    };
    let err = ledger.err(patch(None, Some(&["read", "send_campaigns"])), NOW);
    assert_eq!(err.field(), Some("scopes[1]"));
    let (index, reply) = ledger.run(patch(Some("Renamed"), Some(&["read"])), NOW, 0);
    let body = reply.unwrap().body;
    assert_eq!(
        (body["name"].as_str(), body["scopes"].clone()),
        (Some("Renamed"), serde_json::json!(["read"]))
    );
    assert_eq!(index[0].record.scopes, vec!["read"]);
    let (index, _) = ledger.run(patch(Some("Renamed"), None), NOW, 0);
    assert!(index.is_empty(), "no change, no write");
    let events = ledger.ok(
        Op::ListEvents {
            limit: 1,
            before: None,
        },
        NOW,
        0,
    );
    assert_eq!(events["events"][0]["type"], "key.updated");
    assert_eq!(
        events["events"][0]["data"]["scopes"]["from"],
        serde_json::json!(["read", "execute_flows"])
    );
}

#[test]
fn suspension_marks_every_usable_record_and_blocks_new_keys() {
    let ledger = Memory::default();
    let live = id_of(&create(&ledger, new_key("salesforge"), 1));
    let gone = id_of(&create(&ledger, new_key("salesforge"), 2));
    ledger.ok(Op::RevokeKey { id: gone }, NOW, 0);
    let suspend = Op::SetStatus {
        status: AccountStatus::Suspended,
    };
    let (index, reply) = ledger.run(suspend.clone(), NOW + 1, 0);
    assert_eq!(reply.unwrap().body["status"], "suspended");
    assert_eq!(index.len(), 1);
    assert_eq!(index[0].record.id, live);
    assert!(index[0].record.suspended);
    assert_eq!(ledger.run(suspend, NOW + 2, 0).0.len(), 0, "idempotent");
    assert_eq!(
        ledger.err(Op::CreateKey(new_key("salesforge")), NOW),
        Error::AccountSuspended
    );
    assert_eq!(
        ledger.err(
            Op::RotateKey {
                id: live.clone(),
                grace_seconds: 0
            },
            NOW
        ),
        Error::AccountSuspended
    );
    let verdict = ledger.ok(Op::Verify { id: live.clone() }, NOW + 3, 0);
    assert_eq!(verdict["suspended"], true);

    let (index, _) = ledger.run(
        Op::SetStatus {
            status: AccountStatus::Active,
        },
        NOW + 4,
        0,
    );
    assert!(!index[0].record.suspended);
    create(&ledger, new_key("salesforge"), 3);
    let kinds: Vec<String> = ledger.ok(
        Op::ListEvents {
            limit: 3,
            before: None,
        },
        NOW,
        0,
    )["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["key.created", "account.reactivated", "account.suspended"]
    );
}

#[test]
fn listing_filters_and_reports_use() {
    let ledger = Memory::default();
    let a = id_of(&create(&ledger, new_key("salesforge"), 1));
    let b = id_of(&ledger.ok(
        Op::CreateKey(NewKey {
            expires_at: Some(NOW + 5),
            ..new_key("forgeai")
        }),
        NOW + 1,
        2,
    ));
    ledger.ok(
        Op::NoteUse {
            id: a.clone(),
            at: NOW + 7,
        },
        NOW + 7,
        0,
    );
    ledger.ok(
        Op::NoteUse {
            id: a.clone(),
            at: NOW + 3,
        },
        NOW + 8,
        0,
    );
    let list = |status, product: Option<&str>| {
        ledger.ok(
            Op::ListKeys {
                status,
                product: product.map(str::to_owned),
                owner_id: None,
                limit: 100,
                after: None,
            },
            NOW + 10,
            0,
        )["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(list(None, None), [b.clone(), a.clone()], "newest first");
    assert_eq!(
        list(Some(KeyStatus::Expired), None),
        std::slice::from_ref(&b)
    );
    assert_eq!(
        list(Some(KeyStatus::Active), None),
        std::slice::from_ref(&a)
    );
    assert_eq!(list(None, Some("forgeai")), [b]);
    let got = ledger.ok(Op::GetKey { id: a }, NOW, 0);
    assert_eq!(got["last_used_at"], "2026-11-23T06:40:07Z");
}

#[test]
fn events_page_newest_first() {
    let ledger = Memory::default();
    let id = id_of(&create(&ledger, new_key("salesforge"), 1));
    for name in ["b", "c", "d"] {
        ledger.ok(
            Op::UpdateKey {
                allowed_ips: Default::default(),
                id: id.clone(),
                name: Some(name.into()),
                scopes: None,
                expires_at: None,
                enabled: None,
                meta: None,
            },
            NOW,
            0,
        );
    }
    let first = ledger.ok(
        Op::ListEvents {
            limit: 3,
            before: None,
        },
        NOW,
        0,
    );
    assert_eq!(first["events"][0]["id"], "evt_4");
    assert_eq!(first["events"][2]["id"], "evt_2");
    let cursor = first["next_cursor"].as_str().unwrap().parse().unwrap();
    let second = ledger.ok(
        Op::ListEvents {
            limit: 3,
            before: Some(cursor),
        },
        NOW,
        0,
    );
    assert_eq!(second["events"].as_array().unwrap().len(), 1);
    assert_eq!(second["events"][0]["type"], "key.created");
    assert_eq!(second["next_cursor"], serde_json::Value::Null);
}

/// K1 rotated to K2 (grace), K2 to K3 (grace): revoking K3 ends the grace
/// of K2 and K1 too, at the edge as in the ledger; revoking K2 alone ends
/// K1's but leaves K3, and a key past its grace is left as it was.
#[test]
fn revoking_a_rotated_key_ends_the_grace_of_the_keys_it_replaced() {
    let ledger = Memory::default();
    let k1 = id_of(&create(&ledger, new_key("forgeai"), 1));
    let rotate = |id: &str, grace: i64, now: i64, seed: u8| {
        let (_, reply) = ledger.run(
            Op::RotateKey {
                id: id.to_owned(),
                grace_seconds: grace,
            },
            now,
            seed,
        );
        id_of(&reply.unwrap().body)
    };
    let k2 = rotate(&k1, 86_400, NOW + 10, 2);
    let k3 = rotate(&k2, 3_600, NOW + 20, 3);
    let (index, reply) = ledger.run(Op::RevokeKey { id: k3.clone() }, NOW + 30, 0);
    assert_eq!(reply.unwrap().body["status"], "revoked");
    let mut revoked: Vec<&str> = index.iter().map(|w| w.record.id.as_str()).collect();
    revoked.sort_unstable();
    let mut want = vec![k1.as_str(), k2.as_str(), k3.as_str()];
    want.sort_unstable();
    assert_eq!(
        revoked, want,
        "every key in the chain is rewritten at the edge"
    );
    assert!(index.iter().all(|w| w.record.revoked_at == Some(NOW + 30)));
    for id in [&k1, &k2, &k3] {
        let view = ledger.ok(Op::GetKey { id: id.clone() }, NOW + 31, 0);
        assert_eq!(view["status"], "revoked", "{id}");
    }
    let events = ledger.ok(
        Op::ListEvents {
            limit: 20,
            before: None,
        },
        NOW + 31,
        0,
    );
    let cascaded = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "key.revoked" && e["data"]["replacement_revoked"].is_string())
        .count();
    assert_eq!(cascaded, 2);

    // Revoking the middle of a chain ends only what it replaced.
    let ledger = Memory::default();
    let a = id_of(&create(&ledger, new_key("forgeai"), 1));
    let rotate = |id: &str, grace: i64, now: i64, seed: u8| {
        let (_, reply) = ledger.run(
            Op::RotateKey {
                id: id.to_owned(),
                grace_seconds: grace,
            },
            now,
            seed,
        );
        id_of(&reply.unwrap().body)
    };
    let b = rotate(&a, 86_400, NOW + 10, 2);
    let c = rotate(&b, 60, NOW + 20, 3);
    // b's grace ended at NOW + 80; a's runs to NOW + 86_410.
    let (index, _) = ledger.run(Op::RevokeKey { id: c.clone() }, NOW + 200, 0);
    let ids: Vec<&str> = index.iter().map(|w| w.record.id.as_str()).collect();
    assert!(
        ids.contains(&a.as_str()),
        "through b, whose grace had ended"
    );
    assert!(!ids.contains(&b.as_str()), "b's own end is kept");
    let view = ledger.ok(Op::GetKey { id: b.clone() }, NOW + 201, 0);
    assert_eq!(view["revoked_at"], crate::record::format_rfc3339(NOW + 80));

    // Revoking a key that had already ended still ends what it replaced.
    let ledger = Memory::default();
    let a = id_of(&create(&ledger, new_key("forgeai"), 1));
    let (_, reply) = ledger.run(
        Op::RotateKey {
            id: a.clone(),
            grace_seconds: 86_400,
        },
        NOW + 10,
        2,
    );
    let b = id_of(&reply.unwrap().body);
    let (_, first) = ledger.run(Op::RevokeKey { id: b.clone() }, NOW + 20, 0);
    let first = first.unwrap().body;
    let view = ledger.ok(Op::GetKey { id: a.clone() }, NOW + 21, 0);
    assert_eq!(view["status"], "revoked");
    let (index, again) = ledger.run(Op::RevokeKey { id: b.clone() }, NOW + 30, 0);
    assert!(index.is_empty(), "nothing left to end");
    assert_eq!(again.unwrap().body, first, "idempotent");

    // A key whose grace ended by itself, revoked later, ends what it replaced.
    let ledger = Memory::default();
    let a = id_of(&create(&ledger, new_key("forgeai"), 1));
    let rotate = |id: &str, grace: i64, now: i64, seed: u8| {
        let (_, reply) = ledger.run(
            Op::RotateKey {
                id: id.to_owned(),
                grace_seconds: grace,
            },
            now,
            seed,
        );
        id_of(&reply.unwrap().body)
    };
    let b = rotate(&a, 86_400, NOW + 10, 2);
    rotate(&b, 60, NOW + 20, 3);
    let (index, reply) = ledger.run(Op::RevokeKey { id: b.clone() }, NOW + 100, 0);
    assert_eq!(
        reply.unwrap().body["revoked_at"],
        crate::record::format_rfc3339(NOW + 80)
    );
    let ids: Vec<&str> = index.iter().map(|w| w.record.id.as_str()).collect();
    assert_eq!(ids, [a.as_str()]);
}

/// What lets the object skip creating tables for an unknown account: every
/// op that `needs_account` is refused `account_not_found` by the plan
/// itself on an empty ledger, with nothing to write.
#[test]
fn ops_that_need_an_account_change_nothing_without_one() {
    let ops = [
        Op::ListKeys {
            status: None,
            product: None,
            owner_id: None,
            limit: 100,
            after: None,
        },
        Op::GetKey {
            id: "key_8Hq2Xn1Lr5Tb7Vc9Z".into(),
        },
        Op::UpdateKey {
            allowed_ips: Default::default(),
            id: "key_8Hq2Xn1Lr5Tb7Vc9Z".into(),
            name: Some("x".into()),
            scopes: None,
            expires_at: None,
            enabled: None,
            meta: None,
        },
        Op::RevokeKey {
            id: "key_8Hq2Xn1Lr5Tb7Vc9Z".into(),
        },
        Op::RotateKey {
            id: "key_8Hq2Xn1Lr5Tb7Vc9Z".into(),
            grace_seconds: 0,
        },
        Op::ListEvents {
            limit: 10,
            before: None,
        },
        Op::GetAccount,
        Op::SetStatus {
            status: crate::manage::AccountStatus::Suspended,
        },
        Op::Verify {
            id: "key_8Hq2Xn1Lr5Tb7Vc9Z".into(),
        },
        Op::NoteUse {
            id: "key_8Hq2Xn1Lr5Tb7Vc9Z".into(),
            at: NOW,
        },
    ];
    let entropy = Entropy {
        key: [1; 32],
        id: [1; 12],
        webhook: [1; 32],
    };
    for op in ops {
        assert!(op.needs_account(), "{op:?}");
        let plan = plan(
            &demo_config(),
            &Memory::default(),
            "acct_1",
            op.clone(),
            NOW,
            &entropy,
            &crate::key::test_secret(),
        );
        assert_eq!(plan.reply.unwrap_err(), Error::AccountNotFound, "{op:?}");
        assert!(plan.changes.is_empty() && plan.index.is_empty(), "{op:?}");
    }
    assert!(!Op::CreateKey(new_key("forgeai")).needs_account());
}

/// A change with `If-Match` goes ahead only while the resource still has
/// the tag its view had; any change (a rename, a revocation) moves the tag,
/// and use at the edge does not.
#[test]
fn if_match_guards_changes() {
    use crate::manage::etag::{self, IfMatch};
    let ledger = Memory::default();
    let id = id_of(&create(&ledger, new_key("forgeai"), 1));
    let tag = |ledger: &Memory| etag::of(&ledger.ok(Op::GetKey { id: id.clone() }, NOW + 1, 0));
    let first = tag(&ledger);
    let rename = |name: &str| Op::UpdateKey {
        allowed_ips: Default::default(),
        id: id.clone(),
        name: Some(name.into()),
        scopes: None,
        expires_at: None,
        enabled: None,
        meta: None,
    };
    let guarded = |tags: IfMatch, then: Op| Op::IfMatch {
        if_match: tags,
        then: Box::new(then),
    };
    // Use at the edge does not move the tag.
    ledger.ok(
        Op::NoteUse {
            id: id.clone(),
            at: NOW + 1,
        },
        NOW + 1,
        0,
    );
    assert_eq!(tag(&ledger), first);
    let renamed = ledger.ok(
        guarded(IfMatch::Tags(vec![first.clone()]), rename("b")),
        NOW + 2,
        0,
    );
    assert_eq!(renamed["name"], "b");
    assert_eq!(
        etag::of(&renamed),
        tag(&ledger),
        "the answer's tag is the new one"
    );
    // The old tag is stale now; a weak one never matches.
    let stale = ledger.err(
        guarded(IfMatch::Tags(vec![first.clone()]), rename("c")),
        NOW + 3,
    );
    assert_eq!(stale, Error::PreconditionFailed);
    let weak = IfMatch::Tags(vec![format!("W/{}", tag(&ledger))]);
    assert_eq!(
        ledger.err(guarded(weak, Op::RevokeKey { id: id.clone() }), NOW + 3),
        Error::PreconditionFailed
    );
    assert_eq!(
        ledger.ok(Op::GetKey { id: id.clone() }, NOW + 4, 0)["name"],
        "b",
        "a refused change changes nothing"
    );
    let revoked = ledger.ok(
        guarded(IfMatch::Any, Op::RevokeKey { id: id.clone() }),
        NOW + 5,
        0,
    );
    assert_eq!(revoked["status"], "revoked");
    // The account's tag guards status changes.
    let account_tag = etag::of(&ledger.ok(Op::GetAccount, NOW + 6, 0));
    let suspend = || Op::SetStatus {
        status: crate::manage::AccountStatus::Suspended,
    };
    assert_eq!(
        ledger.err(
            guarded(IfMatch::Tags(vec!["\"x\"".into()]), suspend()),
            NOW + 7
        ),
        Error::PreconditionFailed
    );
    let suspended = ledger.ok(
        guarded(IfMatch::Tags(vec![account_tag]), suspend()),
        NOW + 7,
        0,
    );
    assert_eq!(suspended["status"], "suspended");
    // An unknown key is 404 before any tag is compared.
    let missing = ledger.err(
        guarded(
            IfMatch::Any,
            Op::RevokeKey {
                id: "key_00000000000000000".into(),
            },
        ),
        NOW + 8,
    );
    assert_eq!(missing, Error::KeyNotFound);
}

#[test]
fn updates_move_or_remove_the_expiry_at_the_edge_too() {
    use crate::manage::op::Expiry;
    let ledger = Memory::default();
    let id = id_of(&create(&ledger, new_key("forgeai"), 1));
    let set = |expiry: Expiry, now: i64| {
        ledger.run(
            Op::UpdateKey {
                allowed_ips: Default::default(),
                id: id.clone(),
                name: None,
                scopes: None,
                expires_at: Some(expiry),
                enabled: None,
                meta: None,
            },
            now,
            0,
        )
    };
    let (index, reply) = set(Expiry::At(NOW + 500), NOW + 1);
    assert_eq!(
        reply.unwrap().body["expires_at"],
        crate::record::format_rfc3339(NOW + 500)
    );
    assert_eq!(index.len(), 1);
    assert_eq!(index[0].record.expires_at, Some(NOW + 500));
    let (index, reply) = set(Expiry::Never, NOW + 2);
    assert!(reply.unwrap().body["expires_at"].is_null());
    assert_eq!(index[0].record.expires_at, None);
    // Unchanged: nothing written.
    let (index, _) = set(Expiry::Never, NOW + 3);
    assert!(index.is_empty());
    let events = ledger.ok(
        Op::ListEvents {
            limit: 10,
            before: None,
        },
        NOW + 4,
        0,
    );
    let updates: Vec<&serde_json::Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "key.updated")
        .collect();
    assert_eq!(updates.len(), 2);
    assert!(updates[0]["data"]["expires_at"]["to"].is_null());
    // An expired key can no longer be changed.
    set(Expiry::At(NOW + 10), NOW + 5).1.unwrap();
    let (_, late) = set(Expiry::At(NOW + 5_000), NOW + 20);
    assert_eq!(late.unwrap_err().code(), "key_not_active");
}

#[test]
fn an_earlier_expiry_only_shortens_a_keys_life() {
    use crate::manage::op::Expiry;
    let ledger = Memory::default();
    let id = id_of(&create(&ledger, new_key("forgeai"), 1));
    let set = |expiry: Expiry| {
        ledger.run(
            Op::UpdateKey {
                allowed_ips: Default::default(),
                id: id.clone(),
                name: Some(format!("until {expiry:?}")),
                scopes: None,
                expires_at: Some(expiry),
                enabled: None,
                meta: None,
            },
            NOW + 1,
            0,
        )
    };
    let expires = |ledger: &Memory| ledger.key(&id).unwrap().unwrap().expires_at;
    // No expiry yet: any is a shortening.
    set(Expiry::Earlier(NOW + 1_000)).1.unwrap();
    assert_eq!(expires(&ledger), Some(NOW + 1_000));
    // Later is refused, whole: the name does not change either.
    let (index, later) = set(Expiry::Earlier(NOW + 1_001));
    let error = later.unwrap_err();
    assert_eq!(error.code(), "expiry_too_late");
    assert_eq!(error.status(), 403);
    assert!(error
        .detail()
        .contains(&crate::record::format_rfc3339(NOW + 1_000)));
    assert!(index.is_empty());
    assert_eq!(expires(&ledger), Some(NOW + 1_000));
    assert_eq!(
        ledger.key(&id).unwrap().unwrap().name,
        format!("until {:?}", Expiry::Earlier(NOW + 1_000))
    );
    // The same time, or earlier: fine.
    set(Expiry::Earlier(NOW + 1_000)).1.unwrap();
    set(Expiry::Earlier(NOW + 500)).1.unwrap();
    assert_eq!(expires(&ledger), Some(NOW + 500));
}

#[test]
fn keys_carry_an_owner_and_list_by_it() {
    let ledger = Memory::default();
    let mine = |owner: Option<&str>, seed: u8| {
        id_of(&create(
            &ledger,
            NewKey {
                owner_id: owner.map(str::to_owned),
                ..new_key("forgeai")
            },
            seed,
        ))
    };
    let a = mine(Some("user_1"), 1);
    let b = mine(Some("user_2"), 2);
    let c = mine(None, 3);
    let list = |owner: Option<&str>| -> Vec<String> {
        ledger.ok(
            Op::ListKeys {
                status: None,
                product: None,
                owner_id: owner.map(str::to_owned),
                limit: 100,
                after: None,
            },
            NOW + 1,
            0,
        )["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(list(Some("user_1")), std::slice::from_ref(&a));
    assert_eq!(list(Some("user_2")), std::slice::from_ref(&b));
    assert!(list(Some("user_3")).is_empty());
    assert_eq!(list(None).len(), 3);
    let view = ledger.ok(Op::GetKey { id: c }, NOW + 1, 0);
    assert!(view["owner_id"].is_null());
    // Rotation keeps the owner.
    let (_, rotated) = ledger.run(
        Op::RotateKey {
            id: a,
            grace_seconds: 0,
        },
        NOW + 2,
        4,
    );
    assert_eq!(rotated.unwrap().body["owner_id"], "user_1");
}

#[test]
fn keys_turn_off_and_on_without_revocation() {
    let ledger = Memory::default();
    let id = id_of(&create(&ledger, new_key("forgeai"), 1));
    let set = |enabled: bool, now: i64| {
        ledger.run(
            Op::UpdateKey {
                allowed_ips: Default::default(),
                id: id.clone(),
                name: None,
                scopes: None,
                expires_at: None,
                enabled: Some(enabled),
                meta: None,
            },
            now,
            0,
        )
    };
    let (index, reply) = set(false, NOW + 1);
    let view = reply.unwrap().body;
    assert_eq!(
        (view["enabled"].as_bool(), view["status"].as_str()),
        (Some(false), Some("active"))
    );
    assert!(index[0].record.disabled, "the edge refuses it");
    let (index, _) = set(false, NOW + 2);
    assert!(index.is_empty(), "unchanged: nothing written");
    let (index, reply) = set(true, NOW + 3);
    assert_eq!(reply.unwrap().body["enabled"], true);
    assert!(!index[0].record.disabled);
    let events = ledger.ok(
        Op::ListEvents {
            limit: 10,
            before: None,
        },
        NOW + 4,
        0,
    );
    let toggles = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "key.updated" && e["data"]["enabled"].is_object())
        .count();
    assert_eq!(toggles, 2);
}

#[test]
fn meta_is_kept_shown_replaced_and_removed() {
    let ledger = Memory::default();
    let meta = |v: serde_json::Value| v.as_object().cloned();
    let id = id_of(&create(
        &ledger,
        NewKey {
            meta: meta(serde_json::json!({"plan": "pro", "seats": 5})),
            ..new_key("forgeai")
        },
        1,
    ));
    let view = ledger.ok(Op::GetKey { id: id.clone() }, NOW + 1, 0);
    assert_eq!(view["meta"], serde_json::json!({"plan": "pro", "seats": 5}));
    let set = |m: serde_json::Value, now: i64| {
        ledger.run(
            Op::UpdateKey {
                allowed_ips: Default::default(),
                id: id.clone(),
                name: None,
                scopes: None,
                expires_at: None,
                enabled: None,
                meta: meta(m),
            },
            now,
            0,
        )
    };
    let (_, reply) = set(serde_json::json!({"plan": "team"}), NOW + 2);
    assert_eq!(
        reply.unwrap().body["meta"],
        serde_json::json!({"plan": "team"})
    );
    let (_, reply) = set(serde_json::json!({}), NOW + 3);
    assert!(
        reply.unwrap().body["meta"].is_null(),
        "an empty object removes it"
    );
    // Events say it changed, never what it holds.
    let events = ledger.ok(
        Op::ListEvents {
            limit: 10,
            before: None,
        },
        NOW + 4,
        0,
    );
    let text = events.to_string();
    assert!(!text.contains("plan") && !text.contains("team"), "{text}");
    // Rotation keeps it.
    set(serde_json::json!({"plan": "pro"}), NOW + 5).1.unwrap();
    let (_, rotated) = ledger.run(
        Op::RotateKey {
            id: id.clone(),
            grace_seconds: 0,
        },
        NOW + 6,
        2,
    );
    assert_eq!(
        rotated.unwrap().body["meta"],
        serde_json::json!({"plan": "pro"})
    );
}

#[test]
fn allowed_ips_are_kept_indexed_replaced_cleared_and_rotated() {
    let ledger = Memory::default();
    let list = |l: &[&str]| crate::ip_allow::AllowList::parse(l).unwrap();
    let (index, reply) = ledger.run(
        Op::CreateKey(NewKey {
            allowed_ips: list(&["203.0.113.0/24"]),
            ..new_key("forgeai")
        }),
        NOW,
        1,
    );
    let body = reply.unwrap().body;
    let id = id_of(&body);
    assert_eq!(body["allowed_ips"], serde_json::json!(["203.0.113.0/24"]));
    // The list travels in the KV record: no other read at the edge.
    assert_eq!(index[0].record.allowed_ips, list(&["203.0.113.0/24"]));
    let set = |l: crate::ip_allow::AllowList, now: i64| {
        ledger.run(
            Op::UpdateKey {
                allowed_ips: Some(l),
                id: id.clone(),
                name: None,
                scopes: None,
                expires_at: None,
                enabled: None,
                meta: None,
            },
            now,
            0,
        )
    };
    let (index, reply) = set(list(&["2001:db8::/32"]), NOW + 1);
    assert_eq!(
        reply.unwrap().body["allowed_ips"],
        serde_json::json!(["2001:db8::/32"])
    );
    assert_eq!(index[0].record.allowed_ips, list(&["2001:db8::/32"]));
    // The event says what changed, from and to.
    let events = ledger.ok(
        Op::ListEvents {
            limit: 1,
            before: None,
        },
        NOW + 1,
        0,
    );
    assert_eq!(
        events["events"][0]["data"]["allowed_ips"],
        serde_json::json!({"from": ["203.0.113.0/24"], "to": ["2001:db8::/32"]})
    );
    // The same list again changes nothing and writes nothing.
    let (index, _) = set(list(&["2001:db8::/32"]), NOW + 2);
    assert!(index.is_empty());
    // Rotation keeps it, on the new key's record too.
    let (index, rotated) = ledger.run(
        Op::RotateKey {
            id: id.clone(),
            grace_seconds: 60,
        },
        NOW + 3,
        2,
    );
    let rotated = rotated.unwrap().body;
    assert_eq!(rotated["allowed_ips"], serde_json::json!(["2001:db8::/32"]));
    assert!(index
        .iter()
        .all(|w| w.record.allowed_ips == list(&["2001:db8::/32"])));
    // [] clears it: the product's default applies again.
    let (index, reply) = ledger.run(
        Op::UpdateKey {
            allowed_ips: Some(list(&[])),
            id: id_of(&rotated),
            name: None,
            scopes: None,
            expires_at: None,
            enabled: None,
            meta: None,
        },
        NOW + 4,
        0,
    );
    assert_eq!(reply.unwrap().body["allowed_ips"], serde_json::json!([]));
    assert!(index[0].record.allowed_ips.is_empty());
    assert!(!index[0].record.to_json().contains("allowed_ips"));
}
