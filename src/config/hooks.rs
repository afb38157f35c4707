//! The webhook and leak-response settings, validated: per product
//! `on_leak` and `expiry_reminders_seconds`; deployment-wide `[webhooks]`
//! (the retry schedule, shortened only by test configs, and the DNS
//! resolver that target names are checked with) and `[leaks]`
//! (GitHub's public-key document URL, the name of the Worker secret
//! holding GitLab's bearer token).
//!
//! Invariant: every field is optional and defaults to the documented
//! behaviour, so configs written before webhooks existed mean the same.
//! A reminder list is 0 to [`MAX_REMINDERS`] distinct offsets of 1 s to
//! 365 days; a schedule passes [`check_retry_schedule`], the one rule
//! for schedules; the resolver and public-key URLs are https (http only
//! for a loopback host, for tests).
//!
//! The gateway validates this config too, but `leak` and (but for its
//! target rule) `webhook` are not compiled into it (`src/lib.rs`,
//! `src/webhook/mod.rs`), so this module depends on neither: the
//! constants they share live here
//! (`tests/wasm/gateway-symbols.test.mjs` checks the gateway's wasm).

use super::http_url::{HttpUrl, UrlError};
use serde::Deserialize;

/// The Standard Webhooks schedule: the wait before each attempt, in
/// seconds (immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
/// 20 h and 24 h).
pub const STANDARD_DELAYS_SECONDS: [i64; 10] = [
    0, 5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400,
];
/// Most attempts a delivery schedule may have.
pub const MAX_ATTEMPTS: usize = 20;
/// Longest wait a delivery schedule may have, in milliseconds (7 days).
pub const MAX_DELAY_MS: i64 = 7 * 86_400 * 1_000;
/// Default expiry reminder offsets: 7 days and 1 day, in seconds.
pub const DEFAULT_OFFSETS_SECONDS: [i64; 2] = [7 * 86_400, 86_400];
/// GitHub's public-key document for secret scanning.
pub const DEFAULT_KEYS_URL: &str = "https://api.github.com/meta/public_keys/secret_scanning";
/// The DNS-over-HTTPS resolver (JSON API) that webhook target names are
/// resolved with before each attempt.
pub const DEFAULT_DNS_RESOLVER: &str = "https://cloudflare-dns.com/dns-query";

/// What keygate does with a live key that a secret scanner reported
/// (`on_leak`); [`crate::leak::OnLeak`] is its name there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnExposure {
    /// Revoke the key at once (`"revoke"`, the default).
    #[default]
    Revoke,
    /// Only record it (`"flag"`); the key keeps working.
    Flag,
}

/// Whether `delays_ms` can be a delivery schedule: 1 to
/// [`MAX_ATTEMPTS`] waits, each 0 to [`MAX_DELAY_MS`] milliseconds.
pub fn check_retry_schedule(delays_ms: &[i64]) -> Result<(), String> {
    if delays_ms.is_empty() || delays_ms.len() > MAX_ATTEMPTS {
        return Err(format!("must list 1 to {MAX_ATTEMPTS} waits"));
    }
    if delays_ms.iter().any(|d| !(0..=MAX_DELAY_MS).contains(d)) {
        return Err(format!(
            "each wait must be 0 to {MAX_DELAY_MS} milliseconds"
        ));
    }
    Ok(())
}

/// Most expiry reminders per product.
pub const MAX_REMINDERS: usize = 5;
/// Longest reminder offset, in seconds (365 days).
pub const MAX_REMINDER_SECONDS: i64 = 365 * 86_400;
/// Default name of the Worker secret holding GitLab's bearer token.
pub const DEFAULT_GITLAB_TOKEN_SECRET: &str = "KEYGATE_GITLAB_REVOCATION_TOKEN";

/// A product's webhook and leak settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductHooks {
    /// What a reported leak of a live key does (default: revoke).
    pub on_leak: OnExposure,
    /// Seconds before a key's expiry that `key.expiring` is sent,
    /// largest first (default 7 days and 1 day).
    pub expiry_reminders_seconds: Vec<i64>,
}

impl Default for ProductHooks {
    fn default() -> Self {
        ProductHooks {
            on_leak: OnExposure::default(),
            expiry_reminders_seconds: DEFAULT_OFFSETS_SECONDS.to_vec(),
        }
    }
}

