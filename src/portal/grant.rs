//! Portal sessions: the grant a product's backend asks for, and the
//! session row the account's object keeps.
//!
//! Lifecycle: `POST /accounts/{a}/portal-sessions` stores a [`SessionRow`]
//! holding the SHA-256 of a one-time token and answers the portal URL
//! with that token. Opening the URL exchanges the token ([`SessionRow::
//! exchange`]) for a session cookie, whose digest is stored beside the
//! token's.
//! Invariants: a token is accepted once, and only before `expires_at`; a
//! cookie only until `expires_at` and while the session is not revoked;
//! the row stores digests, never a token or cookie.

use serde::{Deserialize, Serialize};

use super::credential::PortalCredential;
use super::scope::Scope;

/// Longest portal session, in seconds: one hour.
pub const MAX_SESSION_SECONDS: u32 = 3_600;
/// A session's lifetime when the grant names none.
pub const DEFAULT_SESSION_SECONDS: u32 = 3_600;
/// Sessions kept per account; the oldest expired ones go first.
pub const SESSIONS_KEPT: usize = 200;

/// What a product's backend asked for, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Where the page's "back" link and dead-link pages lead.
    pub return_url: String,
    /// What the session may see.
    pub scope: Scope,
    /// Seconds from now, 60 to [`MAX_SESSION_SECONDS`].
    pub expires_in_seconds: u32,
}

/// One portal session, as the account's object stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// `ps_` and 32 hex digits.
    pub id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; the token and the cookie stop working then.
    pub expires_at: i64,
    /// From the grant.
    pub return_url: String,
    /// From the grant.
    pub scope: Scope,
    /// SHA-256 (hex) of the one-time token (kept once used, so a second
    /// use is told apart from a forgery).
    pub token_digest: Option<String>,
    /// SHA-256 (hex) of the cookie, once the token is exchanged.
    pub cookie_digest: Option<String>,
    /// When the token was exchanged.
    pub used_at: Option<i64>,
    /// When the session was revoked through the API.
    pub revoked_at: Option<i64>,
}

/// Why a token or cookie was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dead {
    /// No such session, or not this credential.
    Unknown,
    /// The token was already exchanged.
    Used,
    /// Past `expires_at`.
    Expired,
    /// Revoked through the API.
    Revoked,
}

impl Dead {
    /// What the page tells the user.
    pub fn describe(self) -> &'static str {
        match self {
            Dead::Unknown => "This link is not valid.",
            Dead::Used => "This link was already used. Links to the API Keys page work once.",
            Dead::Expired => "This link has expired.",
            Dead::Revoked => "This session was ended.",
        }
    }
}

impl SessionRow {
    /// A new session for `grant` at `now`, holding `token`'s digest.
    pub fn new(id: String, grant: &Grant, token: &PortalCredential, now: i64) -> SessionRow {
        SessionRow {
            id,
            created_at: now,
            expires_at: now + i64::from(grant.expires_in_seconds),
            return_url: grant.return_url.clone(),
            scope: grant.scope.clone(),
            token_digest: Some(token.digest()),
            cookie_digest: None,
            used_at: None,
            revoked_at: None,
        }
    }

    fn alive(&self, now: i64) -> Result<(), Dead> {
        if self.revoked_at.is_some() {
            Err(Dead::Revoked)
        } else if now >= self.expires_at {
            Err(Dead::Expired)
        } else {
            Ok(())
        }
    }

    /// Exchanges `token` for `cookie` at `now`: the token stops working
    /// and the cookie starts.
    pub fn exchange(
        &mut self,
        token: &PortalCredential,
        cookie: &PortalCredential,
        now: i64,
    ) -> Result<(), Dead> {
        let Some(stored) = &self.token_digest else {
            return Err(Dead::Unknown);
        };
        if !token.matches(stored) {
            return Err(Dead::Unknown);
        }
        if self.used_at.is_some() {
            // Before expiry: a used token is "used" even once expired,
            // which is what its holder needs to hear.
            return Err(Dead::Used);
        }
        self.alive(now)?;
        self.cookie_digest = Some(cookie.digest());
        self.used_at = Some(now);
        Ok(())
    }

    /// Whether `cookie` opens this session at `now`.
    pub fn admit(&self, cookie: &PortalCredential, now: i64) -> Result<(), Dead> {
        let matches = self
            .cookie_digest
            .as_deref()
            .is_some_and(|stored| cookie.matches(stored));
        if !matches {
            return Err(Dead::Unknown);
        }
        self.alive(now)
    }

    /// Seconds the session has left at `now`.
    pub fn remaining(&self, now: i64) -> i64 {
        (self.expires_at - now).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::credential::tests::key;
    use crate::portal::credential::{session_id, Kind};

    fn setup() -> (SessionRow, PortalCredential, PortalCredential) {
        let id = session_id([3; 16]);
        let token = PortalCredential::new(Kind::Token, "acct", &id, [4; 32], &key()).unwrap();
        let cookie = PortalCredential::new(Kind::Cookie, "acct", &id, [5; 32], &key()).unwrap();
        let grant = Grant {
            return_url: "https://app.example/settings".into(),
            scope: Scope::default(),
            expires_in_seconds: 600,
        };
        (SessionRow::new(id, &grant, &token, 1_000), token, cookie)
    }

    #[test]
    fn a_token_works_once_then_the_cookie_does() {
        let (mut row, token, cookie) = setup();
        assert!(!format!("{row:?}").contains(&token.expose()));
        assert_eq!(row.admit(&cookie, 1_001), Err(Dead::Unknown));
        assert_eq!(row.exchange(&token, &cookie, 1_001), Ok(()));
        assert_eq!(row.admit(&cookie, 1_002), Ok(()));
        assert_eq!(row.exchange(&token, &cookie, 1_003), Err(Dead::Used));
        let forged = PortalCredential::new(Kind::Token, "acct", &row.id, [6; 32], &key()).unwrap();
        assert_eq!(
            row.exchange(&forged, &cookie, 1_003),
            Err(Dead::Unknown),
            "only the holder learns it was used"
        );
        assert_eq!(row.remaining(1_100), 500);
    }

    #[test]
    fn an_expired_token_or_session_is_dead() {
        let (mut row, token, cookie) = setup();
        assert_eq!(row.exchange(&token, &cookie, 1_600), Err(Dead::Expired));
        let (mut row2, token2, cookie2) = setup();
        row2.exchange(&token2, &cookie2, 1_100).unwrap();
        assert_eq!(row2.admit(&cookie2, 1_599), Ok(()));
        assert_eq!(row2.admit(&cookie2, 1_600), Err(Dead::Expired));
        assert!(row.used_at.is_none());
    }

    #[test]
    fn a_wrong_secret_or_a_revoked_session_is_refused() {
        let (mut row, token, cookie) = setup();
        let forged = PortalCredential::new(Kind::Token, "acct", &row.id, [6; 32], &key()).unwrap();
        assert_eq!(row.exchange(&forged, &cookie, 1_001), Err(Dead::Unknown));
        assert!(
            row.token_digest.is_some(),
            "a forged token does not use up the real one"
        );
        row.exchange(&token, &cookie, 1_001).unwrap();
        let other = PortalCredential::new(Kind::Cookie, "acct", &row.id, [7; 32], &key()).unwrap();
        assert_eq!(row.admit(&other, 1_002), Err(Dead::Unknown));
        row.revoked_at = Some(1_003);
        assert_eq!(row.admit(&cookie, 1_004), Err(Dead::Revoked));
    }
}
