//! Property tests for the canonical path: it is a fixed point, and no
//! spelling of a protected path gets past its rule.
//!
//! The second property models an origin that routes as leniently as real
//! ones do (Express and ASP.NET ignore case, Rails drops a format suffix,
//! Tomcat drops `;` parameters, IIS trims trailing dots and spaces, every
//! one of them percent-decodes; some decode twice, and some normalise
//! Unicode with NFKC or a Windows "best-fit" conversion, dropping
//! zero-width characters and trimming Unicode spaces). Whatever path a
//! client sends, if keygate admits it without a rule's permission, that
//! origin must not route the forwarded path to the rule's handler.

use keygate::config::Config;
use keygate::path::canonicalize;
use keygate::policy::{admit_public, required_permission, RequestFacts};
use keygate::route::select;
use proptest::prelude::*;

const CONFIG: &str = r#"{ "products": [
  { "id": "forgeai", "name": "ForgeAI", "prefix": "fai",
    "key": { "header": "Authorization", "scheme": "Bearer" },
    "route": { "path_prefix": "/forgeai", "strip_prefix": true },
    "upstream": "http://127.0.0.1:8788",
    "public_paths": ["/docs/**", "/health"],
    "permissions": [
      { "method": ["GET", "HEAD"], "path": "/api/v1/logs/**", "permission": "view_logs" },
      { "method": "*", "path": "/api/v1/deployments/**", "permission": "manage_deployments" },
      { "method": "POST", "path": "/v1/campaigns/*/send", "permission": "send_campaigns" },
      { "method": "*", "path": "/admin/**", "permission": "admin" }
    ] }
] }"#;

/// The protected rules, as (method, segments, permission); `*` is one
/// segment and a final `**` any number.
const RULES: [(&str, &[&str], &str); 4] = [
    ("GET", &["api", "v1", "logs", "**"], "view_logs"),
    (
        "*",
        &["api", "v1", "deployments", "**"],
        "manage_deployments",
    ),
    ("POST", &["v1", "campaigns", "*", "send"], "send_campaigns"),
    ("*", &["admin", "**"], "admin"),
];

/// Full percent-decoding, as origins do (lossy for invalid UTF-8).
#[allow(clippy::indexing_slicing)] // test model; `i` stays in bounds
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(v) = segment
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a Unicode-normalising origin makes of decoded text: NFKC (full,
/// ICU4X's), with zero-width and other default-ignorable characters
/// dropped (best-fit conversions and many routers drop them).
fn fold(text: &str) -> String {
    let nfkc = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc();
    nfkc.normalize(text)
        .chars()
        .filter(|c| {
            !matches!(*c, '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
                | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}')
        })
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect()
}

/// How a lenient origin routes `path`: its segments, each decoded twice
/// and folded (which may make new `/`, `.` and `..`), then normalised.
fn origin_route(path: &str) -> Vec<String> {
    let mut resolved: Vec<String> = Vec::new();
    for raw in path.split('/') {
        for part in fold(&decode(&decode(raw))).split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    resolved.pop();
                }
                part => resolved.push(part.to_owned()),
            }
        }
    }
    let last = resolved.len().saturating_sub(1);
    resolved
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut s = s.clone();
            if let Some(at) = s.find(';') {
                s.truncate(at);
            }
            let mut s = s
                .trim_end_matches(['.', ' '])
                .to_lowercase()
                .replace(['ſ'], "s")
                .replace(['\u{212a}'], "k")
                .replace(['ı'], "i");
            if i == last {
                if let Some(at) = s.find('.') {
                    s.truncate(at);
                }
            }
            s
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn rule_matches(rule: &[&str], route: &[String]) -> bool {
    let mut i = 0;
    for part in rule {
        match *part {
            "**" => return true,
            "*" => {
                if route.get(i).is_none() {
                    return false;
                }
            }
            literal => {
                if route.get(i).map(String::as_str) != Some(literal) {
                    return false;
                }
            }
        }
        i += 1;
    }
    i == route.len()
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("api"),
        Just("API"),
        Just("v1"),
        Just("V1"),
        Just("logs"),
        Just("Logs"),
        Just("%6Cogs"),
        Just("%6cogs"),
        Just("log%C5%BF"),
        Just("deployments"),
        Just("Deployments"),
        Just("deployments.json"),
        Just("logs.xml"),
        Just("x"),
        Just("1"),
        Just(".."),
        Just("."),
        Just("%2e%2e"),
        Just(".%2E"),
        Just("%2F"),
        Just(""),
        Just(";x"),
        Just("logs;x"),
        Just("logs%3Bx"),
        Just("..;"),
        Just("logs%20"),
        Just("logs."),
        Just("%00"),
        Just("send"),
        Just("SEND.json"),
        Just("send%2Ejson"),
        Just("campaigns"),
        Just("admin"),
        Just("ADMIN"),
        Just("docs"),
        Just("health"),
        Just("%61dmin"),
        Just("a%2fb"),
        Just("%5C"),
        Just("%252e%252e"),
        Just("deployment%73"),
        // Issue 18 (Low 4): fullwidth forms, double escapes, invisible and
        // Unicode spaces.
        Just("%EF%BC%8E%EF%BC%8E"),
        Just("%EF%BD%81dmin"),
        Just("admin%EF%BC%8Fusers"),
        Just("%EF%BD%8Cogs"),
        Just("%2561dmin"),
        Just("%256Cogs"),
        Just("admin%C2%A0"),
        Just("admin%E3%80%80"),
        Just("admin%E2%80%8B"),
        Just("logs%E2%80%8B"),
        Just("%EF%BC%A1DMIN")
    ]
    .prop_map(str::to_owned)
}

