use super::*;
use crate::config::tests::demo_config;
use crate::key::{admit, mint, Environment, KeyHash};
use crate::ledger::AccountStatus;
use crate::manage::account::tests::Run;
use crate::manage::memory::Memory;
use crate::manage::op::Op;
use crate::manage::request::{parse, Incoming, Request};
use crate::secret::ApiKey;
use sha2::Digest;

const NOW: i64 = 1_795_416_000;

fn minted(seed: u8) -> String {
    mint(
        "fai",
        Environment::Live,
        &[seed; 32],
        &crate::key::test_secret(),
    )
    .unwrap()
    .key
    .key()
    .expose()
    .to_owned()
}

/// The import the edge would send for `body`.
fn import_of(body: serde_json::Value) -> Result<Import, Error> {
    let body = body.to_string();
    let req = Incoming {
        method: "POST",
        path: "/accounts/acct_1/keys/import",
        query: None,
        content_type: Some("application/json"),
        if_match: None,
        body: body.as_bytes(),
    };
    match parse(&demo_config(), &req, NOW, false)? {
        Request::Import { account, parsed } => {
            assert_eq!(account, "acct_1");
            Ok(resolve(parsed, |k| {
                admit(k, &crate::key::test_secret(), false)
            }))
        }
        other => panic!("not an import: {other:?}"),
    }
}

fn run(ledger: &Memory, body: serde_json::Value, seed: u8) -> (usize, serde_json::Value) {
    let import = import_of(body).unwrap();
    let (index, reply) = ledger.run(Op::ImportKeys(import), NOW, seed);
    let reply = reply.unwrap();
    assert_eq!(reply.status, 200);
    (index.len(), reply.body)
}

fn sha_hex(key: &str) -> String {
    KeyHash::of(&ApiKey::new(key)).to_hex()
}

#[test]
fn imports_by_plaintext_and_by_hash_in_every_form() {
    let ledger = Memory::default();
    let plain = minted(1);
    let hex_upper = sha_hex(&minted(2)).to_uppercase();
    let digest: [u8; 32] = sha2::Sha256::digest(minted(3).as_bytes()).into();
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest);
    let b64url = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, {
        let d: [u8; 32] = sha2::Sha256::digest(b"sk_live_legacy").into();
        d
    });
    let (writes, body) = run(
        &ledger,
        json!({ "keys": [
            { "key": plain, "product": "forgeai", "name": "plain" },
            { "sha256": hex_upper, "product": "forgeai", "name": "hex" },
            { "sha256": b64, "product": "forgeai", "name": "b64" },
            { "sha256": b64url, "product": "salesforge", "name": "url", "environment": "test" },
        ], "ignore_key_limit": true }),
        1,
    );
    assert_eq!(body["created"], 4, "{body}");
    assert_eq!(writes, 4);
    let keys = ledger.keys().unwrap();
    let hashes: Vec<&str> = keys.iter().map(|k| k.hash.as_str()).collect();
    assert!(hashes.contains(&sha_hex(&plain).as_str()));
    assert!(hashes.contains(&sha_hex(&minted(2)).as_str()));
    assert!(hashes.contains(&sha_hex(&minted(3)).as_str()));
    assert!(hashes.contains(&sha_hex("sk_live_legacy").as_str()));
    let by_plain = keys.iter().find(|k| k.name == "plain").unwrap();
    assert_eq!(by_plain.last4, plain[plain.len() - 4..]);
    assert!(by_plain.prefix.starts_with("fai_live_"));
    let url = keys.iter().find(|k| k.name == "url").unwrap();
    assert_eq!(url.environment, Environment::Test);
    // Ids are distinct although one call has one seed.
    let mut ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    // The reply never holds the key.
    assert!(!body.to_string().contains(&plain));
}

#[test]
fn a_re_import_is_idempotent_per_key() {
    let ledger = Memory::default();
    let plain = minted(1);
    let body = json!({ "keys": [
        { "key": plain, "product": "forgeai", "name": "a" },
        { "sha256": sha_hex(&plain), "product": "forgeai", "name": "same key by hash" },
    ] });
    let (writes, first) = run(&ledger, body.clone(), 1);
    assert_eq!((first["created"].as_u64(), writes), (Some(1), 1));
    assert_eq!(first["already_present"], 1);
    let id = first["results"][0]["id"].clone();
    assert_eq!(first["results"][1]["status"], "already_present");
    assert_eq!(first["results"][1]["id"], id);
    let (writes, again) = run(&ledger, body, 2);
    assert_eq!(writes, 0, "a re-import writes nothing");
    assert_eq!(again["created"], 0);
    assert_eq!(again["already_present"], 2);
    assert_eq!(again["results"][0]["id"], id);
    assert_eq!(ledger.keys().unwrap().len(), 1);
}

