//! Minting new keys from caller-supplied random bytes.
//!
//! Pure: randomness comes in as an argument, so minting is deterministic
//! under test and the caller chooses the entropy source.

use super::{
    base62, checksum::checksum, format::parse, tag::tag, Environment, KeyHash, WellFormedKey,
    RANDOM_BYTES, RANDOM_CHARS,
};
use crate::secret::{ApiKey, KeySecret};

/// A freshly minted key and the values stored or shown with it.
#[derive(Debug, Clone)]
pub struct MintedKey {
    /// The whole key, shown to its owner once.
    pub key: WellFormedKey,
    /// Its storage index.
    pub hash: KeyHash,
}

/// Mints a key for `prefix` (which must satisfy
/// [`super::is_valid_prefix`]) from 32 random bytes, tagged with the
/// current key secret.
pub fn mint(
    prefix: &str,
    environment: Environment,
    random: &[u8; RANDOM_BYTES],
    secret: &KeySecret,
) -> Result<MintedKey, &'static str> {
    let mut text = format!(
        "{prefix}_{}_{}",
        environment.as_str(),
        base62::encode_fixed(random, RANDOM_CHARS)
    );
    let tag = tag(secret, &text);
    text.push_str(&tag);
    let sum = checksum(&text);
    text.push_str(&sum);
    let key = parse(&ApiKey::new(&text))?;
    let hash = key.hash();
    Ok(MintedKey { key, hash })
}

/// Random bytes in a key id.
pub const KEY_ID_BYTES: usize = 12;

/// A key id, `key_` and 17 base62 characters, from 12 random bytes. Ids
/// are public: they name a key in logs, headers and listings.
pub fn key_id(random: &[u8; KEY_ID_BYTES]) -> String {
    format!("key_{}", base62::encode_fixed(random, 17))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_fixed_width_and_header_safe() {
        assert_eq!(key_id(&[0; KEY_ID_BYTES]), "key_00000000000000000");
        let id = key_id(&[0xff; KEY_ID_BYTES]);
        assert_eq!(id.len(), 21);
        assert!(crate::record::is_header_safe_id(&id));
    }
}
