//! The canonical request path: the one form that routing, public paths and
//! permission rules judge, and that the origin receives.
//!
//! Pure. [`canonicalize`] takes the path as the runtime parsed it (no query)
//! and returns either a [`CanonicalPath`] or the reason it refuses. It
//!
//! 1. decodes percent-encoded unreserved characters (`A-Z a-z 0-9 - . _ ~`,
//!    RFC 3986 §6.2.2.2) and writes every other escape with uppercase hex;
//! 2. refuses encoded `/`, `\`, NUL and control characters, malformed
//!    escapes, empty segments (`//`), segments ending in `.` or a space
//!    (origins that trim them would route elsewhere), and escapes that do
//!    not decode to UTF-8;
//! 3. refuses a decoded segment that an origin may read as another text:
//!    one holding a non-ASCII code point that Unicode compatibility
//!    folding (NFKC) may change, an invisible or space character, an
//!    unassigned code point, or two combining marks in a row (the tables
//!    are in [`crate::path_fold`]: a sound superset of "NFKC changes it",
//!    without the full normalisation tables); and one still holding a `%`
//!    escape after decoding (`%2561`), which an origin that decodes twice
//!    reads as another character;
//! 4. resolves `.` and `..` segments after decoding (RFC 3986 §5.2.4),
//!    never climbing above the root.
//!
//! Invariants: the result starts with `/`, has no empty segment except one
//! trailing `/`, no dot segment, and no escape of an unreserved character;
//! canonicalising it again returns it unchanged. `;` is kept as written:
//! whether a product takes path parameters is its own setting
//! ([`has_path_params`]).

use std::fmt;

/// A path in canonical form; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath(String);

impl CanonicalPath {
    /// The canonical path, e.g. `/api/v1/logs/x`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CanonicalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a path has no canonical form. Each says what was wrong, so the
/// client can fix the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// The path does not start with `/`.
    NotAbsolute,
    /// A `%` is not followed by two hex digits.
    BadEscape,
    /// `%2F` inside a segment.
    EncodedSlash,
    /// `\` or `%5C`.
    Backslash,
    /// NUL or another control character, literal or encoded.
    ControlCharacter,
    /// `//`: a segment is empty.
    EmptySegment,
    /// A segment ends in `.` or a space, which some origins trim.
    TrailingDotOrSpace,
    /// Escapes that do not decode to UTF-8.
    NotUtf8,
    /// `;` path parameters, for a product that does not take them.
    PathParameters,
    /// Longer than [`MAX_PATH_BYTES`].
    TooLong,
    /// A character NFKC may fold into another (fullwidth `ａ`, `．`, `／`,
    /// ligatures), an invisible or space character (U+00A0, U+200B,
    /// U+3000), an unassigned code point, or two combining marks in a row.
    FoldsUnderNfkc,
    /// An escaped escape (`%2561`): after decoding, the text still holds a
    /// `%` and two hex digits.
    DoubleEncoded,
}

impl PathError {
    /// What is wrong, for the problem's `detail`.
    pub fn reason(self) -> &'static str {
        match self {
            PathError::NotAbsolute => "the path does not start with '/'",
            PathError::BadEscape => "a '%' is not followed by two hex digits",
            PathError::EncodedSlash => "it contains an encoded '/' (%2F) inside a segment",
            PathError::Backslash => "it contains '\\' or its encoding %5C",
            PathError::ControlCharacter => {
                "it contains NUL or a control character, literal or percent-encoded"
            }
            PathError::EmptySegment => "it contains an empty segment ('//')",
            PathError::TrailingDotOrSpace => "a segment ends in '.' or a space",
            PathError::NotUtf8 => "its percent-escapes do not decode to UTF-8",
            PathError::PathParameters => "it contains ';' path parameters, which this API refuses",
            PathError::TooLong => "it is longer than 8 KiB",
            PathError::FoldsUnderNfkc => {
                "it contains a character that Unicode compatibility folding (NFKC) changes \
                 (such as a fullwidth form), an invisible or non-ASCII space character, or an \
                 unassigned one, which an origin may read as another"
            }
            PathError::DoubleEncoded => {
                "it contains an encoded percent-escape (such as %2561), which an origin that \
                 decodes twice reads as another character"
            }
        }
    }
}

/// Longest path accepted, in bytes; longer ones are refused as malformed
/// rather than processed (no origin routes on such paths).
pub const MAX_PATH_BYTES: usize = 8 * 1024;

/// Whether `b` is an RFC 3986 unreserved character.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The uppercase hex digit of a nibble (0-15).
fn hex_digit(nibble: u8) -> char {
    char::from(match nibble {
        0..=9 => b'0' + nibble,
        _ => b'A' + (nibble & 0xf).saturating_sub(10),
    })
}

