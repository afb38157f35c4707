//! `Idempotency-Key` on the management API's POSTs: a retry with the same
//! key and request gets the first answer again, for [`KEPT_SECONDS`].
//!
//! The edge turns the header into a [`Ticket`] ([`ticket`]); the account's
//! object keeps each answer as an [`IdempotentRow`], in the same
//! transaction as the change it answers, so a committed change always has
//! its answer stored and a retry never makes a second key. Invariants: the
//! Idempotency-Key itself is never stored — the row's id is its SHA-256 —
//! and the answer (which may hold a new key's value) is stored only sealed
//! with ChaCha20-Poly1305 under a key derived from the Idempotency-Key and
//! the admin token, neither of which the object keeps; a row is used only
//! while younger than [`KEPT_SECONDS`] and with the same request
//! fingerprint (else 422 `idempotency_key_reused`).
//!
//! Answers are kept per caller ([`Caller`]): the row's id and sealing key
//! are bound to the admin token and to who asked — the management API, or
//! a page session's holder and products — so one caller's Idempotency-Key
//! is a fresh request for any other: never a replay of another holder's
//! answer, never a 422 that tells them the value was used.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::account::Reply;
use super::op::Op;
use crate::key::hash::hex;
use crate::secret::AdminToken;
use crate::Error;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// Longest Idempotency-Key accepted, in characters.
pub const MAX_LEN: usize = 255;
/// Seconds an answer is kept and replayed: 24 hours.
pub const KEPT_SECONDS: i64 = 86_400;
/// HKDF salt of the sealing key.
const SEAL_SALT: &[u8] = b"keygate/idempotency/seal/v1";
/// Bytes of a ChaCha20-Poly1305 nonce.
pub const NONCE_BYTES: usize = 12;

/// The header's value, if given and well formed: 1 to [`MAX_LEN`] visible
/// ASCII characters (a UUID is typical). Else 400 naming the header. An
/// empty value is no key (proxies drop empty fields, so a client cannot
/// count on it arriving).
pub fn header(value: Option<&str>) -> Result<Option<&str>, Error> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let reason = if value.len() > MAX_LEN {
        "is longer than 255 characters; send a shorter unique value, such as a UUID"
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        "must be visible ASCII characters only (no spaces or control characters), such as a UUID"
    } else {
        return Ok(Some(value));
    };
    Err(Error::InvalidField {
        field: HEADER.to_owned(),
        reason: reason.to_owned(),
    })
}

/// What the account's object needs to keep or replay one answer. Its
/// sealing key never shows in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ticket {
    /// SHA-256 of the Idempotency-Key, lowercase hex: the row's id.
    pub id: String,
    /// SHA-256 of the request (method, path, body), lowercase hex.
    pub fingerprint: String,
    /// The sealing key, lowercase hex: derived from the Idempotency-Key
    /// and the admin token.
    seal: String,
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("id", &self.id)
            .field("fingerprint", &self.fingerprint)
            .field("seal", &"[redacted]")
            .finish()
    }
}

/// Who sends a request with an Idempotency-Key: its answer is kept for
/// this caller only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The management API (the admin token).
    Admin,
    /// An API Keys page session, by the holder and products of its scope
    /// (`None`: every holder, every product).
    Page {
        /// The session's `owner_id`.
        owner_id: Option<String>,
        /// The session's products.
        products: Option<Vec<String>>,
    },
}

impl Caller {
    /// An unambiguous encoding: every part length-prefixed, products in
    /// order.
    fn encode(&self) -> Vec<u8> {
        fn part(out: &mut Vec<u8>, bytes: &[u8]) {
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        let mut out = Vec::new();
        match self {
            Caller::Admin => part(&mut out, b"admin"),
            Caller::Page { owner_id, products } => {
                part(&mut out, b"page");
                match owner_id {
                    Some(owner) => {
                        part(&mut out, b"owner");
                        part(&mut out, owner.as_bytes());
                    }
                    None => part(&mut out, b"any owner"),
                }
                match products {
                    Some(list) => {
                        let mut sorted: Vec<&String> = list.iter().collect();
                        sorted.sort();
                        sorted.dedup();
                        part(&mut out, b"products");
                        part(&mut out, &(sorted.len() as u64).to_be_bytes());
                        for product in sorted {
                            part(&mut out, product.as_bytes());
                        }
                    }
                    None => part(&mut out, b"any product"),
                }
            }
        }
        out
    }
}

/// A ticket before it knows its caller: what the edge can work out from
/// the request alone. Only [`Pending::for_caller`] turns it into a
/// [`Ticket`]. Its sealing key never shows in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    /// SHA-256 of the Idempotency-Key, lowercase hex.
    key_digest: String,
    /// SHA-256 of the request (method, path, body), lowercase hex.
    fingerprint: String,
    /// Derived from the Idempotency-Key and the admin token, lowercase hex.
    seal: String,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("fingerprint", &self.fingerprint)
            .field("seal", &"[redacted]")
            .finish()
    }
}

impl Pending {
    /// The ticket of this request from `caller`: its row id and sealing
    /// key are bound to the caller (and, through the seal, to the admin
    /// token), so no other caller finds or opens its answer.
    pub fn for_caller(self, caller: &Caller) -> Ticket {
        let who = caller.encode();
        let bind = |domain: &[u8], value: &str| {
            let mut h = Sha256::new();
            h.update(domain);
            h.update((who.len() as u64).to_be_bytes());
            h.update(&who);
            h.update(value.as_bytes());
            h.update(self.seal.as_bytes());
            hex(&h.finalize())
        };
        Ticket {
            id: bind(b"keygate/idempotency/id/v2\0", &self.key_digest),
            fingerprint: self.fingerprint.clone(),
            seal: bind(b"keygate/idempotency/seal/v2\0", ""),
        }
    }
}

