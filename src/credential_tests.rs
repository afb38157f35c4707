use super::*;
use crate::config::tests::demo_config;
use crate::config::Config;

const SF: &str = "sf_live_00000000000000000000000000000000000000000000vxImh07P3eiOQ9";
const FAI: &str = "fai_live_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf01Whn6uO80Bo2D3";
const MF: &str = "mf_test_yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp11GAUm4g4c27bjc3";

fn run(config: &Config, product: &str, headers: &[(&str, &str)]) -> Result<String, Error> {
    let product = config.product(product).unwrap();
    present(config, product, headers).map(|k| k.display_prefix().to_owned())
}

fn code(result: Result<String, Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

/// Product, request headers, expected code.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn credential_table() {
    let config = demo_config();
    let sf_bad_sum = SF.replace("OQ9", "OQ8");
    let bearer_fai = format!("Bearer {FAI}");
    let bearer_sf = format!("Bearer {SF}");
    let lower_bearer = format!("bearer   {FAI} ");
    let padded = format!("  {SF}\t");
    let table: Vec<Case> = vec![
        ("salesforge", vec![("X-Salesforge-Key", SF)], "ok"),
        ("salesforge", vec![("x-salesforge-key", &padded)], "ok"),
        ("salesforge", vec![], "missing_key"),
        (
            "salesforge",
            vec![("X-Salesforge-Key", "   ")],
            "missing_key",
        ),
        ("salesforge", vec![("X-Mailforge-Key", MF)], "wrong_product"),
        ("salesforge", vec![("X-Mailforge-Key", SF)], "wrong_product"),
        (
            "salesforge",
            vec![("X-Salesforge-Key", MF)],
            "wrong_product",
        ),
        (
            "salesforge",
            vec![("Authorization", &bearer_fai)],
            "wrong_product",
        ),
        (
            "salesforge",
            vec![("Authorization", "Basic dXNlcjpwYXNz")],
            "missing_key",
        ),
        (
            "salesforge",
            vec![("X-Salesforge-Key", "hunter2")],
            "malformed_key",
        ),
        (
            "salesforge",
            vec![("X-Salesforge-Key", &sf_bad_sum)],
            "malformed_key",
        ),
        (
            "salesforge",
            vec![("X-Salesforge-Key", "zz_live_x")],
            "malformed_key",
        ),
        ("forgeai", vec![("Authorization", &bearer_fai)], "ok"),
        ("forgeai", vec![("Authorization", &lower_bearer)], "ok"),
        ("forgeai", vec![("Authorization", FAI)], "missing_key"),
        ("forgeai", vec![("Authorization", "Bearer ")], "missing_key"),
        (
            "forgeai",
            vec![("Authorization", &bearer_sf)],
            "wrong_product",
        ),
        ("forgeai", vec![("X-Salesforge-Key", SF)], "wrong_product"),
        // Same header for both: only the prefix can tell, and it does.
        (
            "forgeai-host",
            vec![("Authorization", &bearer_fai)],
            "wrong_product",
        ),
    ];
    for (product, headers, expected) in table {
        assert_eq!(
            code(run(&config, product, &headers)),
            expected,
            "{product} {headers:?}"
        );
    }
}

#[test]
fn wrong_product_message_names_both_products_and_the_header() {
    let config = demo_config();
    let err = run(&config, "salesforge", &[("X-Mailforge-Key", MF)]).unwrap_err();
    assert_eq!(
        err.detail(),
        "This is a Mailforge key, sent in X-Mailforge-Key; the Salesforge API expects a \
         Salesforge key in the X-Salesforge-Key header."
    );
    let err = run(&config, "salesforge", &[("X-Salesforge-Key", MF)]).unwrap_err();
    assert!(err
        .detail()
        .starts_with("This is a Mailforge key; the Salesforge API"));
    let err = run(
        &config,
        "forgeai",
        &[("Authorization", &format!("Bearer {SF}"))],
    )
    .unwrap_err();
    assert!(err
        .detail()
        .contains("expects a ForgeAI key in Authorization: Bearer <key>"));
}

#[test]
fn refusals_never_echo_the_key() {
    let config = demo_config();
    let bad = SF.replace("OQ9", "OQ8");
    for headers in [
        vec![("X-Salesforge-Key", bad.as_str())],
        vec![("X-Salesforge-Key", MF)],
        vec![("X-Mailforge-Key", MF)],
    ] {
        let err = run(&config, "salesforge", &headers).unwrap_err();
        let body = err.to_problem(None).body;
        assert!(
            !body.contains(&bad[8..]) && !body.contains(&MF[8..]),
            "{body}"
        );
    }
}

#[test]
fn a_legacy_prefix_lets_foreign_keys_through_to_the_hash_lookup() {
    let config = crate::config::tests::with_legacy("sk_live_").unwrap();
    let fai = config.product("forgeai").unwrap();
    let with = |key: &str| {
        let value = format!("Bearer {key}");
        present(&config, fai, &[("Authorization", value.as_str())][..])
    };
    let foreign = with("sk_live_4eC39HqLyjWDarjtT1zdp7dc").unwrap();
    assert!(foreign.is_foreign());
    assert!(!foreign.is_tagged());
    // Nothing of a foreign key is shown.
    assert_eq!((foreign.display_prefix(), foreign.last4()), ("", ""));
    assert_eq!(
        foreign.hash(),
        crate::key::KeyHash::of(&ApiKey::new("sk_live_4eC39HqLyjWDarjtT1zdp7dc"))
    );
    // Admitted without a tag: the lookup decides.
    let admitted = crate::key::admit(foreign, &crate::key::test_secret(), false).unwrap();
    assert_eq!(admitted.tag(), crate::key::Tag::Foreign);
    // keygate keys of the product keep every check.
    let fai_key = with(FAI).unwrap();
    assert!(!fai_key.is_foreign());
    assert_eq!(
        code(with(&FAI.replace("Bo2D3", "Bo2D4")).map(|_| String::new())),
        "malformed_key"
    );
    // Bounded: the prefix alone, a long value or a control character.
    for bad in [
        "sk_live_".to_owned(),
        format!("sk_live_{}", "a".repeat(crate::key::MAX_FOREIGN_KEY_BYTES)),
        "sk_live_a\u{7f}b".to_owned(),
    ] {
        assert_eq!(
            code(with(&bad).map(|_| String::new())),
            "malformed_key",
            "{bad:?}"
        );
    }
    // Another product, or the product without `legacy`, refuses them as
    // before: malformed, with no lookup.
    let sf = config.product("salesforge").unwrap();
    let err = present(
        &config,
        sf,
        &[("X-Salesforge-Key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc")][..],
    );
    assert_eq!(code(err.map(|_| String::new())), "malformed_key");
    let plain = demo_config();
    let fai = plain.product("forgeai").unwrap();
    let err = present(
        &plain,
        fai,
        &[("Authorization", "Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc")][..],
    );
    assert_eq!(code(err.map(|_| String::new())), "malformed_key");
}
