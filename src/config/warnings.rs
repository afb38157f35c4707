//! Advice on a valid configuration: settings that work but weaken
//! keygate's protections, which `keygate check` prints as warnings.
//!
//! Pure. Invariant: a warning never refuses a configuration (refusals are
//! [`super::ConfigError`]s); each names the setting to change.

use super::Config;

/// The warnings for `config`, in a stable order; empty when there is
/// nothing to say.
pub fn warnings(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(portal), Some(management)) = (&config.portal, &config.management) {
        match &management.host {
            None => out.push(format!(
                "the API Keys page ({}) has no host of its own (management.host is unset), so \
                 it is served on the products' hosts and shares its origin with whatever the \
                 origins serve there: a script an origin serves can read the page and drive \
                 its API. Set management.host to a host that serves nothing else \
                 (see docs/deploying.md)",
                portal.path_prefix
            )),
            Some(host) => {
                let shared = config
                    .products
                    .iter()
                    .filter(|p| p.route.host.as_deref() == Some(host.as_str()))
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>();
                if !shared.is_empty() {
                    out.push(format!(
                        "the API Keys page's host {host} (management.host) is also the host of \
                         product {}, so the page shares its origin with that origin's content. \
                         Give management.host a host that serves nothing else \
                         (see docs/deploying.md)",
                        shared.join(", ")
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "warnings_tests.rs"]
mod tests;
