//! Resolving a webhook target's name before an attempt, over DNS over
//! HTTPS (the JSON API that Cloudflare's and Google's resolvers serve),
//! so that a public name pointing at a private address is refused
//! ([`super::target::Target::admits_resolved`]).
//!
//! Pure: builds the two queries and reads their answers; the account
//! object's alarm performs the fetches. Invariants: a name is looked up
//! as `A` and `AAAA`, and an attempt goes ahead only if both answered
//! and every address in them is public (one inward address refuses the
//! lot: the runtime may connect to any); an answer that cannot be read,
//! an error status or no address at all refuses the attempt (fail
//! closed), and so does an answer over [`MAX_ANSWER_BYTES`]; in dev mode
//! ([`used`]) only a resolver on this machine is asked, since dev and
//! test machines have no DNS.
//!
//! What this does not close: the runtime resolves the name again when it
//! connects, so a name whose records change between the two lookups (DNS
//! rebinding) is not caught here; Cloudflare's `fetch` does not reach
//! private networks in the first place.

use std::net::IpAddr;

use serde::Deserialize;

/// Longest resolver answer read, in bytes.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Each lookup's time limit, in milliseconds.
pub const LOOKUP_TIMEOUT_MS: u64 = 5_000;
/// The record types looked up: `A` (1) and `AAAA` (28).
pub const RECORD_TYPES: [(&str, u16); 2] = [("A", 1), ("AAAA", 28)];

/// Whether names are resolved with `resolver`: always, except in dev
/// mode, where only a resolver on this machine (a test's stand-in) is
/// used; a dev run sends to this machine only anyway.
pub fn used(resolver: &str, dev: bool) -> bool {
    if !dev {
        return true;
    }
    url::Url::parse(resolver)
        .ok()
        .is_some_and(|url| crate::destination::check(&url).is_err_and(|w| w.is_loopback()))
}

/// The query URL for `name`'s records of `record` ("A" or "AAAA") at the
/// resolver `resolver` (its `Accept` header must be
/// `application/dns-json`).
pub fn query_url(resolver: &str, name: &str, record: &str) -> String {
    let join = if resolver.contains('?') { '&' } else { '?' };
    let name: String = name
        .bytes()
        .flat_map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => vec![b as char],
            _ => format!("%{b:02X}").chars().collect(),
        })
        .collect();
    format!("{resolver}{join}name={name}&type={record}")
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "Status")]
    status: u32,
    #[serde(rename = "Answer", default)]
    answer: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "type")]
    kind: u16,
    data: String,
}

/// The addresses of type `kind` (1 or 28) in a resolver's JSON answer;
/// other records (the CNAMEs it followed) are skipped. A name that does
/// not exist, a failed lookup or an unreadable answer is an error, which
/// refuses the attempt.
pub fn addresses(body: &[u8], kind: u16) -> Result<Vec<IpAddr>, String> {
    if body.len() > MAX_ANSWER_BYTES {
        return Err("the resolver's answer is too large".to_owned());
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|_| "the resolver's answer is not DNS JSON".to_owned())?;
    match answer.status {
        0 => {}
        3 => return Err("the name does not exist (NXDOMAIN)".to_owned()),
        code => return Err(format!("the lookup failed (DNS status {code})")),
    }
    answer
        .answer
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| {
            r.data
                .parse::<IpAddr>()
                .map_err(|_| "the resolver's answer holds a malformed address".to_owned())
        })
        .collect()
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
