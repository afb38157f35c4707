//! Random bytes from the runtime's CSPRNG (`crypto.getRandomValues`), read
//! in one place and handed to the core as arrays.
//!
//! Invariant: nothing else reads randomness; a runtime without a CSPRNG
//! refuses (`misconfigured`) rather than falls back to a weaker source.

use worker::{js_sys, wasm_bindgen::JsCast, web_sys};

use crate::Error;

/// `N` fresh random bytes.
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    global
        .crypto()
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes))
        .map_err(|_| Error::Misconfigured {
            what: "crypto.getRandomValues is unavailable".to_owned(),
        })?;
    Ok(bytes)
}
