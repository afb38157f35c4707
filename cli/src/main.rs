//! `keygate`: the operator's native tool.
//!
//! * `keygate check` validates `[vars.KEYGATE_CONFIG]` in a wrangler config
//!   exactly as the Worker will, and prints each product's scanner regex
//!   (`--json`: the products and the management prefix, for scripts such as
//!   `make dev`'s seeding).
//!   It also renders the two Workers' configs in memory, so that what both
//!   will run with is checked, and prints the configuration digest that
//!   both Workers compute and compare at run time.
//! * `keygate render` writes the gateway's and the control Worker's wrangler
//!   configs (`gateway.toml`, `control.toml`) from the operator's one
//!   `wrangler.toml` ([`render`]).
//! * `keygate mint` is a test fixture tool: it mints a key and appends its
//!   record to a `wrangler kv bulk put` file, bypassing the accounts'
//!   Durable Objects (which own real keys; create those through the
//!   management API). The key itself is never written anywhere. It tags
//!   the key with the key secret from the environment variable
//!   `KEYGATE_KEY_SECRET` (never a flag: flags show in process lists).
//! * `keygate origin-key --product ID` prints that product's origin signing
//!   key (base64), derived from `KEYGATE_ORIGIN_SECRET` in the environment
//!   (never a flag, so it stays out of shell history), so that each origin
//!   gets only its own product's key.
//! * `keygate keys | accounts | events` call the management API
//!   ([`manage`]): `--url` names it, the admin token comes from
//!   `KEYGATE_ADMIN_TOKEN` only.
//! * `keygate patterns` prints each product's key regex for secret
//!   scanners: a GitHub custom pattern, a gitleaks rule, a trufflehog
//!   detector ([`patterns`]).

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

mod manage;
mod patterns;
mod render;
mod table;

use keygate::config::{Config, CONFIG_VAR, KEY_SECRET_VAR, ORIGIN_SECRET_VAR};
use keygate::key::{key_id, mint, scan_regex, Environment, KEY_ID_BYTES, RANDOM_BYTES};
use keygate::record::{is_header_safe_id, KeyRecord, RECORD_VERSION};
use keygate::seam::config_digest;
use keygate::secret::{KeySecret, OriginSecret};
use keygate::signature::ProductKey;

const USAGE: &str = "\
usage:
  keygate check [--config wrangler.toml] [--json]
  keygate render [--config wrangler.toml] [--out build] [--main-dir DIR] [--allow-invalid-config]
               (writes OUT/gateway.toml and OUT/control.toml; main = DIR/<worker>/index.js,
                DIR defaulting to OUT)
  keygate mint --product ID --account ID [--name NAME] [--environment live|test]
               [--scopes a,b] [--expires-at UNIX | --expires-in SECONDS]
               [--revoked-at UNIX] [--config wrangler.toml] [--kv-bulk FILE] [--quiet]
  keygate origin-key --product ID [--config wrangler.toml]
               (reads KEYGATE_ORIGIN_SECRET from the environment)
  keygate patterns [--config wrangler.toml] [--format all|github|gitleaks|trufflehog]
  keygate keys create|list|get|update|rotate|revoke|lookup --url URL ... [--json]
  keygate accounts get|suspend|reactivate --url URL ACCOUNT [--json]
  keygate events --url URL --account ID [--limit N] [--cursor C] [--json]
               (read KEYGATE_ADMIN_TOKEN from the environment; --help for each)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("check") => check(&Options::parse(&args[1..])),
        Some("mint") => mint_key(&Options::parse(&args[1..])).map(|minted| {
            if let Some((key, record)) = minted {
                print_minted(&key, &record);
            }
        }),
        Some("origin-key") => origin_key(&Options::parse(&args[1..])),
        Some("render") => render_configs(&Options::parse(&args[1..])),
        Some("keys" | "accounts" | "events") => {
            let mut all = vec!["keygate".to_owned()];
            all.extend(args.iter().cloned());
            return match manage::run(&all) {
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => {
                    if !failure.message.is_empty() {
                        eprintln!("keygate: {}", failure.message);
                    }
                    ExitCode::from(failure.exit)
                }
            };
        }
        Some("patterns") => Options::parse(&args[1..]).and_then(|o| {
            let form = patterns::Form::parse(o.get("format"))?;
            print!("{}", patterns::render(&load_config(&o)?, form));
            Ok(())
        }),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("keygate: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs and bare `--flag`s.
struct Options(Vec<(String, Option<String>)>);

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut out = Vec::new();
        let mut iter = args.iter().peekable();
        while let Some(arg) = iter.next() {
            let name = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {arg:?}\n{USAGE}"))?;
            let value = match iter.peek() {
                Some(next) if !next.starts_with("--") => iter.next().cloned(),
                _ => None,
            };
            out.push((name.to_owned(), value));
        }
        Ok(Options(out))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    fn require(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required\n{USAGE}"))
    }

    fn number(&self, name: &str) -> Result<Option<i64>, String> {
        self.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("--{name} must be a whole number"))
            })
            .transpose()
    }
}