/// One spelling of a segment, as a client might try it.
fn spell(segment: &str, variant: u8) -> String {
    let mut chars = segment.chars();
    let first = chars.next().unwrap_or('x');
    let rest: String = chars.collect();
    match variant {
        0 => segment.to_owned(),
        1 => segment.to_uppercase(),
        2 => format!("{}{rest}", first.to_ascii_uppercase()),
        3 => format!("%{:02X}{rest}", first as u32),
        4 => format!("%{:02x}{rest}", first as u32),
        5 => format!("{segment}.json"),
        6 => format!("{segment}%2Exml"),
        7 => format!("{segment};x"),
        8 => format!("{segment}%3Bx"),
        9 => format!("{segment}."),
        10 => format!("{segment}%20"),
        11 => format!("x/../{segment}"),
        12 => format!("{segment}/."),
        13 => format!("{segment}/"),
        14 => segment.replace('s', "%C5%BF"),
        15 => format!("{segment}/..;/{segment}"),
        16 => format!("%2e/{segment}"),
        // Fullwidth first letter (U+FF41.. for a-z), as UTF-8 escapes.
        17 => {
            let wide = char::from_u32(first.to_ascii_lowercase() as u32 + 0xFEE0).unwrap_or('x');
            let mut buf = [0u8; 4];
            let escaped: String = wide
                .encode_utf8(&mut buf)
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect();
            format!("{escaped}{rest}")
        }
        18 => format!("%25{:02X}{rest}", first as u32),
        19 => format!("{segment}%E2%80%8B"),
        20 => format!("{segment}%E3%80%80"),
        _ => format!("x/%EF%BC%8E%EF%BC%8E/{segment}"),
    }
}

fn raw_path() -> impl Strategy<Value = String> {
    let bases: [&[&str]; 7] = [
        &["api", "v1", "logs", "x"],
        &["api", "v1", "logs"],
        &["api", "v1", "deployments", "d1"],
        &["v1", "campaigns", "1", "send"],
        &["admin", "users"],
        &["docs", "..", "admin"],
        &["health"],
    ];
    (
        prop::sample::select(bases.to_vec()),
        prop::collection::vec(0u8..22, 4),
        prop::collection::vec(segment(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(base, variants, extra, slash)| {
            let mut segments: Vec<String> = base
                .iter()
                .zip(variants)
                .map(|(segment, variant)| spell(segment, variant))
                .collect();
            segments.extend(extra);
            let mut path = format!("/forgeai/{}", segments.join("/"));
            if slash {
                path.push('/');
            }
            path
        })
}

fn method() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("GET"),
        Just("HEAD"),
        Just("POST"),
        Just("DELETE"),
        Just("PUT")
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn canonicalising_twice_changes_nothing(raw in "(/[a-zA-Z0-9%._~;:@!$&'()*+,=-]{0,12}){0,6}/?") {
        if let Ok(once) = canonicalize(&raw) {
            prop_assert_eq!(canonicalize(once.as_str()), Ok(once.clone()), "{}", raw);
        }
    }

    #[test]
    fn canonicalising_arbitrary_text_is_a_fixed_point(raw in "/.{0,60}") {
        if let Ok(once) = canonicalize(&raw) {
            prop_assert_eq!(canonicalize(once.as_str()), Ok(once.clone()));
        }
    }

    #[test]
    fn no_spelling_of_a_protected_path_passes_its_rule(
        raw in prop_oneof![raw_path(), prop::collection::vec(segment(), 0..7).prop_map(|s| format!("/forgeai/{}", s.join("/")))],
        method in method(),
    ) {
        let config = Config::from_json(CONFIG).unwrap();
        let Ok(canonical) = canonicalize(&raw) else { return Ok(()) };
        let Ok(routed) = select(&config, "h", &canonical) else { return Ok(()) };
        let product = routed.product;
        let facts = RequestFacts { method, path: &routed.product_path, client: None };
        let route = origin_route(&routed.product_path);
        for (rule_method, rule, permission) in RULES {
            let method_covered = rule_method == "*"
                || rule_method == method
                || (rule_method == "GET" && method == "HEAD");
            if !method_covered || !rule_matches(rule, &route) {
                continue;
            }
            // The origin routes this to the rule's handler: keygate must
            // demand the rule's permission, and never admit it as public.
            prop_assert_eq!(
                required_permission(product, method, &routed.product_path),
                permission,
                "{} {} forwarded as {}", method, raw, routed.product_path
            );
            prop_assert!(
                admit_public(product, facts).is_none(),
                "{} {} admitted as public", method, raw
            );
        }
    }
}
