use super::{Host, HttpUrl, UrlError};
use std::net::{Ipv4Addr, Ipv6Addr};

fn ok(raw: &str) -> HttpUrl {
    HttpUrl::parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"))
}

fn err(raw: &str) -> UrlError {
    HttpUrl::parse(raw).expect_err(raw)
}

#[test]
fn parses_and_serializes_as_browsers_do() {
    for (raw, origin, whole) in [
        (
            "http://127.0.0.1:8788/",
            "http://127.0.0.1:8788",
            "http://127.0.0.1:8788/",
        ),
        (
            "https://Origin.Forge.AI",
            "https://origin.forge.ai",
            "https://origin.forge.ai/",
        ),
        (
            "HTTPS://a.example:443/x",
            "https://a.example",
            "https://a.example/x",
        ),
        (
            "http://a.example:80",
            "http://a.example",
            "http://a.example/",
        ),
        (
            "http://a.example:443",
            "http://a.example:443",
            "http://a.example:443/",
        ),
        (
            "https://[::1]:8443/k",
            "https://[::1]:8443",
            "https://[::1]:8443/k",
        ),
        ("https://[0:0::1]/", "https://[::1]", "https://[::1]/"),
        (
            "  https://x.test/a/b/?q=1#f \n",
            "https://x.test",
            "https://x.test/a/b/?q=1#f",
        ),
        (
            "https://x.test/%7Euser",
            "https://x.test",
            "https://x.test/%7Euser",
        ),
        ("https://x.test?", "https://x.test", "https://x.test/?"),
    ] {
        let url = ok(raw);
        assert_eq!(url.origin(), origin, "{raw}");
        assert_eq!(url.to_string(), whole, "{raw}");
    }
}

#[test]
fn parts() {
    let url = ok("https://u:p@x.test:8443/a?b#c");
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host(), &Host::Name("x.test".into()));
    assert_eq!(url.path(), "/a");
    assert!(url.has_userinfo() && url.has_query() && url.has_fragment());
    assert!(ok("https://@x.test/").has_userinfo());
    let plain = ok("http://10.0.0.1");
    assert_eq!(plain.host(), &Host::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(plain.path(), "/");
    assert!(!plain.has_userinfo() && !plain.has_query() && !plain.has_fragment());
    assert_eq!(ok("http://[::1]").host(), &Host::V6(Ipv6Addr::LOCALHOST));
}

#[test]
fn refuses_what_whatwg_would_rewrite_or_what_is_not_an_http_url() {
    for (raw, want) in [
        ("", UrlError::NotAbsolute),
        ("/mail", UrlError::NotAbsolute),
        ("hooks.example.com/k", UrlError::NotAbsolute),
        ("http:x.test/", UrlError::NotAbsolute),
        ("http:/x.test/", UrlError::NotAbsolute),
        ("http:\\\\x.test/", UrlError::Character),
        ("1http://x/", UrlError::NotAbsolute),
        ("ftp://x", UrlError::Scheme),
        ("javascript:alert(1)", UrlError::Scheme),
        ("user:pass@x.test/", UrlError::Scheme),
        ("https://", UrlError::Host),
        ("https:///path", UrlError::Host),
        ("https://u@/", UrlError::Host),
        ("https://exa mple.com/", UrlError::Host),
        ("https://bücher.example/", UrlError::Host),
        ("https://x%2e.test/", UrlError::Host),
        ("https://x.test\\@evil/", UrlError::Character),
        ("https://[::1/", UrlError::Host),
        ("https://[::1]x/", UrlError::Host),
        ("https://[fe80::1%25eth0]/", UrlError::Host),
        ("https://127.1/", UrlError::Host),
        ("https://0x7f000001/", UrlError::Host),
        ("https://2130706433/", UrlError::Host),
        ("https://0177.0.0.1/", UrlError::Host),
        ("https://a.0x1/", UrlError::Host),
        ("https://1.2.3.4.5/", UrlError::Host),
        ("https://256.0.0.1/", UrlError::Host),
        ("https://x.test:/", UrlError::Port),
        ("https://x.test:65536/", UrlError::Port),
        ("https://x.test:+80/", UrlError::Port),
        ("https://x.test:8a/", UrlError::Port),
        ("https://x.test:1:2/", UrlError::Port),
        ("https://x.test/a b", UrlError::Character),
        ("https://x.test/a\\b", UrlError::Character),
        ("https://x.test/ä", UrlError::Character),
        ("https://x.test/a\tb", UrlError::Character),
        ("https://x.test/%zz", UrlError::Character),
        ("https://x.test/%4", UrlError::Character),
        ("https://x.test/?q=<script>", UrlError::Character),
        ("https://x.test/#a b", UrlError::Character),
        ("https://x.test/a/../b", UrlError::DotSegment),
        ("https://x.test/./b", UrlError::DotSegment),
        ("https://x.test/a/%2E%2e", UrlError::DotSegment),
        ("https://x.test/a/.%2e/", UrlError::DotSegment),
    ] {
        assert_eq!(err(raw), want, "{raw}");
    }
}

#[test]
fn dotted_names_and_numeric_labels_that_are_not_the_last_are_names() {
    assert_eq!(
        ok("https://1.example/").host(),
        &Host::Name("1.example".into())
    );
    assert_eq!(ok("https://a..b./").host(), &Host::Name("a..b.".into()));
    assert_eq!(ok("https://x.test/a..b/...").path(), "/a..b/...");
}

#[test]
fn destinations_follow_the_destination_rules() {
    assert!(ok("http://localhost:9/")
        .destination()
        .is_err_and(|w| w.is_loopback()));
    assert!(ok("http://a.LOCALHOST/")
        .destination()
        .is_err_and(|w| w.is_loopback()));
    assert!(ok("http://127.0.0.1/")
        .destination()
        .is_err_and(|w| w.is_loopback()));
    assert!(ok("http://[::1]/")
        .destination()
        .is_err_and(|w| w.is_loopback()));
    assert!(ok("http://10.1.2.3/").destination().is_err());
    assert!(ok("https://keys.example.com/").destination().is_ok());
}

#[test]
fn never_panics_on_odd_input() {
    for raw in [
        "http://[",
        "http://]",
        "http://%",
        "https://a/%",
        "https://a/%%",
        "http://@",
        "http://:",
        "http://[]:",
        "http://x:99999999999999999999/",
    ] {
        let _ = HttpUrl::parse(raw);
    }
}
