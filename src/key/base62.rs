//! Fixed-width base62 over the alphabet `0-9A-Za-z` (ASCII order).
//!
//! Pure and total: every function returns a value for every input.

/// The base62 digit for `value` (taken modulo 62).
fn digit(value: u8) -> char {
    let value = value % 62;
    let byte = match value {
        0..=9 => b'0' + value,
        10..=35 => b'A' + (value - 10),
        _ => b'a' + (value - 36),
    };
    char::from(byte)
}

/// The value of a base62 digit, or `None` outside the alphabet.
pub(crate) fn value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'Z' => Some(c - b'A' + 10),
        b'a'..=b'z' => Some(c - b'a' + 36),
        _ => None,
    }
}

/// Whether every byte of `s` is a base62 digit.
pub(crate) fn is_base62(s: &str) -> bool {
    s.bytes().all(|c| value(c).is_some())
}

/// Writes the big-endian number `bytes` in base62, left-padded with `0` to
/// `width` digits. A number needing more digits than `width` keeps them all.
pub(crate) fn encode_fixed(bytes: &[u8], width: usize) -> String {
    let mut number = bytes.to_vec();
    let mut digits = Vec::with_capacity(width);
    while number.iter().any(|&b| b != 0) {
        let mut remainder: u32 = 0;
        for byte in number.iter_mut() {
            let acc = (remainder << 8) | u32::from(*byte);
            // acc < 62 * 256, so acc / 62 < 256.
            *byte = u8::try_from(acc / 62).unwrap_or(u8::MAX);
            remainder = acc % 62;
        }
        digits.push(digit(u8::try_from(remainder).unwrap_or(0)));
    }
    while digits.len() < width {
        digits.push('0');
    }
    digits.iter().rev().collect()
}

/// Reads the base62 number `s` into `N` big-endian bytes, or `None` if a
/// character is outside the alphabet or the number needs more than `N`
/// bytes. The inverse of [`encode_fixed`] for values that fit.
///
/// Five digits at a time (62^5 < 2^30) into 32-bit limbs: a key's 43
/// digits cost 9 passes over 9 limbs, not 43 over 32 bytes.
pub(crate) fn decode_fixed<const N: usize>(s: &str) -> Option<[u8; N]> {
    /// Limbs kept: 288 bits, room for every `N` used (at most 32 bytes).
    const LIMBS: usize = 9;
    if N > LIMBS * 4 {
        return decode_bytewise(s);
    }
    let mut limbs = [0u32; LIMBS]; // least significant first
    for chunk in s.as_bytes().chunks(5) {
        let mut value: u64 = 0;
        let mut scale: u64 = 1;
        for &c in chunk {
            value = value * 62 + u64::from(self::value(c)?);
            scale *= 62;
        }
        let mut carry = value;
        for limb in limbs.iter_mut() {
            // < 2^32 * 2^30 + 2^32: no overflow.
            let acc = u64::from(*limb) * scale + carry;
            *limb = u32::try_from(acc & 0xffff_ffff).unwrap_or(0);
            carry = acc >> 32;
        }
        if carry != 0 {
            return None;
        }
    }
    let mut out = [0u8; N];
    let bytes = limbs.iter().flat_map(|limb| limb.to_le_bytes());
    let mut slots = out.iter_mut().rev();
    for byte in bytes {
        match slots.next() {
            Some(slot) => *slot = byte,
            None if byte != 0 => return None,
            None => {}
        }
    }
    Some(out)
}

/// [`decode_fixed`] a byte at a time, for any `N`.
fn decode_bytewise<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    for c in s.bytes() {
        let mut carry = u32::from(value(c)?);
        for byte in out.iter_mut().rev() {
            let acc = u32::from(*byte) * 62 + carry;
            *byte = u8::try_from(acc & 0xff).unwrap_or(0);
            carry = acc >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(out)
}

/// Reads a base62 number of at most 10 digits (fits in a `u64`).
#[cfg(test)]
pub(crate) fn decode_u64(s: &str) -> Option<u64> {
    if s.len() > 10 {
        return None;
    }
    s.bytes()
        .try_fold(0u64, |acc, c| value(c).map(|v| acc * 62 + u64::from(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(encode_fixed(&[0], 3), "000");
        assert_eq!(encode_fixed(&[61], 1), "z");
        assert_eq!(encode_fixed(&[62], 1), "10");
        assert_eq!(encode_fixed(&[0xff, 0xff, 0xff, 0xff], 6), "4gfFC3");
        assert_eq!(encode_fixed(&[0xff; 32], 43).len(), 43);
    }

    #[test]
    fn round_trips_u32() {
        for n in [0u32, 1, 61, 62, 3_844, 0xcbf4_3926, u32::MAX] {
            let s = encode_fixed(&n.to_be_bytes(), 6);
            assert_eq!(s.len(), 6);
            assert_eq!(decode_u64(&s), Some(u64::from(n)));
        }
    }

    #[test]
    fn limbs_and_bytes_agree() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for len in 0..50 {
            for _ in 0..40 {
                let text: String = (0..len).map(|_| digit((next() % 62) as u8)).collect();
                assert_eq!(
                    decode_fixed::<32>(&text),
                    decode_bytewise::<32>(&text),
                    "{text}"
                );
                assert_eq!(
                    decode_fixed::<6>(&text),
                    decode_bytewise::<6>(&text),
                    "{text}"
                );
                assert_eq!(
                    decode_fixed::<1>(&text),
                    decode_bytewise::<1>(&text),
                    "{text}"
                );
                assert_eq!(
                    decode_fixed::<40>(&text),
                    decode_bytewise::<40>(&text),
                    "{text}"
                );
            }
        }
        assert_eq!(decode_fixed::<32>("z!"), None);
        assert_eq!(decode_fixed::<32>(""), Some([0; 32]));
    }

    #[test]
    fn decode_fixed_inverts_encode_and_refuses_overflow() {
        for bytes in [[0u8; 32], [0xff; 32], [7; 32]] {
            let text = encode_fixed(&bytes, 43);
            assert_eq!(decode_fixed::<32>(&text), Some(bytes));
        }
        // 62^43 > 2^256: the largest 43-digit numbers need 33 bytes.
        assert_eq!(decode_fixed::<32>(&"z".repeat(43)), None);
        assert_eq!(
            decode_fixed::<32>("zhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1"),
            None
        );
        // 2^256 itself, one more than the largest key value.
        let mut past = encode_fixed(&[0xff; 32], 43).into_bytes();
        if let Some(last) = past.last_mut() {
            *last += 1;
        }
        let past = String::from_utf8(past).unwrap();
        assert_eq!(decode_fixed::<32>(&past), None);
        assert_eq!(decode_fixed::<6>("zzzzzzzzz"), None);
        assert_eq!(
            decode_fixed::<6>(&encode_fixed(&[0xff; 6], 9)),
            Some([0xff; 6])
        );
        assert_eq!(
            decode_fixed::<4>("3jZRME"),
            Some(0xcbf4_3926u32.to_be_bytes())
        );
        assert_eq!(decode_fixed::<4>("3j-RME"), None);
    }

    #[test]
    fn rejects_outside_alphabet() {
        assert_eq!(decode_u64("ab-c"), None);
        assert!(!is_base62("abc_"));
        assert!(is_base62("09AZaz"));
    }
}
