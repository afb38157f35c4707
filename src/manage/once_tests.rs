//! Idempotency-Key, key-list paging and retention, through [`plan`] over
//! the in-memory ledger (the object's steps without SQLite).

use serde_json::{json, Value};

use super::account::tests::Run;
use super::account::{plan, Entropy};
use super::idempotency::{ticket, Caller, KEPT_SECONDS};
use super::listing::KeyCursor;
use super::memory::Memory;
use super::once::wrap;
use super::op::{KeyStatus, NewKey, Op};
use crate::config::tests::demo_config;
use crate::key::Environment;
use crate::secret::AdminToken;
use crate::webhook::Change;

const NOW: i64 = 1_795_416_000;
const DAY: i64 = 86_400;

fn token() -> AdminToken {
    AdminToken::new("an-admin-token-of-at-least-32-characters").unwrap()
}

fn new_key(product: &str, name: &str) -> NewKey {
    NewKey {
        allowed_ips: Default::default(),
        product: product.into(),
        name: name.into(),
        scopes: None,
        environment: Environment::Live,
        expires_at: None,
        webhook_url: None,
        owner_id: None,
        meta: None,
    }
}

/// A create with `key` as its Idempotency-Key; `body` stands for the
/// request body the fingerprint covers.
fn once_create(key: &str, body: &str, name: &str) -> Op {
    wrap(
        Op::CreateKey(new_key("forgeai", name)),
        Some(key),
        &token(),
        "POST",
        "/accounts/acct_1/keys",
        body.as_bytes(),
    )
    .unwrap()
}

fn list(ledger: &Memory, now: i64, status: Option<KeyStatus>) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let op = Op::ListKeys {
            status,
            product: None,
            owner_id: None,
            limit: 2,
            after: after.clone(),
        };
        let body = ledger.run(op, now, 0).1.unwrap().body;
        for key in body["keys"].as_array().unwrap() {
            ids.push(key["id"].as_str().unwrap().to_owned());
        }
        match body["next_cursor"].as_str() {
            None => return ids,
            Some(text) => after = Some(KeyCursor::parse(text).unwrap()),
        }
    }
}

#[test]
fn a_retried_create_answers_the_same_and_makes_one_key() {
    let ledger = Memory::default();
    let (index, first) = ledger.run(once_create("k1", "{}", "CI"), NOW, 1);
    let first = first.unwrap();
    assert_eq!(first.status, 201);
    assert_eq!(index.len(), 1);
    // The retry: another random draw, later, same answer, nothing written.
    let (index, again) = ledger.run(once_create("k1", "{}", "CI"), NOW + 60, 2);
    assert_eq!(again.unwrap(), first);
    assert!(index.is_empty());
    assert_eq!(list(&ledger, NOW + 60, None).len(), 1);
    // Another key makes another key.
    let (_, other) = ledger.run(once_create("k2", "{}", "CI"), NOW + 60, 3);
    assert_ne!(other.unwrap().body["key"], first.body["key"]);
    assert_eq!(list(&ledger, NOW + 60, None).len(), 2);
}

#[test]
fn the_same_key_with_another_body_is_422_and_changes_nothing() {
    let ledger = Memory::default();
    ledger
        .run(once_create("k1", "{\"a\":1}", "CI"), NOW, 1)
        .1
        .unwrap();
    let (index, error) = ledger.run(once_create("k1", "{\"a\":2}", "other"), NOW + 1, 2);
    let error = error.unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (422, "idempotency_key_reused")
    );
    assert!(index.is_empty());
    assert_eq!(list(&ledger, NOW + 1, None).len(), 1);
    // On another path (a rotate) too.
    let rotate = wrap(
        Op::RotateKey {
            id: "key_00000000000000000".into(),
            grace_seconds: 0,
        },
        Some("k1"),
        &token(),
        "POST",
        "/accounts/acct_1/keys/key_00000000000000000/rotate",
        b"{\"a\":1}",
    )
    .unwrap();
    assert_eq!(
        ledger.run(rotate, NOW + 2, 3).1.unwrap_err().code(),
        "idempotency_key_reused"
    );
}

