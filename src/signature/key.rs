//! A product's signing key, derived from the origin secret with HKDF.
//!
//! Invariant: `Debug` never prints the key; the raw bytes leave only
//! through [`ProductKey::to_base64`], for the operator's `keygate
//! origin-key`.

use std::fmt;

use hmac::Hmac;
use sha2::Sha256;

use crate::hkdf::{expand_32, keyed, HASH_LEN};
use crate::secret::{base64, OriginSecret};

/// `HKDF-SHA256(KEYGATE_ORIGIN_SECRET, salt, info = product id)`, 32 bytes,
/// kept with its keyed HMAC state so each request only clones it.
#[derive(Clone)]
pub struct ProductKey {
    bytes: [u8; HASH_LEN],
    mac: Hmac<Sha256>,
}

impl ProductKey {
    /// Derives `product_id`'s key from the origin secret.
    pub fn derive(secret: &OriginSecret, product_id: &str) -> Self {
        ProductKey::from_bytes(expand_32(secret.prk(), product_id.as_bytes()))
    }

    /// A key given as raw bytes (an origin's copy).
    pub fn from_bytes(bytes: [u8; HASH_LEN]) -> Self {
        ProductKey {
            mac: keyed(&bytes),
            bytes,
        }
    }

    /// A fresh HMAC-SHA256 keyed with this key.
    pub(super) fn mac(&self) -> Hmac<Sha256> {
        self.mac.clone()
    }

    /// The key as standard base64, to hand to this product's origin.
    pub fn to_base64(&self) -> String {
        base64(&self.bytes)
    }
}

impl fmt::Debug for ProductKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProductKey([redacted])")
    }
}
