//! Target `key`: the key parser and minting.
//!
//! Input: any bytes, parsed as a presented key; when there are at least 32
//! bytes, they are also the random bytes of a minted key, and the rest
//! picks its prefix, environment and a one-character change.
//! Invariants: a parsed key re-serialises to the same text, and its prefix,
//! environment, length and display parts agree with that text; `parse`
//! accepts what `mint` produces; any one-character change or swap of two
//! neighbours in a minted key is refused; `Debug` never shows the key.
//! A legacy untagged key (which only `accept_untagged_keys` admits at the
//! edge) parses too, with its shorter body.

use keygate::key::{
    is_valid_prefix, mint, parse, prefix_of, Environment, KeyHash, BODY_CHARS, RANDOM_BYTES,
    UNTAGGED_BODY_CHARS,
};
use keygate::secret::{ApiKey, KeySecret};

/// The `key` target.
pub fn key(data: &[u8]) {
    check_parsed(&crate::text(data));
    if let Some((random, rest)) = data.split_first_chunk::<RANDOM_BYTES>() {
        check_minted(random, rest);
    }
}

fn check_parsed(text: &str) {
    let Ok(parsed) = parse(&ApiKey::new(text)) else {
        return;
    };
    // ApiKey::new trims surrounding whitespace, as headers do.
    let text = text.trim();
    assert_eq!(parsed.key().expose(), text, "a parsed key keeps its text");
    let prefix = parsed.prefix();
    assert!(is_valid_prefix(prefix), "prefix {prefix:?}");
    assert_eq!(prefix_of(text), Some(prefix));
    let start = format!("{prefix}_{}_", parsed.environment());
    assert!(text.starts_with(&start), "{start:?} starts the key");
    // Tagged keys, or legacy untagged ones (admitted only by config).
    let body = text.len() - start.len();
    assert!(
        body == BODY_CHARS || body == UNTAGGED_BODY_CHARS,
        "body of {body} characters"
    );
    assert_eq!(parsed.display_prefix().len(), start.len() + 4);
    assert!(text.starts_with(parsed.display_prefix()));
    assert!(text.ends_with(parsed.last4()) && parsed.last4().len() == 4);
    assert_eq!(parsed.hash(), KeyHash::of(&ApiKey::new(text)));
    assert!(!format!("{parsed:?}").contains(text), "Debug shows the key");
}

/// The key secret minted keys are tagged with.
fn secret() -> KeySecret {
    match KeySecret::new("fuzz-key-secret-0123456789abcdef-0123", None) {
        Ok(secret) => secret,
        Err(reason) => panic!("fuzz key secret refused: {reason}"),
    }
}

const PREFIX_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const KEY_CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";

fn check_minted(random: &[u8; RANDOM_BYTES], rest: &[u8]) {
    let byte = |i: usize| rest.get(i).copied().unwrap_or(0);
    let environment = if byte(0) & 1 == 0 {
        Environment::Live
    } else {
        Environment::Test
    };
    let prefix_len = 2 + usize::from(byte(1)) % 7;
    let prefix: String = (0..prefix_len)
        .map(|i| {
            let alphabet = if i == 0 { 26 } else { PREFIX_CHARS.len() };
            let at = usize::from(byte(4 + i)) % alphabet;
            char::from(PREFIX_CHARS.get(at).copied().unwrap_or(b'a'))
        })
        .collect();
    let minted = match mint(&prefix, environment, random, &secret()) {
        Ok(minted) => minted,
        Err(reason) => panic!("mint refused prefix {prefix:?}: {reason}"),
    };
    let text = minted.key.key().expose().to_owned();
    check_parsed(&text);
    let parsed = parse(&ApiKey::new(&text));
    assert_eq!(parsed.as_ref().ok(), Some(&minted.key), "parse(mint(..))");
    assert_eq!(minted.key.prefix(), prefix);
    assert_eq!(minted.key.environment(), environment);
    assert_eq!(minted.hash, minted.key.hash());

    let mut chars: Vec<u8> = text.clone().into_bytes();
    let at = usize::from(byte(2)) % chars.len();
    let new = KEY_CHARS
        .get(usize::from(byte(3)) % KEY_CHARS.len())
        .copied()
        .unwrap_or(b'_');
    if let Some(c) = chars.get_mut(at).filter(|c| **c != new) {
        *c = new;
        let changed = String::from_utf8_lossy(&chars).into_owned();
        assert!(
            parse(&ApiKey::new(&changed)).is_err(),
            "a one-character change at {at} was accepted"
        );
    }
    let mut swapped = text.into_bytes();
    if at + 1 < swapped.len() && swapped.get(at) != swapped.get(at + 1) {
        swapped.swap(at, at + 1);
        let swapped = String::from_utf8_lossy(&swapped).into_owned();
        assert!(
            parse(&ApiKey::new(&swapped)).is_err(),
            "swapping characters {at} and {} was accepted",
            at + 1
        );
    }
}
