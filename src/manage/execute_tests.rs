use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::task::{Context, Poll, Waker};

use super::*;
use crate::config::tests::demo_config;
use crate::key::Environment;
use crate::manage::memory::Memory;
use crate::manage::op::{NewKey, Op};
use crate::manage::{plan, AccountStatus, Entropy};
use crate::record::KeyRecord;

const NOW: i64 = 1_795_416_000;

/// Runs a future whose I/O is all in memory (it never waits).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// KV in memory; `fail_on` makes the n-th put (from 1) fail after landing,
/// as a timed-out write may.
#[derive(Default)]
struct Kv {
    records: RefCell<BTreeMap<String, KeyRecord>>,
    puts: RefCell<u32>,
    fail_on: Option<u32>,
}

impl Index for Kv {
    async fn put(&self, write: &IndexWrite) -> Result<(), String> {
        *self.puts.borrow_mut() += 1;
        self.records
            .borrow_mut()
            .insert(write.hash.clone(), write.record.clone());
        if Some(*self.puts.borrow()) == self.fail_on {
            return Err("timed out".into());
        }
        Ok(())
    }
    async fn delete(&self, hash: &str) -> Result<(), String> {
        self.records.borrow_mut().remove(hash);
        Ok(())
    }
}

impl Kv {
    fn failing_on(n: u32) -> Kv {
        Kv {
            fail_on: Some(n),
            ..Kv::default()
        }
    }

    fn record_of(&self, store: &Memory, id: &str) -> Option<KeyRecord> {
        let hash = store.key(id).unwrap()?.hash;
        self.records.borrow().get(&hash).cloned()
    }
}

fn run(store: &Memory, kv: &Kv, op: Op, now: i64, seed: u8) -> Outcome {
    let entropy = Entropy {
        key: [seed; 32],
        id: [seed; 12],
        webhook: [seed; 32],
    };
    let plan = plan(
        &demo_config(),
        store,
        "acct_1",
        op,
        now,
        &entropy,
        &crate::key::test_secret(),
    );
    block_on(execute(plan, kv, store))
}

fn create_op() -> Op {
    Op::CreateKey(NewKey {
        allowed_ips: Default::default(),
        product: "salesforge".into(),
        name: "CI".into(),
        scopes: None,
        environment: Environment::Live,
        expires_at: None,
        webhook_url: None,
        owner_id: None,
        meta: None,
    })
}

fn create(store: &Memory, kv: &Kv, seed: u8) -> String {
    let op = create_op();
    let out = run(store, kv, op, NOW, seed);
    out.reply.unwrap().body["id"].as_str().unwrap().to_owned()
}

#[test]
fn success_writes_the_index_then_the_ledger() {
    let (store, kv) = (Memory::default(), Kv::default());
    let id = create(&store, &kv, 1);
    assert!(kv.record_of(&store, &id).is_some());
    let out = run(&store, &kv, Op::RevokeKey { id: id.clone() }, NOW + 1, 0);
    assert_eq!(out.reply.unwrap().status, 200);
    assert!(!out.resync && out.faults.is_empty());
    assert_eq!(kv.record_of(&store, &id).unwrap().revoked_at, Some(NOW + 1));
    assert_eq!(store.key(&id).unwrap().unwrap().revoked_at, Some(NOW + 1));
}

#[test]
fn a_failed_create_leaves_no_key_anywhere() {
    let (store, kv) = (Memory::default(), Kv::failing_on(1));
    let op = create_op();
    let out = run(&store, &kv, op, NOW, 1);
    assert_eq!(out.reply.unwrap_err(), Error::StorageUnavailable);
    assert!(
        kv.records.borrow().is_empty(),
        "the landed write was removed"
    );
    assert!(store.account().unwrap().is_none());
    assert!(store.keys().unwrap().is_empty());
    assert!(!out.resync);
    assert_eq!(out.faults.len(), 1);
    assert!(
        !out.faults[0].contains("sf_live_"),
        "faults never hold a key"
    );
}

