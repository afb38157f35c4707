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
use crate::leak::github_keys::{Decision, KeyCache};
use crate::leak::gitlab::{self, BearerToken};
use crate::leak::respond::LeakReport;
use crate::leak::{LeakError, Route};
use crate::manage::Op;
use crate::secret::ApiKey;
use crate::webhook::api::HookOp;
use crate::Error;

/// The document fetch's time limit.
const FETCH_TIMEOUT_MS: u64 = 10_000;

thread_local! {
    static KEYS: RefCell<Option<KeyCache<PublicKeys>>> = const { RefCell::new(None) };
}

/// Why the document could not be had: the fetch failed, or no fetch may
/// start yet and no earlier copy is held.
struct KeysUnavailable {
    retry_after_ms: f64,
}

impl From<KeysUnavailable> for Error {
    fn from(why: KeysUnavailable) -> Error {
        let seconds = (why.retry_after_ms / 1000.0).ceil().clamp(1.0, 3600.0);
        Error::GithubKeysUnavailable {
            retry_after: seconds as u32,
        }
    }
}

fn leak_error(error: LeakError) -> Error {
    match error {
        LeakError::Unauthenticated(_) | LeakError::UnknownKey => Error::Unauthorized,
        LeakError::BadKeyDocument(why) => {
            console_error!("leaks: the public-key document is unusable: {why}");
            Error::GithubKeysUnavailable { retry_after: 60 }
        }
        LeakError::TooLarge { limit } => Error::BodyTooLarge { limit },
        LeakError::Malformed(reason) => Error::InvalidJson { reason },
    }
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
            // Each key once, however often the request lists it.
            let grouped = crate::leak::group(revokes.iter().map(|r| &r.token));
            for (first, occurrences) in grouped.groups {
                let Some(revoke) = revokes.get(first) else {
                    continue;
                };
                let location = revoke.location.clone();
                act(env, &revoke.token, "gitlab", location, None, occurrences).await?;
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
    // Each key is acted on once per report, with how often it is listed;
    // every entry naming it gets its label.
    let grouped = crate::leak::group(reports.iter().map(|r| &r.token));
    let mut group_labels = Vec::with_capacity(grouped.groups.len());
    for &(first, occurrences) in &grouped.groups {
        let Some(report) = reports.get(first) else {
            group_labels.push(Label::FalsePositive);
            continue;
        };
        let label = act(
            env,
            &report.token,
            "github",
            report.url.clone(),
            report.source.clone(),
            occurrences,
        )
        .await?;
        group_labels.push(label);
    }
    let mut entries = grouped.group_of.into_iter();
    let findings = github::answer(&reports, |_| {
        entries
            .next()
            .and_then(|g| group_labels.get(g).copied())
            .unwrap_or(Label::FalsePositive)
    });
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
    occurrences: u32,
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
                    occurrences,
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

/// GitHub's public keys from `url`, as the isolate's [`KeyCache`]
/// decides: cached, the last good copy while a fetch may not start, or
/// fetched; `unknown_key` when the copy in use lacks the report's key.
async fn public_keys(url: &str, unknown_key: bool) -> Result<PublicKeys, Error> {
    let now = js_sys::Date::now();
    let decision = KEYS.with(|cell| {
        let mut cell = cell.borrow_mut();
        let cache = match cell.as_mut() {
            Some(cache) if cache.url() == url => cache,
            _ => cell.insert(KeyCache::new(url)),
        };
        cache.decide(now, unknown_key)
    });
    match decision {
        Decision::Use(keys) => return Ok(keys),
        Decision::Unavailable { retry_after_ms } => {
            return Err(KeysUnavailable { retry_after_ms }.into())
        }
        Decision::Fetch => {}
    }
    let fetched = fetch_keys(url).await;
    KEYS.with(|cell| {
        let mut cell = cell.borrow_mut();
        let Some(cache) = cell.as_mut().filter(|c| c.url() == url) else {
            return fetched.map_err(|why| {
                console_error!("leaks: cannot fetch the public-key document: {why}");
                KeysUnavailable {
                    retry_after_ms: crate::leak::github_keys::MIN_BACKOFF_MS,
                }
                .into()
            });
        };
        match fetched {
            Ok(keys) => {
                cache.fetched(keys.clone(), now);
                Ok(keys)
            }
            Err(why) => {
                let retry_after_ms = cache.failed();
                console_error!(
                    "leaks: cannot fetch the public-key document ({} failed in a row; next \
                     try in {} s, the last good copy serving meanwhile): {why}",
                    cache.failures(),
                    retry_after_ms / 1000.0
                );
                // The last good copy serves (a key it lacks is unknown: 401).
                cache
                    .last_good()
                    .ok_or_else(|| KeysUnavailable { retry_after_ms }.into())
            }
        }
    })
}

/// Fetches and parses the document; the error says why, for the log.
async fn fetch_keys(url: &str) -> Result<PublicKeys, String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    let fetch = Fetch::Url(parsed);
    let send = fetch.send();
    let timer = Delay::from(Duration::from_millis(FETCH_TIMEOUT_MS));
    pin_mut!(send);
    pin_mut!(timer);
    let mut response = match select(send, timer).await {
        Either::Left((Ok(response), _)) => response,
        Either::Left((Err(e), _)) => return Err(e.to_string()),
        Either::Right(_) => return Err("timed out".to_owned()),
    };
    if response.status_code() != 200 {
        return Err(format!("status {}", response.status_code()));
    }
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    PublicKeys::parse(&bytes).map_err(|e| match e {
        LeakError::BadKeyDocument(why) => format!("unusable: {why}"),
        other => format!("unusable: {other:?}"),
    })
}
