//! The Workers clock, read in one place and handed to the core as numbers.
//!
//! Invariant: no other file reads `Date.now()`. The clock advances across
//! I/O only, so latencies measured with it count waiting, not computing.

use worker::js_sys;

/// Unix milliseconds, as the runtime gives them.
pub(crate) fn millis() -> f64 {
    js_sys::Date::now()
}

/// Unix milliseconds, whole (the control Worker's account objects).
#[cfg_attr(not(feature = "control"), allow(dead_code))]
pub(crate) fn now_ms() -> i64 {
    millis() as i64
}

/// Unix seconds, rounded down (the control Worker).
#[cfg_attr(not(feature = "control"), allow(dead_code))]
pub(crate) fn now() -> i64 {
    seconds(millis())
}

/// The whole Unix seconds of `millis`, rounded down.
pub(crate) fn seconds(millis: f64) -> i64 {
    (millis / 1000.0).floor() as i64
}
