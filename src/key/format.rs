//! Parsing a presented key into a [`WellFormedKey`]: the secret-less offline
//! check that the credential reader and secret scanners share.
//!
//! Pure: no I/O, no secret. A [`WellFormedKey`] exists only if the prefix,
//! environment, length, alphabet, value ranges and checksum are all right:
//! exactly what [`super::mint`] makes, or a legacy key from before keys
//! carried a tag (43 random and 6 checksum characters), which only
//! [`super::admit`] with the deployment's switch on lets through. Whether
//! this deployment minted a key is [`super::verify_tag`]'s question.

use std::fmt;

use super::layout::{
    BODY_CHARS, CHECKSUM_CHARS, RANDOM_BYTES, RANDOM_CHARS, TAG_BYTES, TAG_CHARS,
    UNTAGGED_BODY_CHARS,
};
use super::{base62, checksum::checksum, hash::KeyHash};
use crate::secret::ApiKey;

/// Whether a key is for production traffic or for testing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// `live` keys.
    Live,
    /// `test` keys.
    Test,
}

impl Environment {
    /// The environment as written in a key.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Test => "test",
        }
    }

    fn from_key_part(s: &str) -> Option<Self> {
        match s {
            "live" => Some(Environment::Live),
            "test" => Some(Environment::Test),
            _ => None,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `prefix` is a valid product key prefix: 2 to 8 characters,
/// a lowercase ASCII letter then lowercase letters or digits.
pub fn is_valid_prefix(prefix: &str) -> bool {
    let mut bytes = prefix.bytes();
    (2..=8).contains(&prefix.len())
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The product prefix of a presented key, if it starts with a valid one
/// followed by `_`. Used to spot another product's key before parsing.
pub fn prefix_of(raw: &str) -> Option<&str> {
    let (prefix, _) = raw.split_once('_')?;
    is_valid_prefix(prefix).then_some(prefix)
}

/// A regular expression that matches keys, for secret scanners. With
/// `Some(prefix)` it matches only that product's keys.
pub fn scan_regex(prefix: Option<&str>) -> String {
    let prefix = prefix.unwrap_or("[a-z][a-z0-9]{1,7}");
    format!(r"\b{prefix}_(?:live|test)_[0-9A-Za-z]{{{BODY_CHARS}}}\b")
}

/// A key whose shape and checksum are right. It may still be unknown.
#[derive(Clone, PartialEq, Eq)]
pub struct WellFormedKey {
    key: ApiKey,
    prefix_len: usize,
    environment: Environment,
    tagged: bool,
    foreign: bool,
}

impl fmt::Debug for WellFormedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WellFormedKey")
            .field("display_prefix", &self.display_prefix())
            .finish_non_exhaustive()
    }
}

impl WellFormedKey {
    /// The product prefix, e.g. `fai`.
    pub fn prefix(&self) -> &str {
        self.key.expose().get(..self.prefix_len).unwrap_or_default()
    }

    /// The key's environment.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The part that is safe to show: prefix, environment and the first four
    /// body characters, e.g. `fai_live_Ab12`.
    pub fn display_prefix(&self) -> &str {
        if self.foreign {
            return "";
        }
        let end = self.prefix_len + 1 + self.environment.as_str().len() + 1 + 4;
        self.key.expose().get(..end).unwrap_or_default()
    }

    /// The last four characters, also safe to show.
    pub fn last4(&self) -> &str {
        if self.foreign {
            return "";
        }
        let raw = self.key.expose();
        raw.get(raw.len().saturating_sub(4)..).unwrap_or_default()
    }

    /// The SHA-256 of the whole key: its index in storage.
    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.key)
    }

    /// The key itself.
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    /// Whether the key is in a product's foreign (`legacy`) format: no
    /// checksum, no tag, found by its hash alone. Its display prefix and
    /// last four characters are empty (nothing of it is shown).
    pub fn is_foreign(&self) -> bool {
        self.foreign
    }

    /// Whether the key carries a tag; `false` for a legacy key.
    pub fn is_tagged(&self) -> bool {
        self.tagged
    }

    /// The text the tag covers (`<prefix>_<env>_<random>`) and the tag's
    /// characters.
    pub(crate) fn tag_parts(&self) -> (&str, &str) {
        let raw = self.key.expose();
        let tag_at = raw.len().saturating_sub(TAG_CHARS + CHECKSUM_CHARS);
        let sum_at = raw.len().saturating_sub(CHECKSUM_CHARS);
        (
            raw.get(..tag_at).unwrap_or_default(),
            raw.get(tag_at..sum_at).unwrap_or_default(),
        )
    }
}

