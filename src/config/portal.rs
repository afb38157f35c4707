//! The `[portal]` table and each product's `portal` table, validated.
//!
//! Invariants: the portal's prefix is a canonical path that overlaps
//! neither a product's routes nor the management API; `public_url` is an
//! `https` origin (`http` only on a loopback host) on the management API's
//! host when it has one, so page links never come from a request's
//! `Host`; `frame_ancestors`
//! are exact origins (`https://host[:port]`); a logo is an `https` URL;
//! every permission described is one the product knows; the accent is a
//! `#rrggbb` colour; every grantable permission is one the product knows,
//! and the page's longest expiry is 1 to 365 days.

use serde::Deserialize;

use super::brand::{Brand, Colour, DEFAULT_ACCENT};

/// Where the API Keys page is served by default.
pub const DEFAULT_PORTAL_PREFIX: &str = "/_keygate/keys";

/// `[portal]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPortal {
    enabled: Option<bool>,
    path_prefix: Option<String>,
    frame_ancestors: Option<Vec<String>>,
    public_url: Option<String>,
    changes_per_session: Option<u32>,
    changes_per_account: Option<u32>,
    editable_allowed_ips: Option<bool>,
}

/// A product's `portal` table as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProductPortal {
    display_name: Option<String>,
    accent_color: Option<String>,
    logo_url: Option<String>,
    #[serde(default)]
    permissions: std::collections::BTreeMap<String, String>,
    grantable: Option<Vec<String>>,
    max_expiry_days: Option<i64>,
}

/// The API Keys page's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portal {
    /// Path prefix without trailing slash, e.g. `/_keygate/keys`.
    pub path_prefix: String,
    /// Origins that may embed the page; none by default.
    pub frame_ancestors: Vec<String>,
    /// The origin page links are built on (`https://keys.example.com`),
    /// if configured; see [`Portal::public_origin`].
    pub public_url: Option<String>,
    /// Most changes one page session may make in
    /// [`crate::portal::budget::SESSION_WINDOW_SECONDS`].
    pub changes_per_session: u32,
    /// Most changes all page sessions of one account may make together in
    /// [`crate::portal::budget::ACCOUNT_WINDOW_SECONDS`].
    pub changes_per_account: u32,
    /// Whether a page user may set a key's IP allowlist
    /// (`editable_allowed_ips`); off by default: the page shows the list,
    /// and a page body naming `allowed_ips` is `403 forbidden_field`.
    pub editable_allowed_ips: bool,
}

/// Default of `portal.changes_per_session`.
pub const DEFAULT_CHANGES_PER_SESSION: u32 = 20;
/// Default of `portal.changes_per_account`.
pub const DEFAULT_CHANGES_PER_ACCOUNT: u32 = 100;
/// Largest change budget accepted, per session or per account.
const MAX_CHANGES: u32 = 10_000;

impl Portal {
    /// The origin page links are built on: `public_url`, else `https://`
    /// and the management API's host; `None` when neither is configured
    /// (then only a dev server builds links, from a loopback request).
    pub fn public_origin(&self, management_host: Option<&str>) -> Option<String> {
        self.public_url
            .clone()
            .or_else(|| management_host.map(|host| format!("https://{host}")))
    }

    /// The path under the prefix (`/` for the prefix itself), if `path`
    /// is the portal's.
    pub fn path_within<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(self.path_prefix.as_str())?;
        if rest.is_empty() {
            Some("/")
        } else if rest.starts_with('/') {
            Some(rest)
        } else {
            None
        }
    }
}

/// A product's page settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductPortal {
    /// Name, colour and logo.
    pub brand: Brand,
    /// Human descriptions of the product's permissions, by name.
    pub permissions: Vec<(String, String)>,
    /// The permissions a page user may give a key (`grantable`; default:
    /// the product's `default_scopes`). A session may narrow them further.
    pub grantable: Vec<String>,
    /// The longest expiry, in days from creation, a page user may give a
    /// key (`max_expiry_days`); a page create without an expiry gets this
    /// one. `None`: any expiry the management API takes, or none.
    pub max_expiry_days: Option<i64>,
}

