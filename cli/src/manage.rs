//! `keygate keys | accounts | events`: the management API from the shell.
//!
//! Invariants: the admin token comes only from `KEYGATE_ADMIN_TOKEN` (never
//! a flag, so it stays out of shell history and process lists), and a key
//! to look up only from standard input; neither is ever printed. A failed
//! call exits non-zero with the problem's `code` and `detail`. A new key is
//! printed once, with a warning to store it.

use std::io::{BufRead, Write};
use std::time::Duration;

use clap::{Args, Subcommand};

pub use crate::failure::Failure;
use serde_json::{json, Map, Value};

use crate::table::{record, table, EVENT_COLUMNS, KEY_COLUMNS};

/// The environment variable holding the admin token.
const TOKEN_VAR: &str = "KEYGATE_ADMIN_TOKEN";

/// Where the management API is and how to print its answers: flags of
/// every `keys`, `accounts` and `events` command.
#[derive(Args, Debug, Clone)]
pub struct ApiArgs {
    /// The management API's base URL, prefix included
    /// (e.g. http://127.0.0.1:8787/_keygate/v1).
    #[arg(long, global = true, env = "KEYGATE_URL", hide_env_values = true)]
    url: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

/// The management commands, as `keygate`'s top-level parser holds them.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create, list, change, rotate, revoke and find keys (management API).
    Keys {
        #[command(flatten)]
        api: ApiArgs,
        #[command(subcommand)]
        command: Keys,
    },
    /// Show, suspend or reactivate an account (management API).
    Accounts {
        #[command(flatten)]
        api: ApiArgs,
        #[command(subcommand)]
        command: Accounts,
    },
    /// An account's audit events, newest first (management API).
    Events {
        #[command(flatten)]
        api: ApiArgs,
        /// Account id.
        #[arg(long)]
        account: String,
        /// At most this many (1-100).
        #[arg(long)]
        limit: Option<u32>,
        /// Continue after this cursor (the previous page's next_cursor).
        #[arg(long)]
        cursor: Option<String>,
    },
}

/// One management operation, apart from where the API is.
#[derive(Debug)]
enum Op {
    Keys(Keys),
    Accounts(Accounts),
    Events {
        account: String,
        limit: Option<u32>,
        cursor: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum Keys {
    /// Create a key; it is printed once.
    Create {
        /// Account id.
        #[arg(long)]
        account: String,
        /// Product id (a configured product).
        #[arg(long)]
        product: String,
        /// The key's name (1-64 characters).
        #[arg(long)]
        name: String,
        /// Comma-separated permissions (default: the product's default scopes).
        #[arg(long, value_delimiter = ',')]
        scopes: Option<Vec<String>>,
        /// live or test.
        #[arg(long)]
        environment: Option<String>,
        /// Days until the key expires (1-365).
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// The product's own id for the key's holder.
        #[arg(long)]
        owner_id: Option<String>,
        /// A JSON object.
        #[arg(long)]
        meta: Option<String>,
        /// https URL that receives the key's events.
        #[arg(long)]
        webhook_url: Option<String>,
        /// A client range the key may be used from, as CIDR (203.0.113.0/24,
        /// 2001:db8::/32) or one address; repeat for more (at most 100).
        /// Default: the product's allowed_ips (any address if none).
        #[arg(long = "allowed-ip", value_name = "CIDR")]
        allowed_ips: Vec<String>,
    },
    /// List an account's keys.
    List {
        /// Account id.
        #[arg(long)]
        account: String,
        /// Only keys with this status (active, revoked, expired).
        #[arg(long)]
        status: Option<String>,
        /// Only this product's keys.
        #[arg(long)]
        product: Option<String>,
        /// Only this holder's keys (the product's own id for them).
        #[arg(long)]
        owner_id: Option<String>,
    },
    /// Show one key.
    Get(KeyRef),
    /// Change a key's name, scopes, expiry, meta, IP allowlist, or turn it
    /// off or on.
    Update {
        #[command(flatten)]
        key: KeyRef,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// Comma-separated permissions replacing the key's.
        #[arg(long, value_delimiter = ',')]
        scopes: Option<Vec<String>>,
        /// Days from now until the key expires (1-365).
        #[arg(long, conflicts_with = "no_expiry")]
        expires_in_days: Option<u32>,
        /// Remove the key's expiry.
        #[arg(long)]
        no_expiry: bool,
        /// A JSON object replacing the key's meta ({} removes it).
        #[arg(long)]
        meta: Option<String>,
        /// Turn the key back on.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Turn the key off: refused with disabled_key until turned on.
        #[arg(long)]
        disable: bool,
        /// Replace the key's IP allowlist with these ranges (CIDR or one
        /// address; repeat for more, at most 100).
        #[arg(
            long = "allowed-ip",
            value_name = "CIDR",
            conflicts_with = "clear_allowed_ips"
        )]
        allowed_ips: Vec<String>,
        /// Remove the key's own IP allowlist (the product's applies again).
        #[arg(long)]
        clear_allowed_ips: bool,
    },
    /// Replace a key with a new one; the new key is printed once.
    Rotate {
        #[command(flatten)]
        key: KeyRef,
        /// Seconds the old key keeps working (0-604800).
        #[arg(long, default_value_t = 0)]
        grace_seconds: u32,
    },
    /// Revoke a key.
    Revoke(KeyRef),
    /// Find a key by its value, read from standard input (never a flag).
    Lookup,
    /// Import existing keys from a CSV or JSON Lines file (by plaintext or
    /// SHA-256), with progress on standard error and a summary of what was
    /// imported, already present and refused (with the line and why).
    Import(crate::import::ImportArgs),
}