/// Canonicalises one segment (no `/` in it) into `out`: decodes unreserved
/// escapes, uppercases the others, and refuses what the module docs list
/// (all but empty segments, which the caller judges).
fn push_segment(raw: &str, out: &mut String) -> Result<(), PathError> {
    let bytes = raw.as_bytes();
    let start = out.len();
    // The decoded bytes, to check that escapes form UTF-8.
    let mut decoded: Vec<u8> = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let value = match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(&h), Some(&l)) => match (hex_value(h), hex_value(l)) {
                    (Some(h), Some(l)) => h << 4 | l,
                    _ => return Err(PathError::BadEscape),
                },
                _ => return Err(PathError::BadEscape),
            };
            match value {
                b'/' => return Err(PathError::EncodedSlash),
                b'\\' => return Err(PathError::Backslash),
                0..=0x1f | 0x7f => return Err(PathError::ControlCharacter),
                v if is_unreserved(v) => out.push(char::from(v)),
                v => {
                    out.push('%');
                    out.push(hex_digit(v >> 4));
                    out.push(hex_digit(v & 0xf));
                }
            }
            decoded.push(value);
            i += 3;
            continue;
        }
        match b {
            b'\\' => return Err(PathError::Backslash),
            0..=0x1f | 0x7f => return Err(PathError::ControlCharacter),
            b' ' => {
                // The runtime encodes spaces; a literal one is treated alike.
                out.push_str("%20");
            }
            _ => {
                // Non-ASCII arrives encoded from the runtime; a literal
                // character (possible only in tests) is kept as is.
                let ch = raw.get(i..).and_then(|s| s.chars().next());
                let Some(ch) = ch else {
                    return Err(PathError::NotUtf8);
                };
                if ch.is_control() {
                    return Err(PathError::ControlCharacter);
                }
                out.push(ch);
                let mut buf = [0u8; 4];
                decoded.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                i += ch.len_utf8();
                continue;
            }
        }
        decoded.push(b);
        i += 1;
    }
    let text = std::str::from_utf8(&decoded).map_err(|_| PathError::NotUtf8)?;
    if text.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter);
    }
    if !text.is_ascii() && folds(text) {
        return Err(PathError::FoldsUnderNfkc);
    }
    if holds_escape(text) {
        return Err(PathError::DoubleEncoded);
    }
    let written = out.get(start..).unwrap_or_default();
    if written != "." && written != ".." && text.ends_with(['.', ' ']) {
        return Err(PathError::TrailingDotOrSpace);
    }
    // Servers that drop `;` parameters before resolving dot segments
    // (Tomcat: `/public/..;/admin`) must not see a dot segment or an empty
    // one appear.
    if let Some((head, _)) = text.split_once(';') {
        if head.is_empty() {
            return Err(PathError::EmptySegment);
        }
        if head.ends_with(['.', ' ']) {
            return Err(PathError::TrailingDotOrSpace);
        }
    }
    Ok(())
}

/// Whether `c` is in the inversion list `table` (see [`crate::path_fold`]).
fn in_table(table: &[u32], c: char) -> bool {
    let c = u32::from(c);
    table.partition_point(|&boundary| boundary <= c) % 2 == 1
}

/// Whether decoded `text` holds a code point an origin may read as
/// another text: one in [`crate::path_fold::REFUSED`], or two combining
/// marks in a row (which normalisation may reorder). When it holds none,
/// every code point has `NFKC_Quick_Check` = Yes and the combining classes
/// are in order, so NFKC leaves it unchanged (UAX #15, quick check).
fn folds(text: &str) -> bool {
    let mut after_mark = false;
    for c in text.chars() {
        // ASCII is never folded, and has combining class 0.
        if c.is_ascii() {
            after_mark = false;
            continue;
        }
        if in_table(&crate::path_fold::REFUSED, c) {
            return true;
        }
        let mark = in_table(&crate::path_fold::COMBINING, c);
        if mark && after_mark {
            return true;
        }
        after_mark = mark;
    }
    false
}

/// Whether decoded `text` holds `%` and two hex digits: an escape that an
/// origin decoding twice turns into another character.
fn holds_escape(text: &str) -> bool {
    text.as_bytes()
        .windows(3)
        .any(|w| matches!(w, [b'%', h, l] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit()))
}

/// The canonical form of `raw`, a request path without query or fragment.
pub fn canonicalize(raw: &str) -> Result<CanonicalPath, PathError> {
    if raw.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong);
    }
    let body = raw.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
    let mut segments: Vec<String> = Vec::new();
    let parts: Vec<&str> = body.split('/').collect();
    let last = parts.len().saturating_sub(1);
    // Whether the path ends in a directory (a trailing `/`, or a final dot
    // segment), which canonical form keeps as one trailing `/`.
    let mut trailing_slash = false;
    for (index, part) in parts.into_iter().enumerate() {
        if part.is_empty() {
            if index == last {
                trailing_slash = true;
                continue;
            }
            return Err(PathError::EmptySegment);
        }
        let mut segment = String::with_capacity(part.len());
        push_segment(part, &mut segment)?;
        match segment.as_str() {
            "." => trailing_slash = index == last,
            ".." => {
                segments.pop();
                trailing_slash = index == last;
            }
            _ => {
                segments.push(segment);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(raw.len());
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    Ok(CanonicalPath(out))
}

/// Where `;` path parameters start in a canonical path or segment: the
/// first `;`, or `%3B`, which some servers decode before splitting.
pub fn params_start(path: &str) -> Option<usize> {
    let encoded = path
        .as_bytes()
        .windows(3)
        .position(|w| w.eq_ignore_ascii_case(b"%3b"));
    [path.find(';'), encoded].into_iter().flatten().min()
}

/// Whether a canonical path carries `;` path parameters.
pub fn has_path_params(path: &str) -> bool {
    params_start(path).is_some()
}

/// The host to route on: lowercase, without port or trailing dot.
/// `[::1]:8787` becomes `[::1]`.
pub fn canonical_host(host: &str) -> String {
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// An absolute request URL split into the parts keygate routes on. The
/// runtime has already parsed it, so this only slices; no second parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// The authority as sent (`host[:port]`).
    pub authority: &'a str,
    /// The path, starting with `/` (or empty if the URL had none).
    pub path: &'a str,
    /// The query without `?`; `None` when there is no `?`.
    pub query: Option<&'a str>,
}

/// Splits `scheme://authority/path?query#fragment`.
pub fn split_url(url: &str) -> UrlParts<'_> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(at) => before_query.split_at(at),
        None => (before_query, ""),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    UrlParts {
        authority,
        path,
        query,
    }
}

#[cfg(test)]
#[path = "path_tests.rs"]
mod tests;
