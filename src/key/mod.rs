//! The keygate key format: `<prefix>_<live|test>_<body>`.
//!
//! The body is 32 random bytes written as 43 base62 characters, followed by
//! the 6-character base62 CRC32 of everything before it (the idea behind
//! GitHub's token format). Invariant: [`parse`] accepts exactly the strings
//! [`mint`] can produce, and does so without any I/O, so a malformed key is
//! refused before storage is touched. Only the SHA-256 [`KeyHash`] of a key
//! is ever stored.

mod base62;
mod checksum;
mod format;
pub(crate) mod hash;
mod mint;

pub use checksum::checksum;
pub use format::{
    is_valid_prefix, parse, prefix_of, scan_regex, Environment, WellFormedKey, BODY_CHARS,
    CHECKSUM_CHARS, RANDOM_BYTES, RANDOM_CHARS,
};
pub use hash::KeyHash;
pub use mint::{key_id, mint, MintedKey, KEY_ID_BYTES};
