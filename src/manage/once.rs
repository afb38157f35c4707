//! A POST with an `Idempotency-Key`: the operation wrapped in
//! [`Op::Once`] with its [`idempotency`] ticket, so the account's object
//! answers a retry with the first answer.
//!
//! Invariant: only a POST is wrapped (other methods are idempotent
//! already); a malformed header is refused, never ignored.

use super::idempotency::{header, ticket};
use super::op::Op;
use crate::secret::AdminToken;
use crate::Error;

/// `op` as the account's object should run it: for a POST with an
/// Idempotency-Key (`header_value`), wrapped in [`Op::Once`] with the
/// ticket for this request; else as it is (other methods are idempotent
/// already, and ignore the header). A malformed header is 400.
pub fn wrap(
    op: Op,
    header_value: Option<&str>,
    token: &AdminToken,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Op, Error> {
    if method != "POST" {
        return Ok(op);
    }
    let Some(key) = header(header_value)? else {
        return Ok(op);
    };
    // The path as decoded, so `team%3A42` and `team:42` are one request.
    let path =
        String::from_utf8_lossy(&crate::ledger::ids::percent_decode(path, false)).into_owned();
    Ok(Op::Once {
        ticket: ticket(token, key, method, &path, body),
        then: Box::new(op),
    })
}
