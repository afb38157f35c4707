//! Portal credentials: the one-time token in a portal URL and the session
//! cookie it is exchanged for.
//!
//! Both have the same shape, `kgpt.` (token) or `kgpc.` (cookie), then
//! the account id, the session id, 32 random bytes in hex and a keyed tag
//! in hex, separated by `~`. The account id says which account's object
//! holds the session, the session id which row; the secret is checked
//! against the SHA-256 stored there. The tag is the first [`MAC_BYTES`]
//! bytes of HMAC-SHA256, keyed with the deployment's key secret
//! (`KEYGATE_KEY_SECRET`, or the previous one while it is rotated), over a
//! domain label and everything before it, as API keys carry one.
//! Invariants: parsing accepts only exactly that shape, with a tag that
//! verifies (in constant time), so a forged credential is refused before
//! any account's object is called; the text is safe in a URL, a cookie and
//! a Durable Object name; the secret is never printed (`Debug` redacts it)
//! and is compared in constant time.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::key::hex;
use crate::secret::KeySecret;

/// Bytes of HMAC-SHA256 kept in a credential's tag: 128 bits, so a
/// forger's guess is right once in 2^128 tries.
pub const MAC_BYTES: usize = 16;

/// What the tag's HMAC reads before the credential's text: it keeps a
/// page credential's tag apart from an API key's under the same secret
/// (no API key holds a NUL byte).
const MAC_DOMAIN: &[u8] = b"keygate portal credential v1\0";

/// Which credential it is: the two are never interchangeable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The one-time token in the URL a product links to.
    Token,
    /// The session cookie.
    Cookie,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Token => "kgpt.",
            Kind::Cookie => "kgpc.",
        }
    }
}

/// A portal token or cookie value whose tag verified (or that this
/// deployment just made): only [`PortalCredential::new`] and
/// [`PortalCredential::parse`] make one.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalCredential {
    kind: Kind,
    account: String,
    session: String,
    secret: [u8; 32],
    mac: [u8; MAC_BYTES],
}

/// Longest account id (as `manage::ids` allows).
const MAX_ACCOUNT: usize = 64;

/// The tag of `tagged_text` (everything before the tag) under `mac`.
fn mac_of(mut mac: Hmac<Sha256>, tagged_text: &str) -> [u8; MAC_BYTES] {
    mac.update(MAC_DOMAIN);
    mac.update(tagged_text.as_bytes());
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; MAC_BYTES];
    for (o, b) in out.iter_mut().zip(full.iter()) {
        *o = *b;
    }
    out
}

/// The text the tag covers: `kgp?.<account>~<session>~<secret hex>`.
fn tagged_text(kind: Kind, account: &str, session: &str, secret: &[u8; 32]) -> String {
    format!("{}{account}~{session}~{}", kind.tag(), hex(secret))
}

impl PortalCredential {
    /// A new credential for `session` of `account`, from 32 random bytes,
    /// tagged under the current key secret. `account` and `session` must
    /// already be valid ids.
    pub fn new(
        kind: Kind,
        account: &str,
        session: &str,
        random: [u8; 32],
        key: &KeySecret,
    ) -> Option<Self> {
        if !(is_account(account) && is_session_id(session)) {
            return None;
        }
        let mac = mac_of(key.current(), &tagged_text(kind, account, session, &random));
        Some(PortalCredential {
            kind,
            account: account.to_owned(),
            session: session.to_owned(),
            secret: random,
            mac,
        })
    }