fn load_config(options: &Options) -> Result<Config, String> {
    load(options).map(|loaded| loaded.config)
}

/// A wrangler config read from `--config`, and its validated
/// `KEYGATE_CONFIG`.
struct Loaded {
    path: String,
    doc: toml::Table,
    config: Config,
    /// What both Workers compute from the same table at run time.
    digest: String,
}

fn load(options: &Options) -> Result<Loaded, String> {
    let (path, doc, json, digest) = read(options)?;
    let config = Config::from_json(&json).map_err(|e| format!("{path}: {e}"))?;
    Ok(Loaded {
        path,
        doc,
        config,
        digest,
    })
}

/// The `--config` file: its path, the document, `KEYGATE_CONFIG` as JSON
/// (not validated) and its digest.
fn read(options: &Options) -> Result<(String, toml::Table, String, String), String> {
    let path = options.get("config").unwrap_or("wrangler.toml");
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let table = doc
        .get("vars")
        .and_then(|v| v.get(CONFIG_VAR))
        .ok_or_else(|| format!("{path} has no [vars.{CONFIG_VAR}] table"))?;
    let json = serde_json::to_string(table).map_err(|e| e.to_string())?;
    let digest = config_digest(&json).ok_or_else(|| format!("{path}: {CONFIG_VAR} is not JSON"))?;
    Ok((path.to_owned(), doc, json, digest))
}

/// Writes the two Workers' configs.
fn render_configs(options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let (path, doc, json, digest) = read(options)?;
    // Only tests of the Workers' own refusal render an invalid config.
    if !options.flag("allow-invalid-config") {
        Config::from_json(&json).map_err(|e| format!("{path}: {e}"))?;
    }
    let out = options.get("out").unwrap_or("build");
    let main_dir = options.get("main-dir").unwrap_or(".");
    let rendered = render::render(&doc, main_dir).map_err(|e| format!("{path}: {e}"))?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {out}: {e}"))?;
    for (file, table) in [
        ("gateway.toml", &rendered.gateway),
        ("control.toml", &rendered.control),
    ] {
        let body = toml::to_string(table).map_err(|e| e.to_string())?;
        let text = format!(
            "# Written by `keygate render --config {path}`: edit that file, not this one.\n\
             # KEYGATE_CONFIG digest: {digest}\n{body}"
        );
        let target = format!("{out}/{file}");
        std::fs::write(&target, text).map_err(|e| format!("cannot write {target}: {e}"))?;
    }
    println!(
        "{out}/gateway.toml: {}\n{out}/control.toml: {}\nconfig digest: {digest}",
        rendered.gateway_name, rendered.control_name
    );
    Ok(())
}

fn check(options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let loaded = load(options)?;
    // Both Workers' configs must render: the bindings each one needs.
    let rendered = render::render(&loaded.doc, ".").map_err(|e| format!("{}: {e}", loaded.path))?;
    let config = loaded.config;
    // Every warning: the configuration's own, and the page's missing URL.
    let mut warnings: Vec<String> = keygate::config::warnings(&config);
    warnings.extend(keygate::portal::link::missing(&config).map(str::to_owned));
    if options.flag("json") {
        let products: Vec<serde_json::Value> = config
            .products
            .iter()
            .map(|p| {
                serde_json::json!({
                    "id": p.id,
                    "name": p.name,
                    "header": p.credential.header,
                    "scheme": p.credential.scheme,
                    "host": p.route.host,
                    "path_prefix": p.route.path_prefix,
                })
            })
            .collect();
        let management = config
            .management
            .as_ref()
            .map(|m| serde_json::json!({ "host": m.host, "path_prefix": m.path_prefix }));
        println!(
            "{}",
            serde_json::json!({
                "products": products,
                "management": management,
                "digest": loaded.digest,
                "gateway": rendered.gateway_name,
                "control": rendered.control_name,
                "warnings": warnings,
            })
        );
        return Ok(());
    }
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    for product in &config.products {
        println!(
            "{:<16} {:<6} {:<40} -> {}",
            product.id,
            product.prefix,
            product.credential.describe(),
            product.upstream
        );
        println!("{:<16} scan: {}", "", scan_regex(Some(&product.prefix)));
    }
    println!(
        "config OK: {} products; gateway {}, control {}; config digest {}",
        config.products.len(),
        rendered.gateway_name,
        rendered.control_name,
        loaded.digest
    );
    Ok(())
}

