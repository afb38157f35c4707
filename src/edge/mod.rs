//! The Workers adapter: the only code that touches the runtime.
//!
//! It reads the request, the environment, KV, the accounts' Durable Objects
//! and the clock, hands them to the pure core, and carries out the core's
//! decision. The management API ([`management`]) and the per-account
//! object ([`account`]) live here too. Invariants: every
//! refusal is a problem+json response built here (the runtime's plain-text
//! 500 could appear only if no `Response` could be constructed at all); a
//! request is forwarded only with an [`Authorized`] from the policy; any
//! storage or configuration fault refuses the request. `latency_ms` in the
//! log follows the Workers clock, which advances across I/O only.

mod account;
mod accounts;
mod isolate;
mod kv;
mod management;
mod respond;
mod sql_ledger;
mod upstream;

use worker::{console_log, event, js_sys, web_sys, Context, Env};

use crate::config::Consistency;
use crate::credential::{self, HeaderLookup};
use crate::policy::{self, Authorized, RequestFacts};
use crate::{forward, route, Error};

/// What the request log line records. Never the key.
#[derive(Default)]
struct Outcome {
    product: Option<String>,
    key_id: Option<String>,
    kv_reads: u32,
    /// Which check let the key through: `current`, `previous`, `untagged`.
    key_tag: Option<&'static str>,
    /// Verdicts asked of an account's Durable Object (strict mode).
    object_calls: u32,
    usage_reported: bool,
    challenge: Option<(crate::config::Credential, String)>,
}

/// Read access to the incoming request's headers for the core.
struct RequestHeaders<'a>(&'a web_sys::Headers);

impl HeaderLookup for RequestHeaders<'_> {
    fn header(&self, name: &str) -> Option<String> {
        self.0.get(name).ok().flatten()
    }
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    let started = js_sys::Date::now();
    let method = req.method();
    let url = url::Url::parse(&req.url()).ok();
    let mut outcome = Outcome::default();
    if let Some(url) = &url {
        if let Some(answer) = management_path(&env, url) {
            let (response, code) =
                management::serve(&req, &method, &answer, url.query(), &env).await?;
            console_log!(
                "{}",
                serde_json::json!({
                    "api": "management",
                    "method": method,
                    "path": url.path(),
                    "outcome": code,
                    "status": response.status(),
                    "latency_ms": js_sys::Date::now() - started,
                })
            );
            return Ok(response);
        }
    }
    let result = match &url {
        Some(url) => gateway(&req, url, &method, &env, &ctx, &mut outcome).await,
        None => Err(Error::NoRoute),
    };
    let (response, code) = match result {
        Ok(response) => (Ok(response), "forwarded"),
        Err(error) => {
            let challenge = outcome.challenge.as_ref().map(|(credential, name)| {
                let presented = !matches!(error, Error::MissingKey { .. });
                credential.challenge(name, presented)
            });
            (respond::problem(&error, challenge), error.code())
        }
    };
    let status = response.as_ref().map_or(500, web_sys::Response::status);
    console_log!(
        "{}",
        serde_json::json!({
            "product": outcome.product,
            "key_id": outcome.key_id,
            "method": method,
            // Path only: a query string may carry client secrets.
            "path": url.as_ref().map(url::Url::path),
            "outcome": code,
            "kv_reads": outcome.kv_reads,
            "key_tag": outcome.key_tag,
            "object_calls": outcome.object_calls,
            "usage_reported": outcome.usage_reported,
            "status": status,
            "latency_ms": js_sys::Date::now() - started,
        })
    );
    response
}

/// The management API's part of the path, when `url` is addressed to it.
fn management_path(env: &Env, url: &url::Url) -> Option<String> {
    let gateway = isolate::gateway(env).ok()?;
    let api = gateway.config.management.as_ref()?;
    api.path_within(url.host_str().unwrap_or_default(), url.path())
        .map(str::to_owned)
}

/// The request flow: route, credential, lookup, policy, forward.
async fn gateway(
    req: &web_sys::Request,
    url: &url::Url,
    method: &str,
    env: &Env,
    ctx: &Context,
    outcome: &mut Outcome,
) -> Result<web_sys::Response, Error> {
    let gateway = isolate::gateway(env)?;
    let config = &gateway.config;
    let routed = route::select(config, url.host_str().unwrap_or_default(), url.path())?;
    let product = routed.product;
    outcome.product = Some(product.id.clone());
    outcome.challenge = Some((product.credential.clone(), product.name.clone()));
    let facts = RequestFacts {
        method,
        path: &routed.product_path,
    };
    let now_ms = js_sys::Date::now();
    let now = (now_ms / 1000.0).floor() as i64;

    let authorized: Authorized<'_> = match policy::admit_public(product, facts) {
        Some(public) => public,
        None => {
            let key = credential::present(config, product, &RequestHeaders(&req.headers()))?;
            // A forged key (right shape and checksum, wrong tag) is refused
            // like an unknown one, without a storage read.
            let tagged = crate::key::admit(key, &gateway.key_secret, config.accept_untagged_keys)
                .ok_or(Error::InvalidKey)?;
            outcome.key_tag = Some(tagged.tag().as_str());
            let record = kv::lookup(env, config, &tagged, now_ms, &mut outcome.kv_reads)
                .await?
                .ok_or(Error::InvalidKey)?;
            let key = tagged.key();
            outcome.key_id = Some(record.id.clone());
            match product.consistency {
                Consistency::Edge => {
                    let authorized = policy::authorize(product, key, &record, facts, now)?;
                    outcome.usage_reported = accounts::note_use(env, ctx, &record, now);
                    authorized
                }
                Consistency::Strict => {
                    // A record already revoked, expired or suspended is
                    // refused as it stands, without a round trip.
                    if let Some(refusal) = policy::settled_refusal(product, key, &record, now) {
                        return Err(refusal);
                    }
                    // Otherwise the cached record only names the account and
                    // key; the object's current record decides, in both
                    // directions.
                    outcome.object_calls += 1;
                    let current = accounts::verify(env, &record).await?;
                    let authorized = policy::authorize(product, key, &current, facts, now)?;
                    outcome.usage_reported = accounts::note_use(env, ctx, &current, now);
                    authorized
                }
            }
        }
    };

    let plan = forward::plan(&authorized, url.query(), now, &gateway.secret);
    upstream::send(config, req, &authorized, &plan).await
}