/// Deployment-wide webhook and leak settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hooks {
    /// The wait before each delivery attempt, in milliseconds (default:
    /// Standard Webhooks'); `webhook::delivery::Schedule::from_config`
    /// reads it.
    pub retry_schedule_ms: Vec<i64>,
    /// The DNS-over-HTTPS resolver (`application/dns-json`) that a
    /// target's name is resolved with before each attempt, so a public
    /// name pointing inwards is refused.
    pub dns_resolver: String,
    /// Where GitHub's secret-scanning public keys are fetched from.
    pub github_keys_url: String,
    /// The Worker secret holding the bearer token GitLab presents.
    pub gitlab_token_secret: String,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            retry_schedule_ms: STANDARD_DELAYS_SECONDS.iter().map(|s| s * 1_000).collect(),
            dns_resolver: DEFAULT_DNS_RESOLVER.to_owned(),
            github_keys_url: DEFAULT_KEYS_URL.to_owned(),
            gitlab_token_secret: DEFAULT_GITLAB_TOKEN_SECRET.to_owned(),
        }
    }
}

/// `[webhooks]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhooks {
    retry_schedule_ms: Option<Vec<i64>>,
    dns_resolver: Option<String>,
}

/// `[leaks]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLeaks {
    github_keys_url: Option<String>,
    gitlab_token_secret: Option<String>,
}

/// Validates a product's `on_leak` and `expiry_reminders_seconds`;
/// errors name the field.
pub(super) fn product(
    on_leak: Option<String>,
    reminders: Option<Vec<i64>>,
) -> Result<ProductHooks, (&'static str, String)> {
    let on_leak = match on_leak.as_deref() {
        None | Some("revoke") => OnExposure::Revoke,
        Some("flag") => OnExposure::Flag,
        Some(text) => {
            return Err((
                "on_leak",
                format!("must be \"revoke\" or \"flag\", not {text:?}"),
            ))
        }
    };
    let expiry_reminders_seconds = match reminders {
        None => DEFAULT_OFFSETS_SECONDS.to_vec(),
        Some(mut list) => {
            let field = "expiry_reminders_seconds";
            if list.len() > MAX_REMINDERS {
                return Err((field, format!("at most {MAX_REMINDERS} reminders")));
            }
            if list.iter().any(|s| !(1..=MAX_REMINDER_SECONDS).contains(s)) {
                return Err((
                    field,
                    format!("each must be 1 to {MAX_REMINDER_SECONDS} seconds before expiry"),
                ));
            }
            list.sort_unstable_by(|a, b| b.cmp(a));
            if list.windows(2).any(|w| w.first() == w.get(1)) {
                return Err((field, "lists the same offset twice".to_owned()));
            }
            list
        }
    };
    Ok(ProductHooks {
        on_leak,
        expiry_reminders_seconds,
    })
}

/// Validates `[webhooks]` and `[leaks]`; errors name the field.
pub(super) fn deployment(
    webhooks: Option<RawWebhooks>,
    leaks: Option<RawLeaks>,
) -> Result<Hooks, (&'static str, String)> {
    let mut hooks = Hooks::default();
    if let Some(webhooks) = webhooks {
        if let Some(schedule) = webhooks.retry_schedule_ms {
            check_retry_schedule(&schedule).map_err(|m| ("webhooks.retry_schedule_ms", m))?;
            hooks.retry_schedule_ms = schedule;
        }
        if let Some(raw) = webhooks.dns_resolver {
            hooks.dns_resolver = service_url("webhooks.dns_resolver", &raw)?;
        }
    }
    if let Some(leaks) = leaks {
        if let Some(raw) = leaks.github_keys_url {
            hooks.github_keys_url = service_url("leaks.github_keys_url", &raw)?;
        }
        if let Some(name) = leaks.gitlab_token_secret {
            let ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                return Err((
                    "leaks.gitlab_token_secret",
                    "must name a Worker secret: 1-64 of A-Z, 0-9 and _".to_owned(),
                ));
            }
            hooks.gitlab_token_secret = name;
        }
    }
    Ok(hooks)
}

/// A service keygate fetches from: https, or http to a loopback host (a
/// test's stand-in).
fn service_url(field: &'static str, raw: &str) -> Result<String, (&'static str, String)> {
    const HTTPS: &str = "must be https (http only to localhost, for tests)";
    let url = HttpUrl::parse(raw).map_err(|e| match e {
        UrlError::Scheme => (field, HTTPS.to_owned()),
        e => (field, format!("must be an absolute URL ({e})")),
    })?;
    let local = url.destination().is_err_and(|w| w.is_loopback());
    if url.scheme() != "https" && !local {
        return Err((field, HTTPS.to_owned()));
    }
    if url.has_userinfo() {
        return Err((field, "must not have credentials".to_owned()));
    }
    Ok(url.to_string())
}

#[cfg(test)]
#[path = "hooks_tests.rs"]
mod tests;
