//! Target `path`: the path canonicaliser and the pattern matcher.
//!
//! Input: `pattern NUL path`.
//! Invariants:
//! * canonicalising a canonical path changes nothing;
//! * a canonical path starts with `/`, has no empty segment but a final
//!   one, no `.` or `..` segment, no escape of an unreserved character and
//!   only uppercase escapes; a refusal says what is wrong;
//! * a pattern that parses matches its own literal paths (each `*` filled
//!   with a segment, `**` with none or several), with and without a
//!   trailing `/`;
//! * by default, case and a trailing `/` never change a verdict; a rule
//!   `covers` every path it `matches`; a path without `/` matches nothing.

use keygate::path::canonicalize;
use keygate::pattern::{Matching, PathPattern};

const DEFAULT: Matching = Matching {
    case_sensitive: false,
    path_params: false,
};
const EXACT: Matching = Matching {
    case_sensitive: true,
    path_params: false,
};
const PARAMS: Matching = Matching {
    case_sensitive: false,
    path_params: true,
};

/// The `path` target.
pub fn path(data: &[u8]) {
    let [pattern_bytes, path_bytes] = crate::split::<2>(data);
    let source = crate::text(pattern_bytes);
    let raw = crate::text(path_bytes);

    let canonical = match canonicalize(&raw) {
        Ok(canonical) => canonical,
        Err(refused) => {
            assert!(!refused.reason().is_empty());
            check_pattern_alone(&source);
            return;
        }
    };
    let path = canonical.as_str();
    assert_eq!(
        canonicalize(path).as_ref().map(|c| c.as_str()),
        Ok(path),
        "canonicalize({raw:?}) is not a fixed point"
    );
    check_canonical(path);

    let Ok(pattern) = PathPattern::parse(&source) else {
        return;
    };
    assert_eq!(pattern.to_string(), source);
    for matching in [DEFAULT, EXACT, PARAMS] {
        let matched = pattern.matches(path, matching);
        assert!(
            !matched || pattern.covers(path, matching),
            "{source:?} matches {path:?} but does not cover it"
        );
    }
    let verdict = pattern.matches(path, DEFAULT);
    let upper = path.to_ascii_uppercase();
    assert_eq!(
        pattern.matches(&upper, DEFAULT),
        verdict,
        "case changed the verdict of {source:?} on {path:?}"
    );
    if path != "/" {
        let toggled = match path.strip_suffix('/') {
            Some(without) => without.to_owned(),
            None => format!("{path}/"),
        };
        assert_eq!(
            pattern.matches(&toggled, DEFAULT),
            verdict,
            "a trailing / changed the verdict of {source:?} on {path:?}"
        );
    }
    assert!(!pattern.matches(path.trim_start_matches('/'), DEFAULT) || path == "/");
    check_pattern_alone(&source);
}

/// What a canonical path looks like.
fn check_canonical(path: &str) {
    let body = path
        .strip_prefix('/')
        .unwrap_or_else(|| panic!("{path:?} lacks its leading /"));
    let body = body.strip_suffix('/').unwrap_or(body);
    if body.is_empty() {
        return;
    }
    for segment in body.split('/') {
        assert!(!segment.is_empty(), "{path:?} has an empty segment");
        assert!(
            segment != "." && segment != "..",
            "{path:?} has a dot segment"
        );
        let bytes = segment.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b != b'%' {
                continue;
            }
            let hex = segment.get(i + 1..i + 3).unwrap_or_default();
            let value = u8::from_str_radix(hex, 16)
                .unwrap_or_else(|_| panic!("{path:?}: a bad escape at {i}"));
            assert_eq!(hex, hex.to_ascii_uppercase(), "{path:?}: lowercase escape");
            assert!(
                !(value.is_ascii_alphanumeric() || b"-._~".contains(&value)),
                "{path:?}: escaped unreserved character"
            );
        }
    }
}

/// A pattern that parses matches its own literal paths.
fn check_pattern_alone(source: &str) {
    let Ok(pattern) = PathPattern::parse(source) else {
        return;
    };
    for example in literal_paths(source) {
        let Ok(canonical) = canonicalize(&example) else {
            continue;
        };
        for form in [
            canonical.as_str().to_owned(),
            format!("{}/", canonical.as_str()),
        ] {
            assert!(
                pattern.matches(&form, DEFAULT) && pattern.matches(&form, EXACT),
                "{source:?} must match {form:?}"
            );
        }
    }
}

/// Paths the pattern must match: each `*` replaced by `x`; a final `**`
/// replaced by nothing, and by `x/x`.
fn literal_paths(source: &str) -> Vec<String> {
    let body = source.strip_prefix('/').unwrap_or(source);
    let body = body.strip_suffix('/').unwrap_or(body);
    let mut raw: Vec<&str> = if body.is_empty() {
        Vec::new()
    } else {
        body.split('/').collect()
    };
    let rest = raw.last() == Some(&"**");
    if rest {
        raw.pop();
    }
    let segments: Vec<&str> = raw
        .into_iter()
        .map(|s| if s == "*" { "x" } else { s })
        .collect();
    let base = format!("/{}", segments.join("/"));
    if !rest {
        return vec![base];
    }
    let deeper = if segments.is_empty() {
        "/x/x".to_owned()
    } else {
        format!("{base}/x/x")
    };
    vec![base, deeper]
}
