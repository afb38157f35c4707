use super::*;
use crate::key::mint;

/// Known-answer vectors, computed independently (Python: base62 of the
/// big-endian random bytes, `zlib.crc32`, `hashlib.sha256`). README lists
/// the same vectors.
const VECTORS: &[(&str, Environment, [u8; 32], &str, &str)] = &[
    (
        "sf",
        Environment::Live,
        [0; 32],
        "sf_live_00000000000000000000000000000000000000000001U0Xa1",
        "f0772dd105fdda51e676ac5e41cd9508f8b682443aaaac45989d5d5f30f36b42",
    ),
    (
        "fai",
        Environment::Live,
        [
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            24, 25, 26, 27, 28, 29, 30, 31,
        ],
        "fai_live_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf1Be3k9",
        "ca2e53b42d0b9ecd8a8356ba5bf7a74fc85c8bb2e3173a0c959116ea308ceab3",
    ),
    (
        "mf",
        Environment::Test,
        [0xff; 32],
        "mf_test_yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp13WPFYo",
        "04f5723af08e25f5a3da148fd13763fe96ad14654505fa659ae447f088be7793",
    ),
];

#[test]
fn mint_matches_known_answers() {
    for (prefix, env, random, key, hash) in VECTORS {
        let minted = mint(prefix, *env, random).unwrap();
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
    assert_eq!(parsed.last4(), "e3k9");
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
        (good.replacen("00000001", "00000002", 1), "checksum"),
        (format!("{}b1", &good[..good.len() - 2]), "checksum"),
    ];
    for (input, expected) in cases {
        let err = parse(&ApiKey::new(&input)).expect_err(&input);
        assert!(err.contains(expected), "{input}: {err}");
        assert!(!err.contains(good), "error echoes the key");
    }
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
        r"\bfai_(?:live|test)_[0-9A-Za-z]{49}\b"
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
