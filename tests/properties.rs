//! Property tests over the request path: whatever a client sends, the core
//! answers without panicking (a panic would reset the whole isolate), and
//! the key format's guarantees hold for every key, not just the vectors.

use keygate::config::Config;
use keygate::credential::present;
use keygate::key::{
    checksum, mint, parse, verify_tag, Environment, BODY_CHARS, UNTAGGED_BODY_CHARS,
};
use keygate::pattern::PathPattern;
use keygate::record::KeyRecord;
use keygate::route::select;
use keygate::secret::{ApiKey, KeySecret, OriginSecret};
use keygate::signature::{verify, ProductKey, Received};
use proptest::prelude::*;

const CONFIG: &str = r#"{ "products": [
  { "id": "salesforge", "name": "Salesforge", "prefix": "sf",
    "key": { "header": "X-Salesforge-Key" },
    "route": { "path_prefix": "/salesforge", "strip_prefix": true },
    "upstream": "http://127.0.0.1:8788", "public_paths": ["/health"] },
  { "id": "forgeai", "name": "ForgeAI", "prefix": "fai",
    "key": { "header": "Authorization", "scheme": "Bearer" },
    "route": { "host": "api.forge.ai" },
    "upstream": "http://127.0.0.1:8788",
    "permissions": [{ "method": "*", "path": "/a/*/b/**", "permission": "x" }] }
] }"#;

#[cfg(test)]
fn key_secret() -> KeySecret {
    KeySecret::new("property-key-secret-0123456789abcdef", None).unwrap()
}

fn environment() -> impl Strategy<Value = Environment> {
    prop_oneof![Just(Environment::Live), Just(Environment::Test)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn minted_keys_parse_back(prefix in "[a-z][a-z0-9]{1,7}", env in environment(), random in any::<[u8; 32]>()) {
        let minted = mint(&prefix, env, &random, &key_secret()).unwrap();
        let parsed = parse(minted.key.key()).unwrap();
        prop_assert!(verify_tag(parsed.clone(), &key_secret()).is_some());
        prop_assert_eq!(parsed.prefix(), prefix.as_str());
        prop_assert_eq!(parsed.environment(), env);
        prop_assert_eq!(parsed.hash(), minted.hash);
        prop_assert_eq!(minted.key.key().expose().len(), prefix.len() + env.as_str().len() + 2 + BODY_CHARS);
    }

    #[test]
    fn any_single_character_change_is_caught_offline(
        random in any::<[u8; 32]>(),
        position in 0usize..58,
        replacement in "[0-9A-Za-z_]",
    ) {
        let key = mint("fai", Environment::Live, &random, &key_secret()).unwrap().key.key().expose().to_owned();
        let mut changed: Vec<char> = key.chars().collect();
        let at = position % changed.len();
        let new = replacement.chars().next().unwrap();
        prop_assume!(changed[at] != new);
        changed[at] = new;
        let changed: String = changed.into_iter().collect();
        prop_assert!(parse(&ApiKey::new(&changed)).is_err(), "{} accepted", changed);
    }

    #[test]
    fn parse_accepts_only_the_documented_shape(raw in ".{0,80}") {
        if let Ok(parsed) = parse(&ApiKey::new(&raw)) {
            let text = parsed.key().expose();
            let (prefix, rest) = text.split_once('_').unwrap();
            let (env, body) = rest.split_once('_').unwrap();
            prop_assert!(keygate::key::is_valid_prefix(prefix));
            prop_assert!(env == "live" || env == "test");
            prop_assert!(body.len() == BODY_CHARS || body.len() == UNTAGGED_BODY_CHARS);
            prop_assert!(body.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn a_checksum_valid_forgery_fails_the_tag(random in "[0-9A-Za-x][0-9A-Za-z]{42}", tag in "[0-9A-Za-z]{8}") {
        // What anyone can mint without the secret: right shape, right CRC.
        let text = format!("fai_live_{random}0{tag}");
        let forged = format!("{text}{}", checksum(&text));
        let parsed = parse(&ApiKey::new(&forged)).unwrap();
        let genuine = mint("fai", Environment::Live, &[0; 32], &key_secret()).unwrap();
        prop_assume!(parsed.key().expose() != genuine.key.key().expose());
        prop_assert!(verify_tag(parsed, &key_secret()).is_none());
    }

    #[test]
    fn the_request_path_never_panics(
        host in "[a-zA-Z0-9.:\\[\\]-]{0,30}",
        path in "/[a-z0-9/%._-]{0,40}",
        header in "[a-zA-Z-]{1,20}",
        value in ".{0,120}",
    ) {
        let config = Config::from_json(CONFIG).unwrap();
        let Ok(path) = keygate::path::canonicalize(&path) else { return Ok(()) };
        if let Ok(routed) = select(&config, &host, &path) {
            let headers = [(header.as_str(), value.as_str())];
            let _ = present(&config, routed.product, headers.as_slice());
            let bearer = format!("Bearer {value}");
            let headers = [("Authorization", bearer.as_str())];
            let _ = present(&config, routed.product, headers.as_slice());
        }
    }

    #[test]
    fn patterns_and_records_never_panic(pattern in ".{0,30}", path in ".{0,30}", json in ".{0,200}") {
        if let Ok(p) = PathPattern::parse(&pattern) {
            let _ = p.matches(&path, keygate::pattern::Matching::default());
            let _ = p.covers(&path, keygate::pattern::Matching::default());
        }
        let _ = KeyRecord::from_json(&json);
        let _ = Config::from_json(&json);
    }

    #[test]
    fn signature_verification_never_panics(
        input in prop_oneof![
            ".{0,120}",
            r#"keygate=\(("[a-z@-]{0,12}" ?){0,4}\)(;[a-z]{1,7}=(-?[0-9]{1,20}|"[ -~]{0,10}"))*"#,
        ],
        signature in prop_oneof![".{0,60}", "keygate=:[A-Za-z0-9+/=]{0,50}:"],
        now in any::<i64>(),
        skew in any::<u32>(),
    ) {
        let secret = OriginSecret::new("property-test-secret-0123456789abcdef").unwrap();
        let key = ProductKey::derive(&secret, "p");
        let headers = [
            ("Signature-Input", input.as_str()),
            ("Signature", signature.as_str()),
            ("Keygate-Request-Id", "n"),
        ];
        let received = Received {
            method: "GET", authority: "h", path: "/", query: None, headers: &headers, body: b"",
        };
        let _ = verify(&key, "p", &received, now, skew);
    }
}
