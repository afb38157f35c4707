//! Key names: the rule, and the same rule as the OpenAPI `pattern`.
//!
//! Pure. Invariant: a name is stored exactly as sent (never trimmed), and
//! `check` accepts exactly the strings that [`schema_pattern`] matches:
//! 1-64 characters, none a control character (Cc) or an invisible format
//! character (Cf), and neither the first nor the last one white space.
//! So a client that validates against the document and the server agree.

use super::body::decode::invalid;
use super::format_chars::{is_format, CF};
use crate::Error;

/// Longest key name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Unicode White_Space, as [`char::is_whitespace`] and [`str::trim`] use
/// it, as inclusive ranges.
const WHITE_SPACE: &[(u32, u32)] = &[
    (0x0009, 0x000D),
    (0x0020, 0x0020),
    (0x0085, 0x0085),
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
];

/// Control characters (Cc).
const CONTROL: &[(u32, u32)] = &[(0x0000, 0x001F), (0x007F, 0x009F)];

/// Checks a key name; returns it unchanged.
pub(super) fn check(raw: &str) -> Result<String, Error> {
    let count = raw.chars().count();
    if count == 0 || count > MAX_NAME_CHARS {
        return Err(invalid(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(invalid("name", "must not contain control characters"));
    }
    if raw.chars().any(is_format) {
        return Err(invalid(
            "name",
            "must not contain invisible format characters (Unicode category Cf, such as bidi \
             controls or zero-width spaces)",
        ));
    }
    if raw.trim() != raw {
        return Err(invalid(
            "name",
            "must not begin or end with white space (it is not trimmed for you)",
        ));
    }
    Ok(raw.to_owned())
}

/// The JSON Schema `pattern` for a name, in the subset of regular
/// expressions that ECMA-262 (with the `u` flag, as Ajv uses) and Python's
/// `re` (as Schemathesis and Hypothesis use) read alike: BMP characters as
/// `\uXXXX`, characters beyond it literally.
pub fn schema_pattern() -> String {
    let never: Vec<(u32, u32)> = CONTROL.iter().chain(CF).copied().collect();
    let inner = class(&never);
    let mut ends = never;
    ends.extend_from_slice(WHITE_SPACE);
    let ends = class(&merged(ends));
    format!(
        "^{ends}(?:{inner}{{0,{}}}{ends})?$",
        MAX_NAME_CHARS.saturating_sub(2)
    )
}

/// `ranges` sorted, with overlapping and adjacent ones joined.
fn merged(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (low, high) in ranges {
        match out.last_mut() {
            Some(last) if low <= last.1.saturating_add(1) => last.1 = last.1.max(high),
            _ => out.push((low, high)),
        }
    }
    out
}

/// `[^…]` over `ranges`.
fn class(ranges: &[(u32, u32)]) -> String {
    let one = |c: u32| match char::from_u32(c) {
        Some(ch) if c > 0xFFFF => ch.to_string(),
        _ => format!("\\u{c:04X}"),
    };
    let mut out = String::from("[^");
    for &(low, high) in ranges {
        out.push_str(&one(low));
        if high > low {
            out.push('-');
            out.push_str(&one(high));
        }
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_space_is_what_trim_removes() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let listed = WHITE_SPACE
                .iter()
                .any(|&(low, high)| (low..=high).contains(&u32::from(c)));
            assert_eq!(listed, c.is_whitespace(), "U+{:04X}", u32::from(c));
            let control = CONTROL
                .iter()
                .any(|&(low, high)| (low..=high).contains(&u32::from(c)));
            assert_eq!(control, c.is_control(), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn names_are_kept_as_sent() {
        for ok in [
            "a",
            "CI pipeline",
            "Déploiement 東京 ✓",
            "a b",
            &"n".repeat(64),
        ] {
            assert_eq!(check(ok), Ok(ok.to_owned()));
        }
        for bad in [
            "",
            " ",
            "   ",
            " CI",
            "CI ",
            "\u{3000}x",
            "x\u{00A0}",
            "x\n",
            &"n".repeat(65),
        ] {
            assert_eq!(check(bad).unwrap_err().field(), Some("name"), "{bad:?}");
        }
    }

    #[test]
    fn the_pattern_has_the_expected_shape() {
        let p = schema_pattern();
        assert!(
            p.starts_with("^[^\\u0000-\\u0020\\u007F-\\u00A0\\u00AD"),
            "{p}"
        );
        assert_eq!(merged(vec![(5, 9), (0, 3), (4, 4), (7, 12)]), [(0, 12)]);
        assert_eq!(merged(vec![(0, 1), (3, 3)]), [(0, 1), (3, 3)]);
        assert!(p.contains("{0,62}"));
        assert!(p.contains("\u{E0001}"), "astral characters literally");
        assert!(
            !p.contains("\\u{"),
            "no brace escapes: Python's re lacks them"
        );
    }
}
