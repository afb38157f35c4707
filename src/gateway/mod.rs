//! The gateway Worker's adapter (`--features gateway`): fetch → route →
//! credential → KV → policy → forward, and nothing else.
//!
//! It reads the request, hands it to the pure core, and carries out the
//! core's decision: this file's request flow, the record [`lookup`]
//! through the isolate caches, [`upstream`] forwarding, [`cors`] and
//! [`websocket`] proxying, the [`strict`]-mode and usage calls to an
//! account's object and the [`bounded`]-mode verdicts held from it, the [`verify`] endpoint, and the [`handoff`] of
//! management requests to the control Worker. The platform pieces it
//! shares with the control Worker are [`crate::runtime`]'s.
//!
//! Invariants: every
//! refusal is a problem+json response built here (the runtime's plain-text
//! 500 could appear only if no `Response` could be constructed at all); a
//! request is forwarded only with an [`Authorized`] from the policy; any
//! storage or configuration fault refuses the request. `latency_ms` in the
//! log follows the Workers clock, which advances across I/O only.

mod bounded;
mod cors;
mod handoff;
mod lookup;
mod strict;
mod upstream;
mod verify;
mod websocket;

use worker::{event, js_sys, wasm_bindgen::JsCast, web_sys, Context, Env};

use crate::config::{Consistency, LogLevel};
use crate::credential::{self, HeaderLookup};
use crate::log_line::elapsed_ms;
use crate::path;
use crate::policy::{self, Authorized, RequestFacts};
use crate::runtime::{clock, isolate, log, respond};
use crate::runtime::{management_path, portal_path};
use crate::{forward, route, Error};