type Invalid = (&'static str, String);

/// The longest `max_expiry_days`: the management API's longest expiry.
pub const LONGEST_EXPIRY_DAYS: i64 = 365;

/// Longest display name or description, in characters.
const MAX_TEXT: usize = 200;

/// The `[portal]` table; `None` when turned off (or when there is no
/// management API, which the page is built on).
/// `management_host` is the management API's host, if it has one (the
/// page is served only there).
pub(super) fn portal(
    raw: Option<RawPortal>,
    management: bool,
    management_host: Option<&str>,
) -> Result<Option<Portal>, Invalid> {
    let raw = raw.unwrap_or(RawPortal {
        enabled: None,
        path_prefix: None,
        frame_ancestors: None,
        public_url: None,
        changes_per_session: None,
        changes_per_account: None,
        editable_allowed_ips: None,
    });
    if raw.enabled == Some(false) || (!management && raw.enabled.is_none()) {
        return Ok(None);
    }
    if !management {
        return Err((
            "enabled",
            "the API Keys page needs the management API; turn management on or the portal off"
                .to_owned(),
        ));
    }
    let prefix = raw
        .path_prefix
        .unwrap_or_else(|| DEFAULT_PORTAL_PREFIX.to_owned());
    let canonical = crate::path::canonicalize(&prefix).map_err(|e| {
        (
            "path_prefix",
            format!("is not a canonical path: {}", e.reason()),
        )
    })?;
    let canonical = canonical.as_str().trim_end_matches('/');
    if canonical.is_empty() || canonical != prefix.trim_end_matches('/') {
        return Err((
            "path_prefix",
            "must be a canonical path below /, such as /_keygate/keys".to_owned(),
        ));
    }
    let mut frame_ancestors = Vec::new();
    for origin in raw.frame_ancestors.unwrap_or_default() {
        if !is_origin(&origin) {
            return Err((
                "frame_ancestors",
                format!("{origin:?} is not an origin such as https://app.example"),
            ));
        }
        frame_ancestors.push(origin.to_ascii_lowercase());
    }
    let public_url = raw
        .public_url
        .map(|url| public_url(&url, management_host))
        .transpose()?;
    let budget = |field: &'static str, value: Option<u32>, default: u32| match value {
        None => Ok(default),
        Some(n) if (1..=MAX_CHANGES).contains(&n) => Ok(n),
        Some(_) => Err((field, format!("must be 1 to {MAX_CHANGES}"))),
    };
    Ok(Some(Portal {
        path_prefix: canonical.to_owned(),
        frame_ancestors,
        public_url,
        changes_per_session: budget(
            "changes_per_session",
            raw.changes_per_session,
            DEFAULT_CHANGES_PER_SESSION,
        )?,
        changes_per_account: budget(
            "changes_per_account",
            raw.changes_per_account,
            DEFAULT_CHANGES_PER_ACCOUNT,
        )?,
        editable_allowed_ips: raw.editable_allowed_ips.unwrap_or(false),
    }))
}

/// A product's `portal` table; `name`, `known` and `defaults` are the
/// product's name, known permissions and default scopes.
pub(super) fn product_portal(
    raw: Option<RawProductPortal>,
    name: &str,
    known: &[String],
    defaults: &[String],
) -> Result<ProductPortal, Invalid> {
    let raw = raw.unwrap_or_default();
    let display_name = raw.display_name.unwrap_or_else(|| name.to_owned());
    if display_name.trim().is_empty() || display_name.chars().count() > MAX_TEXT {
        return Err((
            "portal.display_name",
            format!("must be 1 to {MAX_TEXT} characters"),
        ));
    }
    let accent = match raw.accent_color {
        None => DEFAULT_ACCENT,
        Some(text) => Colour::parse(&text).ok_or((
            "portal.accent_color",
            format!("{text:?} is not a colour such as #1d4ed8"),
        ))?,
    };
    let logo_url = raw.logo_url.map(|url| logo(&url)).transpose()?;
    let mut permissions = Vec::new();
    for (permission, description) in raw.permissions {
        if !known.contains(&permission) {
            return Err((
                "portal.permissions",
                format!(
                    "{permission:?} is not one of this product's permissions ({})",
                    known.join(", ")
                ),
            ));
        }
        if description.trim().is_empty() || description.chars().count() > MAX_TEXT {
            return Err((
                "portal.permissions",
                format!("the description of {permission:?} must be 1 to {MAX_TEXT} characters"),
            ));
        }
        permissions.push((permission, description));
    }
    let grantable = grantable(raw.grantable, known, defaults)?;
    let max_expiry_days = match raw.max_expiry_days {
        None => None,
        Some(days) if (1..=LONGEST_EXPIRY_DAYS).contains(&days) => Some(days),
        Some(_) => {
            return Err((
                "portal.max_expiry_days",
                format!(
                    "must be 1 to {} days, or left out for no bound",
                    LONGEST_EXPIRY_DAYS
                ),
            ))
        }
    };
    Ok(ProductPortal {
        brand: Brand {
            display_name,
            accent,
            logo_url,
        },
        permissions,
        grantable,
        max_expiry_days,
    })
}

