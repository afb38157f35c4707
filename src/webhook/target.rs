//! Where a webhook may be delivered: the target URL checked when it is
//! registered and again before every attempt (SSRF guard).
//!
//! Pure: no DNS. Invariants: a [`Target`] exists only for an absolute
//! `https` URL (or, in dev mode only, an `http`/`https` URL whose host is
//! this machine) with no user info, at most [`MAX_URL_BYTES`], whose host
//! is not loopback, private, link-local, unspecified, CGNAT, multicast,
//! broadcast or reserved in any spelling (host literals are normalised by
//! the WHATWG parser first, see [`crate::destination`]); and
//! [`Target::admits_resolved`] applies the same rules to every address a
//! name resolved to, so a public name pointing inwards is refused too.
//! Redirects are never followed (see [`super::delivery`]), so the checked
//! URL is the only one ever contacted.

use std::net::IpAddr;

use url::Url;

use crate::destination::{self, NotPublic};

/// Longest target URL, in bytes (as for a key's `webhook_url`).
pub const MAX_URL_BYTES: usize = 2_048;

/// Why a URL may not be a webhook target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Longer than [`MAX_URL_BYTES`].
    TooLong,
    /// Not an absolute URL.
    NotAUrl,
    /// Not `https` (or `http` to this machine in dev mode).
    Scheme,
    /// It carries a user name or password.
    Credentials,
    /// Its host (or an address it resolved to) is not public.
    NotPublic(NotPublic),
}

impl Refused {
    /// The reason, for a message or an attempt log.
    pub fn describe(self) -> &'static str {
        match self {
            Refused::TooLong => "the URL is longer than 2048 bytes",
            Refused::NotAUrl => "it is not an absolute URL",
            Refused::Scheme => "it must be an https URL (or http://localhost in dev)",
            Refused::Credentials => "it must not carry a user name or password",
            Refused::NotPublic(why) => why.describe(),
        }
    }
}

/// A checked webhook target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    url: Url,
    local: bool,
}

impl Target {
    /// Checks `raw`; `dev` is the local dev server's switch, which admits
    /// this machine (and only it) over `http` as well.
    pub fn parse(raw: &str, dev: bool) -> Result<Target, Refused> {
        if raw.len() > MAX_URL_BYTES {
            return Err(Refused::TooLong);
        }
        let url = Url::parse(raw).map_err(|_| Refused::NotAUrl)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused::Credentials);
        }
        let verdict = destination::check(&url);
        let local = dev && verdict.is_err_and(NotPublic::is_loopback);
        match url.scheme() {
            "http" | "https" if local => {}
            "https" => verdict.map_err(Refused::NotPublic)?,
            _ => return Err(Refused::Scheme),
        }
        Ok(Target { url, local })
    }

    /// The URL to send to, normalised.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Whether it is this machine, admitted only in dev mode.
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// Whether the host is a name (so the runtime will resolve it), not
    /// an address literal.
    pub fn is_name(&self) -> bool {
        matches!(self.url.host(), Some(url::Host::Domain(_)))
    }

    /// Whether the addresses the host resolved to may all be contacted:
    /// every one must be public (one inward address refuses the lot, as
    /// the runtime may pick any), except that a dev-mode local target may
    /// resolve to loopback only. No address at all is refused.
    pub fn admits_resolved(&self, addresses: &[IpAddr]) -> Result<(), Refused> {
        if addresses.is_empty() {
            return Err(Refused::NotPublic(NotPublic::NoHost));
        }
        for ip in addresses {
            match destination::check_ip(*ip) {
                Ok(()) => {}
                Err(why) if self.local && why.is_loopback() => {}
                Err(why) => return Err(Refused::NotPublic(why)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
