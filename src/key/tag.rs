//! The keyed tag: proof that this deployment minted a key.
//!
//! The tag is the first [`TAG_BYTES`] bytes of HMAC-SHA256, keyed with
//! `KEYGATE_KEY_SECRET`, over everything before it
//! (`<prefix>_<env>_<43 random chars>`), as [`TAG_CHARS`] base62
//! characters. Pure: the secret comes in as a [`KeySecret`]. Invariant: a
//! [`TaggedKey`] exists only if the tag verified, in constant time, under
//! the current or the previous secret, so a storage lookup that requires
//! one cannot be reached with a forged key.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

use super::layout::{TAG_BYTES, TAG_CHARS};
use super::{base62, format::WellFormedKey, KeyHash};
use crate::secret::KeySecret;

/// The tag bytes of `tagged_text` under `mac`.
fn tag_bytes(mut mac: Hmac<Sha256>, tagged_text: &str) -> [u8; TAG_BYTES] {
    mac.update(tagged_text.as_bytes());
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; TAG_BYTES];
    for (o, b) in out.iter_mut().zip(full.iter()) {
        *o = *b;
    }
    out
}

/// The tag characters for `tagged_text` (`<prefix>_<env>_<random>`) under
/// the current secret.
pub(crate) fn tag(secret: &KeySecret, tagged_text: &str) -> String {
    base62::encode_fixed(&tag_bytes(secret.current(), tagged_text), TAG_CHARS)
}

/// A well-formed key whose tag verified: this deployment minted it. Only
/// [`verify_tag`] makes one, and [`admit`], which also lets a legacy
/// untagged key through when the deployment's switch says so.
#[derive(Clone)]
pub struct TaggedKey {
    key: WellFormedKey,
    under_previous: bool,
}

/// Which check let a key through, for the request log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// The tag verified under the current key secret.
    Current,
    /// Under the previous key secret: minted before the last rotation.
    Previous,
    /// A legacy key without a tag, let through by `accept_untagged_keys`.
    Untagged,
    /// A key in a product's foreign format (`legacy`), found by hash alone.
    Foreign,
}

impl Tag {
    /// The tag as logged: `current`, `previous` or `untagged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Current => "current",
            Tag::Previous => "previous",
            Tag::Untagged => "untagged",
            Tag::Foreign => "foreign",
        }
    }
}

/// The keyed check the request path runs: a tagged key must verify
/// ([`verify_tag`]); a legacy untagged key passes only if
/// `accept_untagged` (the config's `accept_untagged_keys`) is on. `None`:
/// answer as for an unknown key, without a storage read.
pub fn admit(key: WellFormedKey, secret: &KeySecret, accept_untagged: bool) -> Option<TaggedKey> {
    // A foreign key has no tag to check: its product's `legacy` prefix let
    // it through (crate::credential), and its hash lookup decides.
    if key.is_foreign() {
        return Some(TaggedKey {
            key,
            under_previous: false,
        });
    }
    if key.is_tagged() {
        return verify_tag(key, secret);
    }
    accept_untagged.then_some(TaggedKey {
        key,
        under_previous: false,
    })
}

impl fmt::Debug for TaggedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaggedKey")
            .field("key", &self.key)
            .field("under_previous", &self.under_previous)
            .finish()
    }
}

impl TaggedKey {
    /// The key, as parsed.
    pub fn key(&self) -> &WellFormedKey {
        &self.key
    }

    /// Its storage index.
    pub fn hash(&self) -> KeyHash {
        self.key.hash()
    }

    /// Whether only the previous secret verified it: the key was minted
    /// before the last secret rotation.
    pub fn under_previous(&self) -> bool {
        self.under_previous
    }

    /// Which check let the key through.
    pub fn tag(&self) -> Tag {
        if self.key.is_foreign() {
            return Tag::Foreign;
        }
        match (self.key.is_tagged(), self.under_previous) {
            (false, _) => Tag::Untagged,
            (true, true) => Tag::Previous,
            (true, false) => Tag::Current,
        }
    }
}

/// Checks `key`'s tag against the current and the previous secret. Both
/// are always computed and compared in constant time; the result does not
/// say which part of the tag was wrong. `None` means the tag is not this
/// deployment's: answer as for an unknown key, without a storage read.
pub fn verify_tag(key: WellFormedKey, secret: &KeySecret) -> Option<TaggedKey> {
    if !key.is_tagged() {
        return None;
    }
    let (tagged_text, presented) = key.tag_parts();
    let presented: [u8; TAG_BYTES] = base62::decode_fixed(presented)?;
    let current = tag_bytes(secret.current(), tagged_text).ct_eq(&presented);
    let previous = match secret.previous() {
        Some(mac) => tag_bytes(mac, tagged_text).ct_eq(&presented),
        None => {
            // The same work, so timing does not tell whether a previous
            // secret is set; the result is ignored.
            let _ = tag_bytes(secret.current(), tagged_text).ct_eq(&presented);
            Choice::from(0)
        }
    };
    let under_previous = bool::from(!current & previous);
    bool::from(current | previous).then_some(TaggedKey {
        key,
        under_previous,
    })
}

#[cfg(test)]
#[path = "tag_tests.rs"]
mod tests;