#[test]
fn a_retry_at_the_limit_gets_the_kept_answer_not_a_refusal() {
    let ledger = Memory::default();
    let limit = demo_config().product("forgeai").unwrap().key_limit;
    let mut first = None;
    for n in 0..limit {
        let reply = ledger.run(once_create(&format!("k{n}"), "{}", "CI"), NOW, n as u8);
        first.get_or_insert(reply.1.unwrap());
    }
    let error = ledger.run(once_create("fresh", "{}", "CI"), NOW, 200).1;
    assert_eq!(error.unwrap_err().code(), "key_limit_reached");
    let again = ledger.run(once_create("k0", "{}", "CI"), NOW + 5, 201).1;
    assert_eq!(again.unwrap(), first.unwrap());
    assert_eq!(list(&ledger, NOW + 5, None).len(), limit as usize);
}

#[test]
fn a_refusal_is_not_kept_and_a_failed_commit_keeps_nothing() {
    let ledger = Memory::default();
    // Refused (unknown account for a rotate): not kept, so a retry runs.
    let rotate = |seed| {
        let op = wrap(
            Op::RotateKey {
                id: "key_00000000000000000".into(),
                grace_seconds: 0,
            },
            Some("r"),
            &token(),
            "POST",
            "/accounts/acct_1/keys/key_00000000000000000/rotate",
            b"{}",
        )
        .unwrap();
        ledger.run(op, NOW, seed).1
    };
    assert_eq!(rotate(1).unwrap_err().code(), "account_not_found");
    assert_eq!(rotate(2).unwrap_err().code(), "account_not_found");
    // The kept answer travels with the key in one change list: a plan
    // whose commit fails keeps neither.
    let entropy = Entropy {
        key: [9; 32],
        id: [9; 12],
        webhook: [9; 32],
    };
    let planned = plan(
        &demo_config(),
        &ledger,
        "acct_1",
        once_create("c", "{}", "CI"),
        NOW,
        &entropy,
        &crate::key::test_secret(),
    );
    let kinds: Vec<bool> = planned
        .changes
        .iter()
        .map(|c| matches!(c, Change::PutIdempotent(_)))
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k).count(), 1);
    assert!(planned
        .changes
        .iter()
        .any(|c| matches!(c, Change::PutKey(_))));
    // Not applied (the commit failed): the retry creates the key, once.
    let first = ledger
        .run(once_create("c", "{}", "CI"), NOW + 1, 10)
        .1
        .unwrap();
    let again = ledger
        .run(once_create("c", "{}", "CI"), NOW + 2, 11)
        .1
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(list(&ledger, NOW + 2, None).len(), 1);
}

#[test]
fn kept_answers_last_24_hours_then_the_key_runs_again() {
    let ledger = Memory::default();
    let first = ledger.run(once_create("k", "{}", "CI"), NOW, 1).1.unwrap();
    let late = NOW + KEPT_SECONDS - 1;
    assert_eq!(
        ledger.run(once_create("k", "{}", "CI"), late, 2).1.unwrap(),
        first
    );
    let after = NOW + KEPT_SECONDS;
    let fresh = ledger
        .run(once_create("k", "{}", "CI"), after, 3)
        .1
        .unwrap();
    assert_ne!(fresh.body["id"], first.body["id"]);
    // That change pruned the old answer and kept the new one.
    let ticket = ticket(
        &token(),
        &Caller::Admin,
        "k",
        "POST",
        "/accounts/acct_1/keys",
        b"{}",
    );
    use crate::ledger::Ledger;
    let row = ledger.idempotent(&ticket.id).unwrap().unwrap();
    assert_eq!(row.created_at, after);
}

