//! The portal's session cookie: how it is set and found.
//!
//! Invariants: the cookie is `HttpOnly`, `SameSite=Strict`, scoped to the
//! portal's path, and `Secure` outside dev; it lives no longer than its
//! session. Reading it, a request that sends the cookie's name more than
//! once is treated as sending none: a second value could only come from a
//! cookie set for another path or by a sibling host, and choosing either
//! would let that one win.

use super::credential::{Kind, PortalCredential};
use crate::secret::KeySecret;

/// The cookie's name.
pub const NAME: &str = "keygate_portal";

/// The `Set-Cookie` value that installs `credential` for `max_age`
/// seconds under `path`.
pub fn set(credential: &PortalCredential, path: &str, max_age: i64, dev: bool) -> String {
    let secure = if dev { "" } else { "; Secure" };
    format!(
        "{NAME}={}; Path={}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        credential.expose(),
        cookie_path(path),
        max_age.max(0)
    )
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear(path: &str, dev: bool) -> String {
    let secure = if dev { "" } else { "; Secure" };
    format!(
        "{NAME}=; Path={}; Max-Age=0; HttpOnly; SameSite=Strict{secure}",
        cookie_path(path)
    )
}

/// The session credential in the request's `Cookie` header(s), if there
/// is exactly one well-formed one and its tag verifies under `key`.
pub fn find<'a>(
    cookie_headers: impl IntoIterator<Item = &'a str>,
    key: &KeySecret,
) -> Option<PortalCredential> {
    let mut found = None;
    for header in cookie_headers {
        for pair in header.split(';') {
            let Some((name, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if name.trim() != NAME {
                continue;
            }
            if found.is_some() {
                return None;
            }
            found = Some(PortalCredential::parse(
                Kind::Cookie,
                value.trim().trim_matches('"'),
                key,
            ));
        }
    }
    found.flatten()
}

/// A path is written as configured; the portal prefix never ends in `/`.
fn cookie_path(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::credential::session_id;
    use crate::portal::credential::tests::key;

    fn cookie() -> PortalCredential {
        PortalCredential::new(Kind::Cookie, "acct", &session_id([1; 16]), [2; 32], &key()).unwrap()
    }

    #[test]
    fn set_has_every_attribute() {
        let value = set(&cookie(), "/_keygate/keys", 600, false);
        assert!(value.starts_with("keygate_portal=kgpc.acct~ps_"));
        for attribute in [
            "; Path=/_keygate/keys",
            "; Max-Age=600",
            "; HttpOnly",
            "; SameSite=Strict",
            "; Secure",
        ] {
            assert!(value.contains(attribute), "{value} lacks {attribute}");
        }
        assert!(!set(&cookie(), "/p", 600, true).contains("Secure"));
        assert!(set(&cookie(), "/p", -5, true).contains("Max-Age=0"));
        assert!(clear("/p", false).contains("Max-Age=0"));
    }

    #[test]
    fn finds_the_one_cookie_among_others() {
        let text = cookie().expose();
        let header = format!("a=1; {NAME}={text}; b=2");
        assert_eq!(find([header.as_str()], &key()), Some(cookie()));
        assert_eq!(
            find(["a=1", format!("{NAME}={text}").as_str()], &key()),
            Some(cookie())
        );
        assert_eq!(
            find([format!("{NAME}=\"{text}\"").as_str()], &key()),
            Some(cookie())
        );
    }

    #[test]
    fn a_repeated_or_bad_cookie_is_none() {
        let text = cookie().expose();
        let twice = format!("{NAME}={text}; {NAME}={text}");
        assert_eq!(find([twice.as_str()], &key()), None);
        let split = format!("{NAME}={text}");
        assert_eq!(find([split.as_str(), split.as_str()], &key()), None);
        assert_eq!(
            find([format!("{NAME}=kgpt.{}", &text[5..]).as_str()], &key()),
            None
        );
        let untagged = text.rsplit_once('~').unwrap().0;
        assert_eq!(find([format!("{NAME}={untagged}").as_str()], &key()), None);
        assert_eq!(find(["other=1"], &key()), None);
        assert_eq!(find([format!("{NAME}x={text}").as_str()], &key()), None);
    }
}
