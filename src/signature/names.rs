//! The names keygate's signature goes by on the wire, which the signer
//! ([`super::sign`]) and the reader ([`super::parse`]) share, and its
//! default lifetime, which configuration checks `signature_ttl` against.
//!
//! Invariant: these are fixed; an origin's verifier matches them exactly.

/// The signature label in `Signature-Input` and `Signature`.
pub const LABEL: &str = "keygate";
/// The RFC 9421 algorithm name.
pub const ALG: &str = "hmac-sha256";
/// Default lifetime of a signature: `expires = created + 300`.
pub const DEFAULT_TTL_SECONDS: u32 = 300;
