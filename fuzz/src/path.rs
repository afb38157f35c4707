//! Target `path`: path patterns (permission rules, public paths) and,
//! once it is merged, the path canonicaliser.
//!
//! Input: `pattern NUL path`.
//! Invariants: `PathPattern::parse` accepts exactly the patterns an
//! independent reading of the grammar accepts and shows them unchanged;
//! `matches` agrees with a reference matcher written from the documented
//! rules; a pattern matches its own literal paths (each `*` filled with a
//! segment, `**` with none or several); a path that does not start with
//! `/` matches nothing.

use keygate::pattern::PathPattern;

/// The `path` target.
pub fn path(data: &[u8]) {
    let [pattern_bytes, path_bytes] = crate::split::<2>(data);
    let source = crate::text(pattern_bytes);
    let path = crate::text(path_bytes);
    let parsed = PathPattern::parse(&source);
    assert_eq!(parsed.is_ok(), well_formed(&source), "parse({source:?})");
    let Ok(pattern) = parsed else {
        return;
    };
    assert_eq!(pattern.to_string(), source);

    check_match(&pattern, &source, &path);
    // TODO(canonicalize): when `keygate::path::canonicalize` is merged, add
    // (the gateway matches canonical paths only):
    //     match keygate::path::canonicalize(&path) {
    //         Ok(canonical) => {
    //             // canonicalising twice changes nothing
    //             let again = keygate::path::canonicalize(canonical.as_str());
    //             assert_eq!(again.as_ref().map(|c| c.as_str()), Ok(canonical.as_str()));
    //             check_match(&pattern, &source, canonical.as_str());
    //         }
    //         // a refused path is answered 400 and never reaches a pattern:
    //         // assert the refusal names what is wrong (PathError's Display)
    //         Err(err) => assert!(!err.to_string().is_empty()),
    //     }
    // and seed fuzz/corpus/path with encoded paths (`%2F`, `%2e%2e`, `;`).

    let fill = path
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or("x")
        .to_owned();
    for example in literal_paths(&source, &fill) {
        assert!(
            pattern.matches(&example),
            "{source:?} must match {example:?}"
        );
    }
}

fn check_match(pattern: &PathPattern, source: &str, path: &str) {
    let got = pattern.matches(path);
    assert_eq!(got, reference_match(source, path), "{source:?} vs {path:?}");
    if !path.starts_with('/') {
        assert!(
            !got,
            "{source:?} matched {path:?}, which lacks the leading /"
        );
    }
}

/// The grammar: `/` then segments; `*` and `**` only as whole segments,
/// `**` only last; no `?` or `#`.
fn well_formed(source: &str) -> bool {
    let Some(body) = source.strip_prefix('/') else {
        return false;
    };
    let segments: Vec<&str> = body.split('/').collect();
    !source.contains(['?', '#'])
        && segments
            .iter()
            .enumerate()
            .all(|(i, s)| !s.contains('*') || *s == "*" || (*s == "**" && i + 1 == segments.len()))
}

/// Segment by segment: a literal equals, `*` takes one non-empty segment,
/// a final `**` takes whatever is left (possibly nothing).
fn reference_match(source: &str, path: &str) -> bool {
    let (Some(pattern), Some(path)) = (source.strip_prefix('/'), path.strip_prefix('/')) else {
        return false;
    };
    let mut wanted: Vec<&str> = pattern.split('/').collect();
    let rest = wanted.last() == Some(&"**");
    if rest {
        wanted.pop();
    }
    let given: Vec<&str> = path.split('/').collect();
    if given.len() < wanted.len() || (!rest && given.len() != wanted.len()) {
        return false;
    }
    wanted
        .iter()
        .zip(&given)
        .all(|(w, g)| if *w == "*" { !g.is_empty() } else { w == g })
}

/// Paths the pattern must match: each `*` replaced by `fill`; a final `**`
/// replaced by nothing, and by `fill/fill`.
fn literal_paths(source: &str, fill: &str) -> Vec<String> {
    let body = source.strip_prefix('/').unwrap_or(source);
    let mut raw: Vec<&str> = body.split('/').collect();
    let rest = raw.last() == Some(&"**");
    if rest {
        raw.pop();
    }
    let segments: Vec<&str> = raw
        .into_iter()
        .map(|s| if s == "*" { fill } else { s })
        .collect();
    let base = format!("/{}", segments.join("/"));
    if !rest {
        return vec![base];
    }
    let deeper = if segments.is_empty() {
        format!("/{fill}/{fill}")
    } else {
        format!("{base}/{fill}/{fill}")
    };
    vec![base, deeper]
}
