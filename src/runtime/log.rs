//! The request log: one JSON line per request, built with
//! [`crate::log_line::Line`] and written to the console, in both Workers.
//!
//! Invariant: a line holds only what its caller put in a `Line` (never a
//! key, token or body); this is the only place either Worker writes one.

use worker::web_sys;

/// Writes one finished line.
pub(crate) fn write(line: String) {
    web_sys::console::log_1(&line.into());
}