#[derive(Args, Debug)]
pub struct KeyRef {
    /// Account id.
    #[arg(long)]
    account: String,
    /// Key id (key_…).
    id: String,
}

#[derive(Subcommand, Debug)]
pub enum Accounts {
    /// Show an account.
    Get {
        /// Account id.
        account: String,
    },
    /// Suspend an account: every key is refused until it is reactivated.
    Suspend {
        /// Account id.
        account: String,
    },
    /// Reactivate a suspended account.
    Reactivate {
        /// Account id.
        account: String,
    },
}

/// Runs a management command.
pub fn run(command: Command) -> Result<(), Failure> {
    // A dry run reads the file and the config only: no URL, no token.
    if let Command::Keys {
        command: Keys::Import(args),
        ..
    } = &command
    {
        if args.dry_run {
            let config = crate::load_config(&crate::ConfigArg {
                config: args.config.clone(),
            })?;
            let out = crate::import::dry_run(args, &config)?;
            print!("{out}");
            return Ok(());
        }
    }
    let (api, op) = match command {
        Command::Keys { api, command } => (api, Op::Keys(command)),
        Command::Accounts { api, command } => (api, Op::Accounts(command)),
        Command::Events {
            api,
            account,
            limit,
            cursor,
        } => (
            api,
            Op::Events {
                account,
                limit,
                cursor,
            },
        ),
    };
    let url = api.url.clone().ok_or(
        "--url (or KEYGATE_URL) is required: the management API's base URL, prefix included",
    )?;
    let token = std::env::var(TOKEN_VAR)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or(format!(
            "set {TOKEN_VAR} to the admin token (it is never taken as a flag)"
        ))?;
    let client = Api::new(&url, token)?;
    let out = execute(&client, op, api.json)?;
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| format!("cannot write the output: {e}"))?;
    Ok(())
}

