//! Path patterns for permission rules and public paths.
//!
//! A pattern is a path whose segments are literals, `*` (exactly one
//! non-empty segment) or, last only, `**` (any number of segments,
//! including none). Literals are stored in canonical form
//! ([`crate::path`]), so a rule written `/api/v1/%6Cogs` is the rule for
//! `/api/v1/logs`. Pure.
//!
//! Matching is done on canonical paths, and errs on the side of the rule:
//! what an origin might route to a protected handler must match its rule.
//! So, by default ([`Matching`]):
//! * literals match without regard to ASCII case (and the non-ASCII letters
//!   that case-map onto ASCII ones, `ſ` `K` `ı` `İ`);
//! * a trailing `/` is ignored;
//! * with path parameters allowed, `;…` is ignored in each segment;
//! * for permission rules ([`PathPattern::covers`]), the rule's last
//!   literal also matches itself with a format suffix (`send.json`), and a
//!   last path segment that is only a suffix (`send/.json`) is ignored.

use std::borrow::Cow;
use std::fmt;

use crate::path;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
}

/// How a product's paths are compared with its patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Matching {
    /// Literals must match case exactly (`path_case = "sensitive"`).
    pub case_sensitive: bool,
    /// `;` path parameters are ignored when matching (`allow_path_params`).
    pub path_params: bool,
}

/// A parsed path pattern such as `/v1/flows/*/run` or `/v1/logs/**`.
#[derive(Clone, PartialEq, Eq)]
pub struct PathPattern {
    source: String,
    segments: Vec<Segment>,
    /// Index in `segments` of the last literal, for format suffixes.
    last_literal: Option<usize>,
    rest: bool,
}

impl fmt::Debug for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PathPattern({})", self.source)
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PathPattern {
    /// Parses a pattern; the error says what is wrong with it.
    pub fn parse(source: &str) -> Result<Self, String> {
        let body = source
            .strip_prefix('/')
            .ok_or_else(|| format!("pattern {source:?} must start with '/'"))?;
        if source.contains(['?', '#']) {
            return Err(format!("pattern {source:?} must not contain '?' or '#'"));
        }
        // A trailing `/` means nothing: paths are matched without it.
        let body = body.strip_suffix('/').unwrap_or(body);
        let parts: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/').collect()
        };
        let count = parts.len();
        let mut segments = Vec::with_capacity(count);
        let mut rest = false;
        for (index, part) in parts.into_iter().enumerate() {
            match part {
                "**" if index + 1 == count => rest = true,
                "**" => return Err(format!("pattern {source:?}: '**' may only end a pattern")),
                "*" => segments.push(Segment::One),
                p if p.contains('*') => {
                    return Err(format!(
                        "pattern {source:?}: '*' must stand alone as a whole segment"
                    ))
                }
                "" => return Err(format!("pattern {source:?} has an empty segment ('//')")),
                p => {
                    let canonical = path::canonicalize(&format!("/{p}"))
                        .map_err(|e| format!("pattern {source:?}: {}", e.reason()))?;
                    match canonical.as_str().strip_prefix('/') {
                        Some(literal) if !literal.is_empty() && !literal.contains('/') => {
                            segments.push(Segment::Literal(literal.to_owned()));
                        }
                        _ => {
                            return Err(format!(
                                "pattern {source:?}: '.' and '..' segments are not allowed"
                            ))
                        }
                    }
                }
            }
        }
        let last_literal = segments
            .iter()
            .rposition(|s| matches!(s, Segment::Literal(_)));
        Ok(PathPattern {
            source: source.to_owned(),
            segments,
            last_literal,
            rest,
        })
    }

    /// Whether the canonical `path` matches exactly (public paths).
    pub fn matches(&self, path: &str, matching: Matching) -> bool {
        self.match_with(path, matching, false)
    }

    /// Whether the canonical `path` falls under this permission rule: as
    /// [`Self::matches`], and the last literal also with a format suffix.
    pub fn covers(&self, path: &str, matching: Matching) -> bool {
        self.match_with(path, matching, true)
            || without_bare_suffix(path).is_some_and(|p| self.match_with(p, matching, true))
    }

    fn match_with(&self, path: &str, matching: Matching, suffix: bool) -> bool {
        let Some(body) = path.strip_prefix('/') else {
            return false;
        };
        let body = body.strip_suffix('/').unwrap_or(body);
        let mut parts = body.split('/').filter(|p| !p.is_empty());
        for (index, segment) in self.segments.iter().enumerate() {
            let Some(part) = parts.next() else {
                return false;
            };
            let part = if matching.path_params {
                without_params(part)
            } else {
                part
            };
            match segment {
                Segment::One if !part.is_empty() => {}
                Segment::Literal(literal) => {
                    let suffix = suffix && self.last_literal == Some(index);
                    if !literal_matches(literal, part, matching.case_sensitive, suffix) {
                        return false;
                    }
                }
                Segment::One => return false,
            }
        }
        self.rest || parts.next().is_none()
    }
}

/// `path` without a last segment that is only a format suffix
/// (`/send/.json`), which a router may attach to the segment before it.
fn without_bare_suffix(path: &str) -> Option<&str> {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    let (head, last) = trimmed.rsplit_once('/')?;
    (last.len() > 1 && last.starts_with('.')).then_some(if head.is_empty() { "/" } else { head })
}

/// A segment without its `;` parameters (literal or encoded as `%3B`).
fn without_params(segment: &str) -> &str {
    let end = path::params_start(segment).unwrap_or(segment.len());
    segment.get(..end).unwrap_or(segment)
}

/// Folds a canonical segment for case-insensitive comparison: ASCII
/// lowercase, and the non-ASCII letters that case-map onto ASCII letters
/// in common routers (.NET's invariant culture, Unicode case folding)
/// replaced by those letters.
fn fold(segment: &str) -> Cow<'_, str> {
    const ONTO_ASCII: [(&str, &str); 4] = [
        ("%c4%b0", "i"),    // İ
        ("%c4%b1", "i"),    // ı
        ("%c5%bf", "s"),    // ſ
        ("%e2%84%aa", "k"), // Kelvin sign
    ];
    if !segment.bytes().any(|b| b.is_ascii_uppercase() || b == b'%') {
        return Cow::Borrowed(segment);
    }
    let mut folded = segment.to_ascii_lowercase();
    for (from, to) in ONTO_ASCII {
        if folded.contains(from) {
            folded = folded.replace(from, to);
        }
    }
    Cow::Owned(folded)
}

fn literal_matches(literal: &str, part: &str, case_sensitive: bool, suffix: bool) -> bool {
    let (literal, part) = if case_sensitive {
        (Cow::Borrowed(literal), Cow::Borrowed(part))
    } else {
        (fold(literal), fold(part))
    };
    if literal == part {
        return true;
    }
    suffix
        && part
            .strip_prefix(literal.as_ref())
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|ext| !ext.is_empty())
}

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod tests;
