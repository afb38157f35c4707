//! The HTML the portal serves, and the session description its script
//! reads.
//!
//! Invariants: the page holds no inline script (its one script is
//! external and carries the response's nonce); every text taken from
//! configuration or a session is HTML-escaped; the CSRF token and the
//! prefix travel in `<meta>` tags, never in a URL.

use serde_json::{json, Value};

use super::scope::Scope;
use crate::config::brand::Colour;
use crate::config::Config;

/// Escapes text for HTML element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The accent of the page: the one product's, or the first product's of
/// the scope, or the default.
fn accent(config: &Config, scope: &Scope) -> Colour {
    config
        .products
        .iter()
        .find(|p| scope.allows_product(&p.id))
        .map_or(crate::config::brand::DEFAULT_ACCENT, |p| {
            p.portal.brand.accent
        })
}

/// The page shell: the app mounts into `#app`. `assets` is the prefix's
/// asset path (`/_keygate/keys/assets`), `version` a cache-busting tag.
pub fn shell(
    config: &Config,
    scope: &Scope,
    prefix: &str,
    nonce: &str,
    csrf: &str,
    version: &str,
) -> String {
    let accent = accent(config, scope);
    let title = title(config, scope);
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="keygate-portal" content="{prefix}">
<meta name="keygate-csrf" content="{csrf}">
<title>API keys · {title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{prefix}/assets/app.css?v={version}" nonce="{nonce}">
<style nonce="{nonce}">:root{{--accent:{accent};--on-accent:{on}}}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<div id="app"></div>
<noscript><p class="dead">This page needs JavaScript.</p></noscript>
<script type="module" src="{prefix}/assets/app.js?v={version}" nonce="{nonce}"></script>
</body>
</html>
"##,
        prefix = escape(prefix),
        csrf = escape(csrf),
        title = escape(&title),
        nonce = escape(nonce),
        version = escape(version),
        accent = accent.css(),
        on = accent.text_on().css(),
    )
}

/// A page that says a link or session is dead, with a way back.
pub fn dead(message: &str, return_url: Option<&str>, nonce: &str, prefix: &str) -> String {
    let back = return_url.map_or(String::new(), |url| {
        format!(r#"<p><a href="{}">Go back</a></p>"#, escape(url))
    });
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API keys</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{prefix}/assets/app.css" nonce="{nonce}">
</head>
<body>
<main class="dead" id="main">
<h1>API keys</h1>
<p role="alert">{message}</p>
<p>Open the API Keys page again from your account to get a fresh link.</p>
{back}
</main>
</body>
</html>
"#,
        prefix = escape(prefix),
        nonce = escape(nonce),
        message = escape(message),
    )
}

fn title(config: &Config, scope: &Scope) -> String {
    let names: Vec<&str> = config
        .products
        .iter()
        .filter(|p| scope.allows_product(&p.id))
        .map(|p| p.portal.brand.display_name.as_str())
        .collect();
    match names.as_slice() {
        [one] => (*one).to_owned(),
        _ => "API keys".to_owned(),
    }
}

/// A product's active keys, as a session may learn them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Active {
    /// The active keys the session sees: its holder's, or the account's
    /// when the session has no holder.
    pub shown: u32,
    /// Whether the account holds the product's `key_limit` of active
    /// keys (the limit is the account's, shared by all its holders), so
    /// a create would be refused.
    pub at_limit: bool,
}

