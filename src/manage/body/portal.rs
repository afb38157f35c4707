//! The body of `POST /accounts/{account}/portal-sessions`.
//!
//! Pure. Invariant: the grant's `return_url` is an absolute `https` URL
//! without credentials (`http` too in dev), its products are configured
//! ones, its permission ceiling (`scopes`) names only permissions that
//! one of its products' `portal.grantable` lists, and its lifetime is 60
//! seconds to one hour; every fault is reported at once.

use serde::Deserialize;

use super::{all_of, decode, invalid, owner_id};
use crate::config::Config;
use crate::portal::grant::{Grant, DEFAULT_SESSION_SECONDS, MAX_SESSION_SECONDS};
use crate::portal::scope::Scope;
use crate::Error;

/// Longest `return_url`, in bytes.
pub const MAX_RETURN_URL_BYTES: usize = 2_048;
/// Shortest session, in seconds.
pub const MIN_SESSION_SECONDS: u32 = 60;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    return_url: String,
    products: Option<Vec<String>>,
    owner_id: Option<String>,
    scopes: Option<Vec<String>>,
    expires_in_seconds: Option<i64>,
}
const GRANT_FIELDS: &str = "return_url, products, owner_id, scopes, expires_in_seconds";

/// Reads a portal-session grant.
pub fn portal_session(config: &Config, body: &[u8], dev: bool) -> Result<Grant, Error> {
    let raw: GrantBody = decode(body, GRANT_FIELDS, &[])?;
    let return_url = return_url(&raw.return_url, dev);
    let products = raw.products.map(|p| products(config, p)).transpose();
    let owner = raw
        .owner_id
        .map(|o| owner_id(&o, "owner_id").map(|()| o))
        .transpose();
    let ceiling = match (&products, raw.scopes) {
        (Ok(products), Some(list)) => ceiling(config, products.as_deref(), list).map(Some),
        // Checked once the products are known to be right.
        (Err(_), Some(_)) | (_, None) => Ok(None),
    };
    let lifetime = match raw.expires_in_seconds {
        None => Ok(DEFAULT_SESSION_SECONDS),
        Some(s)
            if (i64::from(MIN_SESSION_SECONDS)..=i64::from(MAX_SESSION_SECONDS)).contains(&s) =>
        {
            u32::try_from(s).map_err(|_| lifetime_fault())
        }
        Some(_) => Err(lifetime_fault()),
    };
    match (return_url, products, owner, ceiling, lifetime) {
        (Ok(return_url), Ok(products), Ok(owner_id), Ok(scopes), Ok(expires_in_seconds)) => {
            Ok(Grant {
                return_url,
                scope: Scope {
                    products,
                    owner_id,
                    scopes,
                },
                expires_in_seconds,
            })
        }
        (a, b, c, d, e) => Err(all_of(vec![a.err(), b.err(), c.err(), d.err(), e.err()])),
    }
}

/// A session's `scopes`: at least one, each grantable (`portal.grantable`)
/// by at least one of the session's products (`None`: every product);
/// repeats are dropped.
fn ceiling(
    config: &Config,
    products: Option<&[String]>,
    list: Vec<String>,
) -> Result<Vec<String>, Error> {
    if list.is_empty() {
        return Err(invalid(
            "scopes",
            "must name at least one permission, or be left out for every grantable one",
        ));
    }
    let session: Vec<&crate::config::Product> = config
        .products
        .iter()
        .filter(|p| products.is_none_or(|only| only.contains(&p.id)))
        .collect();
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    let mut faults = Vec::new();
    for (i, scope) in list.into_iter().enumerate() {
        if !session.iter().any(|p| p.portal.grantable.contains(&scope)) {
            let grantable: Vec<String> = session
                .iter()
                .map(|p| format!("{}: {}", p.id, p.portal.grantable.join(", ")))
                .collect();
            faults.push(Some(invalid(
                &format!("scopes[{i}]"),
                format!(
                    "is not grantable on the page for the session's products (each product's \
                     portal.grantable: {})",
                    grantable.join("; ")
                ),
            )));
        } else if !out.contains(&scope) {
            out.push(scope);
        }
    }
    if faults.is_empty() {
        Ok(out)
    } else {
        Err(all_of(faults))
    }
}

fn lifetime_fault() -> Error {
    invalid(
        "expires_in_seconds",
        format!("must be an integer from {MIN_SESSION_SECONDS} to {MAX_SESSION_SECONDS}"),
    )
}