    /// Reads a credential of `kind` whose tag verifies under `key`'s
    /// current or previous secret; `None` for anything else. Both secrets
    /// are always tried, compared in constant time.
    pub fn parse(kind: Kind, text: &str, key: &KeySecret) -> Option<Self> {
        let rest = text.strip_prefix(kind.tag())?;
        let mut parts = rest.split('~');
        let (account, session, secret, mac) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !is_account(account) || !is_session_id(session) {
            return None;
        }
        let secret = unhex::<32>(secret)?;
        let presented = unhex::<MAC_BYTES>(mac)?;
        let covered = text.get(..text.len().saturating_sub(mac.len() + 1))?;
        let current = mac_of(key.current(), covered).ct_eq(&presented);
        let previous = match key.previous() {
            Some(previous) => mac_of(previous, covered).ct_eq(&presented),
            None => {
                // The same work, so timing does not tell whether a
                // previous secret is set; the result is ignored.
                let _ = mac_of(key.current(), covered).ct_eq(&presented);
                Choice::from(0)
            }
        };
        bool::from(current | previous).then(|| PortalCredential {
            kind,
            account: account.to_owned(),
            session: session.to_owned(),
            secret,
            mac: presented,
        })
    }

    /// The text to put in the URL or the cookie. Shown once.
    pub fn expose(&self) -> String {
        format!(
            "{}~{}",
            tagged_text(self.kind, &self.account, &self.session, &self.secret),
            hex(&self.mac)
        )
    }

    /// Which credential it is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Which account's object holds the session.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The session's id.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// What is stored for it: the SHA-256 of the secret, in hex.
    pub fn digest(&self) -> String {
        hex(&Sha256::digest(self.secret))
    }

    /// Whether it is the credential whose [`digest`](Self::digest) is
    /// `stored`, compared in constant time.
    pub fn matches(&self, stored: &str) -> bool {
        self.digest().as_bytes().ct_eq(stored.as_bytes()).into()
    }

    /// The secret, for deriving the session's CSRF token.
    pub(crate) fn secret(&self) -> &[u8; 32] {
        &self.secret
    }
}

impl fmt::Debug for PortalCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalCredential")
            .field("kind", &self.kind)
            .field("account", &self.account)
            .field("session", &self.session)
            .field("secret", &"[redacted]")
            .field("mac", &"[redacted]")
            .finish()
    }
}