/// The pending ticket for `idempotency_key` on the request
/// `method path body`.
pub fn pending(
    token: &AdminToken,
    idempotency_key: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> Pending {
    let key_digest = hex(&Sha256::digest(
        [b"keygate/idempotency/id/v1\0", idempotency_key.as_bytes()].concat(),
    ));
    let mut request = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes()] {
        request.update((part.len() as u64).to_be_bytes());
        request.update(part);
    }
    request.update(body);
    Pending {
        key_digest,
        fingerprint: hex(&request.finalize()),
        seal: hex(&token.derive(SEAL_SALT, idempotency_key.as_bytes())),
    }
}

/// The ticket for `idempotency_key` on the request `method path body`
/// from `caller`.
pub fn ticket(
    token: &AdminToken,
    caller: &Caller,
    idempotency_key: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> Ticket {
    pending(token, idempotency_key, method, path, body).for_caller(caller)
}

/// `op` (from the management API) as the account's object should run
/// it: for a POST with an Idempotency-Key (`header_value`), wrapped in
/// [`Op::Once`] with the ticket for this request from [`Caller::Admin`];
/// else as it is (other methods are idempotent already, and ignore the
/// header). A malformed header is 400.
pub fn wrap(
    op: Op,
    header_value: Option<&str>,
    token: &AdminToken,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Op, Error> {
    match prepare(header_value, token, method, path, body)? {
        Some(pending) => Ok(Op::Once {
            ticket: pending.for_caller(&Caller::Admin),
            then: Box::new(op),
        }),
        None => Ok(op),
    }
}

/// The pending ticket of a POST with an Idempotency-Key (`header_value`);
/// `None` for other methods or without the header. A malformed header is
/// 400.
pub fn prepare(
    header_value: Option<&str>,
    token: &AdminToken,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Option<Pending>, Error> {
    if method != "POST" {
        return Ok(None);
    }
    let Some(key) = header(header_value)? else {
        return Ok(None);
    };
    // The path as decoded, so `team%3A42` and `team:42` are one request.
    let path = String::from_utf8_lossy(&super::ids::percent_decode(path, false)).into_owned();
    Ok(Some(pending(token, key, method, &path, body)))
}

/// One kept answer, as the account's object stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentRow {
    /// The ticket's id.
    pub id: String,
    /// The ticket's request fingerprint.
    pub fingerprint: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The answer, sealed: hex of nonce and ciphertext.
    pub sealed: String,
}

/// The answer as sealed.
#[derive(Serialize, Deserialize)]
struct Kept {
    status: u16,
    body: serde_json::Value,
}

impl Ticket {
    fn cipher(&self) -> Option<ChaCha20Poly1305> {
        let key = unhex(&self.seal)?;
        (key.len() == 32).then(|| ChaCha20Poly1305::new(Key::from_slice(&key)))
    }

    /// `reply`, sealed under this ticket with `nonce` (fresh random bytes),
    /// as the row to store at `now`.
    pub fn keep(
        &self,
        reply: &Reply,
        nonce: &[u8; NONCE_BYTES],
        now: i64,
    ) -> Result<IdempotentRow, Error> {
        let plain = serde_json::to_vec(&Kept {
            status: reply.status,
            body: reply.body.clone(),
        })
        .map_err(|_| Error::StorageUnavailable)?;
        let sealed = self
            .cipher()
            .and_then(|c| c.encrypt(Nonce::from_slice(nonce), plain.as_slice()).ok())
            .ok_or(Error::StorageUnavailable)?;
        Ok(IdempotentRow {
            id: self.id.clone(),
            fingerprint: self.fingerprint.clone(),
            created_at: now,
            sealed: hex(&[nonce.as_slice(), &sealed].concat()),
        })
    }

    /// The answer `row` keeps, if this ticket opens it: `None` when it
    /// was sealed under another admin token or was altered.
    pub fn open(&self, row: &IdempotentRow) -> Option<Reply> {
        let bytes = unhex(&row.sealed)?;
        let (nonce, sealed) = bytes.split_at_checked(NONCE_BYTES)?;
        let plain = self
            .cipher()?
            .decrypt(Nonce::from_slice(nonce), sealed)
            .ok()?;
        let kept: Kept = serde_json::from_slice(&plain).ok()?;
        Some(Reply {
            status: kept.status,
            body: kept.body,
        })
    }
}

/// What the object does with a ticket, given the row its id has now.
#[derive(Debug, PartialEq)]
pub enum Decision {
    /// No answer kept: carry out the request, and keep its answer.
    Run,
    /// The kept answer: send it again, change nothing.
    Replay(Reply),
}

/// Decides a request with `ticket` at `now`, given the row stored under
/// its id (`None`, or older than [`KEPT_SECONDS`]: run it).
pub fn decide(ticket: &Ticket, row: Option<&IdempotentRow>, now: i64) -> Result<Decision, Error> {
    let Some(row) = row.filter(|r| now < r.created_at.saturating_add(KEPT_SECONDS)) else {
        return Ok(Decision::Run);
    };
    if row.fingerprint != ticket.fingerprint {
        return Err(Error::IdempotencyKeyReused {
            why: "it was used for another request (another path or body)",
        });
    }
    ticket
        .open(row)
        .map(Decision::Replay)
        .ok_or(Error::IdempotencyKeyReused {
            why: "its answer was kept under another admin token",
        })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| {
            text.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

#[cfg(test)]
#[path = "idempotency_tests.rs"]
mod tests;
