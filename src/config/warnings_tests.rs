use super::*;
use crate::config::tests::DEMO_JSON;

fn with(extra: &str) -> Config {
    Config::from_json(&DEMO_JSON.replacen(
        r#""cache_ttl_seconds": 5,"#,
        &format!(r#""cache_ttl_seconds": 5, {extra}"#),
        1,
    ))
    .unwrap()
}

/// Issue 18 (Low 3): `keygate check` warns when the page has no host of
/// its own.
#[test]
fn a_page_without_a_host_of_its_own_is_warned_about() {
    let shared = with(r#""management": {},"#);
    assert!(shared.portal.is_some());
    let said = warnings(&shared);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("management.host is unset"), "{}", said[0]);
    assert!(said[0].contains("docs/deploying.md"));

    let own = with(r#""management": {"host": "keys.forge.ai"},"#);
    assert!(warnings(&own).is_empty(), "{:?}", warnings(&own));

    let off = with(r#""portal": {"enabled": false},"#);
    assert!(off.portal.is_none());
    assert!(warnings(&off).is_empty());

    if let Ok(product_host) = Config::from_json(&DEMO_JSON.replacen(
        r#""cache_ttl_seconds": 5,"#,
        r#""cache_ttl_seconds": 5, "management": {"host": "api.forge.ai"},"#,
        1,
    )) {
        let said = warnings(&product_host);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("forgeai-host"), "{}", said[0]);
    }
}
