//! The per-request work of the pure core, measured with criterion.
//!
//! Each case is one step a request pays for; `admit_valid_key` is all of
//! them together minus the KV read and the origin fetch.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use keygate::config::Config;
use keygate::credential::present;
use keygate::forward::{plan, BodyFacts, Stamp};
use keygate::key::{checksum, mint, verify_tag, Environment};
use keygate::path::canonicalize;
use keygate::policy::{authorize, RequestFacts};
use keygate::record::KeyRecord;
use keygate::route::select;
use keygate::secret::{KeySecret, OriginSecret};
use keygate::signature::ProductKey;

const CONFIG: &str = r#"{ "products": [
  { "id": "salesforge", "name": "Salesforge", "prefix": "sf",
    "key": { "header": "X-Salesforge-Key" },
    "route": { "path_prefix": "/salesforge", "strip_prefix": true },
    "upstream": "https://api.salesforge.example" },
  { "id": "mailforge", "name": "Mailforge", "prefix": "mf",
    "key": { "header": "X-Mailforge-Key" },
    "route": { "path_prefix": "/mailforge", "strip_prefix": true },
    "upstream": "https://api.mailforge.example" },
  { "id": "forgeai", "name": "ForgeAI", "prefix": "fai",
    "key": { "header": "Authorization", "scheme": "Bearer" },
    "route": { "path_prefix": "/forgeai", "strip_prefix": true },
    "upstream": "https://api.forgeai.example",
    "permissions": [
      { "method": "POST", "path": "/api/v1/prediction/*", "permission": "execute_flows" },
      { "method": "*", "path": "/api/v1/deployments/**", "permission": "manage_deployments" }
    ] }
] }"#;

fn record() -> KeyRecord {
    KeyRecord {
        v: 1,
        id: "key_0000000000000000a".into(),
        account: "acct_bench".into(),
        product: "forgeai".into(),
        environment: Environment::Live,
        name: "bench".into(),
        scopes: vec!["read".into(), "execute_flows".into()],
        created_at: 1_795_000_000,
        expires_at: Some(1_900_000_000),
        revoked_at: None,
        prefix: "fai_live_0000".into(),
        last4: "abcd".into(),
        suspended: false,
        disabled: false,
        owner_id: None,
        meta: None,
    }
}

fn hot_path(c: &mut Criterion) {
    let config = Config::from_json(CONFIG).expect("bench config");
    let secret = OriginSecret::new("bench-origin-secret-0123456789abcdef").expect("secret");
    let signing_key = ProductKey::derive(&secret, "forgeai");
    let stamp = Stamp {
        now: 1_795_416_000,
        request_id: "0123456789abcdef0123456789abcdef",
        key: &signing_key,
        client_ip: Some("203.0.113.7"),
    };
    let body = BodyFacts {
        content_type: Some("application/json"),
        content_length: Some(42),
        content_digest: None,
    };
    let key_secret = KeySecret::new("bench-key-secret-0123456789abcdef", None).expect("key secret");
    let key = mint("fai", Environment::Live, &[42; 32], &key_secret)
        .expect("mint")
        .key;
    // Right shape and checksum, wrong tag: what a forger can make.
    let forged_text = format!("fai_live_{}0{}", "7".repeat(43), "7".repeat(8));
    let forged = format!("Bearer {forged_text}{}", checksum(&forged_text));
    let forged: Vec<(&str, &str)> = vec![("Authorization", forged.as_str())];
    let bearer = format!("Bearer {}", key.key().expose());
    let valid: Vec<(&str, &str)> = vec![("Authorization", bearer.as_str())];
    let garbage: Vec<(&str, &str)> = vec![("Authorization", "Bearer fai_live_not-a-real-key")];
    let record_json = record().to_json();
    let record = record();
    let now = 1_795_416_000;

    c.bench_function("reject_malformed_key", |b| {
        b.iter(|| {
            let path = canonicalize(black_box("/forgeai/api/v1/chat")).expect("path");
            let routed = select(&config, "gw.example", &path).ok();
            let product = routed.map(|r| r.product).expect("route");
            black_box(present(&config, product, garbage.as_slice()).is_err())
        })
    });
    c.bench_function("reject_forged_key", |b| {
        let product = config.product("forgeai").expect("product");
        b.iter(|| {
            let key = present(&config, product, forged.as_slice()).expect("well formed");
            black_box(verify_tag(key, &key_secret).is_none())
        })
    });
    c.bench_function("parse_verify_and_hash_key", |b| {
        let product = config.product("forgeai").expect("product");
        b.iter(|| {
            black_box(
                present(&config, product, valid.as_slice())
                    .ok()
                    .and_then(|k| verify_tag(k, &key_secret))
                    .map(|k| k.hash()),
            )
        })
    });
    c.bench_function("decode_record", |b| {
        b.iter(|| black_box(KeyRecord::from_json(black_box(&record_json))))
    });
    c.bench_function("authorize_and_sign", |b| {
        let product = config.product("forgeai").expect("product");
        let facts = RequestFacts {
            method: "POST",
            path: "/api/v1/prediction/flow-1",
        };
        b.iter(|| {
            let ok = authorize(product, &key, &record, facts, now).expect("authorized");
            black_box(plan(&ok, Some("stream=true"), &body, &stamp))
        })
    });
    c.bench_function("admit_valid_key", |b| {
        b.iter(|| {
            let path = canonicalize(black_box("/forgeai/api/v1/prediction/f1")).expect("path");
            let routed = select(&config, "gw.example", &path).expect("route");
            let key = present(&config, routed.product, valid.as_slice()).expect("key");
            let key = verify_tag(key, &key_secret).expect("tagged");
            let _index = black_box(key.hash().to_hex());
            let facts = RequestFacts {
                method: "POST",
                path: &routed.product_path,
            };
            let ok = authorize(routed.product, key.key(), &record, facts, now).expect("authorized");
            black_box(plan(&ok, None, &body, &stamp))
        })
    });
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
