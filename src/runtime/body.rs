//! Reading a request body with a limit: the one reader both Workers use.
//!
//! Invariants: no more than `limit` bytes are ever kept; past the limit the rest is drained without keeping (up to [`DRAIN_LIMIT`] more,
//! so the client's connection stays usable), and beyond that the stream is
//! cancelled. What a fault is called is the caller's choice.

use worker::{
    js_sys,
    wasm_bindgen::{JsCast, JsValue},
    wasm_bindgen_futures::JsFuture,
    web_sys,
};

/// Bytes past the limit that are read and dropped before the stream is
/// cancelled.
const DRAIN_LIMIT: u64 = 1 << 20;

/// Why a body was not read.
pub(crate) enum Fault {
    /// More than the limit.
    TooLarge,
    /// The stream failed; the runtime's error (the gateway logs it).
    Unreadable(#[cfg_attr(not(feature = "gateway"), allow(dead_code))] JsValue),
}

/// Reads `stream` to its end, keeping at most `limit` bytes.
pub(crate) async fn read(stream: &web_sys::ReadableStream, limit: u64) -> Result<Vec<u8>, Fault> {
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = Vec::new();
    let mut seen = 0u64;
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(Fault::Unreadable)?;
        let done =
            js_sys::Reflect::get(&chunk, &JsValue::from_str("done")).map_err(Fault::Unreadable)?;
        if done.as_bool().unwrap_or(true) {
            return if seen > limit {
                Err(Fault::TooLarge)
            } else {
                Ok(body)
            };
        }
        let value =
            js_sys::Reflect::get(&chunk, &JsValue::from_str("value")).map_err(Fault::Unreadable)?;
        let bytes: js_sys::Uint8Array = value.dyn_into().map_err(Fault::Unreadable)?;
        seen = seen.saturating_add(u64::from(bytes.length()));
        if seen <= limit {
            body.extend_from_slice(&bytes.to_vec());
        } else if seen > limit.saturating_add(DRAIN_LIMIT) {
            // Too much to drain politely: stop reading.
            let _ = reader.cancel();
            return Err(Fault::TooLarge);
        } else {
            // Past the limit: drain without keeping, so the connection
            // stays usable for the client's next request.
            body = Vec::new();
        }
    }
}
