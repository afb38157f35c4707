//! The leak endpoints under the management prefix: GitHub's secret
//! scanning partner endpoint (`POST …/leaks/github`) and GitLab's token
//! revocation API (`GET …/leaks/gitlab/revocable_token_types`, `POST
//! …/leaks/gitlab/revoke_tokens`).
//!
//! Invariants: these routes take no admin token; a GitHub report is read
//! only after its ECDSA signature verifies ([`github::verify`]) with a key
//! from the configured public-key document (cached per isolate for an
//! hour, refetched at most once a minute when a report names a key it
//! lacks), and a GitLab request only after its bearer token matches the
//! configured Worker secret, compared as a digest; the body is bounded
//! before it is kept; a reported token is never logged or echoed (the
//! answer names it by its SHA-256); a reported key is found by its hash
//! and acted on in its account's object ([`crate::leak::respond`]), so a
//! revocation is the management API's own.

use std::cell::RefCell;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::pin_mut;
use worker::{console_error, js_sys, web_sys, Delay, Env, Fetch};

use super::account::{Call, OP_PATH};
use super::{accounts, isolate, kv};
use crate::leak::github::{self, Label, PublicKeys};
use crate::leak::gitlab::{self, BearerToken};
use crate::leak::respond::LeakReport;
use crate::leak::{LeakError, Route};
use crate::manage::Op;
use crate::secret::ApiKey;
use crate::webhook::api::HookOp;
use crate::Error;

/// How long a fetched public-key document is used.
const KEYS_TTL_MS: f64 = 3_600_000.0;
/// The least time between two fetches of the document.
const REFETCH_AFTER_MS: f64 = 60_000.0;
/// The document fetch's time limit.
const FETCH_TIMEOUT_MS: u64 = 10_000;

struct Cached {
    url: String,
    fetched_at: f64,
    keys: PublicKeys,
}

thread_local! {
    static KEYS: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

fn leak_error(error: LeakError) -> Error {
    if let LeakError::BadKeyDocument(why) = &error {
        console_error!("leaks: the public-key document is unusable: {why}");
    }
    error.into()
}

/// Answers a leak endpoint: status and JSON body.
pub(super) async fn serve(
    req: &web_sys::Request,
    method: &str,
    route: Route,
    env: &Env,
) -> Result<(u16, String), Error> {
    let allow = route.method();
    if method != allow {
        return Err(Error::MethodNotAllowed { allow });
    }
    match route {
        Route::Github => github_report(req, env).await,
        Route::GitlabTypes => {
            let authenticated = gitlab_auth(req, env)?;
            let types = gitlab_types(env)?;
            Ok((
                200,
                gitlab::revocable_token_types(authenticated, &types).to_string(),
            ))
        }
        Route::GitlabRevoke => {
            let authenticated = gitlab_auth(req, env)?;
            let types = gitlab_types(env)?;
            let body = super::management::read_capped(req, gitlab::MAX_BODY_BYTES).await?;
            let revokes = gitlab::parse_revoke(authenticated, &body, &types).map_err(leak_error)?;
            for revoke in revokes {
                act(env, &revoke.token, "gitlab", revoke.location, None).await?;
            }
            Ok((204, String::new()))
        }
    }
}

async fn github_report(req: &web_sys::Request, env: &Env) -> Result<(u16, String), Error> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let identifier = header(github::KEY_ID_HEADER);
    let signature = header(github::SIGNATURE_HEADER);
    // Unsigned: refused before the body or the key document is fetched.
    if identifier.is_none() || signature.is_none() {
        return Err(Error::Unauthorized);
    }
    let body = super::management::read_capped(req, github::MAX_BODY_BYTES).await?;
    let gateway = isolate::gateway(env)?;
    let url = gateway.config.hooks.github_keys_url.clone();
    let mut keys = public_keys(&url, false).await?;
    let verified =
        match github::verify(&keys, identifier.as_deref(), signature.as_deref(), &body) {
            Err(LeakError::UnknownKey) => {
                // GitHub may have rotated its key: fetch the document again.
                keys = public_keys(&url, true).await?;
                github::verify(&keys, identifier.as_deref(), signature.as_deref(), &body)
            }
            other => other,
        }
        .map_err(leak_error)?;
    let reports = github::parse(verified).map_err(leak_error)?;
    let mut labels = Vec::with_capacity(reports.len());
    for report in &reports {
        let label = act(
            env,
            &report.token,
            "github",
            report.url.clone(),
            report.source.clone(),
        )
        .await?;
        labels.push(label);
    }
    let mut labels = labels.into_iter();
    let findings = github::answer(&reports, |_| labels.next().unwrap_or(Label::FalsePositive));
    let body = serde_json::to_string(&findings).map_err(|_| Error::StorageUnavailable)?;
    Ok((200, body))
}

