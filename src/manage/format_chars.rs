//! Invisible format characters (Unicode general category Cf): bidi
//! controls, zero-width characters, tags and the like, which make a key
//! name display as something other than what it is.
//!
//! Pure. Invariant: [`CF`] is the whole Cf set of Unicode 18.0 (checked
//! against Python's `unicodedata2` 18.0.0), sorted, with no overlaps.

/// Inclusive ranges of category Cf.
pub(super) const CF: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// Whether `c` is in Unicode category Cf.
pub(super) fn is_format(c: char) -> bool {
    let c = u32::from(c);
    CF.iter().any(|&(low, high)| (low..=high).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_disjoint() {
        assert!(CF.windows(2).all(|w| w[0].1 < w[1].0));
        assert!(CF.iter().all(|(low, high)| low <= high));
        // 170 code points in Unicode 18.0 (Python: sum over the ranges).
        let total: u32 = CF.iter().map(|(low, high)| high - low + 1).sum();
        assert_eq!(total, 170);
    }

    #[test]
    fn bidi_controls_and_invisibles_are_format_characters() {
        for c in [
            '\u{00AD}',
            '\u{200B}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{061C}',
            '\u{E0041}',
            '\u{1343F}',
        ] {
            assert!(is_format(c), "U+{:04X}", u32::from(c));
        }
        for c in ['a', 'ñ', ' ', '\u{2065}', '\u{13440}', '\u{200A}', '😀'] {
            assert!(!is_format(c), "U+{:04X}", u32::from(c));
        }
    }
}
