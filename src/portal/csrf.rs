//! CSRF protection for the portal's changes.
//!
//! Three checks, all required on every request that changes something:
//! the session cookie is `SameSite=Strict`; the browser's fetch metadata,
//! when sent, says the request came from the portal's own origin
//! (`Sec-Fetch-Site: same-origin`, and an `Origin` equal to the portal's);
//! and the request carries the session's CSRF token in `X-Keygate-CSRF`.
//! Invariant: the token is an HMAC of the session's cookie secret, so it is
//! never stored, differs per session, and is compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::credential::PortalCredential;
use crate::key::hex;

/// The header that carries the token.
pub const HEADER: &str = "X-Keygate-CSRF";

/// The session's CSRF token, for the page to send back.
pub fn token(cookie: &PortalCredential) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(cookie.secret()) else {
        // HMAC takes a key of any length; never reached.
        return String::new();
    };
    mac.update(b"keygate portal csrf\0");
    mac.update(cookie.session().as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Why a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token, or not this session's.
    Token,
    /// The browser says the request came from another site or origin.
    CrossSite,
}

impl Refusal {
    /// The reason, for the problem's detail.
    pub fn describe(self) -> &'static str {
        match self {
            Refusal::Token => "the request lacks this session's CSRF token; reload the page",
            Refusal::CrossSite => {
                "the request came from another site; use the API Keys page itself"
            }
        }
    }
}

/// Checks a change request: `sent` is its `X-Keygate-CSRF`, `fetch_site`
/// its `Sec-Fetch-Site`, `origin` its `Origin`, and `own_origin` the
/// portal's `scheme://host[:port]`.
pub fn check(
    cookie: &PortalCredential,
    sent: Option<&str>,
    fetch_site: Option<&str>,
    origin: Option<&str>,
    own_origin: &str,
) -> Result<(), Refusal> {
    if fetch_site.is_some_and(|site| !site.eq_ignore_ascii_case("same-origin")) {
        return Err(Refusal::CrossSite);
    }
    if origin.is_some_and(|o| !o.eq_ignore_ascii_case(own_origin)) {
        return Err(Refusal::CrossSite);
    }
    let expected = token(cookie);
    let sent = sent.unwrap_or("");
    if sent.len() == expected.len() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(Refusal::Token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::credential::{session_id, Kind};

    const OWN: &str = "https://api.example";

    fn cookie(byte: u8) -> PortalCredential {
        PortalCredential::new(
            Kind::Cookie,
            "acct",
            &session_id([byte; 16]),
            [byte; 32],
            &crate::portal::credential::tests::key(),
        )
        .unwrap()
    }

    #[test]
    fn the_sessions_token_passes() {
        let c = cookie(1);
        let t = token(&c);
        assert_eq!(t.len(), 64);
        assert_eq!(
            check(&c, Some(&t), Some("same-origin"), Some(OWN), OWN),
            Ok(())
        );
        assert_eq!(check(&c, Some(&t), None, None, OWN), Ok(()));
    }

    #[test]
    fn another_sessions_or_no_token_fails() {
        let c = cookie(1);
        let other = token(&cookie(2));
        assert_eq!(
            check(&c, Some(&other), None, None, OWN),
            Err(Refusal::Token)
        );
        assert_eq!(check(&c, None, None, None, OWN), Err(Refusal::Token));
        assert_eq!(check(&c, Some(""), None, None, OWN), Err(Refusal::Token));
        let t = token(&c);
        assert_eq!(
            check(&c, Some(&t[..63]), None, None, OWN),
            Err(Refusal::Token)
        );
    }

    #[test]
    fn cross_site_requests_fail_even_with_the_token() {
        let c = cookie(1);
        let t = token(&c);
        for site in ["cross-site", "same-site", "none"] {
            assert_eq!(
                check(&c, Some(&t), Some(site), None, OWN),
                Err(Refusal::CrossSite)
            );
        }
        for origin in [
            "https://evil.example",
            "null",
            "http://api.example",
            "https://api.example:444",
        ] {
            assert_eq!(
                check(&c, Some(&t), None, Some(origin), OWN),
                Err(Refusal::CrossSite)
            );
        }
    }
}
