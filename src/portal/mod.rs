//! The hosted "API Keys" page (the portal): its pure rules.
//!
//! A product's backend asks the management API for a portal session
//! ([`grant`]); the answer is a URL with a one-time token ([`credential`]).
//! The control Worker exchanges that token for a session cookie
//! ([`cookie`]) and serves the page under a strict Content-Security-Policy
//! ([`csp`]), in the product's colours ([`brand`]). Every change the page
//! asks for carries a CSRF token bound to the session ([`csrf`]), and the
//! session sees and changes only the keys of its scope ([`scope`]), with
//! cursors from rows it sees ([`visible`]), within a change budget
//! ([`budget`]). Links are built on the page's configured origin
//! ([`link`]), never on a request's `Host`.
//!
//! Invariants: no secret of a session (token, cookie or CSRF token) is
//! stored or logged; only their SHA-256 is kept, and a presented secret is
//! compared with it in constant time. Tokens and cookies carry a keyed
//! tag, so a forged one is refused before any account's object is
//! called. A token works once, before its
//! expiry; a cookie works until the session expires or is revoked.

pub mod brand;
pub mod budget;
pub mod call;
pub mod cookie;
pub mod credential;
pub mod csp;
pub mod csrf;
pub mod grant;
pub mod link;
pub mod op;
pub mod page;
pub mod scope;
pub mod visible;
