use super::*;
use crate::key::mint;
use crate::secret::KeySecret;

/// The key secret the vectors are tagged with.
pub(crate) const VECTOR_SECRET: &str = "keygate-test-vector-secret-0123456789abcdef";

pub(crate) fn vector_secret() -> KeySecret {
    KeySecret::new(VECTOR_SECRET, None).unwrap()
}

/// Known-answer vectors, computed independently (Python: base62 of the
/// big-endian random bytes, `hmac.new(secret, text, sha256).digest()[:6]`,
/// `zlib.crc32`, `hashlib.sha256`). docs/key-format.md lists the same vectors.
pub(crate) const VECTORS: &[(&str, Environment, [u8; 32], &str, &str)] = &[
    (
        "sf",
        Environment::Live,
        [0; 32],
        "sf_live_00000000000000000000000000000000000000000000vxImh07P3eiOQ9",
        "d44c591855c4c8a052cadfd3d816a01b89f61e87784521513381fda75bef51dc",
    ),
    (
        "fai",
        Environment::Live,
        [
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            24, 25, 26, 27, 28, 29, 30, 31,
        ],
        "fai_live_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf01Whn6uO80Bo2D3",
        "0573fee0ae72e0168842b81fcdd8b1cf30169301d435fb568478ac74de70ec35",
    ),
    (
        "mf",
        Environment::Test,
        [0xff; 32],
        "mf_test_yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp11GAUm4g4c27bjc3",
        "c51c7f3a1ee8e0a4947e17287844dc332fc2128efff6b9f4e5c7c10c6252cd37",
    ),
];

#[test]
fn mint_matches_known_answers() {
    for (prefix, env, random, key, hash) in VECTORS {
        let minted = mint(prefix, *env, random, &vector_secret()).unwrap();
        assert_eq!(minted.key.key().expose(), *key);
        assert_eq!(minted.hash.to_hex(), *hash);
    }
}

#[test]
fn parse_accepts_known_answers() {
    for (prefix, env, _, key, hash) in VECTORS {
        let parsed = parse(&ApiKey::new(key)).unwrap();
        assert_eq!(parsed.prefix(), *prefix);
        assert_eq!(parsed.environment(), *env);
        assert_eq!(parsed.hash().to_hex(), *hash);
    }
}

#[test]
fn display_parts_are_safe_to_show() {
    let parsed = parse(&ApiKey::new(VECTORS[1].3)).unwrap();
    assert_eq!(parsed.display_prefix(), "fai_live_003a");
    assert_eq!(parsed.last4(), "o2D3");
    assert!(!format!("{parsed:?}").contains(VECTORS[1].3));
}

#[test]
fn parse_refuses_each_defect() {
    let good = VECTORS[0].3;
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "lacks"),
        ("nounderscore".into(), "lacks"),
        (good.replacen("sf_", "S_", 1), "prefix"),
        (good.replacen("sf_", "toolongprefix_", 1), "prefix"),
        (good.replacen("_live_", "_prod_", 1), "environment"),
        (good.replacen("_live_", "_live", 1), "lacks"),
        (good[..good.len() - 1].to_owned(), "length"),
        (format!("{good}0"), "length"),
        (good.replacen("0000", "00-0", 1), "characters"),
        (good.replacen("0000", "00é", 1), "ASCII"),
        (good.replacen("0000000000vx", "0000000001vx", 1), "checksum"),
        // Above 2^256: base62 allows it, minting never makes it.
        (
            with_body(&format!("{}{}", "z".repeat(43), &good[51..60])),
            "range",
        ),
        (
            with_body(&format!(
                "{}{}",
                "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp2",
                &good[51..60]
            )),
            "range",
        ),
        // A tag above 2^48.
        (
            with_body(&format!("{}{}", &good[8..51], "zzzzzzzzz")),
            "range",
        ),
        (format!("{}b1", &good[..good.len() - 2]), "checksum"),
    ];
    for (input, expected) in cases {
        let err = parse(&ApiKey::new(&input)).expect_err(&input);
        assert!(err.contains(expected), "{input}: {err}");
        assert!(!err.contains(good), "error echoes the key");
    }
}

/// `sf_live_` and `body` (58 characters: random part and tag) with a
/// correct checksum.
fn with_body(body_without_sum: &str) -> String {
    let text = format!("sf_live_{body_without_sum}");
    let sum = crate::key::checksum(&text);
    format!("{text}{sum}")
}

#[test]
fn the_largest_random_part_parses() {
    let key = with_body(&format!(
        "{}{}",
        "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1", "000000000"
    ));
    assert!(parse(&ApiKey::new(&key)).is_ok());
}

/// Keys from before the tag (43 random and 6 checksum characters), as
/// issued then: they parse as untagged.
pub(crate) const LEGACY: &[&str] = &[
    "sf_live_00000000000000000000000000000000000000000001U0Xa1",
    "fai_live_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf1Be3k9",
    "mf_test_yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp13WPFYo",
];

#[test]
fn legacy_untagged_keys_parse_as_untagged() {
    for key in LEGACY {
        let parsed = parse(&ApiKey::new(key)).unwrap();
        assert!(!parsed.is_tagged(), "{key}");
    }
    for (_, _, _, key, _) in VECTORS {
        assert!(parse(&ApiKey::new(key)).unwrap().is_tagged());
    }
    // Their checksum and range rules still hold.
    let bad = LEGACY[0].replace("Xa1", "Xa2");
    assert!(parse(&ApiKey::new(&bad)).unwrap_err().contains("checksum"));
    let text = format!("sf_live_{}", "z".repeat(43));
    let over = format!("{text}{}", crate::key::checksum(&text));
    assert!(parse(&ApiKey::new(&over)).unwrap_err().contains("range"));
}

#[test]
fn surrounding_whitespace_is_trimmed() {
    let padded = format!("  {}\t", VECTORS[0].3);
    assert!(parse(&ApiKey::new(&padded)).is_ok());
}

#[test]
fn scan_regex_describes_the_shape() {
    assert_eq!(
        scan_regex(Some("fai")),
        r"\bfai_(?:live|test)_[0-9A-Za-z]{58}\b"
    );
    assert!(scan_regex(None).starts_with(r"\b[a-z][a-z0-9]{1,7}_"));
}

#[test]
fn prefix_rules() {
    assert!(is_valid_prefix("sf"));
    assert!(is_valid_prefix("fai"));
    assert!(is_valid_prefix("p2"));
    assert!(!is_valid_prefix("s"));
    assert!(!is_valid_prefix("2f"));
    assert!(!is_valid_prefix("Sf"));
    assert!(!is_valid_prefix("abcdefghi"));
    assert_eq!(prefix_of("mf_live_x"), Some("mf"));
    assert_eq!(prefix_of("Bearer"), None);
    assert_eq!(prefix_of("x_y"), None);
}
