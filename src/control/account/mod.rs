//! The per-account Durable Object: the source of truth for one account's
//! keys and audit log, in the object's SQLite storage.
//!
//! This file is the object's door: it reads each call, checks that the
//! caller runs with this Worker's configuration ([`crate::seam`]; else
//! `503 config_mismatch`, nothing read or changed) and hands it on: a
//! management operation or leak report to [`run`], a page call to
//! [`portal`]; the gateway's calls arrive on [`EDGE_CALL_PATH`] and can
//! only be an [`EdgeCall`]. The alarm ([`alarm`]) prunes and resyncs
//! ([`upkeep`]), then delivers webhooks ([`delivery`]).
//!
//! Below it, one way down: [`portal`] → [`run`] → [`delivery`],
//! [`alarm`], [`index`] → [`object`] → [`sql_ledger`], [`hook_sql`].

mod alarm;
pub(crate) mod call;
mod delivery;
mod hook_sql;
mod index;
mod object;
mod portal;
mod run;
mod sql_ledger;
mod upkeep;

use worker::{console_error, durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::seam::{EdgeCall, EDGE_CALL_PATH};
use crate::Error;
use call::{Call, LeakCall, LEAK_PATH, OP_PATH, PORTAL_PATH};
use object::Object;

/// One account's keys and audit log.
#[durable_object]
pub struct Account {
    object: Object,
}

impl DurableObject for Account {
    fn new(state: State, env: Env) -> Self {
        Account {
            object: Object::new(state, env),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let text = req.text().await?;
        if req.path() == PORTAL_PATH {
            let answer = match self.object.check_digest(&req) {
                Ok(()) => portal::serve(&self.object, &text).await,
                Err(error) => Err(error),
            };
            let (status, body) =
                answer.unwrap_or_else(|error| (error.status(), error.to_problem(None).body));
            if status == 204 || body.is_empty() {
                return Ok(Response::empty()?.with_status(status));
            }
            return Ok(Response::ok(body)?.with_status(status));
        }
        let (status, body) = match self.admit(&req, &text) {
            Ok(admitted) => {
                let answer = match admitted {
                    Admitted::Op(call) => self.object.run(call).await,
                    Admitted::Leak(call) => self.object.run_leak(call).await,
                };
                match answer {
                    Ok(reply) => (
                        reply.status,
                        if reply.body.is_null() {
                            String::new()
                        } else {
                            reply.body.to_string()
                        },
                    ),
                    Err(error) => {
                        if let Error::Misconfigured { what } = &error {
                            console_error!("account object: misconfigured: {what}");
                        }
                        (error.status(), error.to_problem(None).body)
                    }
                }
            }
            Err(error) => (error.status(), error.to_problem(None).body),
        };
        // A 204 must be built without a body: workerd warns about (and
        // the runtime log must stay free of) a null-body status with "".
        if status == 204 {
            return Ok(Response::empty()?.with_status(status));
        }
        Ok(Response::ok(body)?.with_status(status))
    }

    async fn alarm(&self) -> Result<Response> {
        let _turn = self.object.mutations.lock().await;
        if let Err(fault) = upkeep::prune(&self.object).await {
            console_error!("account object: prune failed: {fault}");
        }
        // After the prune's own schedule: a resync retry comes sooner and
        // replaces it, and that alarm prunes again.
        if let Err(fault) = upkeep::resync(&self.object).await {
            console_error!("account object: index resync failed: {fault}");
            alarm::retry_later(&self.object.storage()).await;
        }
        drop(_turn);
        delivery::deliver(&self.object).await;
        Response::ok("")
    }
}

/// A call the object accepted.
enum Admitted {
    Op(Call),
    Leak(LeakCall),
}

impl Account {
    /// The call in `text`, if its caller runs with this Worker's
    /// configuration and it is readable: a gateway's call only as one of
    /// its [`EdgeCall`]s.
    fn admit(&self, req: &Request, text: &str) -> std::result::Result<Admitted, Error> {
        self.object.check_digest(req)?;
        let unreadable = |e: serde_json::Error| {
            console_error!("account object: unreadable call: {e}");
            Error::StorageUnavailable
        };
        let path = req.path();
        if path == EDGE_CALL_PATH {
            let call: EdgeCall = serde_json::from_str(text).map_err(unreadable)?;
            Ok(Admitted::Op(Call {
                account: call.account,
                op: call.op.into(),
            }))
        } else if path == OP_PATH {
            serde_json::from_str(text)
                .map(Admitted::Op)
                .map_err(unreadable)
        } else if path == LEAK_PATH {
            serde_json::from_str(text)
                .map(Admitted::Leak)
                .map_err(unreadable)
        } else {
            Err(Error::NotFound)
        }
    }
}
