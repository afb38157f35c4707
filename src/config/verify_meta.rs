//! A product's data-plane extras: which `meta` members are forwarded to
//! its origin (`forward_meta`), and which Worker secret holds its verifier
//! token (`verifier_token_secret`).
//!
//! Pure. Invariants: a forwarded member name is 1-64 characters of
//! `A-Za-z0-9_.-`, listed once, at most [`MAX_FORWARD_META`] of them; a
//! verifier secret name is an environment-variable name outside keygate's
//! own `KEYGATE_` names, so no product's verifier token can be the admin
//! token or any other keygate secret.

/// Most `forward_meta` members a product may list.
pub const MAX_FORWARD_META: usize = 32;

/// Validates `forward_meta`; absent is none.
pub(super) fn forward_meta(raw: Option<Vec<String>>) -> Result<Vec<String>, String> {
    let names = raw.unwrap_or_default();
    if names.len() > MAX_FORWARD_META {
        return Err(format!("lists at most {MAX_FORWARD_META} members"));
    }
    for (i, name) in names.iter().enumerate() {
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !valid {
            return Err(format!(
                "{name:?} is not a member name: use 1-64 characters of A-Z a-z 0-9 _ . -"
            ));
        }
        if names.iter().take(i).any(|n| n == name) {
            return Err(format!("{name:?} is listed twice"));
        }
    }
    Ok(names)
}

/// Validates `verifier_token_secret`: the name of a Worker secret.
pub(super) fn verifier_token_secret(raw: Option<String>) -> Result<Option<String>, String> {
    let Some(name) = raw else {
        return Ok(None);
    };
    let valid = (1..=128).contains(&name.len())
        && name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(format!(
            "{name:?} is not a secret name: use A-Z, 0-9 and _, starting with a letter \
             (e.g. \"SALESFORGE_VERIFIER_TOKEN\")"
        ));
    }
    if name.starts_with("KEYGATE_") {
        return Err(format!(
            "{name:?} is one of keygate's own names (KEYGATE_*); name a secret of this \
             product's own, such as \"SALESFORGE_VERIFIER_TOKEN\""
        ));
    }
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_meta_names_are_checked() {
        assert_eq!(forward_meta(None), Ok(vec![]));
        let ok = vec!["plan".to_owned(), "org.id".to_owned(), "a-b_c".to_owned()];
        assert_eq!(forward_meta(Some(ok.clone())), Ok(ok));
        for bad in ["", "a b", "plan\r\n", "ü", &"x".repeat(65)] {
            assert!(forward_meta(Some(vec![bad.to_owned()])).is_err(), "{bad:?}");
        }
        let twice = vec!["plan".to_owned(), "plan".to_owned()];
        assert!(forward_meta(Some(twice)).unwrap_err().contains("twice"));
        let many = (0..=MAX_FORWARD_META).map(|i| format!("m{i}")).collect();
        assert!(forward_meta(Some(many)).is_err());
    }

    #[test]
    fn verifier_secret_names_are_checked() {
        assert_eq!(verifier_token_secret(None), Ok(None));
        assert_eq!(
            verifier_token_secret(Some("SF_VERIFIER_TOKEN".into())),
            Ok(Some("SF_VERIFIER_TOKEN".into()))
        );
        for bad in [
            "",
            "sf_token",
            "1TOKEN",
            "SF-TOKEN",
            "KEYGATE_ADMIN_TOKEN",
            "KEYGATE_ORIGIN_SECRET",
        ] {
            assert!(verifier_token_secret(Some(bad.into())).is_err(), "{bad:?}");
        }
    }
}
