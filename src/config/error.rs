//! Configuration errors: found once, at load, naming the product and field.
//!
//! Invariant: a message never carries a URL's userinfo or query; they are
//! replaced by `REDACTED` ([`redact_url`]), so the log shows none of the
//! credentials an operator may have pasted into the config.

use std::fmt;

/// An invalid configuration. `field` is a path such as
/// `products[salesforge].route.path_prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the problem is.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KEYGATE_CONFIG.{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// `raw` with its userinfo, query and fragment replaced by `REDACTED`, for
/// messages. Works on text that is not a valid URL too.
pub(crate) fn redact_url(raw: &str) -> String {
    const R: &str = "REDACTED";
    let raw = raw.trim();
    // Cut at the query or fragment, and drop anything before the last `@`
    // of what would be the authority (no URL parser: the text need not be
    // a URL, and the gateway carries none).
    let (text, cut) = match raw.find(['?', '#']) {
        Some(at) => (raw.get(..at).unwrap_or_default(), raw.get(at..=at)),
        None => (raw, None),
    };
    let start = text.find("://").map_or(0, |at| at + 3);
    let authority_end = text
        .get(start..)
        .and_then(|rest| rest.find('/'))
        .map_or(text.len(), |at| start + at);
    let authority = text.get(start..authority_end).unwrap_or_default();
    let mut out = String::with_capacity(raw.len());
    out.push_str(text.get(..start).unwrap_or_default());
    match authority.rfind('@') {
        Some(at) => {
            out.push_str(R);
            out.push_str(authority.get(at..).unwrap_or_default());
        }
        None => out.push_str(authority),
    }
    out.push_str(text.get(authority_end..).unwrap_or_default());
    if let Some(mark) = cut {
        out.push_str(mark);
        out.push_str(R);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn urls_lose_userinfo_query_and_fragment() {
        for (raw, want) in [
            (
                "https://user:pass@x.test/?token=abc",
                "https://REDACTED@x.test/?REDACTED",
            ),
            ("https://x.test/base", "https://x.test/base"),
            (
                "https://:pw@x.test/#frag",
                "https://REDACTED@x.test/#REDACTED",
            ),
            ("ftp://u:p@x.test/a?q=1", "ftp://REDACTED@x.test/a?REDACTED"),
            // Not URLs, but still secrets.
            ("user:pass@x test/?token=abc", "REDACTED@x test/?REDACTED"),
            (
                "https://u:p@[bad/?token=abc",
                "https://REDACTED@[bad/?REDACTED",
            ),
            ("no secrets here", "no secrets here"),
        ] {
            let out = redact_url(raw);
            assert_eq!(out, want, "{raw}");
            assert!(!out.contains("pass") && !out.contains("abc"));
        }
    }
}
