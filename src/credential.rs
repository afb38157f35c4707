//! Reading the presented key from the product's configured place.
//!
//! Pure, and free of storage reads by construction: it returns either a
//! [`WellFormedKey`] of the routed product or the refusal (`missing_key`,
//! `wrong_product`, `malformed_key`). A key of another product, or a key in
//! another product's header, is refused here, before any lookup. A key
//! that starts with the product's `legacy` prefix is a foreign key: it
//! passes with no checksum or tag, so its hash lookup alone decides.

use crate::config::{Config, Credential, Product};
pub use crate::http::HeaderLookup;
use crate::key::{foreign, parse, prefix_of, WellFormedKey};
use crate::secret::ApiKey;
use crate::Error;

/// Reads the key where `credential` says, or `None` if it is absent, empty
/// or under another scheme.
pub fn read_key(credential: &Credential, headers: &(impl HeaderLookup + ?Sized)) -> Option<ApiKey> {
    key_in_value(credential, &headers.header(&credential.header)?)
}

/// The key in a value of `credential`'s header, or `None` if it is empty or
/// under another scheme.
pub fn key_in_value(credential: &Credential, value: &str) -> Option<ApiKey> {
    let value = value.trim();
    let token = match &credential.scheme {
        None => value,
        Some(scheme) => {
            let (given, token) = value.split_once(|c: char| c.is_ascii_whitespace())?;
            if !given.eq_ignore_ascii_case(scheme) {
                return None;
            }
            token
        }
    };
    let key = ApiKey::new(token);
    (!key.is_empty()).then_some(key)
}

/// Finds the routed product's key and checks that it is a well-formed key
/// of that product.
pub fn present(
    config: &Config,
    product: &Product,
    headers: &(impl HeaderLookup + ?Sized),
) -> Result<WellFormedKey, Error> {
    let wrong = |key_product: Option<&Product>, sent_in: Option<&str>| Error::WrongProduct {
        product: product.name.clone(),
        expected: product.credential.describe(),
        key_product: key_product.map(|p| p.name.clone()),
        sent_in: sent_in.map(str::to_owned),
    };
    let owner_of = |key: &ApiKey| prefix_of(key.expose()).and_then(|p| config.product_by_prefix(p));

    let Some(key) = read_key(&product.credential, headers) else {
        let elsewhere = config.products.iter().find_map(|other| {
            if other.id == product.id || other.credential.is_header(&product.credential.header) {
                return None;
            }
            read_key(&other.credential, headers).map(|key| (other, key))
        });
        return Err(match elsewhere {
            Some((other, key)) => {
                let owner = owner_of(&key).filter(|o| o.id != product.id);
                wrong(owner, Some(&other.credential.header))
            }
            None => Error::MissingKey {
                product: product.name.clone(),
                expected: product.credential.describe(),
            },
        });
    };

    if let Some(owner) = owner_of(&key).filter(|o| o.id != product.id) {
        return Err(wrong(Some(owner), None));
    }
    let malformed = |reason| Error::MalformedKey {
        product: product.name.clone(),
        reason,
    };
    // A key in the product's foreign format has no checksum or tag: it
    // goes to the hash lookup (one KV read, then the not-found cache).
    if let Some(legacy) = product.legacy.as_ref() {
        if key.expose().starts_with(&legacy.prefix) {
            return foreign(&key, legacy.prefix.len()).map_err(malformed);
        }
    }
    let parsed = parse(&key).map_err(malformed)?;
    if parsed.prefix() != product.prefix {
        return Err(malformed("its prefix is not this product's"));
    }
    Ok(parsed)
}

#[cfg(test)]
#[path = "credential_tests.rs"]
mod tests;
