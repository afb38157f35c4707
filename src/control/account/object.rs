//! The account object's hold on the runtime: its storage, its environment,
//! and the lock that runs mutations one at a time.
//!
//! Invariants: the tables are created only through [`Object::ensure_schema`]
//! (for a create), so reads of unknown accounts store nothing; every call
//! is first checked to come from a caller with this Worker's configuration
//! ([`Object::check_digest`]).

use std::cell::Cell;

use futures_util::lock::Mutex;
use worker::{console_error, Env, KvStore, Request, SqlStorage, State, Storage};

use super::sql_ledger;
use crate::config::KEYS_BINDING;
use crate::runtime::isolate;
use crate::seam::{digest_matches, DIGEST_HEADER};
use crate::Error;

/// One account object's runtime handles.
pub(super) struct Object {
    state: State,
    pub(super) env: Env,
    /// Held by every mutation, across its KV writes.
    pub(super) mutations: Mutex<()>,
    schema_ready: Cell<bool>,
}

impl Object {
    pub(super) fn new(state: State, env: Env) -> Self {
        Object {
            state,
            env,
            mutations: Mutex::new(()),
            schema_ready: Cell::new(false),
        }
    }

    /// Refuses a caller whose configuration differs from this Worker's.
    pub(super) fn check_digest(&self, req: &Request) -> Result<(), Error> {
        let state = isolate::state(&self.env)?;
        let sent = req.headers().get(DIGEST_HEADER).ok().flatten();
        if !digest_matches(&state.digest, sent.as_deref()) {
            console_error!("account object: the caller's configuration differs from ours");
            return Err(Error::ConfigMismatch);
        }
        Ok(())
    }

    pub(super) fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    pub(super) fn storage(&self) -> Storage {
        self.state.storage()
    }

    /// Whether the ledger's tables are known to exist in this isolate.
    pub(super) fn schema_ready(&self) -> bool {
        self.schema_ready.get()
    }

    pub(super) fn ensure_schema(&self) -> Result<(), Error> {
        if self.schema_ready.get() {
            return Ok(());
        }
        sql_ledger::create_or_upgrade(&self.sql())?;
        self.schema_ready.set(true);
        Ok(())
    }

    pub(super) fn kv(&self) -> Result<KvStore, Error> {
        self.env.kv(KEYS_BINDING).map_err(|_| Error::Misconfigured {
            what: format!("the KV namespace binding {KEYS_BINDING} is missing"),
        })
    }
}