/// An account id: 1-64 of `A-Z a-z 0-9 _ . : -`.
fn is_account(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_ACCOUNT
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

/// A session id: `ps_` and 32 lowercase hex digits.
pub fn is_session_id(text: &str) -> bool {
    text.strip_prefix("ps_")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// A new session id from 16 random bytes.
pub fn session_id(random: [u8; 16]) -> String {
    format!("ps_{}", hex(&random))
}

/// `2 * N` lowercase hex digits as `N` bytes.
fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        *byte = digit(*pair.first()?)? << 4 | digit(*pair.get(1)?)?;
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The key secret the portal's tests tag credentials with.
    pub(crate) fn key() -> KeySecret {
        KeySecret::new(&"k".repeat(32), None).unwrap()
    }

    fn token() -> PortalCredential {
        let session = session_id([7; 16]);
        PortalCredential::new(Kind::Token, "team:42", &session, [9; 32], &key()).unwrap()
    }

    #[test]
    fn round_trips_and_redacts() {
        let t = token();
        let text = t.expose();
        assert!(text.starts_with("kgpt.team:42~ps_0707"));
        assert_eq!(text.rsplit('~').next().unwrap().len(), 2 * MAC_BYTES);
        assert_eq!(
            PortalCredential::parse(Kind::Token, &text, &key()),
            Some(t.clone())
        );
        assert_eq!(
            PortalCredential::parse(Kind::Token, &text, &key())
                .unwrap()
                .expose(),
            text
        );
        let debug = format!("{t:?}");
        assert!(!debug.contains("0909"), "{debug}");
        assert!(!debug.contains(text.rsplit('~').next().unwrap()), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn known_answer() {
        // HMAC-SHA256(key, "keygate portal credential v1\0" || text),
        // first 16 bytes, computed independently (Python's hmac).
        assert_eq!(
            token().expose(),
            "kgpt.team:42~ps_07070707070707070707070707070707~\
             0909090909090909090909090909090909090909090909090909090909090909~\
             d4b3ca7a169a68b322b86ca511b2aa54"
        );
    }

    #[test]
    fn a_token_is_never_a_cookie() {
        let text = token().expose();
        assert_eq!(PortalCredential::parse(Kind::Cookie, &text, &key()), None);
        // The tag covers the kind: a token relabelled as a cookie is a
        // forgery.
        let as_cookie = text.replacen("kgpt.", "kgpc.", 1);
        assert_eq!(
            PortalCredential::parse(Kind::Cookie, &as_cookie, &key()),
            None
        );
    }

    #[test]
    fn a_forged_or_altered_tag_is_refused() {
        let text = token().expose();
        let (covered, mac) = text.rsplit_once('~').unwrap();
        // Every single-digit change of the tag, and of what it covers.
        for at in 0..mac.len() {
            let mut bytes = mac.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
            let forged = format!("{covered}~{}", String::from_utf8(bytes).unwrap());
            assert_eq!(PortalCredential::parse(Kind::Token, &forged, &key()), None);
        }
        let other_secret = text.replacen("~0909", "~0809", 1);
        assert_eq!(
            PortalCredential::parse(Kind::Token, &other_secret, &key()),
            None
        );
        let other_account = text.replacen("team:42", "team:43", 1);
        assert_eq!(
            PortalCredential::parse(Kind::Token, &other_account, &key()),
            None
        );
        // Right shape, made without the secret: the old, untagged form
        // and a random tag.
        assert_eq!(PortalCredential::parse(Kind::Token, covered, &key()), None);
        let random = format!("{covered}~{}", "ab".repeat(MAC_BYTES));
        assert_eq!(PortalCredential::parse(Kind::Token, &random, &key()), None);
        // Another deployment's secret.
        let theirs = KeySecret::new(&"t".repeat(32), None).unwrap();
        assert_eq!(PortalCredential::parse(Kind::Token, &text, &theirs), None);
    }

    #[test]
    fn the_previous_secret_still_verifies_while_it_is_rotated() {
        let text = token().expose();
        let rotated = KeySecret::new(&"n".repeat(32), Some(&"k".repeat(32))).unwrap();
        assert_eq!(
            PortalCredential::parse(Kind::Token, &text, &rotated).map(|c| c.expose()),
            Some(text.clone())
        );
        let gone = KeySecret::new(&"n".repeat(32), None).unwrap();
        assert_eq!(PortalCredential::parse(Kind::Token, &text, &gone), None);
    }

    #[test]
    fn only_the_exact_shape_is_read() {
        let good = token().expose();
        for bad in [
            String::new(),
            good.replace('~', "~~"),
            format!("{good}~x"),
            good.to_uppercase(),
            good.replace("team:42", "team 42"),
            good.replace("team:42", ""),
            good.replace("team:42", &"a".repeat(65)),
            good.replace("ps_", "px_"),
            good[..good.len() - 1].to_owned(),
            format!("{}g", &good[..good.len() - 1]),
            good.replace("kgpt.", "kgpt"),
            format!(" {good}"),
        ] {
            assert_eq!(
                PortalCredential::parse(Kind::Token, &bad, &key()),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn matches_only_its_own_digest() {
        let t = token();
        assert!(t.matches(&t.digest()));
        let other =
            PortalCredential::new(Kind::Token, "team:42", t.session(), [8; 32], &key()).unwrap();
        assert!(!other.matches(&t.digest()));
        assert!(!t.matches(""));
        assert!(!t.matches(&t.digest().to_uppercase()));
    }

    #[test]
    fn ids_are_checked_on_creation() {
        assert!(PortalCredential::new(
            Kind::Token,
            "bad id",
            &session_id([1; 16]),
            [0; 32],
            &key()
        )
        .is_none());
        assert!(PortalCredential::new(Kind::Token, "a", "ps_short", [0; 32], &key()).is_none());
    }
}