/// Prints the product's origin signing key, base64.
fn origin_key(options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let config = load_config(options)?;
    let product_id = options.require("product")?;
    let product = config
        .product(product_id)
        .ok_or_else(|| format!("no product {product_id:?} in the config"))?;
    let raw = std::env::var(ORIGIN_SECRET_VAR)
        .map_err(|_| format!("set {ORIGIN_SECRET_VAR} in the environment (not as a flag)"))?;
    let secret = OriginSecret::new(&raw).map_err(str::to_owned)?;
    println!("{}", ProductKey::derive(&secret, &product.id).to_base64());
    Ok(())
}

fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(bytes)
}

/// Mints per `options`; returns the key and record unless `--quiet` printed
/// the bare key already.
fn mint_key(options: &Result<Options, String>) -> Result<Option<(String, KeyRecord)>, String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let config = load_config(options)?;
    mint_for(&config, options)
}

fn mint_for(config: &Config, options: &Options) -> Result<Option<(String, KeyRecord)>, String> {
    let product_id = options.require("product")?;
    let product = config
        .product(product_id)
        .ok_or_else(|| format!("no product {product_id:?} in the config"))?;
    let account = options.require("account")?;
    if !is_header_safe_id(account) {
        return Err("--account must be 1-64 characters of A-Z a-z 0-9 _ . : -".to_owned());
    }
    let environment = match options.get("environment").unwrap_or("live") {
        "live" => Environment::Live,
        "test" => Environment::Test,
        other => return Err(format!("--environment must be live or test, not {other:?}")),
    };
    let scopes: Vec<String> = match options.get("scopes") {
        Some(list) => list.split(',').map(|s| s.trim().to_owned()).collect(),
        None => product.default_scopes.clone(),
    };
    if let Some(unknown) = scopes
        .iter()
        .find(|s| !product.known_permissions.contains(s))
    {
        return Err(format!(
            "{unknown:?} is not a permission of {} (known: {})",
            product.id,
            product.known_permissions.join(", ")
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let now = i64::try_from(now).map_err(|e| e.to_string())?;
    let expires_at = match (options.number("expires-at")?, options.number("expires-in")?) {
        (Some(_), Some(_)) => return Err("give --expires-at or --expires-in, not both".into()),
        (Some(at), None) => Some(at),
        (None, Some(seconds)) => Some(
            now.checked_add(seconds)
                .ok_or("--expires-in is out of range")?,
        ),
        (None, None) => None,
    };

    let secret = std::env::var(KEY_SECRET_VAR).map_err(|_| {
        format!("set {KEY_SECRET_VAR} in the environment to the gateway's key secret")
    })?;
    let secret = KeySecret::new(&secret, None)?;
    let minted = mint(
        &product.prefix,
        environment,
        &random::<RANDOM_BYTES>()?,
        &secret,
    )?;
    let record = KeyRecord {
        v: RECORD_VERSION,
        id: key_id(&random::<KEY_ID_BYTES>()?),
        account: account.to_owned(),
        product: product.id.clone(),
        environment,
        name: options.get("name").unwrap_or("minted key").to_owned(),
        scopes,
        created_at: now,
        expires_at,
        revoked_at: options.number("revoked-at")?,
        prefix: minted.key.display_prefix().to_owned(),
        last4: minted.key.last4().to_owned(),
        suspended: false,
        disabled: false,
        owner_id: None,
        meta: None,
    };

    if let Some(path) = options.get("kv-bulk") {
        append_bulk(path, &minted.hash.to_hex(), &record.to_json())?;
    }
    if options.flag("quiet") {
        println!("{}", minted.key.key().expose());
        return Ok(None);
    }
    Ok(Some((minted.key.key().expose().to_owned(), record)))
}

fn print_minted(key: &str, record: &KeyRecord) {
    let mut out = String::new();
    let _ = writeln!(out, "key:     {key}");
    let _ = writeln!(out, "         (shown once: only its SHA-256 is stored)");
    let _ = writeln!(out, "id:      {}", record.id);
    let _ = writeln!(out, "record:  {}", record.to_json());
    print!("{out}");
}

/// Appends `{key, value}` to a JSON array file for `wrangler kv bulk put`.
fn append_bulk(path: &str, key: &str, value: &str) -> Result<(), String> {
    let mut entries: Vec<serde_json::Value> = match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => {
            serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?
        }
        _ => Vec::new(),
    };
    entries.push(serde_json::json!({ "key": key, "value": value }));
    let text = serde_json::to_string_pretty(&entries).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {path}: {e}"))
}
