//! The key's layout: how many bytes and characters each part holds, in one
//! place below the parser ([`super::format`]) and the tag
//! ([`super::tag`]), which both size their parts from it.
//!
//! Invariant: `BODY_CHARS` is the sum of its parts, so a key that parses
//! has exactly the room the tag and checksum need.

/// Bytes of HMAC output kept in a key: 48 bits, so a forger's guess is
/// right once in 2^48 (about 2.8 × 10^14) tries.
pub const TAG_BYTES: usize = 6;
/// Base62 characters encoding [`TAG_BYTES`] (62^9 > 2^48 > 62^8).
pub const TAG_CHARS: usize = 9;

/// Random bytes in a key body.
pub const RANDOM_BYTES: usize = 32;
/// Base62 characters encoding [`RANDOM_BYTES`].
pub const RANDOM_CHARS: usize = 43;
/// Base62 characters of the CRC32 checksum.
pub const CHECKSUM_CHARS: usize = 6;
/// Characters after `<prefix>_<env>_`: random part, tag, checksum.
pub const BODY_CHARS: usize = RANDOM_CHARS + TAG_CHARS + CHECKSUM_CHARS;
/// Characters after `<prefix>_<env>_` in a legacy key, issued before keys
/// carried a tag: random part, checksum.
pub const UNTAGGED_BODY_CHARS: usize = RANDOM_CHARS + CHECKSUM_CHARS;