/// Finds the reported key and, if it is live, acts on it in its account.
async fn act(
    env: &Env,
    token: &ApiKey,
    reporter: &str,
    url: Option<String>,
    source: Option<String>,
) -> Result<Label, Error> {
    let gateway = isolate::gateway(env)?;
    let Ok(key) = crate::key::parse(token) else {
        return Ok(Label::FalsePositive);
    };
    // A forged key is unknown without a read, as at the edge.
    let Some(tagged) = crate::key::admit(
        key,
        &gateway.key_secret,
        gateway.config.accept_untagged_keys,
    ) else {
        return Ok(Label::FalsePositive);
    };
    let Some(record) = kv::read(env, &tagged).await? else {
        return Ok(Label::FalsePositive);
    };
    let call = Call {
        account: record.account.clone(),
        op: Op::Hook {
            call: HookOp::Leaked {
                report: LeakReport {
                    key_id: record.id.clone(),
                    reporter: reporter.to_owned(),
                    url,
                    source,
                },
            },
        },
    };
    let body = serde_json::to_string(&call).map_err(|_| Error::StorageUnavailable)?;
    let answer = accounts::send(env, &record.account, OP_PATH, &body, &gateway.digest).await?;
    if answer.status != 200 {
        console_error!("leaks: the account object answered {}", answer.status);
        return Err(Error::StorageUnavailable);
    }
    let live = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .is_some_and(|v| v.get("label").and_then(|l| l.as_str()) == Some("true_positive"));
    Ok(if live {
        Label::TruePositive
    } else {
        Label::FalsePositive
    })
}

fn gitlab_auth(req: &web_sys::Request, env: &Env) -> Result<gitlab::Authenticated, Error> {
    let gateway = isolate::gateway(env)?;
    let name = &gateway.config.hooks.gitlab_token_secret;
    let token = env
        .secret(name)
        .ok()
        .and_then(|s| BearerToken::new(&s.to_string()).ok());
    let Some(token) = token else {
        console_error!(
            "leaks: the Worker secret {name} is missing or too short; GitLab is refused"
        );
        return Err(Error::Unauthorized);
    };
    let authorization = req.headers().get("Authorization").ok().flatten();
    gitlab::authenticate(&token, authorization.as_deref()).map_err(leak_error)
}

fn gitlab_types(env: &Env) -> Result<Vec<String>, Error> {
    let gateway = isolate::gateway(env)?;
    Ok(gateway
        .config
        .products
        .iter()
        .map(|p| gitlab::token_type(&p.prefix))
        .collect())
}

/// GitHub's public keys from `url`: cached, or fetched when the cache is
/// stale, for another URL, or `refresh` is asked and the last fetch is
/// over a minute old.
async fn public_keys(url: &str, refresh: bool) -> Result<PublicKeys, Error> {
    let now = js_sys::Date::now();
    let cached = KEYS.with(|cell| {
        cell.borrow().as_ref().and_then(|c| {
            let age = now - c.fetched_at;
            let fresh = c.url == url && age < KEYS_TTL_MS && !(refresh && age >= REFETCH_AFTER_MS);
            fresh.then(|| c.keys.clone())
        })
    });
    if let Some(keys) = cached {
        return Ok(keys);
    }
    let keys = fetch_keys(url).await?;
    KEYS.with(|cell| {
        *cell.borrow_mut() = Some(Cached {
            url: url.to_owned(),
            fetched_at: now,
            keys: keys.clone(),
        });
    });
    Ok(keys)
}

async fn fetch_keys(url: &str) -> Result<PublicKeys, Error> {
    let unavailable = |why: String| {
        console_error!("leaks: cannot fetch the public-key document: {why}");
        Error::StorageUnavailable
    };
    let parsed = url::Url::parse(url).map_err(|e| unavailable(e.to_string()))?;
    let fetch = Fetch::Url(parsed);
    let send = fetch.send();
    let timer = Delay::from(Duration::from_millis(FETCH_TIMEOUT_MS));
    pin_mut!(send);
    pin_mut!(timer);
    let mut response = match select(send, timer).await {
        Either::Left((Ok(response), _)) => response,
        Either::Left((Err(e), _)) => return Err(unavailable(e.to_string())),
        Either::Right(_) => return Err(unavailable("timed out".to_owned())),
    };
    if response.status_code() != 200 {
        return Err(unavailable(format!("status {}", response.status_code())));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    PublicKeys::parse(&bytes).map_err(leak_error)
}