#[test]
fn a_failed_rotation_changes_nothing_and_the_index_converges() {
    let store = Memory::default();
    let old = create(&store, &Kv::default(), 1);
    let before = store.key(&old).unwrap().unwrap();
    // The new key's record lands; the old key's rewrite fails after landing.
    let kv = Kv::failing_on(2);
    kv.records.borrow_mut().insert(before.hash.clone(), {
        let account = store.account().unwrap().unwrap();
        before.record(&account)
    });
    let out = run(
        &store,
        &kv,
        Op::RotateKey {
            id: old.clone(),
            grace_seconds: 60,
        },
        NOW,
        2,
    );
    assert_eq!(out.reply.unwrap_err(), Error::StorageUnavailable);
    assert_eq!(store.keys().unwrap().len(), 1, "no new key in the ledger");
    assert_eq!(
        store.key(&old).unwrap().unwrap(),
        before,
        "old key unchanged"
    );
    assert_eq!(
        kv.records.borrow().len(),
        1,
        "the new key's record was removed"
    );
    assert!(out.resync);
    // Meanwhile the index says the old key is revoked at NOW + 60 ...
    assert_eq!(
        kv.record_of(&store, &old).unwrap().revoked_at,
        Some(NOW + 60)
    );
    // ... until the resync puts the ledger's truth back.
    assert_eq!(block_on(resync(&kv, &store, NOW)), Ok(1));
    assert_eq!(kv.record_of(&store, &old).unwrap().revoked_at, None);
    assert_eq!(block_on(resync(&kv, &store, NOW)), Ok(0), "nothing dirty");
}

#[test]
fn a_failed_suspension_is_undone_at_the_edge() {
    let store = Memory::default();
    let ids: Vec<String> = (1..=3).map(|s| create(&store, &Kv::default(), s)).collect();
    let kv = Kv::failing_on(2);
    let out = run(
        &store,
        &kv,
        Op::SetStatus {
            status: AccountStatus::Suspended,
        },
        NOW,
        0,
    );
    assert_eq!(out.reply.unwrap_err(), Error::StorageUnavailable);
    assert_eq!(
        store.account().unwrap().unwrap().status,
        AccountStatus::Active
    );
    assert_eq!(*kv.puts.borrow(), 2, "stopped at the failure");
    assert!(out.resync);
    let kv = Kv {
        records: kv.records,
        ..Kv::default()
    };
    assert_eq!(block_on(resync(&kv, &store, NOW)), Ok(2));
    for id in &ids[..2] {
        assert!(!kv.record_of(&store, id).unwrap().suspended, "{id}");
    }
}

#[test]
fn a_failed_commit_takes_the_index_writes_back() {
    let store = Memory::default();
    let id = create(&store, &Kv::default(), 1);
    let kv = Kv::default();
    store.fail_commit.set(true);
    let out = run(
        &store,
        &kv,
        Op::UpdateKey {
            allowed_ips: Default::default(),
            id: id.clone(),
            name: None,
            scopes: Some(vec!["read".into()]),
            expires_at: None,
            enabled: None,
            meta: None,
        },
        NOW,
        0,
    );
    assert_eq!(out.reply.unwrap_err(), Error::StorageUnavailable);
    assert!(out.resync && out.faults[0].contains("disk full"));
    assert_eq!(kv.record_of(&store, &id).unwrap().scopes, vec!["read"]);
    assert_eq!(block_on(resync(&kv, &store, NOW)), Ok(1));
    assert_eq!(
        kv.record_of(&store, &id).unwrap().scopes,
        vec!["read", "write"],
        "the ledger's scopes, which the failed patch never changed"
    );
}

#[test]
fn a_refusal_writes_its_event_but_no_index() {
    let store = Memory::default();
    create(&store, &Kv::default(), 1);
    let kv = Kv::default();
    let out = run(
        &store,
        &kv,
        Op::SetStatus {
            status: AccountStatus::Suspended,
        },
        NOW,
        0,
    );
    assert!(out.reply.is_ok());
    let kv = Kv::default();
    let op = create_op();
    assert_eq!(
        run(&store, &kv, op, NOW, 3).reply.unwrap_err(),
        Error::AccountSuspended
    );
    assert_eq!(*kv.puts.borrow(), 0);
}
