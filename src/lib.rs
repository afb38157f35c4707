//! keygate: an edge verifier for API keys, built for Cloudflare Workers.
//!
//! API clients call keygate exactly as they would call the API. For every
//! request keygate
//!
//! 1. picks the [product](config::Product) by host and path ([`route`]);
//! 2. reads the key from that product's header ([`credential`]), refusing a
//!    key that belongs to another product;
//! 3. checks the key's shape and checksum, then its keyed tag ([`key`]) —
//!    garbage and forgeries never cost a storage read;
//! 4. looks the SHA-256 of the key up in a Workers KV hash index
//!    ([`record`], [`cache`]), which only a [`key::TaggedKey`] can reach;
//! 5. enforces product, revocation, expiry and permissions ([`policy`]),
//!    which is the only way to obtain an [`policy::Authorized`] value;
//! 6. forwards the request, with signed identity headers ([`forward`],
//!    [`signature`]), to the product's origin.
//!
//! Keys are issued and governed through the management API ([`manage`]):
//! one Durable Object per account holds that account's keys and audit log
//! as the source of truth, and writes the KV hash index the edge reads.
//!
//! # Pure core, thin edge
//!
//! Everything above is plain Rust that performs no I/O and reads no clock:
//! time and storage results come in as arguments, so every decision is
//! tested natively with `cargo test`. Only the adapters (compiled for
//! `wasm32` alone: `gateway`, `control`, and the `runtime` both stand on)
//! touch the Workers runtime: KV, Durable Objects, `fetch`, the
//! environment, randomness and the clock.
//!
//! # Two Workers, one core
//!
//! The crate is built as one of two Workers, by cargo feature, each with
//! a room of its own: `gateway/` (the request flow above, nothing else)
//! and `control/` (the management API, the leak endpoints, the API Keys
//! page and the accounts' Durable Objects), over `runtime/`. Neither
//! imports the other; `manage`, `ledger`, `webhook`, `leak` and `portal`
//! compile into the control Worker only. What the two share at run time is
//! in [`seam`]: the gateway's only calls to an account's object and the
//! configuration digest both sides compare. The rooms' order is
//! `scripts/layers.txt`, checked by `make lint` (docs/architecture.md).
//!
//! # Threat model
//!
//! * Clients are untrusted: any header, path or key they send may be hostile.
//!   Client-sent `Keygate-*` headers and the credential header are removed
//!   before forwarding, and refusals never echo the key.
//! * Origins trust only requests whose RFC 9421 signature (`Signature`,
//!   `Signature-Input`) verifies with their product's key, derived from the
//!   origin secret with HKDF per product, so an origin cannot forge for
//!   another product and traffic that bypasses keygate is rejected. The
//!   signature covers method, authority, path, query, every identity header,
//!   the request id (its nonce) and the body framing; the body itself only
//!   with `sign_body`. A replay is valid until `expires` unless the origin
//!   refuses a seen nonce.
//! * Storage or configuration faults fail closed: keygate refuses and never
//!   forwards.
//! * Anyone can compute the public CRC32, so keys also carry a tag under a
//!   deployment secret; a key without a valid tag is refused before any
//!   storage read, so forged keys cost nothing.
//! * The management API trusts only the admin token, compared in constant
//!   time as a digest; keys are shown once, and only their SHA-256 is
//!   stored.

#![forbid(unsafe_code)]

pub mod cache;
pub mod config;
pub mod cors;
pub mod credential;
pub mod destination;
pub mod error;
pub mod forward;
pub mod hkdf;
pub mod http;
pub mod ip_allow;
pub mod key;
pub mod key_meta;
#[cfg(any(not(target_arch = "wasm32"), feature = "control"))]
pub mod leak;
#[cfg(any(not(target_arch = "wasm32"), feature = "control"))]
pub mod ledger;
// Usage limits (issue 20): native only until a Worker enforces them.
#[cfg(not(target_arch = "wasm32"))]
pub mod limits;
pub mod log_line;
#[cfg(any(not(target_arch = "wasm32"), feature = "control"))]
pub mod manage;
pub mod path;
mod path_fold;
pub mod pattern;
pub mod policy;
#[cfg(any(not(target_arch = "wasm32"), feature = "control"))]
pub mod portal;
pub mod proxy_headers;
pub mod record;
pub mod route;
pub mod seam;
pub mod secret;
pub mod signature;
pub mod time;
pub mod verdict_cache;
pub mod verify;
#[cfg(any(not(target_arch = "wasm32"), feature = "control"))]
pub mod webhook;
pub mod websocket;

#[cfg(all(target_arch = "wasm32", feature = "gateway", feature = "control"))]
compile_error!("build one Worker at a time: --features gateway, or --features control");

#[cfg(all(target_arch = "wasm32", feature = "control"))]
mod control;
#[cfg(all(target_arch = "wasm32", feature = "gateway"))]
mod gateway;
#[cfg(all(target_arch = "wasm32", any(feature = "gateway", feature = "control")))]
mod runtime;

pub use error::Error;