/// Checks shape, value ranges and checksum: exactly what [`super::mint`]
/// can produce, under any secret. The error says what is wrong, never
/// echoing the key.
pub fn parse(key: &ApiKey) -> Result<WellFormedKey, &'static str> {
    let raw = key.expose();
    if !raw.is_ascii() {
        return Err("it contains characters outside ASCII");
    }
    let (prefix, rest) = raw
        .split_once('_')
        .ok_or("it lacks the `<prefix>_<live|test>_` start")?;
    if !is_valid_prefix(prefix) {
        return Err("its prefix is not a key prefix");
    }
    let (environment, body) = rest
        .split_once('_')
        .ok_or("it lacks the `<prefix>_<live|test>_` start")?;
    let environment =
        Environment::from_key_part(environment).ok_or("its environment is not live or test")?;
    let tagged = match body.len() {
        BODY_CHARS => true,
        UNTAGGED_BODY_CHARS => false,
        _ => return Err("it has the wrong length; it may be truncated"),
    };
    if !base62::is_base62(body) {
        return Err("it contains characters that keys never contain");
    }
    let split = raw.len() - CHECKSUM_CHARS;
    let (checked, sum) = (
        raw.get(..split).unwrap_or_default(),
        raw.get(split..).unwrap_or_default(),
    );
    if checksum(checked) != sum {
        return Err("its checksum does not match; it may be mistyped");
    }
    let random = body.get(..RANDOM_CHARS).unwrap_or_default();
    let tag = if tagged {
        body.get(RANDOM_CHARS..RANDOM_CHARS + TAG_CHARS)
            .unwrap_or_default()
    } else {
        ""
    };
    if base62::decode_fixed::<RANDOM_BYTES>(random).is_none()
        || base62::decode_fixed::<TAG_BYTES>(tag).is_none()
    {
        return Err("its value is out of range; keygate never issued it");
    }
    Ok(WellFormedKey {
        key: key.clone(),
        prefix_len: prefix.len(),
        environment,
        tagged,
        foreign: false,
    })
}

/// Longest foreign key, in bytes.
pub const MAX_FOREIGN_KEY_BYTES: usize = 256;

/// A key in a foreign format (a product's `legacy` prefix, `prefix_len`
/// bytes, already matched by the caller): some character after the prefix,
/// at most [`MAX_FOREIGN_KEY_BYTES`] bytes, all visible ASCII. It has no
/// checksum or tag, so only its hash's lookup can tell whether it is
/// known; its environment is the record's (reported as `live` here).
pub fn foreign(key: &ApiKey, prefix_len: usize) -> Result<WellFormedKey, &'static str> {
    let raw = key.expose();
    if raw.len() <= prefix_len || raw.len() > MAX_FOREIGN_KEY_BYTES {
        return Err("it has the wrong length for this product's legacy keys");
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("it contains characters that keys never contain");
    }
    Ok(WellFormedKey {
        key: key.clone(),
        prefix_len,
        environment: Environment::Live,
        tagged: false,
        foreign: true,
    })
}

#[cfg(test)]
#[path = "format_tests.rs"]
pub(crate) mod tests;
