//! A product's look on the portal: display name, accent colour and logo.
//!
//! Invariant: text drawn on the accent colour is black or white, whichever
//! contrasts more, so it always passes WCAG AA (4.5:1): for any colour one
//! of the two reaches at least 4.58:1.

/// An sRGB colour from `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour([u8; 3]);

impl Colour {
    /// Reads `#rrggbb` (either case).
    pub fn parse(text: &str) -> Option<Colour> {
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
        Some(Colour([channel(0)?, channel(2)?, channel(4)?]))
    }

    /// `#rrggbb`, lowercase.
    pub fn css(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// WCAG 2 relative luminance.
    pub fn luminance(self) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    /// The WCAG contrast ratio between two colours (1 to 21).
    pub fn contrast(self, other: Colour) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }

    /// Black or white, whichever reads better on this colour.
    pub fn text_on(self) -> Colour {
        if self.contrast(WHITE) >= self.contrast(BLACK) {
            WHITE
        } else {
            BLACK
        }
    }
}

/// White.
pub const WHITE: Colour = Colour([255, 255, 255]);
/// Black.
pub const BLACK: Colour = Colour([0, 0, 0]);
/// The accent when none is configured: a blue with 5.9:1 against white.
pub const DEFAULT_ACCENT: Colour = Colour([0x1d, 0x4e, 0xd8]);

/// A product's branding, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Brand {
    /// Shown as the page's title.
    pub display_name: String,
    /// Buttons and highlights.
    pub accent: Colour,
    /// An `https` image URL, or none.
    pub logo_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_six_digit_hex() {
        assert_eq!(
            Colour::parse("#FF8800").map(Colour::css).as_deref(),
            Some("#ff8800")
        );
        for bad in ["FF8800", "#F80", "#ff88001", "#gg8800", "", "#", "#ff 800"] {
            assert_eq!(Colour::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn text_on_any_accent_passes_aa() {
        for r in (0..=255).step_by(17) {
            for g in (0..=255).step_by(17) {
                for b in (0..=255).step_by(17) {
                    let c = Colour([r as u8, g as u8, b as u8]);
                    assert!(c.contrast(c.text_on()) >= 4.5, "{}", c.css());
                }
            }
        }
        assert_eq!(Colour::parse("#ffff00").map(Colour::text_on), Some(BLACK));
        assert_eq!(DEFAULT_ACCENT.text_on(), WHITE);
        assert!(DEFAULT_ACCENT.contrast(WHITE) >= 4.5);
    }

    #[test]
    fn contrast_matches_wcag_extremes() {
        assert!((BLACK.contrast(WHITE) - 21.0).abs() < 1e-9);
        assert!((WHITE.contrast(WHITE) - 1.0).abs() < 1e-9);
    }
}
