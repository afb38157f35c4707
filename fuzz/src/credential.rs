//! Target `credential`: reading the presented key from request headers.
//!
//! Input: one byte picks the routed product of the fixture; the rest is
//! header lines, `name:value` separated by `\n`.
//! Invariants: `read_key` returns a key only from the header it was
//! configured to read, exactly as an independent reading of that header
//! (scheme, whitespace, trimming) says; `present` returns only a well-formed key of
//! the routed product read from that product's header, and otherwise one
//! of `missing_key`, `wrong_product`, `malformed_key` (401) whose details
//! agree with the headers; a refusal equals one rebuilt from the
//! configuration and a fixed reason (so it carries nothing the client
//! sent), and never contains a key-shaped presented value.

use keygate::config::Credential;
use keygate::credential::{key_in_value, present, read_key};
use keygate::key::parse;
use keygate::Error;

/// The `credential` target.
pub fn credential(data: &[u8]) {
    let config = crate::fixture::config();
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Some(product) = config
        .products
        .get(usize::from(pick) % config.products.len())
    else {
        return;
    };
    let text = crate::text(rest);
    let headers: Vec<(&str, &str)> = text
        .split('\n')
        .filter_map(|line| line.split_once(':'))
        .collect();
    let headers = headers.as_slice();

    let mut presented = Vec::new();
    for other in &config.products {
        let read = read_key(&other.credential, headers);
        let value = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&other.credential.header))
            .map(|(_, value)| *value);
        let expected = value.and_then(|v| expected_key(&other.credential, v));
        assert_eq!(
            read.as_ref().map(|k| k.expose()),
            expected,
            "read_key for {}",
            other.credential.describe()
        );
        if let Some(value) = value {
            let again = key_in_value(&other.credential, value);
            assert_eq!(again.as_ref().map(|k| k.expose()), expected);
        }
        presented.extend(expected.map(str::to_owned));
    }

    let own = read_key(&product.credential, headers);
    match present(config, product, headers) {
        Ok(key) => {
            assert_eq!(key.prefix(), product.prefix, "a key of the routed product");
            assert_eq!(Some(key.key()), own.as_ref(), "read from its own header");
            assert!(parse(key.key()).is_ok());
        }
        Err(err) => {
            assert_eq!(err.status(), 401, "{err:?}");
            let (name, expected) = (&product.name, product.credential.describe());
            // The refusal is rebuilt here from the configuration and a
            // fixed reason: nothing the client sent can be in it.
            let rebuilt = match &err {
                Error::MissingKey { .. } => {
                    assert!(own.is_none());
                    // No other product's header holds a key either (else
                    // the refusal would be wrong_product).
                    let elsewhere = config.products.iter().any(|p| {
                        !p.credential.is_header(&product.credential.header)
                            && read_key(&p.credential, headers).is_some()
                    });
                    assert!(!elsewhere, "missing_key, yet another header holds a key");
                    Error::MissingKey {
                        product: name.clone(),
                        expected,
                    }
                }
                Error::MalformedKey { .. } => {
                    let Some(key) = own.as_ref() else {
                        panic!("malformed_key, yet no key was read");
                    };
                    let reason = match parse(key) {
                        Err(reason) => reason,
                        Ok(_) => "its prefix is not this product's",
                    };
                    Error::MalformedKey {
                        product: name.clone(),
                        reason,
                    }
                }
                Error::WrongProduct {
                    sent_in: Some(header),
                    key_product,
                    ..
                } => {
                    assert!(own.is_none());
                    // The first other product, in configuration order,
                    // whose own header (not the routed one's) holds a key.
                    let other = config.products.iter().find(|p| {
                        p.id != product.id
                            && !p.credential.is_header(&product.credential.header)
                            && read_key(&p.credential, headers).is_some()
                    });
                    let Some(other) = other.filter(|p| p.credential.is_header(header)) else {
                        panic!("wrong_product names header {header:?}, which holds no other product's key");
                    };
                    let owner = read_key(&other.credential, headers)
                        .and_then(|k| keygate::key::prefix_of(k.expose()).map(str::to_owned))
                        .and_then(|p| config.product_by_prefix(&p))
                        .filter(|o| o.id != product.id);
                    assert_eq!(key_product.as_ref(), owner.map(|o| &o.name));
                    Error::WrongProduct {
                        product: name.clone(),
                        expected,
                        key_product: owner.map(|o| o.name.clone()),
                        sent_in: Some(other.credential.header.clone()),
                    }
                }
                Error::WrongProduct { sent_in: None, .. } => {
                    let key = own.as_ref().map(|k| k.expose()).unwrap_or_default();
                    let owner =
                        keygate::key::prefix_of(key).and_then(|p| config.product_by_prefix(p));
                    let Some(owner) = owner.filter(|o| o.id != product.id) else {
                        panic!("wrong_product for a key of no other product");
                    };
                    Error::WrongProduct {
                        product: name.clone(),
                        expected,
                        key_product: Some(owner.name.clone()),
                        sent_in: None,
                    }
                }
                other => panic!("present refused with {other:?}"),
            };
            assert_eq!(
                err, rebuilt,
                "the refusal carries only the configuration's words"
            );
            // So a presented value that shows up in the refusal is one of
            // its own words (a client may send the refusal back as its
            // key: libFuzzer found `Bearer {"type":"urn:keygate:error:…`).
            // A key-shaped value never is.
            let problem = err.to_problem(Some(product.credential.challenge(&product.name, true)));
            let shown = format!("{} {}", problem.body, err);
            for key in presented.iter().filter(|k| k.len() >= 24) {
                assert!(
                    !(key_shaped(key) && shown.contains(key.as_str())),
                    "a refusal echoes a presented key"
                );
            }
        }
    }
}

/// Whether `value` looks like a key: a valid prefix, `_`, then only the
/// characters keys are made of.
fn key_shaped(value: &str) -> bool {
    keygate::key::prefix_of(value).is_some()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What the key in `value` must be, read independently of the code under
/// test: the trimmed value, or with a scheme, what follows `<scheme>` and
/// one ASCII whitespace character (the scheme compared ignoring case).
fn expected_key<'v>(credential: &Credential, value: &'v str) -> Option<&'v str> {
    let value = value.trim();
    let token = match &credential.scheme {
        None => value,
        Some(scheme) => {
            let given = value.get(..scheme.len())?;
            let after = value.get(scheme.len()..)?;
            let mut chars = after.chars();
            let gap = chars.next()?;
            if !given.eq_ignore_ascii_case(scheme) || !gap.is_ascii_whitespace() {
                return None;
            }
            chars.as_str()
        }
    };
    // ApiKey::new trims what is left.
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}
