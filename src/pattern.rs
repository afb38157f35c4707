//! Path patterns for permission rules and public paths.
//!
//! A pattern is a path whose segments are literals, `*` (exactly one
//! non-empty segment) or, last only, `**` (any number of segments,
//! including none). Pure; matching never allocates.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
}

/// A parsed path pattern such as `/v1/flows/*/run` or `/v1/logs/**`.
#[derive(Clone, PartialEq, Eq)]
pub struct PathPattern {
    source: String,
    segments: Vec<Segment>,
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
        let parts: Vec<&str> = body.split('/').collect();
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
                p => segments.push(Segment::Literal(p.to_owned())),
            }
        }
        Ok(PathPattern {
            source: source.to_owned(),
            segments,
            rest,
        })
    }

    /// Whether `path` (no query string) matches.
    pub fn matches(&self, path: &str) -> bool {
        let Some(body) = path.strip_prefix('/') else {
            return false;
        };
        let mut parts = body.split('/');
        if body.is_empty() {
            // "/" has one empty segment; "/**" and "/" both match it.
            return match self.segments.as_slice() {
                [] => true,
                [Segment::Literal(l)] => l.is_empty(),
                _ => false,
            };
        }
        for segment in &self.segments {
            match (segment, parts.next()) {
                (Segment::Literal(l), Some(p)) if l == p => {}
                (Segment::One, Some(p)) if !p.is_empty() => {}
                _ => return false,
            }
        }
        self.rest || parts.next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        PathPattern::parse(pattern).unwrap().matches(path)
    }

    #[test]
    fn matching_table() {
        let table = [
            ("/health", "/health", true),
            ("/health", "/health/", false),
            ("/health", "/healthz", false),
            ("/health", "/", false),
            ("/", "/", true),
            ("/", "/x", false),
            ("/**", "/", true),
            ("/**", "/a/b/c", true),
            ("/v1/flows/*/run", "/v1/flows/42/run", true),
            ("/v1/flows/*/run", "/v1/flows//run", false),
            ("/v1/flows/*/run", "/v1/flows/42/run/x", false),
            ("/v1/flows/*", "/v1/flows", false),
            ("/v1/logs/**", "/v1/logs", true),
            ("/v1/logs/**", "/v1/logs/a/b", true),
            ("/v1/logs/**", "/v1/logsx", false),
            ("/api/account", "api/account", false),
        ];
        for (pattern, path, expected) in table {
            assert_eq!(m(pattern, path), expected, "{pattern} vs {path}");
        }
    }

    #[test]
    fn refuses_bad_patterns() {
        for bad in ["health", "/a/**/b", "/a*", "/a?b=1", "/a#x"] {
            assert!(PathPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
