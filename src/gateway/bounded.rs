//! `consistency = "bounded"`: the account object's verdict on a key, held
//! in this isolate's [`VerdictCache`] for at most the product's
//! `max_staleness_seconds`, else asked for now (one round trip).
//!
//! Invariants: a verdict is held from the moment its call was sent, so a
//! change the object has committed applies in every isolate within
//! `max_staleness_seconds` plus one round trip; both answers are held (a
//! record, whatever its state, and "no such key"), nothing else is: a call
//! that fails is refused (`503`, as in strict mode) and the next request
//! asks again. Concurrent requests for a key whose verdict is due are not
//! coalesced: each asks (a Worker cannot safely await another request's
//! I/O), and the answer asked for last is the one kept. An answer equal
//! to the KV record shares that record's memory, so held verdicts add
//! little beside the record cache unless keys changed.

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use super::strict;
use crate::record::KeyRecord;
use crate::runtime::clock;
use crate::verdict_cache::{Verdict, VerdictCache};
use crate::Error;

thread_local! {
    static VERDICTS: RefCell<VerdictCache<Rc<KeyRecord>>> = RefCell::new(VerdictCache::default());
}

/// The current record of `record`'s key as the account's object last said
/// within `max_staleness_seconds`, asking it now if it is due (counted in
/// `calls`). A key the object does not know is `invalid_key`.
pub(super) async fn verdict(
    env: &Env,
    record: &Rc<KeyRecord>,
    max_staleness_seconds: u32,
    calls: &mut u32,
) -> Result<Rc<KeyRecord>, Error> {
    let asked_at = clock::millis();
    let held = VERDICTS.with(|cell| cell.borrow().get(&record.account, &record.id, asked_at));
    let verdict = match held {
        Some(verdict) => verdict,
        None => {
            *calls += 1;
            let verdict = match strict::verify(env, record).await {
                Ok(current) if current == **record => Verdict::Current(Rc::clone(record)),
                Ok(current) => Verdict::Current(Rc::new(current)),
                Err(Error::InvalidKey) => Verdict::Unknown,
                Err(error) => return Err(error),
            };
            VERDICTS.with(|cell| {
                cell.borrow_mut().put(
                    &record.account,
                    &record.id,
                    verdict.clone(),
                    asked_at,
                    max_staleness_seconds,
                );
            });
            verdict
        }
    };
    match verdict {
        Verdict::Current(current) => Ok(current),
        Verdict::Unknown => Err(Error::InvalidKey),
    }
}
