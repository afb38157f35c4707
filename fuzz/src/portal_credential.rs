//! Target `portal_credential`: the API Keys page's one-time token and
//! session cookie, with their keyed tag, and the cookie's lookup in
//! `Cookie` headers.
//!
//! Input: four fields split at NUL bytes: (1) flags: bit 0 picks the kind
//! (token or cookie), the next two bytes a position and the fourth a byte
//! for a one-byte change; (2) an account id; (3) random bytes for a minted
//! credential's session id and secret; (4) text, read as a credential and
//! as a `Cookie` header.
//! Invariants: a credential `parse` accepts re-encodes to exactly the text
//! it was read from, is of the kind asked, and verifies under a key set
//! that holds the fixture secret as current or previous, never under
//! another secret; `parse` accepts what `new` makes; any one-byte change of
//! a minted credential (its tag included) is refused; the cookie found in
//! a header is one `parse` accepts, written in that header; `Debug` never
//! shows the secret or the tag.

use keygate::portal::cookie;
use keygate::portal::credential::{session_id, Kind, PortalCredential};
use keygate::secret::KeySecret;

/// The fixture deployment's key secret.
const SECRET: &str = "fuzz-portal-key-secret-0123456789abcdef";
/// Another deployment's.
const OTHER: &str = "fuzz-portal-key-secret-of-another-deployment";

fn key() -> KeySecret {
    KeySecret::new(SECRET, None).unwrap_or_else(|e| panic!("{e}"))
}

/// The `portal_credential` target.
pub fn portal_credential(data: &[u8]) {
    let [flags, account, random, text] = crate::split::<4>(data);
    let kind = if flags.first().is_some_and(|f| f & 1 == 1) {
        Kind::Cookie
    } else {
        Kind::Token
    };
    let text = crate::text(text);
    check_parsed(kind, &text);
    check_cookie_header(&text);
    check_minted(kind, &crate::text(account), random, flags);
}

/// What a credential's text must never show in `Debug`: its secret and
/// its tag (the last two `~` fields).
fn check_redacted(credential: &PortalCredential, text: &str) {
    let debug = format!("{credential:?}");
    for secret_part in text.rsplit('~').take(2) {
        assert!(
            !debug.contains(secret_part),
            "Debug shows secret material: {debug}"
        );
    }
}

fn check_parsed(kind: Kind, text: &str) {
    let Some(parsed) = PortalCredential::parse(kind, text, &key()) else {
        return;
    };
    assert_eq!(parsed.expose(), text, "an accepted credential re-encodes");
    assert_eq!(parsed.kind(), kind);
    assert!(text.starts_with(match kind {
        Kind::Token => "kgpt.",
        Kind::Cookie => "kgpc.",
    }));
    assert!(parsed.session().starts_with("ps_"));
    check_redacted(&parsed, text);
    let other = KeySecret::new(OTHER, None).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        PortalCredential::parse(kind, text, &other).is_none(),
        "another deployment's secret verifies it"
    );
    let rotated = KeySecret::new(OTHER, Some(SECRET)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        PortalCredential::parse(kind, text, &rotated).as_ref(),
        Some(&parsed),
        "the previous secret verifies it"
    );
    let as_other_kind = match kind {
        Kind::Token => Kind::Cookie,
        Kind::Cookie => Kind::Token,
    };
    assert!(PortalCredential::parse(as_other_kind, text, &key()).is_none());
}

fn check_cookie_header(header: &str) {
    let Some(found) = cookie::find([header], &key()) else {
        return;
    };
    let text = found.expose();
    assert!(header.contains(&text), "the cookie comes from the header");
    assert_eq!(found.kind(), Kind::Cookie);
    let named = header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| name.trim() == cookie::NAME)
        .count();
    assert_eq!(named, 1, "one cookie of that name (a second means none)");
    assert_eq!(
        PortalCredential::parse(Kind::Cookie, &text, &key()).as_ref(),
        Some(&found)
    );
}

fn check_minted(kind: Kind, account: &str, random: &[u8], flags: &[u8]) {
    let mut bytes = [0u8; 48];
    for (b, r) in bytes.iter_mut().zip(random.iter().cycle()) {
        *b = *r;
    }
    let (session, secret) = bytes.split_at(16);
    let (Ok(session), Ok(secret)) = (<[u8; 16]>::try_from(session), <[u8; 32]>::try_from(secret))
    else {
        return;
    };
    let Some(minted) = PortalCredential::new(kind, account, &session_id(session), secret, &key())
    else {
        return;
    };
    let text = minted.expose();
    assert_eq!(
        PortalCredential::parse(kind, &text, &key()).as_ref(),
        Some(&minted),
        "parse accepts what new makes"
    );
    check_redacted(&minted, &text);
    // One byte changed, anywhere (the tag included): refused.
    let at = match flags.get(1..3) {
        Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
        _ => 0,
    } % text.len().max(1);
    let to = flags.get(3).copied().unwrap_or(b'0');
    let mut changed = text.clone().into_bytes();
    if let Some(byte) = changed.get_mut(at) {
        *byte = to;
    }
    let changed = String::from_utf8_lossy(&changed).into_owned();
    if changed != text {
        assert!(
            PortalCredential::parse(kind, &changed, &key()).is_none(),
            "a changed credential verifies: {at} -> {to:#x}"
        );
    }
    // The last tag digit changed (a mutated MAC).
    let last = if text.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", text.get(..text.len() - 1).unwrap_or_default());
    assert!(PortalCredential::parse(kind, &forged, &key()).is_none());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The corpus's seeds were made with the fixture secret: the accepted
    /// path is reached.
    #[test]
    fn the_seeds_hold_credentials_the_target_accepts() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/portal_credential");
        let token = std::fs::read(dir.join("token")).unwrap();
        let [_, _, _, text] = crate::split::<4>(&token);
        assert!(PortalCredential::parse(Kind::Token, &crate::text(text), &key()).is_some());
        let header = std::fs::read(dir.join("cookie-header")).unwrap();
        let [_, _, _, text] = crate::split::<4>(&header);
        assert!(cookie::find([crate::text(text).as_str()], &key()).is_some());
    }
}
