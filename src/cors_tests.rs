use super::*;

fn policy(origins: AllowedOrigins, credentials: bool) -> CorsPolicy {
    CorsPolicy {
        origins,
        methods: vec!["GET".into(), "POST".into()],
        request_headers: vec!["Content-Type".into(), "X-App-Key".into()],
        expose_headers: vec!["WWW-Authenticate".into()],
        max_age: 600,
        credentials,
    }
}

fn get<'h>(headers: &'h [(&'static str, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn preflights_are_recognised() {
    let pre: &[(&str, &str)] = &[
        ("Origin", "https://app.example"),
        ("access-control-request-method", "POST"),
    ];
    assert!(is_preflight("OPTIONS", pre));
    assert!(is_preflight("options", pre));
    assert!(!is_preflight("GET", pre));
    assert!(!is_preflight("OPTIONS", &pre[..1]));
    assert!(!is_preflight("OPTIONS", &pre[1..]));
}

#[test]
fn a_listed_origin_is_echoed_never_star() {
    let p = policy(
        AllowedOrigins::List(vec!["https://app.example".into()]),
        true,
    );
    let h = p.preflight_headers(Some("https://app.example"));
    assert_eq!(
        get(&h, "Access-Control-Allow-Origin"),
        Some("https://app.example")
    );
    assert_eq!(get(&h, "Access-Control-Allow-Credentials"), Some("true"));
    assert_eq!(
        get(&h, "Access-Control-Allow-Headers"),
        Some("Content-Type, X-App-Key")
    );
    assert_eq!(get(&h, "Access-Control-Allow-Methods"), Some("GET, POST"));
    assert_eq!(get(&h, "Access-Control-Max-Age"), Some("600"));
    assert_eq!(get(&h, "Vary"), Some("Origin"));
    let r = p.response_headers(Some("https://app.example"));
    assert_eq!(
        get(&r, "Access-Control-Allow-Origin"),
        Some("https://app.example")
    );
    assert_eq!(
        get(&r, "Access-Control-Expose-Headers"),
        Some("WWW-Authenticate")
    );
}

#[test]
fn a_disallowed_or_absent_origin_gets_only_vary() {
    let p = policy(
        AllowedOrigins::List(vec!["https://app.example".into()]),
        false,
    );
    for origin in [
        Some("https://evil.example"),
        Some("https://app.example.evil.example"),
        Some("https://APP.example"),
        Some("null"),
        Some("https://app.example/"),
        None,
    ] {
        for h in [p.preflight_headers(origin), p.response_headers(origin)] {
            assert_eq!(h, vec![("Vary", "Origin".to_owned())], "{origin:?}");
        }
    }
}

#[test]
fn any_origin_is_star_without_credentials() {
    let p = policy(AllowedOrigins::Any, false);
    let h = p.response_headers(Some("https://whoever.example"));
    assert_eq!(get(&h, "Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(get(&h, "Access-Control-Allow-Credentials"), None);
    // Even if a policy were built with both, `*` is never sent with
    // credentials.
    let both = policy(AllowedOrigins::Any, true);
    let h = both.response_headers(Some("https://whoever.example"));
    assert_eq!(
        get(&h, "Access-Control-Allow-Origin"),
        Some("https://whoever.example")
    );
}

#[test]
fn cors_headers_and_vary() {
    assert!(is_cors_header("Access-Control-Allow-Origin"));
    assert!(is_cors_header("access-control-expose-headers"));
    assert!(!is_cors_header("Access-Control-"));
    assert!(!is_cors_header("Vary"));
    assert_eq!(vary_with_origin(None), "Origin");
    assert_eq!(vary_with_origin(Some("")), "Origin");
    assert_eq!(
        vary_with_origin(Some("Accept-Encoding")),
        "Accept-Encoding, Origin"
    );
    assert_eq!(vary_with_origin(Some("origin, Accept")), "origin, Accept");
    assert_eq!(vary_with_origin(Some("*")), "*");
}