#[test]
fn a_rotate_with_a_key_is_replayed_and_the_old_key_rotates_once() {
    let ledger = Memory::default();
    let created = ledger
        .run(Op::CreateKey(new_key("forgeai", "CI")), NOW, 1)
        .1
        .unwrap();
    let id = created.body["id"].as_str().unwrap().to_owned();
    let rotate = || {
        wrap(
            Op::RotateKey {
                id: id.clone(),
                grace_seconds: 3600,
            },
            Some("rot-1"),
            &token(),
            "POST",
            &format!("/accounts/acct_1/keys/{id}/rotate"),
            b"{\"grace_seconds\":3600}",
        )
        .unwrap()
    };
    let first = ledger.run(rotate(), NOW + 10, 2).1.unwrap();
    assert_eq!(first.status, 201);
    // The old key is rotated now, so a second real rotate would be 409:
    // the retry gets the first answer instead.
    let again = ledger.run(rotate(), NOW + 20, 3).1.unwrap();
    assert_eq!(again, first);
    assert_eq!(list(&ledger, NOW + 20, None).len(), 2);
}

#[test]
fn paging_walks_every_key_once_newest_first() {
    let ledger = Memory::default();
    let mut made = Vec::new();
    // Several keys per second, so the id breaks ties.
    for n in 0..7u8 {
        let now = NOW + i64::from(n / 3);
        let reply = ledger.run(Op::CreateKey(new_key("mailforge", "m")), now, n + 1);
        made.push((
            now,
            reply.1.unwrap().body["id"].as_str().unwrap().to_owned(),
        ));
    }
    made.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = made.into_iter().map(|(_, id)| id).collect();
    let walked = list(&ledger, NOW + 10, None);
    assert_eq!(walked, expected);
    // Revoke two: the active filter pages over the others only.
    for id in &expected[1..3] {
        ledger
            .run(Op::RevokeKey { id: id.clone() }, NOW + 11, 0)
            .1
            .unwrap();
    }
    let active = list(&ledger, NOW + 12, Some(KeyStatus::Active));
    let mut want = expected.clone();
    want.drain(1..3);
    assert_eq!(active, want);
    assert_eq!(
        list(&ledger, NOW + 12, Some(KeyStatus::Revoked)),
        expected[1..3]
    );
}

#[test]
fn a_page_ends_with_a_cursor_only_when_more_follow() {
    let ledger = Memory::default();
    for n in 0..2u8 {
        ledger
            .run(Op::CreateKey(new_key("forgeai", "x")), NOW, n + 1)
            .1
            .unwrap();
    }
    let page = |limit| {
        let op = Op::ListKeys {
            status: None,
            product: None,
            owner_id: None,
            limit,
            after: None,
        };
        ledger.run(op, NOW, 0).1.unwrap().body
    };
    assert_eq!(page(2)["next_cursor"], Value::Null);
    assert_eq!(page(2)["keys"].as_array().unwrap().len(), 2);
    let first = page(1);
    let cursor = first["next_cursor"].as_str().unwrap();
    assert_eq!(
        cursor,
        format!("{NOW}.{}", first["keys"][0]["id"].as_str().unwrap())
    );
}