/// What `GET {prefix}/api/session` answers: the products the session
/// manages, with their branding, the permissions the session may grant
/// (its ceiling: nothing else is offered), the longest expiry it may give,
/// and whether a key can be created now (`active` counts each product's
/// active keys).
pub fn describe(
    config: &Config,
    scope: &Scope,
    return_url: &str,
    expires_at: &str,
    active: &dyn Fn(&str) -> Active,
) -> Value {
    let products: Vec<Value> = config
        .products
        .iter()
        .filter(|p| scope.allows_product(&p.id))
        .map(|p| {
            let described = |name: &str| {
                p.portal
                    .permissions
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, d)| d.clone())
            };
            let count = active(&p.id);
            let can_create = !count.at_limit;
            let ceiling = scope.ceiling(p);
            let blocked = if scope.owner_id.is_some() {
                format!(
                    "{} allows {} active keys per account, shared by everyone in it, and this \
                     account has them all; revoke one to create another.",
                    p.portal.brand.display_name, p.key_limit
                )
            } else {
                format!(
                    "{} allows {} active keys; revoke one to create another.",
                    p.portal.brand.display_name, p.key_limit
                )
            };
            json!({
                "id": p.id,
                "display_name": p.portal.brand.display_name,
                "logo_url": p.portal.brand.logo_url,
                "permissions": ceiling.iter().map(|name| json!({
                    "name": name,
                    "description": described(name),
                })).collect::<Vec<_>>(),
                "default_scopes": p.default_scopes.iter()
                    .filter(|s| ceiling.contains(s)).collect::<Vec<_>>(),
                "max_expiry_days": p.portal.max_expiry_days,
                "allowed_ips": p.allowed_ips,
                "key_limit": p.key_limit,
                "key_limit_applies_to": "account",
                "active_keys": count.shown,
                "active_keys_of": if scope.owner_id.is_some() { "holder" } else { "account" },
                "can_create": can_create,
                "create_blocked": (!can_create).then_some(blocked),
            })
        })
        .collect();
    json!({
        "title": title(config, scope),
        "products": products,
        "owner_id": scope.owner_id,
        "editable_allowed_ips": crate::manage::editable_allowed_ips(config),
        "return_url": return_url,
        "expires_at": expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::demo_config;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_shell_has_no_inline_script_and_escapes_its_inputs() {
        let page = shell(
            &demo_config(),
            &Scope::default(),
            "/_keygate/keys",
            "n0nce",
            "c\"srf",
            "1",
        );
        assert!(page.contains(r#"<script type="module" src="/_keygate/keys/assets/app.js?v=1" nonce="n0nce"></script>"#));
        assert_eq!(page.matches("<script").count(), 1);
        assert!(page.contains(r#"content="c&quot;srf""#));
        assert!(page.contains("--accent:#1d4ed8;--on-accent:#ffffff"));
    }

    #[test]
    fn the_dead_page_escapes_the_return_url() {
        let page = dead("Used.", Some("https://a.example/?q=\"><script>"), "n", "/p");
        assert!(!page.contains("<script>"));
        assert!(page.contains("Used."));
    }

    #[test]
    fn the_description_lists_scoped_products_and_the_limit() {
        let scope = Scope {
            products: Some(vec!["forgeai".into()]),
            ..Scope::default()
        };
        let value = describe(
            &demo_config(),
            &scope,
            "https://a.example",
            "2026-01-01T00:00:00Z",
            &|_| Active {
                shown: 3,
                at_limit: true,
            },
        );
        let products = value["products"].as_array().unwrap();
        assert_eq!(products.len(), 1);
        assert_eq!(products[0]["can_create"], false);
        assert!(products[0]["create_blocked"]
            .as_str()
            .unwrap()
            .contains("3 active keys"));
        assert_eq!(value["title"], "ForgeAI");
        let open = describe(&demo_config(), &scope, "https://a.example", "x", &|_| {
            Active {
                shown: 0,
                at_limit: false,
            }
        });
        assert_eq!(open["products"][0]["can_create"], true);
        assert_eq!(open["products"][0]["active_keys_of"], "account");
    }

    #[test]
    fn a_holders_session_counts_the_holders_keys_and_names_the_accounts_limit() {
        let scope = Scope {
            products: Some(vec!["forgeai".into()]),
            owner_id: Some("u1".into()),
            scopes: None,
        };
        // u1 has one key; the account holds all 3 the limit allows.
        let value = describe(&demo_config(), &scope, "https://a.example", "x", &|_| {
            Active {
                shown: 1,
                at_limit: true,
            }
        });
        let forgeai = &value["products"][0];
        assert_eq!(forgeai["active_keys"], 1);
        assert_eq!(forgeai["active_keys_of"], "holder");
        assert_eq!(forgeai["key_limit"], 3);
        assert_eq!(forgeai["key_limit_applies_to"], "account");
        assert_eq!(forgeai["can_create"], false);
        assert!(forgeai["create_blocked"]
            .as_str()
            .unwrap()
            .contains("3 active keys per account"));
    }

    #[test]
    fn the_description_offers_only_what_the_session_may_grant() {
        let names = |scope: &Scope| {
            let value = describe(&demo_config(), scope, "https://a.example", "x", &|_| {
                Active {
                    shown: 0,
                    at_limit: false,
                }
            });
            let forgeai = value["products"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == "forgeai")
                .unwrap()
                .clone();
            let names: Vec<String> = forgeai["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect();
            (names, forgeai)
        };
        // forgeai knows five permissions; it grants its default scopes.
        let (all, forgeai) = names(&Scope::default());
        assert_eq!(all, ["read", "execute_flows"]);
        assert_eq!(forgeai["max_expiry_days"], serde_json::Value::Null);
        let read_only = Scope {
            scopes: Some(vec!["read".into()]),
            ..Scope::default()
        };
        let (narrow, forgeai) = names(&read_only);
        assert_eq!(narrow, ["read"]);
        assert_eq!(forgeai["default_scopes"], serde_json::json!(["read"]));
    }
}