fn products(config: &Config, list: Vec<String>) -> Result<Vec<String>, Error> {
    if list.is_empty() {
        return Err(invalid(
            "products",
            "must name at least one product, or be left out for all",
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, id) in list.into_iter().enumerate() {
        if config.product(&id).is_none() {
            let known: Vec<&str> = config.products.iter().map(|p| p.id.as_str()).collect();
            return Err(invalid(
                &format!("products[{i}]"),
                format!("is not a product here; products are {}", known.join(", ")),
            ));
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn return_url(raw: &str, dev: bool) -> Result<String, Error> {
    let reason = if dev {
        "must be an absolute https URL (or http in dev) without user or password"
    } else {
        "must be an absolute https URL without user or password"
    };
    if raw.len() > MAX_RETURN_URL_BYTES {
        return Err(invalid(
            "return_url",
            format!("must be at most {MAX_RETURN_URL_BYTES} bytes"),
        ));
    }
    let url = url::Url::parse(raw).map_err(|_| invalid("return_url", reason))?;
    let scheme_ok = url.scheme() == "https" || (dev && url.scheme() == "http");
    if !scheme_ok || !url.username().is_empty() || url.password().is_some() || !url.has_host() {
        return Err(invalid("return_url", reason));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::config::tests::demo_config()
    }

    #[test]
    fn a_full_grant_is_read() {
        let body = br#"{"return_url":"https://app.example/settings","products":["mailforge","mailforge"],"owner_id":"user-7","expires_in_seconds":600.0}"#;
        let grant = portal_session(&config(), body, false).unwrap();
        assert_eq!(grant.return_url, "https://app.example/settings");
        assert_eq!(grant.scope.products, Some(vec!["mailforge".to_owned()]));
        assert_eq!(grant.scope.owner_id.as_deref(), Some("user-7"));
        assert_eq!(grant.expires_in_seconds, 600);
        let minimal =
            portal_session(&config(), br#"{"return_url":"https://x.example"}"#, false).unwrap();
        assert_eq!(minimal.expires_in_seconds, DEFAULT_SESSION_SECONDS);
        assert_eq!(minimal.scope, Scope::default());
    }

    #[test]
    fn a_session_ceiling_is_within_grantable() {
        let config = config();
        let forgeai = config.product("forgeai").unwrap();
        let first = forgeai.portal.grantable[0].clone();
        let body = format!(
            r#"{{"return_url":"https://a.example","products":["forgeai"],"scopes":["{first}","{first}"]}}"#
        );
        let grant = portal_session(&config, body.as_bytes(), false).unwrap();
        assert_eq!(grant.scope.scopes, Some(vec![first.clone()]));
        // Not grantable by the session's product: refused, naming it.
        let not = forgeai
            .known_permissions
            .iter()
            .find(|p| !forgeai.portal.grantable.contains(p))
            .cloned()
            .unwrap_or_else(|| "nope".into());
        for bad in [
            format!(
                r#"{{"return_url":"https://a.example","products":["forgeai"],"scopes":["{not}"]}}"#
            ),
            r#"{"return_url":"https://a.example","scopes":["fly"]}"#.to_owned(),
            r#"{"return_url":"https://a.example","scopes":[]}"#.to_owned(),
        ] {
            match portal_session(&config, bad.as_bytes(), false) {
                Err(Error::InvalidField { field, .. }) => {
                    assert!(field.starts_with("scopes"), "{bad}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_fault_is_listed() {
        let body = br#"{"return_url":"javascript:alert(1)","products":["nope"],"owner_id":"","expires_in_seconds":3601}"#;
        match portal_session(&config(), body, false) {
            Err(Error::InvalidFields { errors }) => {
                let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
                assert_eq!(
                    fields,
                    [
                        "return_url",
                        "products[0]",
                        "owner_id",
                        "expires_in_seconds"
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn return_urls_are_https_without_credentials() {
        for bad in [
            "http://app.example/",
            "https://user:pw@app.example/",
            "//app.example/",
            "/relative",
            "data:text/html,hi",
        ] {
            let body = format!(r#"{{"return_url":"{bad}"}}"#);
            assert!(
                portal_session(&config(), body.as_bytes(), false).is_err(),
                "{bad}"
            );
        }
        let dev = portal_session(
            &config(),
            br#"{"return_url":"http://localhost:3000/x"}"#,
            true,
        );
        assert!(dev.is_ok());
        let long = format!(
            r#"{{"return_url":"https://a.example/{}"}}"#,
            "a".repeat(2_100)
        );
        assert!(portal_session(&config(), long.as_bytes(), false).is_err());
    }

    #[test]
    fn strict_json_rules_apply() {
        assert!(matches!(
            portal_session(
                &config(),
                br#"{"return_url":"https://a.example","return_url":"https://b.example"}"#,
                false
            ),
            Err(Error::InvalidJson { .. })
        ));
        assert!(matches!(
            portal_session(
                &config(),
                br#"{"return_url":"https://a.example","extra":1}"#,
                false
            ),
            Err(Error::UnknownField { .. })
        ));
        assert!(portal_session(
            &config(),
            br#"{"return_url":"https://a.example","products":[]}"#,
            false
        )
        .is_err());
    }
}
