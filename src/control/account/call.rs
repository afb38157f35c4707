//! What the control Worker sends an account's object, and on which path
//! of the object's internal host.
//!
//! Invariant: these are the only shapes the object reads from the control
//! Worker (the gateway's are [`crate::seam::EdgeCall`]s); an unreadable
//! call is refused, never guessed at.

use serde::{Deserialize, Serialize};

use crate::leak::respond::LeakReport;
use crate::manage::Op;

/// The path of the control Worker's management calls ([`Call`]).
pub(crate) const OP_PATH: &str = "/op";
/// The path of the control Worker's portal calls
/// ([`crate::portal::call::PortalCall`]).
pub(crate) const PORTAL_PATH: &str = "/portal";
/// The path of the leak endpoints' reports ([`LeakCall`]).
pub(crate) const LEAK_PATH: &str = "/leak";

/// A management operation for the account the object holds.
#[derive(Serialize, Deserialize)]
pub(crate) struct Call {
    /// The account the object holds (its name).
    pub account: String,
    /// What to do.
    pub op: Op,
}

/// A secret scanner's report of one of the account's keys, decided by
/// [`crate::leak::respond::plan`].
#[derive(Serialize, Deserialize)]
pub(crate) struct LeakCall {
    /// The account the object holds (its name).
    pub account: String,
    /// The report.
    pub report: LeakReport,
}
