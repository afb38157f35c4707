use super::*;

const DEFAULT: Matching = Matching {
    case_sensitive: false,
    path_params: false,
};
const SENSITIVE: Matching = Matching {
    case_sensitive: true,
    path_params: false,
};
const PARAMS: Matching = Matching {
    case_sensitive: false,
    path_params: true,
};

fn m(pattern: &str, path: &str) -> bool {
    PathPattern::parse(pattern).unwrap().matches(path, DEFAULT)
}

fn covers(pattern: &str, path: &str, matching: Matching) -> bool {
    PathPattern::parse(pattern).unwrap().covers(path, matching)
}

#[test]
fn matching_table() {
    let table = [
        ("/health", "/health", true),
        ("/health", "/health/", true),
        ("/health/", "/health", true),
        ("/health", "/HEALTH", true),
        ("/health", "/healthz", false),
        ("/health", "/health.json", false),
        ("/health", "/", false),
        ("/", "/", true),
        ("/", "/x", false),
        ("/**", "/", true),
        ("/**", "/a/b/c", true),
        ("/v1/flows/*/run", "/v1/flows/42/run", true),
        ("/v1/flows/*/run", "/V1/Flows/42/RUN/", true),
        ("/v1/flows/*/run", "/v1/flows/42/run/x", false),
        ("/v1/flows/*", "/v1/flows", false),
        ("/v1/flows/*", "/v1/flows/", false),
        ("/v1/logs/**", "/v1/logs", true),
        ("/v1/logs/**", "/v1/logs/a/b", true),
        ("/v1/logs/**", "/v1/logsx", false),
        ("/api/account", "api/account", false),
        ("/api/%6Cogs", "/api/logs", true),
        ("/v1/logs", "/v1/log%C5%BF", true),
        ("/v1/keys", "/v1/%E2%84%AAeys", true),
        ("/v1/links", "/v1/l%C4%B1nks", true),
    ];
    for (pattern, path, expected) in table {
        assert_eq!(m(pattern, path), expected, "{pattern} vs {path}");
    }
}

#[test]
fn case_sensitive_products_match_exactly() {
    let p = PathPattern::parse("/api/v1/deployments/**").unwrap();
    assert!(p.matches("/api/v1/deployments/d1", SENSITIVE));
    assert!(!p.matches("/api/v1/Deployments/d1", SENSITIVE));
    assert!(p.matches("/api/v1/deployments/", SENSITIVE));
}

#[test]
fn rules_cover_format_suffixes_on_their_last_literal() {
    let rule = "/v1/campaigns/*/send";
    for path in [
        "/v1/campaigns/1/send",
        "/v1/campaigns/1/send/",
        "/v1/campaigns/1/send.json",
        "/v1/campaigns/1/SEND.XML",
        "/v1/campaigns/1/send.tar.gz",
        "/v1/campaigns/1/send/.json",
        "/v1/campaigns/1/send/.json/",
    ] {
        assert!(covers(rule, path, DEFAULT), "{path}");
    }
    for path in [
        "/v1/campaigns/1/sendx",
        "/v1/campaigns/1/send.",
        "/v1/campaigns/1",
    ] {
        assert!(!covers(rule, path, DEFAULT), "{path}");
    }
    // The last literal, even when a wildcard follows it.
    assert!(covers("/api/v1/logs/**", "/api/v1/logs.json/x", DEFAULT));
    // Only the last literal: an earlier one must match as written.
    assert!(!covers(
        "/v1/campaigns/*/send",
        "/v1/campaigns.json/1/send",
        DEFAULT
    ));
    // Public paths take no suffix.
    assert!(!m("/health", "/health.json"));
}

#[test]
fn path_parameters_are_ignored_only_when_allowed() {
    assert!(!covers(
        "/v1/campaigns/*/send",
        "/v1/campaigns/1/send;x",
        DEFAULT
    ));
    assert!(covers(
        "/v1/campaigns/*/send",
        "/v1/campaigns/1/send;x",
        PARAMS
    ));
    assert!(covers(
        "/v1/campaigns/*/send",
        "/v1/campaigns;a=b/1/send%3Bx",
        PARAMS
    ));
    assert!(PathPattern::parse("/health")
        .unwrap()
        .matches("/health;jsessionid=1", PARAMS));
}

#[test]
fn refuses_bad_patterns() {
    for bad in [
        "health", "/a/**/b", "/a*", "/a?b=1", "/a#x", "/a//b", "/a/../b", "/a%2Fb", "/send.",
    ] {
        assert!(PathPattern::parse(bad).is_err(), "{bad}");
    }
}
