//! Leak response, the pure part: secret scanners report keys found in
//! public, and keygate answers which are its own live keys, then revokes or
//! flags them by the product's [`OnLeak`] policy.
//!
//! * [`github`]: GitHub's secret scanning partner program — the report, its
//!   ECDSA P-256 signature checked against GitHub's public-key document,
//!   and the `{token_hash, token_type, label}` answer.
//! * [`gitlab`]: GitLab's token revocation API — the revocable types and
//!   the revoke request.
//!
//! Pure: no I/O. The edge fetches (and caches) the public-key document,
//! looks each reported key up and performs the revocation. Invariants: a
//! report is parsed only after its signature (GitHub) or bearer token
//! (GitLab) checked out; reported keys are held as [`crate::secret::ApiKey`]
//! (never printed) and answered by their SHA-256 only; every input is
//! bounded before it is read.

pub mod github;
pub mod github_keys;
pub mod gitlab;
pub mod respond;

/// What keygate does with a live key that was reported leaked: the
/// product's `on_leak` (defined in [`crate::config`], which the gateway
/// also validates).
pub type OnLeak = crate::config::OnExposure;

/// What the `key.leaked` event says was done under `policy`.
pub fn action(policy: OnLeak) -> crate::webhook::event::LeakAction {
    match policy {
        OnLeak::Revoke => crate::webhook::event::LeakAction::Revoked,
        OnLeak::Flag => crate::webhook::event::LeakAction::Flagged,
    }
}

/// A leak endpoint, under the management prefix; each takes its
/// reporter's own credential, not the admin token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /leaks/github`.
    Github,
    /// `GET /leaks/gitlab/revocable_token_types`.
    GitlabTypes,
    /// `POST /leaks/gitlab/revoke_tokens`.
    GitlabRevoke,
}

impl Route {
    /// The leak endpoint at `path` (after the management prefix), if any.
    pub fn of(path: &str) -> Option<Route> {
        match path {
            "/leaks/github" => Some(Route::Github),
            "/leaks/gitlab/revocable_token_types" => Some(Route::GitlabTypes),
            "/leaks/gitlab/revoke_tokens" => Some(Route::GitlabRevoke),
            _ => None,
        }
    }

    /// The one method it answers (others get 405).
    pub fn method(self) -> &'static str {
        match self {
            Route::GitlabTypes => "GET",
            Route::Github | Route::GitlabRevoke => "POST",
        }
    }
}

/// A scanner report's entries grouped by token, so that each key is acted
/// on once per report however often the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouped {
    /// For each entry, in order, the index of its group.
    pub group_of: Vec<usize>,
    /// For each group: its first entry and how many entries name its token.
    pub groups: Vec<(usize, u32)>,
}

/// Groups `tokens` (a report's, in order) by their SHA-256, never by
/// printing them.
pub fn group<'a>(tokens: impl IntoIterator<Item = &'a crate::secret::ApiKey>) -> Grouped {
    let mut hashes: Vec<crate::key::KeyHash> = Vec::new();
    let mut grouped = Grouped {
        group_of: Vec::new(),
        groups: Vec::new(),
    };
    for (entry, token) in tokens.into_iter().enumerate() {
        let hash = crate::key::KeyHash::of(token);
        let index = match hashes.iter().position(|h| *h == hash) {
            Some(index) => index,
            None => {
                hashes.push(hash);
                grouped.groups.push((entry, 0));
                hashes.len() - 1
            }
        };
        if let Some((_, count)) = grouped.groups.get_mut(index) {
            *count = count.saturating_add(1);
        }
        grouped.group_of.push(index);
    }
    grouped
}

/// Why a leak report was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeakError {
    /// The signature or bearer token is missing or does not verify. (401)
    Unauthenticated(&'static str),
    /// The signing key named by `Github-Public-Key-Identifier` is not in
    /// the public-key document: refetch it once, then refuse. (401)
    UnknownKey,
    /// The public-key document is malformed. (503: the reporter retries)
    BadKeyDocument(String),
    /// The body is over its bound. (413)
    TooLarge {
        /// The bound, in bytes.
        limit: usize,
    },
    /// The body is not the expected JSON; what is wrong, never the
    /// body. (400)
    Malformed(String),
}

impl LeakError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            LeakError::Unauthenticated(_) | LeakError::UnknownKey => 401,
            LeakError::BadKeyDocument(_) => 503,
            LeakError::TooLarge { .. } => 413,
            LeakError::Malformed(_) => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_leak_defaults_to_revoke_and_names_its_action() {
        assert_eq!(OnLeak::default(), OnLeak::Revoke);
        assert_eq!(action(OnLeak::Flag).as_str(), "flagged");
        assert_eq!(action(OnLeak::Revoke).as_str(), "revoked");
        assert_eq!(LeakError::UnknownKey.status(), 401);
        assert_eq!(LeakError::TooLarge { limit: 1 }.status(), 413);
    }

    /// Issue 18 (Low 5): a report listing a token 50 times acts once,
    /// with the count.
    #[test]
    fn a_report_is_grouped_by_token() {
        use crate::secret::ApiKey;
        let a = ApiKey::new("fai_live_a");
        let b = ApiKey::new("fai_live_b");
        let mut tokens = vec![&a; 50];
        tokens.insert(1, &b);
        tokens.push(&b);
        let grouped = group(tokens.iter().copied());
        assert_eq!(grouped.groups, vec![(0, 50), (1, 2)]);
        assert_eq!(grouped.group_of.len(), 52);
        assert_eq!(grouped.group_of[0], 0);
        assert_eq!(grouped.group_of[1], 1);
        assert_eq!(grouped.group_of[51], 1);
        assert_eq!(group(std::iter::empty()).groups, vec![]);
    }

    #[test]
    fn routes_are_exact() {
        assert_eq!(Route::of("/leaks/github"), Some(Route::Github));
        assert_eq!(Route::of("/leaks/github/"), None);
        assert_eq!(Route::of("/leaks/GitHub"), None);
        assert_eq!(Route::GitlabTypes.method(), "GET");
    }
}