#[test]
fn cursors_are_read_back_strictly() {
    let id = "key_00000000000000000";
    let cursor = KeyCursor::parse(&format!("1795416000.{id}")).unwrap();
    assert_eq!(cursor.created_at, 1_795_416_000);
    assert_eq!(cursor.to_text(), format!("1795416000.{id}"));
    for bad in [
        "",
        ".",
        "1795416000",
        "1795416000.",
        &format!(".{id}"),
        &format!("-1.{id}"),
        &format!("+1.{id}"),
        &format!("1e3.{id}"),
        &format!("9999999999999999.{id}"),
        &format!("1795416000.{id}x"),
        "1795416000.key_000",
        &format!("01795416000.{id}"),
        &format!("00.{id}"),
        &format!("1795416000..{id}"),
    ] {
        assert_eq!(KeyCursor::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn ended_keys_are_pruned_after_the_retention_and_their_events_stay() {
    let ledger = Memory::default();
    let retention = i64::from(demo_config().key_retention_days) * DAY;
    let ids: Vec<String> = (0..3u8)
        .map(|n| {
            let reply = ledger.run(Op::CreateKey(new_key("forgeai", "r")), NOW, n + 1);
            reply.1.unwrap().body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let (revoked, rotated, kept) = (&ids[0], &ids[1], &ids[2]);
    ledger
        .run(
            Op::RevokeKey {
                id: revoked.clone(),
            },
            NOW + 10,
            0,
        )
        .1
        .unwrap();
    let rotation = Op::RotateKey {
        id: rotated.clone(),
        grace_seconds: 100,
    };
    let successor = ledger.run(rotation, NOW + 10, 7).1.unwrap().body["id"].clone();
    // A day short of the retention: a change prunes nothing yet.
    let touch = |now| {
        let op = Op::UpdateKey {
            allowed_ips: Default::default(),
            id: kept.clone(),
            name: Some(format!("n{now}")),
            scopes: None,
            expires_at: None,
            enabled: None,
            meta: None,
        };
        ledger.run(op, now, 0).1.unwrap();
    };
    touch(NOW + 10 + retention - DAY);
    assert_eq!(list(&ledger, NOW + retention, None).len(), 4);
    // Past it: the revoked key and the replaced one (ended at the end of
    // its grace) go; the working keys stay.
    touch(NOW + 110 + retention);
    let left = list(&ledger, NOW + 110 + retention, None);
    assert_eq!(left.len(), 2);
    assert!(left.contains(kept));
    assert!(left.contains(&successor.as_str().unwrap().to_owned()));
    // Their events stay.
    let events = ledger
        .run(
            Op::ListEvents {
                limit: 100,
                before: None,
            },
            NOW + 110 + retention,
            0,
        )
        .1
        .unwrap()
        .body;
    let about: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["key_id"] == json!(revoked) || e["key_id"] == json!(rotated))
        .collect();
    assert!(about.len() >= 3, "{about:?}");
}

#[test]
fn use_reports_do_not_prune() {
    let ledger = Memory::default();
    let id = ledger
        .run(Op::CreateKey(new_key("forgeai", "r")), NOW, 1)
        .1
        .unwrap()
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let entropy = Entropy {
        key: [0; 32],
        id: [0; 12],
        webhook: [0; 32],
    };
    let planned = plan(
        &demo_config(),
        &ledger,
        "acct_1",
        Op::NoteUse { id, at: NOW + 1 },
        NOW + 1,
        &entropy,
        &crate::key::test_secret(),
    );
    assert_eq!(planned.changes.len(), 1);
}

#[test]
fn only_a_post_with_the_header_is_wrapped() {
    let op = || Op::GetAccount;
    let t = token();
    assert_eq!(
        wrap(op(), Some("k"), &t, "GET", "/accounts/a", b"").unwrap(),
        op()
    );
    assert_eq!(
        wrap(op(), None, &t, "POST", "/accounts/a/keys", b"").unwrap(),
        op()
    );
    assert!(matches!(
        wrap(op(), Some("k"), &t, "POST", "/accounts/a/keys", b"").unwrap(),
        Op::Once { .. }
    ));
    assert_eq!(
        wrap(op(), Some(""), &t, "POST", "/accounts/a/keys", b"").unwrap(),
        op()
    );
    let error = wrap(op(), Some("bad key"), &t, "POST", "/accounts/a/keys", b"").unwrap_err();
    assert_eq!(error.code(), "invalid_field");
    // An encoded account id is the same request as the plain one.
    let fingerprint = |path| match wrap(op(), Some("k"), &t, "POST", path, b"{}").unwrap() {
        Op::Once { ticket, .. } => ticket.fingerprint,
        _ => unreachable!(),
    };
    assert_eq!(
        fingerprint("/accounts/team%3A42/keys"),
        fingerprint("/accounts/team:42/keys")
    );
    // The op still needs the account its inner op needs.
    let create = wrap(
        Op::CreateKey(new_key("forgeai", "x")),
        Some("k"),
        &t,
        "POST",
        "/accounts/a/keys",
        b"",
    )
    .unwrap();
    assert!(!create.needs_account());
}
