//! The gateway's verify endpoint, `POST {prefix}/verify`: answered here,
//! never handed to the control Worker, since it is data-plane work.
//!
//! Invariants: only the verifier token of the product the body names is
//! accepted (a digest compared in constant time; the admin token and other
//! products' tokens are refused alike); a malformed, foreign or forged key
//! costs no storage read, any other at most one KV read (none while the
//! isolate caches the record) and, for `consistency = "strict"`, one call
//! to the account's object (for `"bounded"`, one when its held verdict is
//! due); the verdict comes from the edge's own policy
//! ([`crate::verify`]); a valid key's use is reported as the edge reports
//! it. Every answer carries a request id.

use worker::{web_sys, Context, Env};

use super::bounded;
use super::lookup;
use super::strict;
use crate::config::Consistency;
use crate::runtime::{clock, isolate, respond};
use crate::secret::VerifierToken;
use crate::verify::{self, BODY_LIMIT};
use crate::Error;

/// `WWW-Authenticate` on a refused token.
const CHALLENGE: &str = "Bearer realm=\"keygate verify\"";

/// The answer to a verify request, and for the log line the outcome and
/// the KV reads made.
pub(super) async fn answer(
    req: &web_sys::Request,
    env: &Env,
    ctx: &Context,
) -> worker::Result<(web_sys::Response, &'static str, u32)> {
    let request_id = respond::request_id().ok();
    let mut reads = 0;
    let result = run(req, env, ctx, &mut reads).await;
    let (response, code) = match result {
        Ok((body, valid)) => (
            json(&body, request_id.as_deref())?,
            if valid { "valid" } else { "invalid" },
        ),
        Err(error) => {
            let response = match &request_id {
                Some(id) => respond::problem_with_id(&error, id)?,
                None => respond::problem(&error, None)?,
            };
            if matches!(error, Error::VerifierUnauthorized) {
                response.headers().set("WWW-Authenticate", CHALLENGE)?;
            }
            (response, error.code())
        }
    };
    Ok((response, code, reads))
}

async fn run(
    req: &web_sys::Request,
    env: &Env,
    ctx: &Context,
    reads: &mut u32,
) -> Result<(serde_json::Value, bool), Error> {
    if req.method() != "POST" {
        return Err(Error::MethodNotAllowed { allow: "POST" });
    }
    let gateway = isolate::state(env)?;
    let config = &gateway.config;
    let headers = req.headers();
    let content_type = headers.get("Content-Type").ok().flatten();
    verify::json_media_type(content_type.as_deref())?;
    let body = match req.body() {
        Some(stream) => {
            let limit = u64::try_from(BODY_LIMIT).unwrap_or(u64::MAX);
            super::upstream::read_limited(&stream, limit).await?
        }
        None => Vec::new(),
    };
    let request = verify::parse_request(content_type.as_deref(), &body)?;

    // The product's own token, and nothing else. An unknown product or one
    // without a verifier is refused the same way, so the answer tells a
    // caller without a token nothing.
    let product = config
        .product(&request.product)
        .ok_or(Error::VerifierUnauthorized)?;
    let secret_name = product
        .verifier_token_secret
        .as_deref()
        .ok_or(Error::VerifierUnauthorized)?;
    let token = env
        .secret(secret_name)
        .map_err(|_| Error::Misconfigured {
            what: format!(
                "the Worker secret {secret_name} (products[{}].verifier_token_secret) is not set",
                product.id
            ),
        })
        .and_then(|raw| {
            VerifierToken::new(&raw.to_string()).map_err(|e| Error::Misconfigured {
                what: format!("{secret_name}: {e}"),
            })
        })?;
    let authorization = headers.get("Authorization").ok().flatten();
    if !token.admits(authorization.as_deref()) {
        return Err(Error::VerifierUnauthorized);
    }

    let facts = verify::request_facts(product, request.method.as_deref(), request.path.as_deref())?;
    let now_ms = clock::millis();
    let now = clock::seconds(now_ms);
    let refused = |error: Error| Ok((verify::verdict(&Err(error), None, now), false));
    if let Some(refusal) = verify::method_refusal(facts.as_ref()) {
        return refused(refusal);
    }

    let key = match verify::screen(config, product, &request.key) {
        Ok(key) => key,
        Err(error) => return refused(error),
    };
    let Some(tagged) = crate::key::admit(key, &gateway.key_secret, config.accept_untagged_keys)
    else {
        return refused(Error::InvalidKey);
    };
    let Some(record) = lookup::lookup(env, config, &tagged, now_ms, reads).await? else {
        return refused(Error::InvalidKey);
    };
    let key = tagged.key();
    let record = match product.consistency {
        Consistency::Edge => (*record).clone(),
        Consistency::Strict => {
            // As at the edge: a settled refusal needs no round trip.
            if let Some(refusal) = crate::policy::settled_refusal(product, key, &record, now) {
                let outcome = Err(refusal);
                return Ok((verify::verdict(&outcome, Some(&record), now), false));
            }
            match strict::verify(env, &record).await {
                Ok(current) => current,
                Err(Error::InvalidKey) => return refused(Error::InvalidKey),
                Err(error) => return Err(error),
            }
        }
        Consistency::Bounded {
            max_staleness_seconds,
        } => {
            if let Some(refusal) = crate::policy::settled_refusal(product, key, &record, now) {
                let outcome = Err(refusal);
                return Ok((verify::verdict(&outcome, Some(&record), now), false));
            }
            let mut calls = 0;
            match bounded::verdict(env, &record, max_staleness_seconds, &mut calls).await {
                Ok(current) => (*current).clone(),
                Err(Error::InvalidKey) => return refused(Error::InvalidKey),
                Err(error) => return Err(error),
            }
        }
    };
    let outcome = verify::judge(
        product,
        key,
        &record,
        facts.as_ref(),
        request.client_ip,
        now,
    );
    if outcome.is_ok() {
        strict::note_use(env, ctx, &record, now);
    }
    let valid = outcome.is_ok();
    Ok((verify::verdict(&outcome, Some(&record), now), valid))
}

fn json(body: &serde_json::Value, request_id: Option<&str>) -> worker::Result<web_sys::Response> {
    let headers = web_sys::Headers::new()?;
    headers.set("Content-Type", "application/json")?;
    headers.set("Cache-Control", "no-store")?;
    if let Some(id) = request_id {
        headers.set(crate::forward::headers::REQUEST_ID, id)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(200);
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_str_and_init(Some(&body.to_string()), &init)
        .map_err(worker::Error::from)
}
