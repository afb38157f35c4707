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

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::key::hash::hex;
pub use crate::ledger::IdempotentRow;
use crate::ledger::Reply;
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

/// The ticket for `idempotency_key` on the request `method path body`.
pub fn ticket(
    token: &AdminToken,
    idempotency_key: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> Ticket {
    let id = hex(&Sha256::digest(
        [b"keygate/idempotency/id/v1\0", idempotency_key.as_bytes()].concat(),
    ));
    let mut request = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes()] {
        request.update((part.len() as u64).to_be_bytes());
        request.update(part);
    }
    request.update(body);
    Ticket {
        id,
        fingerprint: hex(&request.finalize()),
        seal: hex(&token.derive(SEAL_SALT, idempotency_key.as_bytes())),
    }
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
