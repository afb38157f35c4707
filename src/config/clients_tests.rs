use crate::config::Config;
use crate::cors::{AllowedOrigins, Cors};

fn product_json(extra: &str) -> String {
    format!(
        r#"{{ "products": [ {{ "id": "app", "name": "App", "prefix": "ap",
        "key": {{ "header": "Authorization", "scheme": "Bearer" }},
        "route": {{ "path_prefix": "/" }}, "upstream": "http://127.0.0.1:9"{extra} }} ] }}"#
    )
}

fn load(extra: &str) -> Result<Config, String> {
    Config::from_json(&product_json(extra)).map_err(|e| e.to_string())
}

#[test]
fn defaults_are_off_and_untrusted() {
    let config = load("").unwrap();
    let p = &config.products[0];
    assert_eq!(p.cors, Cors::Off);
    assert!(!p.trust_forwarded);
    assert!(!p.websocket.key_in_protocol);
    assert_eq!(p.websocket.key_query, None);
    assert_eq!(p.websocket.max_connection_seconds, 3600);
}

#[test]
fn a_cors_table_adds_the_key_header_and_exposes_www_authenticate() {
    let config = load(
        r#", "cors": { "origins": ["https://App.Example.com/", "http://localhost:3000"],
            "expose_headers": ["X-Request-Cost"], "credentials": true, "max_age": 60 }"#,
    )
    .unwrap();
    let Cors::Edge(policy) = &config.products[0].cors else {
        panic!("expected an edge policy")
    };
    assert_eq!(
        policy.origins,
        AllowedOrigins::List(vec![
            "https://app.example.com".into(),
            "http://localhost:3000".into()
        ])
    );
    assert_eq!(
        policy.request_headers,
        vec!["Content-Type", "Authorization"]
    );
    assert_eq!(
        policy.expose_headers,
        vec!["X-Request-Cost", "WWW-Authenticate"]
    );
    assert_eq!(policy.methods.len(), 6);
    assert!(policy.credentials);
    assert_eq!(policy.max_age, 60);
}

#[test]
fn cors_origin_mode_and_bad_modes() {
    assert_eq!(
        load(r#", "cors": "origin""#).unwrap().products[0].cors,
        Cors::Origin
    );
    let err = load(r#", "cors": "edge""#).unwrap_err();
    assert!(err.contains("products[app].cors"), "{err}");
}

#[test]
fn star_with_credentials_is_refused() {
    let err = load(r#", "cors": { "origins": "*", "credentials": true }"#).unwrap_err();
    assert!(err.contains("cors.credentials"), "{err}");
    assert!(load(r#", "cors": { "origins": "*" }"#).is_ok());
    assert!(load(r#", "cors": { "origins": ["*"], "credentials": true }"#).is_err());
}

#[test]
fn origins_must_be_bare_origins() {
    for bad in [
        r#""https://a.example/path""#,
        r#""app.example.com""#,
        r#""null""#,
        r#""ftp://a.example""#,
        r#""https://user@a.example""#,
        r#""https://a.example?x""#,
        r#"[]"#,
    ] {
        let err = load(&format!(r#", "cors": {{ "origins": {bad} }}"#)).unwrap_err();
        assert!(err.contains("cors.origins"), "{bad}: {err}");
    }
    // The default port is dropped, as browsers do.
    let config = load(r#", "cors": { "origins": "https://a.example:443" }"#);
    assert!(
        config.is_err(),
        "a default port is not how browsers send it"
    );
}

#[test]
fn bad_cors_fields_are_named() {
    let cases = [
        (r#""methods": ["get"]"#, "cors.methods"),
        (r#""request_headers": ["X Bad"]"#, "cors.request_headers"),
        (r#""max_age": 100000"#, "cors.max_age"),
        (r#""allow": true"#, "cors"),
    ];
    for (field, named) in cases {
        let err = load(&format!(r#", "cors": {{ "origins": "*", {field} }}"#)).unwrap_err();
        assert!(err.contains(named), "{field}: {err}");
    }
}

#[test]
fn websocket_settings_are_checked() {
    let config = load(
        r#", "websocket": { "key_in_protocol": true, "key_query": "api_key", "max_connection_seconds": 5 }"#,
    )
    .unwrap();
    let ws = &config.products[0].websocket;
    assert!(ws.key_in_protocol);
    assert_eq!(ws.key_query.as_deref(), Some("api_key"));
    assert_eq!(ws.max_connection_seconds, 5);
    for bad in [
        r#""max_connection_seconds": 0"#,
        r#""max_connection_seconds": 86401"#,
        r#""key_query": """#,
        r#""key_query": "a&b""#,
        r#""key_query": "a=b""#,
    ] {
        let err = load(&format!(r#", "websocket": {{ {bad} }}"#)).unwrap_err();
        assert!(err.contains("websocket"), "{bad}: {err}");
    }
}

#[test]
fn trust_forwarded_is_read() {
    assert!(load(r#", "trust_forwarded": true"#).unwrap().products[0].trust_forwarded);
}

#[test]
fn string_or_table_members_refuse_other_types_by_name() {
    // Read by config::raw::TextOr (no serde `untagged`): the same shapes
    // are accepted, and anything else is refused naming the member.
    for (extra, field) in [
        (r#", "cors": 5"#, "cors"),
        (r#", "cors": { "origins": true }"#, "cors.origins"),
        (r#", "cors": { "origins": [1] }"#, "cors.origins"),
        (r#", "public_paths": [7]"#, "public_paths"),
        (
            r#", "public_paths": [{ "path": "/in", "methods": { "a": 1 } }]"#,
            "methods",
        ),
        (
            r#", "permissions": [{ "method": null, "path": "/x", "permission": "read" }]"#,
            "method",
        ),
    ] {
        let err = load(extra).unwrap_err();
        assert!(err.contains(field), "{extra}: {err}");
    }
    let err = load(r#", "cors": 5"#).unwrap_err();
    assert!(
        err.contains("expected a string, a list or a table"),
        "{err}"
    );
    // A mistake inside the table is reported as itself.
    let err = load(r#", "cors": { "origins": "*", "allow": true }"#).unwrap_err();
    assert!(err.contains("unknown field `allow`"), "{err}");
    // Every accepted shape still loads.
    for extra in [
        r#", "cors": "origin""#,
        r#", "cors": { "origins": "*" }"#,
        r#", "cors": { "origins": ["https://a.example"] }"#,
        r#", "public_paths": ["/health", { "path": "/in", "methods": "POST" }]"#,
        r#", "public_paths": [{ "path": "/in", "methods": ["POST", "PUT"] }]"#,
    ] {
        assert!(load(extra).is_ok(), "{extra}: {:?}", load(extra).err());
    }
}
