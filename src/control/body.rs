//! The control Worker's request bodies: refused at once when
//! `Content-Length` declares more than the endpoint's limit, else read with
//! the one capped reader ([`crate::runtime::body::read`]).
//!
//! Invariant: no more than the limit is kept; too much is `413
//! body_too_large`, an unreadable body `400 invalid_json`.

use worker::web_sys;

use crate::runtime::body::{read, Fault};
use crate::Error;

/// `req`'s body, at most `limit` bytes, for the control Worker's
/// endpoints: more is `413 body_too_large`, an unreadable one
/// `400 invalid_json`.
pub(super) async fn read_capped(req: &web_sys::Request, limit: usize) -> Result<Vec<u8>, Error> {
    let cap = u64::try_from(limit).unwrap_or(u64::MAX);
    read_request(req, cap).await.map_err(|fault| match fault {
        Fault::TooLarge => Error::BodyTooLarge { limit },
        Fault::Unreadable(_) => Error::InvalidJson {
            reason: "the body could not be read".to_owned(),
        },
    })
}

/// `req`'s body, at most `limit` bytes; none if it has no body.
async fn read_request(req: &web_sys::Request, limit: u64) -> Result<Vec<u8>, Fault> {
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Fault::TooLarge);
    }
    match req.body() {
        Some(stream) => read(&stream, limit).await,
        None => Ok(Vec::new()),
    }
}
