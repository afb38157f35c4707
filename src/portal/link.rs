//! Where a portal link points: the page's public origin, from
//! configuration.
//!
//! Invariant: a link's origin is `portal.public_url`, or `https://` and
//! the management API's host; never the `Host` of the admin request that
//! asked for it (anyone who can reach the management API with a forged
//! `Host` would otherwise get links on their own site, and with them the
//! one-time token). With neither configured, only a dev server builds a
//! link, and only from a loopback request (`localhost`, `127.0.0.0/8`,
//! `[::1]`); anything else is refused with `portal_url_missing`.

use crate::config::{is_loopback, Config};
use crate::Error;

/// The origin and prefix links are built on (`https://keys.example.com/
/// _keygate/keys`). `request_origin` (`scheme://host[:port]` of the admin
/// request) is used only when `dev` and it is a loopback origin, and only
/// when nothing is configured.
pub fn base(config: &Config, dev: bool, request_origin: &str) -> Result<String, Error> {
    let portal = config.portal.as_ref().ok_or(Error::NotFound)?;
    let management_host = config.management.as_ref().and_then(|m| m.host.as_deref());
    let origin = match portal.public_origin(management_host) {
        Some(origin) => origin,
        None => {
            let authority = request_origin
                .strip_prefix("http://")
                .or_else(|| request_origin.strip_prefix("https://"))
                .unwrap_or("");
            if !(dev && is_loopback(authority)) {
                return Err(Error::PortalUrlMissing);
            }
            request_origin.to_owned()
        }
    };
    Ok(format!("{origin}{}", portal.path_prefix))
}

/// What `keygate check` says when the page has no public URL, or `None`.
pub fn missing(config: &Config) -> Option<&'static str> {
    let portal = config.portal.as_ref()?;
    let management_host = config.management.as_ref().and_then(|m| m.host.as_deref());
    portal.public_origin(management_host).is_none().then_some(
        "the API Keys page has no public URL: set portal.public_url (or management.host). \
         Without one, the control Worker refuses to grant portal sessions \
         (500 portal_url_missing) outside dev mode, and in dev mode builds links only for \
         requests to a loopback host; it never builds them from the request's Host.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::demo_config;

    fn with(public_url: Option<&str>, management_host: Option<&str>) -> Config {
        let mut config = demo_config();
        if let Some(portal) = config.portal.as_mut() {
            portal.public_url = public_url.map(str::to_owned);
        }
        if let Some(api) = config.management.as_mut() {
            api.host = management_host.map(str::to_owned);
        }
        config
    }

    #[test]
    fn the_configured_origin_wins_over_any_host() {
        let config = with(Some("https://keys.example.com"), None);
        for (dev, origin) in [
            (false, "http://evil.example"),
            (true, "http://evil.example"),
            (true, "http://127.0.0.1:8787"),
        ] {
            assert_eq!(
                base(&config, dev, origin).unwrap(),
                "https://keys.example.com/_keygate/keys"
            );
        }
        let config = with(None, Some("api.example.com"));
        assert_eq!(
            base(&config, false, "http://evil.example").unwrap(),
            "https://api.example.com/_keygate/keys"
        );
    }

    #[test]
    fn without_configuration_only_a_dev_loopback_request_gets_a_link() {
        let config = with(None, None);
        assert!(missing(&config).is_some());
        assert_eq!(
            base(&config, true, "http://127.0.0.1:8787").unwrap(),
            "http://127.0.0.1:8787/_keygate/keys"
        );
        assert_eq!(
            base(&config, true, "http://localhost:3000").unwrap(),
            "http://localhost:3000/_keygate/keys"
        );
        assert_eq!(
            base(&config, true, "http://[::1]:80").unwrap(),
            "http://[::1]:80/_keygate/keys"
        );
        for (dev, origin) in [
            (false, "http://127.0.0.1:8787"),
            (false, "https://api.example.com"),
            (true, "http://evil.example"),
            (true, "http://localhost.evil.example"),
            (true, "http://127.0.0.1.evil.example"),
            (true, "http://127.0.0.256"),
            (true, "http://[::2]"),
            (true, ""),
        ] {
            assert!(
                matches!(base(&config, dev, origin), Err(Error::PortalUrlMissing)),
                "{dev} {origin}"
            );
        }
        assert!(missing(&with(Some("https://k.example"), None)).is_none());
        assert!(missing(&with(None, Some("api.example"))).is_none());
    }

    #[test]
    fn hosts_and_loopback() {
        use crate::config::host_of;
        assert_eq!(host_of("a.example:443"), "a.example");
        assert_eq!(host_of("[::1]:80"), "[::1]");
        assert_eq!(host_of("a.example"), "a.example");
        assert!(is_loopback("127.1.2.3:9"));
        assert!(is_loopback("LOCALHOST"));
        assert!(!is_loopback("128.0.0.1"));
        assert!(!is_loopback("127.0.0"));
    }
}