/// What the request log line records. Never the key.
#[derive(Default)]
struct Outcome {
    product: Option<String>,
    key_id: Option<String>,
    kv_reads: u32,
    /// Which check let the key through: `current`, `previous`, `untagged`.
    key_tag: Option<&'static str>,
    /// Verdicts asked of an account's Durable Object (strict mode, and
    /// bounded mode when the held verdict is due).
    object_calls: u32,
    usage_reported: bool,
    request_id: Option<String>,
    challenge: Option<(crate::config::Credential, String)>,
    /// The routed product's CORS headers for this request's `Origin`,
    /// added to refusals as to answers.
    cors: Vec<(&'static str, String)>,
}

/// Every request header, read across the JS boundary once: the core
/// judges this list, and forwarding copies from it.
fn collect_headers(headers: &web_sys::Headers) -> Vec<(String, String)> {
    headers
        .entries()
        .into_iter()
        .filter_map(|entry| {
            let pair: js_sys::Array = entry.ok()?.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// The gateway's entry point.
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    let started = clock::millis();
    let method = req.method();
    let url = req.url();
    let parts = path::split_url(&url);
    let canonical = path::canonicalize(parts.path);
    let mut outcome = Outcome::default();
    if let Ok(canonical) = &canonical {
        let within = management_path(&env, parts.authority, canonical)
            .or_else(|| portal_path(&env, parts.authority, canonical).map(|_| String::new()));
        if let Some(within) = within {
            // Verify is data-plane work, answered here; the rest (the
            // management API and the API Keys page) is served by the
            // control Worker, through the service binding.
            let verify = within == crate::verify::VERIFY_PATH;
            let (response, code, kv_reads) = if verify {
                let (response, code, reads) = verify::answer(&req, &env, &ctx).await?;
                (response, std::borrow::Cow::Borrowed(code), Some(reads))
            } else {
                let (response, code) = handoff::to_control(&req, &env).await?;
                (response, code, None)
            };
            if log_level(&env) != LogLevel::Off {
                let request_id = response.headers().get("Keygate-Request-Id").ok().flatten();
                let line = crate::log_line::Line::new()
                    .str("api", if verify { "verify" } else { "management" })
                    .str("method", &method)
                    .str("path", canonical.as_str())
                    .str("outcome", &code)
                    .num("status", u64::from(response.status()))
                    .opt_str("request_id", request_id.as_deref());
                let line = match kv_reads {
                    Some(reads) => line.num("kv_reads", u64::from(reads)),
                    None => line,
                };
                log::write(
                    line.num("latency_ms", elapsed_ms(started, clock::millis()))
                        .finish(),
                );
            }
            return Ok(response);
        }
    }
    let request = Incoming {
        req: &req,
        method: &method,
        headers: collect_headers(&req.headers()),
        authority: parts.authority,
        query: parts.query,
    };
    let result = gateway(&request, canonical.as_ref(), &env, &ctx, &mut outcome).await;
    let (response, code) = match result {
        Ok(response) => (Ok(response), "forwarded"),
        Err(error) => {
            let challenge = outcome.challenge.as_ref().map(|(credential, name)| {
                let presented = !matches!(error, Error::MissingKey { .. });
                credential.challenge(name, presented)
            });
            let problem = respond::problem(&error, challenge).and_then(|response| {
                cors::add_to_own(&response, &outcome.cors)?;
                Ok(response)
            });
            (problem, error.code())
        }
    };
    if log_level(&env).logs(code == "forwarded") {
        let status = response.as_ref().map_or(500, web_sys::Response::status);
        log::write(
            crate::log_line::Line::new()
                .opt_str("product", outcome.product.as_deref())
                .opt_str("key_id", outcome.key_id.as_deref())
                .str("method", &method)
                // Path only: a query string may carry client secrets.
                .str(
                    "path",
                    canonical
                        .as_ref()
                        .map_or(parts.path, path::CanonicalPath::as_str),
                )
                .str("outcome", code)
                .num("kv_reads", u64::from(outcome.kv_reads))
                .opt_str("key_tag", outcome.key_tag)
                .num("object_calls", u64::from(outcome.object_calls))
                .bool("usage_reported", outcome.usage_reported)
                .opt_str("request_id", outcome.request_id.as_deref())
                .num("status", u64::from(status))
                .num("latency_ms", elapsed_ms(started, clock::millis()))
                .finish(),
        );
    }
    response
}

/// The request log setting; `all` while the configuration is invalid, so
/// its refusals are logged.
fn log_level(env: &Env) -> LogLevel {
    isolate::state(env).map_or(LogLevel::All, |g| g.config.log)
}

/// The incoming request, as the gateway reads it.
struct Incoming<'r> {
    req: &'r web_sys::Request,
    method: &'r str,
    headers: Vec<(String, String)>,
    authority: &'r str,
    query: Option<&'r str>,
}

/// The request flow: refuse what no rule can judge, then route,
/// credential, lookup, policy, forward.
async fn gateway(
    request: &Incoming<'_>,
    canonical: Result<&path::CanonicalPath, &path::PathError>,
    env: &Env,
    ctx: &Context,
    outcome: &mut Outcome,
) -> Result<web_sys::Response, Error> {
    let gateway = isolate::state(env)?;
    let config = &gateway.config;
    let method = request.method;
    if policy::is_refused_method(method) {
        return Err(Error::MethodNotAllowed {
            allow: policy::GATEWAY_METHODS,
        });
    }
    if let Some(header) = forward::override_header(request.headers.iter().map(|(n, _)| n.as_str()))
    {
        return Err(Error::OverrideHeader {
            header: header.to_owned(),
        });
    }
    if forward::overrides_method_in_query(request.query) {
        return Err(Error::OverrideHeader {
            header: "_method query parameter".to_owned(),
        });
    }
    let canonical = canonical.map_err(|e| Error::MalformedPath { reason: e.reason() })?;
    let routed = route::select(config, request.authority, canonical)?;
    let product = routed.product;
    outcome.product = Some(product.id.clone());
    outcome.challenge = Some((product.credential.clone(), product.name.clone()));
    let origin = request.headers.as_slice().header("Origin");
    if let crate::cors::Cors::Edge(cors_policy) = &product.cors {
        if crate::cors::is_preflight(method, request.headers.as_slice()) {
            // From configuration alone: no key, no storage read.
            return cors::preflight(cors_policy, origin.as_deref()).map_err(|_| {
                Error::Misconfigured {
                    what: "cannot build a preflight answer".to_owned(),
                }
            });
        }
        outcome.cors = cors_policy.response_headers(origin.as_deref());
    }
    // The client's address from CF-Connecting-IP only, judged by the key's
    // IP allowlist and sent signed as Keygate-Client-Ip.
    let client = crate::proxy_headers::client_addr(&request.headers);
    let facts = RequestFacts {
        method,
        path: &routed.product_path,
        client,
    };
    let upgrade = crate::websocket::is_upgrade(request.headers.as_slice());
    let located =
        upgrade.then(|| crate::websocket::locate(product, &request.headers, request.query));
    let key_headers = located
        .as_ref()
        .map_or(request.headers.as_slice(), |l| l.headers.as_slice());
    let query = match &located {
        Some(located) => located.query.as_deref(),
        None => request.query,
    };
    let now_ms = clock::millis();
    let now = clock::seconds(now_ms);

    let admitted = policy::admit_public(product, facts)
        .or_else(|| policy::admit_preflight(product, facts, request.headers.as_slice()));
    let authorized: Authorized<'_> = match admitted {
        Some(public) => public,
        None => {
            let key = credential::present(config, product, key_headers)?;
            // A forged key (right shape and checksum, wrong tag) is refused
            // like an unknown one, without a storage read.
            let tagged = crate::key::admit(key, &gateway.key_secret, config.accept_untagged_keys)
                .ok_or(Error::InvalidKey)?;
            outcome.key_tag = Some(tagged.tag().as_str());
            let record = lookup::lookup(env, config, &tagged, now_ms, &mut outcome.kv_reads)
                .await?
                .ok_or(Error::InvalidKey)?;
            let key = tagged.key();
            outcome.key_id = Some(record.id.clone());
            match product.consistency {
                Consistency::Edge => {
                    let authorized = policy::authorize(product, key, &record, facts, now)?;
                    outcome.usage_reported = strict::note_use(env, ctx, &record, now);
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
                    let current = strict::verify(env, &record).await?;
                    let authorized = policy::authorize(product, key, &current, facts, now)?;
                    outcome.usage_reported = strict::note_use(env, ctx, &current, now);
                    authorized
                }
                Consistency::Bounded {
                    max_staleness_seconds,
                } => {
                    // As in strict mode, a settled refusal needs no verdict.
                    if let Some(refusal) = policy::settled_refusal(product, key, &record, now) {
                        return Err(refusal);
                    }
                    // The object's verdict, held here for at most
                    // max_staleness_seconds, decides in both directions.
                    let current = bounded::verdict(
                        env,
                        &record,
                        max_staleness_seconds,
                        &mut outcome.object_calls,
                    )
                    .await?;
                    let authorized = policy::authorize(product, key, &current, facts, now)?;
                    outcome.usage_reported = strict::note_use(env, ctx, &current, now);
                    authorized
                }
            }
        }
    };

    let key = gateway
        .key(&authorized.product().id)
        .ok_or_else(|| Error::Misconfigured {
            what: format!("no signing key for {}", authorized.product().id),
        })?;
    let request_id = respond::request_id()?;
    outcome.request_id = Some(request_id.clone());
    let client_ip = client.map(|ip| ip.to_string());
    let stamp = forward::Stamp {
        now,
        request_id: &request_id,
        key,
        client_ip: client_ip.as_deref(),
    };
    if let Some(located) = &located {
        let plan = forward::plan(&authorized, query, &forward::BodyFacts::default(), &stamp)?;
        let protocols = located.protocols.as_deref();
        return websocket::proxy(config, &request.headers, &authorized, &plan, protocols).await;
    }
    let prepared =
        upstream::prepare_body(config, request.req, &request.headers, &authorized).await?;
    let plan = forward::plan(&authorized, query, &prepared.facts(), &stamp)?;
    let response = upstream::send(
        config,
        request.req,
        &request.headers,
        &authorized,
        &plan,
        prepared.body,
    )
    .await?;
    if outcome.cors.is_empty() {
        return Ok(response);
    }
    cors::add_to_forwarded(response, &outcome.cors).map_err(|_| Error::UpstreamUnavailable {
        product: product.name.clone(),
    })
}
