//! The account a create or an import adds keys to. Invariant: a suspended
//! account takes no new key (`403 account_suspended`), whichever operation
//! asks.

use crate::ledger::{AccountRow, AccountStatus, Ledger};
use crate::Error;

/// The account a key may be added to, and whether it exists yet: a
/// suspended account refuses (`403 account_suspended`), one not yet made
/// is a new active row (written with its first key).
pub(super) fn writable_account(
    ledger: &dyn Ledger,
    account_id: &str,
    now: i64,
) -> Result<(Option<AccountRow>, AccountRow), Error> {
    let existing = ledger.account()?;
    if existing
        .as_ref()
        .is_some_and(|a| a.status == AccountStatus::Suspended)
    {
        return Err(Error::AccountSuspended);
    }
    let account = existing.clone().unwrap_or_else(|| AccountRow {
        id: account_id.to_owned(),
        status: AccountStatus::Active,
        created_at: now,
        updated_at: now,
    });
    Ok((existing, account))
}
