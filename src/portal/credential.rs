//! Portal credentials: the one-time token in a portal URL and the session
//! cookie it is exchanged for.
//!
//! Both have the same shape, `kgpt.` (token) or `kgpc.` (cookie), then
//! the account id, the session id and 32 random bytes in hex, separated by
//! `~`. The account id says which account's object holds the session, the
//! session id which row; the secret is checked against the SHA-256 stored
//! there. Invariants: parsing accepts only exactly that shape (so the text
//! is safe in a URL, a cookie and a Durable Object name); the secret is
//! never printed (`Debug` redacts it) and is compared in constant time.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::key::hex;

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

/// A portal token or cookie value.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalCredential {
    kind: Kind,
    account: String,
    session: String,
    secret: [u8; 32],
}

/// Longest account id (as `manage::ids` allows).
const MAX_ACCOUNT: usize = 64;

impl PortalCredential {
    /// A new credential for `session` of `account`, from 32 random bytes.
    /// `account` and `session` must already be valid ids.
    pub fn new(kind: Kind, account: &str, session: &str, random: [u8; 32]) -> Option<Self> {
        (is_account(account) && is_session_id(session)).then(|| PortalCredential {
            kind,
            account: account.to_owned(),
            session: session.to_owned(),
            secret: random,
        })
    }

    /// Reads a credential of `kind`; `None` for anything else.
    pub fn parse(kind: Kind, text: &str) -> Option<Self> {
        let rest = text.strip_prefix(kind.tag())?;
        let mut parts = rest.split('~');
        let (account, session, secret) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !is_account(account) || !is_session_id(session) {
            return None;
        }
        Some(PortalCredential {
            kind,
            account: account.to_owned(),
            session: session.to_owned(),
            secret: unhex32(secret)?,
        })
    }

    /// The text to put in the URL or the cookie. Shown once.
    pub fn expose(&self) -> String {
        format!(
            "{}{}~{}~{}",
            self.kind.tag(),
            self.account,
            self.session,
            hex(&self.secret)
        )
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

/// 64 lowercase hex digits as 32 bytes.
fn unhex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
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
mod tests {
    use super::*;

    fn token() -> PortalCredential {
        let session = session_id([7; 16]);
        PortalCredential::new(Kind::Token, "team:42", &session, [9; 32]).unwrap()
    }

    #[test]
    fn round_trips_and_redacts() {
        let t = token();
        let text = t.expose();
        assert!(text.starts_with("kgpt.team:42~ps_0707"));
        assert_eq!(PortalCredential::parse(Kind::Token, &text), Some(t.clone()));
        let debug = format!("{t:?}");
        assert!(!debug.contains("0909"), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn a_token_is_never_a_cookie() {
        let text = token().expose();
        assert_eq!(PortalCredential::parse(Kind::Cookie, &text), None);
        let as_cookie = text.replacen("kgpt.", "kgpc.", 1);
        let cookie = PortalCredential::parse(Kind::Cookie, &as_cookie).unwrap();
        // Same secret, but checked against the cookie's own stored digest.
        assert_eq!(cookie.kind, Kind::Cookie);
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
            assert_eq!(PortalCredential::parse(Kind::Token, &bad), None, "{bad}");
        }
    }

    #[test]
    fn matches_only_its_own_digest() {
        let t = token();
        assert!(t.matches(&t.digest()));
        let other = PortalCredential::new(Kind::Token, "team:42", t.session(), [8; 32]).unwrap();
        assert!(!other.matches(&t.digest()));
        assert!(!t.matches(""));
        assert!(!t.matches(&t.digest().to_uppercase()));
    }

    #[test]
    fn ids_are_checked_on_creation() {
        assert!(
            PortalCredential::new(Kind::Token, "bad id", &session_id([1; 16]), [0; 32]).is_none()
        );
        assert!(PortalCredential::new(Kind::Token, "a", "ps_short", [0; 32]).is_none());
    }
}
