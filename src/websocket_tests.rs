use super::*;
use crate::config::Config;
use crate::key::{mint, Environment};

fn config(websocket: &str, header: &str) -> Config {
    Config::from_json(&format!(
        r#"{{ "products": [ {{ "id": "chat", "name": "Chat", "prefix": "ch",
        "key": {header}, "route": {{ "path_prefix": "/" }},
        "upstream": "http://127.0.0.1:9", "websocket": {websocket} }} ] }}"#
    ))
    .unwrap()
}

fn key(byte: u8) -> String {
    mint(
        "ch",
        Environment::Live,
        &[byte; 32],
        &crate::key::test_secret(),
    )
    .unwrap()
    .key
    .key()
    .expose()
    .to_owned()
}

fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

const PLAIN: &str = r#"{ "header": "X-Chat-Key" }"#;
const OPT_IN: &str = r#"{ "key_in_protocol": true, "key_query": "api_key" }"#;

#[test]
fn upgrades_are_recognised() {
    let h: &[(&str, &str)] = &[("upgrade", "WebSocket")];
    assert!(is_upgrade(h));
    let h: &[(&str, &str)] = &[("Upgrade", "h2c, websocket")];
    assert!(is_upgrade(h));
    let h: &[(&str, &str)] = &[("Upgrade", "websockets")];
    assert!(!is_upgrade(h));
    let h: &[(&str, &str)] = &[];
    assert!(!is_upgrade(h));
}

#[test]
fn the_key_comes_from_a_protocol_entry_when_opted_in_and_is_never_forwarded() {
    let k = key(1);
    let config = config(OPT_IN, PLAIN);
    let product = &config.products[0];
    let offered = format!("chat.v1, {k}");
    let located = locate(
        product,
        &headers(&[("Sec-WebSocket-Protocol", &offered)]),
        Some("room=1"),
    );
    assert_eq!(located.protocols.as_deref(), Some("chat.v1"));
    assert_eq!(located.query.as_deref(), Some("room=1"));
    assert_eq!(
        located.headers.header("X-Chat-Key").as_deref(),
        Some(k.as_str())
    );
    // Not opted in: the entry is not read, and still never forwarded.
    let config = self::config(r#"{}"#, PLAIN);
    let located = locate(
        &config.products[0],
        &headers(&[("Sec-WebSocket-Protocol", &offered)]),
        None,
    );
    assert_eq!(located.protocols.as_deref(), Some("chat.v1"));
    assert_eq!(located.headers.header("X-Chat-Key"), None);
}

#[test]
fn the_key_comes_from_the_query_and_leaves_it_entirely() {
    let k = key(2);
    let config = config(
        OPT_IN,
        r#"{ "header": "Authorization", "scheme": "Bearer" }"#,
    );
    let product = &config.products[0];
    let encoded = k.replace('_', "%5F");
    for (query, rest) in [
        (format!("api_key={k}"), None),
        (format!("a=1&api_key={k}&b=2"), Some("a=1&b=2")),
        (format!("api%5Fkey={encoded}&b=2"), Some("b=2")),
        (format!("api_key={k}&api_key=second"), None),
        (format!("b=api_key&api_key={k}"), Some("b=api_key")),
    ] {
        let located = locate(product, &[], Some(&query));
        assert_eq!(located.query.as_deref(), rest, "{query}");
        assert_eq!(
            located.headers.header("Authorization"),
            Some(format!("Bearer {k}")),
            "{query}"
        );
    }
    // Without key_query, the query is untouched.
    let config = self::config(r#"{}"#, PLAIN);
    let located = locate(&config.products[0], &[], Some("api_key=x&y=1"));
    assert_eq!(located.query.as_deref(), Some("api_key=x&y=1"));
}

#[test]
fn the_header_wins_over_protocol_and_query() {
    let (a, b, c) = (key(3), key(4), key(5));
    let config = config(OPT_IN, PLAIN);
    let located = locate(
        &config.products[0],
        &headers(&[("X-Chat-Key", &a), ("Sec-WebSocket-Protocol", &b)]),
        Some(&format!("api_key={c}")),
    );
    let keys: Vec<&str> = located
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("X-Chat-Key"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(keys, vec![a.as_str()]);
    assert_eq!(located.protocols, None);
    assert_eq!(located.query, None);
}

#[test]
fn close_codes_that_cannot_be_sent_are_mapped() {
    assert_eq!(relay_close_code(1000), 1000);
    assert_eq!(relay_close_code(1005), 1000);
    assert_eq!(relay_close_code(1006), 1011);
    assert_eq!(relay_close_code(1015), 1011);
    assert_eq!(relay_close_code(4001), 4001);
    assert_eq!(relay_close_code(999), 1011);
}