/// `portal.grantable`: permissions of the product, no repeats; default:
/// its default scopes.
fn grantable(
    raw: Option<Vec<String>>,
    known: &[String],
    defaults: &[String],
) -> Result<Vec<String>, Invalid> {
    let Some(list) = raw else {
        return Ok(defaults.to_vec());
    };
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for permission in list {
        if !known.contains(&permission) {
            return Err((
                "portal.grantable",
                format!(
                    "{permission:?} is not one of this product's permissions ({})",
                    known.join(", ")
                ),
            ));
        }
        if out.contains(&permission) {
            return Err((
                "portal.grantable",
                format!("{permission:?} is listed twice"),
            ));
        }
        out.push(permission);
    }
    Ok(out)
}

/// `portal.public_url`: an origin, `https` (or `http` on a loopback host),
/// on the management API's host when it has one.
fn public_url(raw: &str, management_host: Option<&str>) -> Result<String, Invalid> {
    let text = raw.trim().trim_end_matches('/');
    let lower = text.to_ascii_lowercase();
    if !is_origin(text) {
        return Err((
            "public_url",
            format!("{raw:?} is not an origin such as https://keys.example.com (no path)"),
        ));
    }
    let authority = lower.split_once("://").map_or("", |(_, a)| a);
    let host = host_of(authority);
    if lower.starts_with("http://") && !is_loopback(authority) {
        return Err((
            "public_url",
            format!("{raw:?} must be https (http only on a loopback host, for dev)"),
        ));
    }
    if let Some(api) = management_host {
        if api != host {
            return Err((
                "public_url",
                format!(
                    "{raw:?} is not on the management API's host {api}, the only host that \
                     serves the page"
                ),
            ));
        }
    }
    Ok(lower)
}

/// The host of an authority (`host[:port]`), lowercase, without the port.
pub fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .and_then(|end| authority.get(..=end))
            .unwrap_or(authority);
    }
    authority
        .split_once(':')
        .map_or(authority, |(host, _)| host)
}

/// Whether `authority` (`host[:port]`) names this machine: `localhost`,
/// an address in `127.0.0.0/8`, or `[::1]`.
pub fn is_loopback(authority: &str) -> bool {
    let host = host_of(authority).to_ascii_lowercase();
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets.first() == Some(&"127")
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.bytes().all(|b| b.is_ascii_digit()))
        && octets.iter().all(|o| o.parse::<u8>().is_ok())
}

fn logo(raw: &str) -> Result<String, Invalid> {
    let bad = || ("portal.logo_url", format!("{raw:?} is not an https URL"));
    let url = super::http_url::HttpUrl::parse(raw).map_err(|_| bad())?;
    if url.scheme() != "https" || url.has_userinfo() {
        return Err(bad());
    }
    Ok(url.to_string())
}

/// `https://host[:port]` or `http://host[:port]`, nothing after.
fn is_origin(text: &str) -> bool {
    super::http_url::HttpUrl::parse(text)
        .is_ok_and(|url| !url.has_userinfo() && url.origin().eq_ignore_ascii_case(text))
}

impl ProductPortal {
    /// The origin of the logo, for the page's CSP.
    pub fn logo_origin(&self) -> Option<String> {
        let url = super::http_url::HttpUrl::parse(self.brand.logo_url.as_deref()?).ok()?;
        Some(url.origin())
    }
}
