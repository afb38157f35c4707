//! HKDF-SHA256 (RFC 5869), the derivation of each product's signing key.
//!
//! Pure. Invariant: a product's key is `HKDF-SHA256(IKM =
//! KEYGATE_ORIGIN_SECRET trimmed, salt = [`SALT`], info = product id)`, 32
//! bytes; knowing one product's key reveals nothing about another's.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The fixed HKDF salt for origin signing keys.
pub const SALT: &[u8] = b"keygate/rfc9421/origin-key/v1";

/// Length of a SHA-256 output, and of a derived key.
pub const HASH_LEN: usize = 32;

/// HKDF-Extract: the pseudorandom key `HMAC-SHA256(salt, ikm)`, returned as
/// an HMAC state keyed with it, ready for [`expand`].
pub fn extract(salt: &[u8], ikm: &[u8]) -> Hmac<Sha256> {
    let mut mac = keyed(salt);
    mac.update(ikm);
    keyed(&mac.finalize().into_bytes())
}

/// HKDF-Expand into `out` (at most 255 × 32 bytes) from the PRK state that
/// [`extract`] returned. `Err` when `out` is too long.
pub fn expand(prk: &Hmac<Sha256>, info: &[u8], out: &mut [u8]) -> Result<(), &'static str> {
    if out.len() > 255 * HASH_LEN {
        return Err("HKDF-SHA256 output is limited to 8160 bytes");
    }
    let mut previous: Option<[u8; HASH_LEN]> = None;
    for (counter, chunk) in (1u8..=255).zip(out.chunks_mut(HASH_LEN)) {
        let mut mac = prk.clone();
        if let Some(t) = &previous {
            mac.update(t);
        }
        mac.update(info);
        mac.update(&[counter]);
        let t: [u8; HASH_LEN] = mac.finalize().into_bytes().into();
        for (o, b) in chunk.iter_mut().zip(t.iter()) {
            *o = *b;
        }
        previous = Some(t);
    }
    Ok(())
}

/// HKDF-Expand to exactly one block (32 bytes): `T(1)`. Cannot fail.
pub fn expand_32(prk: &Hmac<Sha256>, info: &[u8]) -> [u8; HASH_LEN] {
    let mut mac = prk.clone();
    mac.update(info);
    mac.update(&[1]);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 keyed with `key`; HMAC takes keys of any length.
pub(crate) fn keyed(key: &[u8]) -> Hmac<Sha256> {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC accepts every key length, so this arm is never taken; it
        // keys with nothing rather than panic.
        Err(_) => <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::hash::hex;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 5869, appendix A, test cases 1 and 3.
    #[test]
    fn rfc5869_vectors() {
        let ikm = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let mut okm = [0u8; 42];
        expand(&extract(&salt, &ikm), &info, &mut okm).unwrap();
        assert_eq!(
            hex(&okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
        let mut okm = [0u8; 42];
        expand(&extract(&[], &ikm), &[], &mut okm).unwrap();
        assert_eq!(
            hex(&okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        );
    }

    #[test]
    fn one_block_is_the_first_32_bytes() {
        let prk = extract(b"salt", b"ikm");
        let mut okm = [0u8; 64];
        expand(&prk, b"info", &mut okm).unwrap();
        assert_eq!(expand_32(&prk, b"info").as_slice(), &okm[..32]);
    }

    #[test]
    fn output_length_is_bounded() {
        let prk = extract(b"salt", b"ikm");
        let mut too_long = vec![0u8; 255 * HASH_LEN + 1];
        assert!(expand(&prk, b"", &mut too_long).is_err());
        let mut longest = vec![0u8; 255 * HASH_LEN];
        assert!(expand(&prk, b"", &mut longest).is_ok());
    }
}
