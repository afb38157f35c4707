//! Target `webhook`: webhook targets, Standard Webhooks signatures and
//! relayed events.
//!
//! Input: `url NUL id NUL timestamp NUL signature NUL body`.
//! Invariants:
//! * a URL that `Target::parse` accepts is https to a public host, or (dev
//!   mode only) http(s) to this machine; it has no user info and is at
//!   most 2048 bytes; dev mode accepts everything production does;
//! * `verify` never panics, and accepts only a header holding the `v1`
//!   signature our signer makes for that id, timestamp and body;
//! * what `sign` makes for a valid id verifies, and no longer does once
//!   the body changes;
//! * a relayed event that is accepted has a non-reserved dotted type and
//!   an object `data` within the bound.

use keygate::destination::{self, NotPublic};
use keygate::webhook::event::{check_relayed_type, RelayedEvent, MAX_RELAYED_DATA_BYTES};
use keygate::webhook::sign::{is_valid_id, sign, verify, SigningKey};
use keygate::webhook::target::{Target, MAX_URL_BYTES};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_800_000_000;

/// The `webhook` target.
pub fn webhook(data: &[u8]) {
    let [url, id, timestamp, signature, body] = crate::split::<5>(data);
    let (url, id, timestamp, signature) = (
        crate::text(url),
        crate::text(id),
        crate::text(timestamp),
        crate::text(signature),
    );
    check_target(&url);
    let Ok(key) = SigningKey::parse(SECRET) else {
        panic!("the fixture secret parses");
    };
    let keys = [key.clone()];
    let parsed_ts = timestamp.parse::<i64>().unwrap_or(NOW);
    if let Ok(verified) = verify(
        &keys,
        Some(&id),
        Some(&timestamp),
        Some(&signature),
        body,
        parsed_ts,
        300,
    ) {
        let expected = key.sign(&id, verified.timestamp, body);
        assert!(
            signature.split_ascii_whitespace().any(|s| s == expected),
            "verified without our signature"
        );
    }
    if is_valid_id(&id) {
        let Ok(headers) = sign(&keys, &id, NOW, body) else {
            panic!("a valid id signs");
        };
        let ok = verify(
            &keys,
            Some(&headers.id),
            Some(&headers.timestamp),
            Some(&headers.signature),
            body,
            NOW,
            0,
        );
        assert!(ok.is_ok(), "what we sign verifies");
        let mut changed = body.to_vec();
        changed.push(b'x');
        let bad = verify(
            &keys,
            Some(&headers.id),
            Some(&headers.timestamp),
            Some(&headers.signature),
            &changed,
            NOW,
            0,
        );
        assert!(bad.is_err(), "a changed body verifies");
    } else {
        assert!(sign(&keys, &id, NOW, body).is_err());
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Ok(event) = RelayedEvent::new(&id, value) {
            assert!(check_relayed_type(event.kind()).is_ok());
            for reserved in ["key.", "account.", "webhook."] {
                assert!(!event.kind().starts_with(reserved));
            }
            let event = keygate::webhook::event::Event::relayed("m".into(), event, NOW);
            assert!(event.body().len() <= MAX_RELAYED_DATA_BYTES + 200);
        }
    }
}

fn check_target(url: &str) {
    let production = Target::parse(url, false);
    let dev = Target::parse(url, true);
    if let Ok(target) = &production {
        assert_eq!(target.url().scheme(), "https", "{url}");
        assert_eq!(destination::check(target.url()), Ok(()), "{url}");
        assert!(dev.is_ok(), "dev refuses what production accepts: {url}");
    }
    for target in [production, dev].into_iter().flatten() {
        assert!(url.len() <= MAX_URL_BYTES);
        assert!(target.url().username().is_empty() && target.url().password().is_none());
        let verdict = destination::check(target.url());
        assert!(
            verdict.is_ok() || verdict.is_err_and(NotPublic::is_loopback),
            "{url}"
        );
    }
}