#[test]
fn a_bad_row_is_refused_alone_with_its_field() {
    let ledger = Memory::default();
    let forged = {
        let mut k = minted(1);
        k.replace_range(12..13, if &k[12..13] == "A" { "B" } else { "A" });
        k
    };
    let other_deployment = mint("fai", Environment::Live, &[5; 32], &{
        crate::secret::KeySecret::new("another deployment's key secret, long enough", None).unwrap()
    })
    .unwrap()
    .key
    .key()
    .expose()
    .to_owned();
    let (writes, body) = run(
        &ledger,
        json!({ "keys": [
            { "key": minted(2), "product": "forgeai", "name": "good" },
            { "key": forged, "product": "forgeai", "name": "bad checksum" },
            { "key": other_deployment, "product": "forgeai", "name": "bad tag" },
            { "sha256": "abc", "product": "forgeai", "name": "short" },
            { "key": minted(3), "sha256": sha_hex("x"), "product": "forgeai", "name": "both" },
            { "key": minted(4), "product": "salesforge", "name": "wrong prefix" },
            { "sha256": sha_hex("y"), "product": "nope", "name": "n" },
            { "sha256": sha_hex("z"), "product": "forgeai", "name": "", "colour": 1 },
            { "sha256": sha_hex("w"), "product": "forgeai", "name": "" },
            "not an object",
            { "sha256": sha_hex("v"), "product": "forgeai", "name": "good too" },
        ] }),
        1,
    );
    assert_eq!(body["created"], 2, "{body}");
    assert_eq!(body["refused"], 9);
    assert_eq!(writes, 2);
    let field = |i: usize| {
        body["results"][i]["field"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(body["results"][0]["status"], "created");
    assert_eq!(field(1), "keys[1].key");
    assert_eq!(body["results"][1]["code"], "invalid_field");
    assert_eq!(field(2), "keys[2].key");
    assert!(body["results"][2]["detail"]
        .as_str()
        .unwrap()
        .contains("not minted by this deployment"));
    assert_eq!(field(3), "keys[3].sha256");
    assert_eq!(field(4), "keys[4].sha256");
    assert_eq!(field(5), "keys[5].key");
    assert_eq!(field(6), "keys[6].product");
    assert_eq!(body["results"][7]["code"], "unknown_field");
    assert_eq!(field(7), "keys[7].colour");
    assert_eq!(field(8), "keys[8].name");
    assert_eq!(field(9), "keys[9]");
    assert_eq!(body["results"][10]["status"], "created");
    // No refusal echoes a key.
    let text = body.to_string();
    for key in [minted(2), minted(3), minted(4)] {
        assert!(!text.contains(&key));
    }
}

#[test]
fn keys_count_towards_the_limit_unless_the_call_says_otherwise() {
    // forgeai has key_limit = 3 in the demo config.
    let keys: Vec<serde_json::Value> = (0..5)
        .map(|i| json!({ "sha256": sha_hex(&format!("k{i}")), "product": "forgeai", "name": "k" }))
        .collect();
    let ledger = Memory::default();
    let (writes, body) = run(&ledger, json!({ "keys": keys }), 1);
    assert_eq!((body["created"].as_u64(), writes), (Some(3), 3));
    assert_eq!(body["results"][3]["code"], "key_limit_reached");
    assert_eq!(body["results"][4]["code"], "key_limit_reached");

    let ledger = Memory::default();
    let (writes, body) = run(
        &ledger,
        json!({ "keys": keys, "ignore_key_limit": true }),
        1,
    );
    assert_eq!((body["created"].as_u64(), writes), (Some(5), 5));
}

#[test]
fn the_call_as_a_whole_is_bounded() {
    let too_many: Vec<serde_json::Value> = (0..=MAX_IMPORT_KEYS)
        .map(|i| json!({ "sha256": sha_hex(&i.to_string()), "product": "forgeai", "name": "k" }))
        .collect();
    let err = import_of(json!({ "keys": too_many })).unwrap_err();
    assert_eq!(err.field(), Some("keys"));
    assert_eq!(
        import_of(json!({ "keys": [] })).unwrap_err().field(),
        Some("keys")
    );
    assert_eq!(
        import_of(json!({ "keys": [], "force": true }))
            .unwrap_err()
            .code(),
        "unknown_field"
    );
    // 1 000 keys of a typical size fit the route's limit, which is larger
    // than every other route's.
    let full: Vec<serde_json::Value> = (0..MAX_IMPORT_KEYS)
        .map(|i| {
            json!({
                "key": minted(u8::try_from(i % 250).unwrap()),
                "product": "forgeai",
                "name": format!("customer key {i}"),
                "scopes": ["chat"],
                "owner_id": format!("user_{i:08}"),
                "expires_at": "2027-01-31T00:00:00Z",
            })
        })
        .collect();
    let text = json!({ "keys": full }).to_string();
    assert!(text.len() <= IMPORT_BODY_LIMIT, "{}", text.len());
    assert!(text.len() > crate::manage::BODY_LIMIT);
    let import = import_of(json!({ "keys": full })).unwrap();
    assert_eq!(import.items.len(), MAX_IMPORT_KEYS);
}

#[test]
fn a_suspended_account_imports_nothing() {
    let ledger = Memory::default();
    run(
        &ledger,
        json!({ "keys": [{ "sha256": sha_hex("a"), "product": "forgeai", "name": "a" }] }),
        1,
    );
    ledger.ok(
        Op::SetStatus {
            status: AccountStatus::Suspended,
        },
        NOW,
        2,
    );
    let import = import_of(
        json!({ "keys": [{ "sha256": sha_hex("b"), "product": "forgeai", "name": "b" }] }),
    )
    .unwrap();
    assert_eq!(
        ledger.err(Op::ImportKeys(import), NOW).code(),
        "account_suspended"
    );
}

#[test]
fn the_op_never_carries_a_key() {
    let plain = minted(7);
    let import = import_of(json!({ "keys": [
        { "key": plain, "product": "forgeai", "name": "p" },
        { "key": format!("{plain}x"), "product": "forgeai", "name": "p" },
    ] }))
    .unwrap();
    let text = serde_json::to_string(&Op::ImportKeys(import.clone())).unwrap();
    assert!(!text.contains(&plain));
    let back: Op = serde_json::from_str(&text).unwrap();
    assert_eq!(back, Op::ImportKeys(import));
}

#[test]
fn a_foreign_key_is_imported_by_plaintext_only_where_the_product_takes_it() {
    let config = crate::config::tests::with_legacy("sk_live_").unwrap();
    let body = json!({ "keys": [
        { "key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "product": "forgeai", "name": "stripe-like", "environment": "test" },
        { "key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "product": "salesforge", "name": "not here" },
        { "key": "sk_live_", "product": "forgeai", "name": "prefix alone" },
    ] })
    .to_string();
    let req = Incoming {
        method: "POST",
        path: "/accounts/acct_1/keys/import",
        query: None,
        content_type: Some("application/json"),
        if_match: None,
        body: body.as_bytes(),
    };
    let Ok(Request::Import { parsed, .. }) = parse(&config, &req, NOW, false) else {
        panic!("not an import");
    };
    let import = resolve(parsed, |k| admit(k, &crate::key::test_secret(), false));
    match &import.items[0] {
        ImportItem::Key {
            hash,
            display_prefix,
            last4,
            new,
        } => {
            assert_eq!(hash, &sha_hex("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
            assert_eq!((display_prefix.as_str(), last4.as_str()), ("", ""));
            assert_eq!(new.environment, Environment::Test);
        }
        other => panic!("{other:?}"),
    }
    for (at, says) in [
        (1, "not a key in keygate's format"),
        (2, "not a legacy key"),
    ] {
        match &import.items[at] {
            ImportItem::Refused(why) => {
                assert_eq!(
                    why.field.as_deref(),
                    Some(format!("keys[{at}].key").as_str())
                );
                assert!(why.detail.contains(says), "{}", why.detail);
                assert!(!why.detail.contains("4eC39HqLyjWD"));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_key_another_account_holds_is_refused_not_taken() {
    let import = import_of(json!({ "keys": [
        { "sha256": sha_hex("mine"), "product": "forgeai", "name": "a" },
        { "sha256": sha_hex("theirs"), "product": "forgeai", "name": "b" },
        { "sha256": "bad", "product": "forgeai", "name": "c" },
        { "sha256": sha_hex("new"), "product": "forgeai", "name": "d" },
    ] }))
    .unwrap();
    let hashes: Vec<Option<String>> = hashes(&import)
        .into_iter()
        .map(|h| h.map(str::to_owned))
        .collect();
    assert_eq!(hashes[1].as_deref(), Some(sha_hex("theirs").as_str()));
    assert_eq!(hashes[2], None);
    let owners = [
        Some("acct_1".to_owned()),
        Some("acct_2".to_owned()),
        None,
        None,
    ];
    let checked = held_elsewhere(import, &owners, "acct_1");
    let ledger = Memory::default();
    let (writes, reply) = ledger.run(Op::ImportKeys(checked), NOW, 1);
    let body = reply.unwrap().body;
    assert_eq!(writes.len(), 2, "{body}");
    assert_eq!(body["results"][1]["status"], "refused");
    assert_eq!(body["results"][1]["field"], "keys[1]");
    assert!(body["results"][1]["detail"]
        .as_str()
        .unwrap()
        .contains("another account"));
    assert_eq!(body["results"][3]["status"], "created");
}
