//! A POST with an `Idempotency-Key`: the operation wrapped in
//! [`Op::Once`] with its [`super::idempotency`] ticket, so the account's object
//! answers a retry with the first answer.
//!
//! Invariant: only a POST is wrapped (other methods are idempotent
//! already); a malformed header is refused, never ignored.

use super::idempotency::{prepare, Caller};
use super::op::Op;
use crate::secret::AdminToken;
use crate::Error;

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
