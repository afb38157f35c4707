//! The names keygate's signature goes by on the wire, which the signer
//! ([`super::sign`]) and the reader ([`super::parse`]) share.
//!
//! Invariant: these are fixed; an origin's verifier matches them exactly.

/// The signature label in `Signature-Input` and `Signature`.
pub const LABEL: &str = "keygate";
/// The RFC 9421 algorithm name.
pub const ALG: &str = "hmac-sha256";