fn execute(api: &Api, command: Op, as_json: bool) -> Result<String, Failure> {
    let shown = |value: Value, text: fn(&Value) -> String| {
        if as_json {
            pretty(&value)
        } else {
            text(&value)
        }
    };
    Ok(match command {
        Op::Keys(Keys::Create {
            account,
            product,
            name,
            scopes,
            environment,
            expires_in_days,
            owner_id,
            meta,
            webhook_url,
            allowed_ips,
        }) => {
            let mut body = Map::new();
            body.insert("product".into(), json!(product));
            body.insert("name".into(), json!(name));
            put(&mut body, "scopes", scopes.map(|s| json!(s)));
            put(&mut body, "environment", environment.map(|e| json!(e)));
            put(
                &mut body,
                "expires_in_days",
                expires_in_days.map(|d| json!(d)),
            );
            put(&mut body, "owner_id", owner_id.map(|o| json!(o)));
            put(
                &mut body,
                "meta",
                meta.as_deref().map(parse_meta).transpose()?,
            );
            put(&mut body, "webhook_url", webhook_url.map(|w| json!(w)));
            if !allowed_ips.is_empty() {
                body.insert("allowed_ips".into(), json!(allowed_ips));
            }
            let created = api.call(
                "POST",
                &keys_path(&account, None),
                Some(Value::Object(body)),
            )?;
            new_key(&created, as_json)
        }
        Op::Keys(Keys::List {
            account,
            status,
            product,
            owner_id,
        }) => {
            let query = query(&[
                ("status", status.as_deref()),
                ("product", product.as_deref()),
                ("owner_id", owner_id.as_deref()),
            ]);
            let path = format!("{}{query}", keys_path(&account, None));
            shown(api.call("GET", &path, None)?, |v| {
                table(&KEY_COLUMNS, list(v, "keys"))
            })
        }
        Op::Keys(Keys::Get(key)) => shown(
            api.call("GET", &keys_path(&key.account, Some(&key.id)), None)?,
            record,
        ),
        Op::Keys(Keys::Update {
            key,
            name,
            scopes,
            expires_in_days,
            no_expiry,
            meta,
            enable,
            disable,
            allowed_ips,
            clear_allowed_ips,
        }) => {
            let mut body = Map::new();
            put(&mut body, "name", name.map(|n| json!(n)));
            put(&mut body, "scopes", scopes.map(|s| json!(s)));
            put(
                &mut body,
                "expires_in_days",
                expires_in_days.map(|d| json!(d)),
            );
            if no_expiry {
                body.insert("expires_at".into(), Value::Null);
            }
            put(
                &mut body,
                "meta",
                meta.as_deref().map(parse_meta).transpose()?,
            );
            if enable || disable {
                body.insert("enabled".into(), json!(enable));
            }
            if clear_allowed_ips || !allowed_ips.is_empty() {
                body.insert("allowed_ips".into(), json!(allowed_ips));
            }
            let path = keys_path(&key.account, Some(&key.id));
            shown(api.call("PATCH", &path, Some(Value::Object(body)))?, record)
        }
        Op::Keys(Keys::Rotate { key, grace_seconds }) => {
            let path = format!("{}/rotate", keys_path(&key.account, Some(&key.id)));
            let body = json!({ "grace_seconds": grace_seconds });
            new_key(&api.call("POST", &path, Some(body))?, as_json)
        }
        Op::Keys(Keys::Revoke(key)) => shown(
            api.call("DELETE", &keys_path(&key.account, Some(&key.id)), None)?,
            record,
        ),
        Op::Keys(Keys::Import(args)) => {
            let path = format!("{}/import", keys_path(&args.account, None));
            let (summary, answers) =
                crate::import::send(&args, &|body| api.call("POST", &path, Some(body)))?;
            if as_json {
                pretty(&json!(answers))
            } else {
                crate::import::summary_text(&summary)
            }
        }
        Op::Keys(Keys::Lookup) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the key from standard input: {e}"))?;
            let key = line.trim();
            if key.is_empty() {
                return Err(
                    "give the key on standard input (e.g. keygate keys lookup < key.txt)"
                        .to_owned()
                        .into(),
                );
            }
            let found = api.call("POST", "/keys/lookup", Some(json!({ "key": key })))?;
            shown(found, |v| {
                let mut text = format!("account: {}\n", crate::table::cell(v.get("account")));
                text.push_str(&record(v.get("key").unwrap_or(&Value::Null)));
                text
            })
        }
        Op::Accounts(op) => {
            let (account, status) = match &op {
                Accounts::Get { account } => (account, None),
                Accounts::Suspend { account } => (account, Some("suspended")),
                Accounts::Reactivate { account } => (account, Some("active")),
            };
            let path = format!("/accounts/{}", segment(account));
            let answer = match status {
                None => api.call("GET", &path, None)?,
                Some(status) => api.call("PATCH", &path, Some(json!({ "status": status })))?,
            };
            shown(answer, record)
        }
        Op::Events {
            account,
            limit,
            cursor,
        } => {
            let limit = limit.map(|l| l.to_string());
            let query = query(&[("limit", limit.as_deref()), ("cursor", cursor.as_deref())]);
            let path = format!("/accounts/{}/events{query}", segment(&account));
            shown(api.call("GET", &path, None)?, |v| {
                let mut text = table(&EVENT_COLUMNS, list(v, "events"));
                if let Some(next) = v.get("next_cursor").and_then(Value::as_str) {
                    text.push_str(&format!("next cursor: {next}\n"));
                }
                text
            })
        }
    })
}

/// A created or rotated key: shown once, with the warning on stderr.
fn new_key(created: &Value, as_json: bool) -> String {
    eprintln!(
        "keygate: this is the only time the key is shown; store it now (a secrets manager, \
         not a file in a repository). keygate keeps only its hash."
    );
    if as_json {
        return pretty(created);
    }
    let mut view = created.clone();
    let key = view
        .as_object_mut()
        .and_then(|o| o.remove("key"))
        .unwrap_or(Value::Null);
    let mut text = format!("key: {}\n\n", crate::table::cell(Some(&key)));
    text.push_str(&record(&view));
    text
}

fn list<'v>(value: &'v Value, member: &str) -> &'v [Value] {
    value
        .get(member)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn put(body: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(value) = value {
        body.insert(name.to_owned(), value);
    }
}

fn parse_meta(text: &str) -> Result<Value, Failure> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(Failure::from(
            "--meta must be a JSON object, e.g. '{\"plan\":\"pro\"}'".to_owned(),
        )),
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

fn keys_path(account: &str, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("/accounts/{}/keys/{}", segment(account), segment(id)),
        None => format!("/accounts/{}/keys", segment(account)),
    }
}

