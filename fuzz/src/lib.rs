//! Fuzz targets for keygate's parsers: each checks invariants, not just
//! "no panic".
//!
//! Every target is a plain `fn(&[u8])` that panics when an invariant
//! breaks, so any engine can drive it: the libFuzzer binaries in
//! `fuzz_targets/` (run by `scripts/fuzz.sh`, `make fuzz`) and the
//! deterministic smoke run in `tests/smoke.rs` (part of `cargo test`).
//! Inputs are split into fields with [`split`], so a target's input layout
//! is written once, in its own module.

mod config;
mod credential;
pub mod fixture;
mod github_signature;
mod key;
mod leak;
mod limits;
mod manage;
mod page;
mod path;
mod portal_credential;
mod webhook;

pub use config::config;
pub use credential::credential;
pub use github_signature::github_signature;
pub use key::key;
pub use leak::leak;
pub use limits::limits;
pub use manage::{manage_body, manage_request};
pub use page::{page_body, portal_grant};
pub use path::path;
pub use portal_credential::portal_credential;
pub use webhook::webhook;

/// A fuzz target: panics when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target by name. The name is also its corpus folder
/// (`fuzz/corpus/<name>`), dictionary (`fuzz/dict/<name>.dict`) and binary
/// (`fuzz_<name>`).
pub const TARGETS: &[(&str, Target)] = &[
    ("key", key),
    ("credential", credential),
    ("path", path),
    ("config", config),
    ("manage_request", manage_request),
    ("manage_body", manage_body),
    ("webhook", webhook),
    ("leak", leak),
    ("page_body", page_body),
    ("portal_grant", portal_grant),
    ("portal_credential", portal_credential),
    ("github_signature", github_signature),
    ("limits", limits),
];

/// Splits `data` at NUL bytes into exactly `N` fields; missing fields are
/// empty and the last one keeps any further NULs.
pub fn split<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut fields: [&[u8]; N] = [&[]; N];
    let mut rest = data;
    for (i, field) in fields.iter_mut().enumerate() {
        if i + 1 == N {
            *field = rest;
            break;
        }
        match rest.iter().position(|&b| b == 0) {
            Some(at) => {
                let (head, tail) = rest.split_at(at);
                *field = head;
                rest = tail.get(1..).unwrap_or_default();
            }
            None => {
                *field = rest;
                rest = &[];
            }
        }
    }
    fields
}

/// `bytes` as text, with invalid UTF-8 replaced (HTTP layers hand the core
/// `&str`, so raw bytes never reach it).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
