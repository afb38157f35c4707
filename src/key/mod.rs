//! The keygate key format: `<prefix>_<live|test>_<body>`.
//!
//! The body is 32 random bytes written as 43 base62 characters, then a
//! 9-character keyed tag (the first 6 bytes of HMAC-SHA256 under the
//! deployment's key secret, over everything before it), then the
//! 6-character base62 CRC32 of everything before the checksum, tag
//! included (the idea behind GitHub's token format: scanners check the CRC
//! without any secret). Invariants: [`parse`] accepts exactly the strings
//! [`mint`] can produce under some secret (and legacy untagged keys, which
//! [`admit`] refuses unless the deployment accepts them), and does so
//! without any I/O; [`verify_tag`] then proves, in constant time, that this
//! deployment minted the key, so a forged key is refused before storage is
//! touched.
//! Only the SHA-256 [`KeyHash`] of a key is ever stored.

mod base62;
mod checksum;
mod format;
pub(crate) mod hash;
mod layout;
mod mint;
mod tag;

pub use checksum::checksum;
pub use format::{
    foreign, is_valid_prefix, parse, prefix_of, scan_regex, Environment, WellFormedKey,
    MAX_FOREIGN_KEY_BYTES,
};
#[cfg(any(not(target_arch = "wasm32"), feature = "control"))]
pub(crate) use hash::hex;
pub use hash::KeyHash;
pub use layout::{
    BODY_CHARS, CHECKSUM_CHARS, RANDOM_BYTES, RANDOM_CHARS, TAG_BYTES, TAG_CHARS,
    UNTAGGED_BODY_CHARS,
};
pub use mint::{key_id, mint, MintedKey, KEY_ID_BYTES};
pub use tag::{admit, verify_tag, Tag, TaggedKey};

/// The key secret the known-answer vectors are tagged with, for tests
/// elsewhere in the crate.
#[cfg(test)]
pub(crate) fn test_secret() -> crate::secret::KeySecret {
    format::tests::vector_secret()
}