/// A path segment, percent-encoded except for unreserved characters and
/// `:` (which account ids may hold).
pub fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let given: Vec<String> = pairs
        .iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name}={}", segment(v))))
        .collect();
    if given.is_empty() {
        String::new()
    } else {
        format!("?{}", given.join("&"))
    }
}

/// The management API at one base URL, with the admin token.
struct Api {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Api {
    fn new(url: &str, token: String) -> Result<Self, Failure> {
        let base = url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err("--url must be an http:// or https:// URL".to_owned().into());
        }
        if base.starts_with("http://") && !is_loopback(&base) {
            eprintln!(
                "keygate: warning: {base} is plain http; the admin token crosses the network \
                 unencrypted. Use https outside this machine."
            );
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect is shown as the failure it is; the token is never
            // sent on to another address.
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Ok(Api {
            base,
            token: token.trim().to_owned(),
            agent,
        })
    }

    /// The answer's JSON; a problem becomes a [`Failure`] with its code.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Failure> {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.token);
        let sent = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            ("DELETE", _) => self
                .agent
                .delete(&url)
                .header("Authorization", &auth)
                .call(),
            ("PATCH", Some(body)) => self
                .agent
                .patch(&url)
                .header("Authorization", &auth)
                .content_type("application/json")
                .send(body.to_string()),
            (_, body) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .content_type("application/json")
                .send(body.unwrap_or(Value::Null).to_string()),
        };
        let mut response = sent.map_err(|e| Failure {
            message: format!("cannot reach {}: {e}", self.base),
            exit: 3,
        })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("cannot read the answer: {e}"))?;
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                format!("the answer ({status}) is not JSON: is --url the management API?")
            })?
        };
        if status >= 400 {
            return Err(problem(status, &value));
        }
        Ok(value)
    }
}

/// Whether an `http://` URL is on this machine.
fn is_loopback(url: &str) -> bool {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .map_or(host, |h| h.trim_start_matches('['))
    } else {
        host.split(':').next().unwrap_or_default()
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A problem answer as the command's failure: `code: detail`, exit 1.
pub fn problem(status: u16, value: &Value) -> Failure {
    let text = |name: &str| value.get(name).and_then(Value::as_str).unwrap_or("");
    let code = match text("code") {
        "" => format!("http_{status}"),
        code => code.to_owned(),
    };
    let mut message = format!("{code} ({status}): {}", text("detail"));
    if let Some(errors) = value.get("errors").and_then(Value::as_array) {
        for error in errors.iter().skip(1) {
            let field = error.get("field").and_then(Value::as_str).unwrap_or("");
            let detail = error.get("detail").and_then(Value::as_str).unwrap_or("");
            message.push_str(&format!("\n  {field}: {detail}"));
        }
    }
    Failure { message, exit: 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_queries_are_encoded() {
        assert_eq!(segment("team:42"), "team:42");
        assert_eq!(segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(
            query(&[("status", Some("active")), ("product", None)]),
            "?status=active"
        );
        assert_eq!(query(&[("a", None)]), "");
        assert_eq!(
            keys_path("a b", Some("key_1")),
            "/accounts/a%20b/keys/key_1"
        );
    }

    #[test]
    fn loopback_urls_are_recognised() {
        for url in [
            "http://127.0.0.1:8787/_keygate/v1",
            "http://localhost/x",
            "http://[::1]:1/",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "http://example.com/x",
            "http://127.0.0.1.evil.com/",
            "http://a@example.com",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }

    #[test]
    fn problems_become_code_and_detail() {
        let failure = problem(
            404,
            &json!({"code": "key_not_found", "detail": "No key key_1 in this account."}),
        );
        assert_eq!(failure.exit, 1);
        assert_eq!(
            failure.message,
            "key_not_found (404): No key key_1 in this account."
        );
        let failure = problem(502, &Value::Null);
        assert!(failure.message.starts_with("http_502 (502)"));
    }

    /// The management commands under a top-level parser, as `keygate`'s.
    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[test]
    fn the_token_is_never_a_flag() {
        use clap::Parser as _;
        let parsed =
            Cli::try_parse_from(["keygate", "keys", "list", "--account", "a", "--token", "x"]);
        assert!(parsed.is_err());
        let parsed = Cli::try_parse_from([
            "keygate",
            "keys",
            "--url",
            "http://h/p",
            "get",
            "--account",
            "a",
            "key_1",
            "--json",
        ])
        .unwrap();
        match parsed.command {
            Command::Keys {
                api,
                command: Keys::Get(_),
            } => {
                assert!(api.json);
                assert_eq!(api.url.as_deref(), Some("http://h/p"));
            }
            other => panic!("{other:?}"),
        }
    }
}
