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
//! * `keygate completions <shell>` prints a completion script, and the
//!   hidden `keygate reference` prints docs/cli.md ([`reference`]).
//!
//! One parser (clap derive) for every command: `--help` on each, an
//! unknown flag is a usage error (exit 2). Secrets come only from the
//! environment, never from a flag.

use std::fmt::Write as _;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

mod failure;
mod import;
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

mod reference;

/// keygate's operator tool: check and render the configuration, manage
/// keys through the management API, print scanner patterns.
#[derive(Parser, Debug)]
#[command(name = "keygate", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate [vars.KEYGATE_CONFIG] exactly as the Workers will, render
    /// both Workers' configs in memory, and print each product's scanner
    /// regex and the config digest.
    Check(CheckArgs),
    /// Write the gateway's and the control Worker's wrangler configs
    /// (OUT/gateway.toml, OUT/control.toml) from the one wrangler.toml.
    Render(RenderArgs),
    /// Test fixtures only: mint a key and append its record to a
    /// `wrangler kv bulk put` file, bypassing the account objects. Reads
    /// KEYGATE_KEY_SECRET from the environment.
    Mint(MintArgs),
    /// Print a product's origin signing key (base64), derived from
    /// KEYGATE_ORIGIN_SECRET in the environment (never a flag).
    OriginKey(OriginKeyArgs),
    /// Print each product's key regex for secret scanners: a GitHub custom
    /// pattern, a gitleaks rule, a trufflehog detector.
    Patterns(PatternsArgs),
    #[command(flatten)]
    Manage(manage::Command),
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell) to standard output.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print docs/cli.md, this tool's reference, from its own help.
    #[command(hide = true)]
    Reference,
}

/// The wrangler config to read.
#[derive(Args, Debug)]
struct ConfigArg {
    /// The operator's wrangler config, with [vars.KEYGATE_CONFIG].
    #[arg(long, value_name = "FILE", default_value = "wrangler.toml")]
    config: String,
}

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Print the products, the management prefix, the digest and the
    /// Workers' names as JSON, for scripts.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct RenderArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Directory to write gateway.toml and control.toml into.
    #[arg(long, value_name = "DIR", default_value = "build")]
    out: String,
    /// Directory holding the built Workers: main = DIR/<worker>/index.js.
    #[arg(long, value_name = "DIR", default_value = ".")]
    main_dir: String,
    /// Render even when KEYGATE_CONFIG is invalid (tests of the Workers'
    /// own refusal).
    #[arg(long)]
    allow_invalid_config: bool,
}

#[derive(Args, Debug)]
struct MintArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Product id.
    #[arg(long)]
    product: String,
    /// Account id (1-64 characters of A-Z a-z 0-9 _ . : -).
    #[arg(long)]
    account: String,
    /// The key's name.
    #[arg(long, default_value = "minted key")]
    name: String,
    /// live or test.
    #[arg(long, value_enum, default_value_t = Env::Live)]
    environment: Env,
    /// Comma-separated permissions (default: the product's default scopes).
    #[arg(long)]
    scopes: Option<String>,
    /// Expiry, Unix seconds.
    #[arg(
        long,
        value_name = "UNIX",
        allow_negative_numbers = true,
        conflicts_with = "expires_in"
    )]
    expires_at: Option<i64>,
    /// Expiry, seconds from now.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    expires_in: Option<i64>,
    /// Revocation time, Unix seconds.
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    revoked_at: Option<i64>,
    /// A client range the key may be used from (CIDR or address; repeat
    /// for more, at most 100). Default: the product's allowed_ips.
    #[arg(long = "allowed-ip", value_name = "CIDR")]
    allowed_ips: Vec<String>,
    /// Append {key: SHA-256, value: record} to this JSON array file.
    #[arg(long, value_name = "FILE")]
    kv_bulk: Option<String>,
    /// Print only the key.
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Env {
    Live,
    Test,
}

#[derive(Args, Debug)]
struct OriginKeyArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Product id.
    #[arg(long)]
    product: String,
}

#[derive(Args, Debug)]
struct PatternsArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Which scanner's form to print.
    #[arg(long, default_value = "all", value_parser = ["all", "github", "gitleaks", "trufflehog"])]
    format: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Check(args) => check(&args),
        Command::Mint(args) => mint_key(&args).map(|minted| {
            if let Some((key, record)) = minted {
                print_minted(&key, &record);
            }
        }),
        Command::OriginKey(args) => origin_key(&args),
        Command::Render(args) => render_configs(&args),
        Command::Patterns(args) => patterns::Form::parse(Some(&args.format)).and_then(|form| {
            print!("{}", patterns::render(&load_config(&args.config)?, form));
            Ok(())
        }),
        Command::Manage(command) => {
            return match manage::run(command) {
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => {
                    if !failure.message.is_empty() {
                        eprintln!("keygate: {}", failure.message);
                    }
                    ExitCode::from(failure.exit)
                }
            };
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "keygate",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Reference => {
            print!("{}", reference::markdown(Cli::command()));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("keygate: {message}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(options: &ConfigArg) -> Result<Config, String> {
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

fn load(options: &ConfigArg) -> Result<Loaded, String> {
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
fn read(options: &ConfigArg) -> Result<(String, toml::Table, String, String), String> {
    let path = options.config.as_str();
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
fn render_configs(options: &RenderArgs) -> Result<(), String> {
    let (path, doc, json, digest) = read(&options.config)?;
    // Only tests of the Workers' own refusal render an invalid config.
    if !options.allow_invalid_config {
        Config::from_json(&json).map_err(|e| format!("{path}: {e}"))?;
    }
    let out = options.out.as_str();
    let main_dir = options.main_dir.as_str();
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

fn check(options: &CheckArgs) -> Result<(), String> {
    let loaded = load(&options.config)?;
    // Both Workers' configs must render: the bindings each one needs.
    let rendered = render::render(&loaded.doc, ".").map_err(|e| format!("{}: {e}", loaded.path))?;
    let config = loaded.config;
    // Every warning: the configuration's own, and the page's missing URL.
    let mut warnings: Vec<String> = keygate::config::warnings(&config);
    warnings.extend(keygate::portal::link::missing(&config).map(str::to_owned));
    if options.json {
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
fn origin_key(options: &OriginKeyArgs) -> Result<(), String> {
    let config = load_config(&options.config)?;
    let product_id = options.product.as_str();
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
fn mint_key(options: &MintArgs) -> Result<Option<(String, KeyRecord)>, String> {
    let config = load_config(&options.config)?;
    mint_for(&config, options)
}

fn mint_for(config: &Config, options: &MintArgs) -> Result<Option<(String, KeyRecord)>, String> {
    let product_id = options.product.as_str();
    let product = config
        .product(product_id)
        .ok_or_else(|| format!("no product {product_id:?} in the config"))?;
    let account = options.account.as_str();
    if !is_header_safe_id(account) {
        return Err("--account must be 1-64 characters of A-Z a-z 0-9 _ . : -".to_owned());
    }
    let environment = match options.environment {
        Env::Live => Environment::Live,
        Env::Test => Environment::Test,
    };
    let scopes: Vec<String> = match &options.scopes {
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
    let expires_at = match (options.expires_at, options.expires_in) {
        (Some(_), Some(_)) => return Err("give --expires-at or --expires-in, not both".into()),
        (Some(at), None) => Some(at),
        (None, Some(seconds)) => Some(
            now.checked_add(seconds)
                .ok_or("--expires-in is out of range")?,
        ),
        (None, None) => None,
    };

    let allowed_ips =
        keygate::ip_allow::AllowList::parse(&options.allowed_ips).map_err(|faults| {
            faults
                .iter()
                .map(|(at, why)| match at {
                    Some(i) => format!("--allowed-ip {:?} {why}", options.allowed_ips.get(*i)),
                    None => format!("--allowed-ip {why}"),
                })
                .collect::<Vec<_>>()
                .join("; ")
        })?;
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
        allowed_ips,
        v: RECORD_VERSION,
        id: key_id(&random::<KEY_ID_BYTES>()?),
        account: account.to_owned(),
        product: product.id.clone(),
        environment,
        name: options.name.clone(),
        scopes,
        created_at: now,
        expires_at,
        revoked_at: options.revoked_at,
        prefix: minted.key.display_prefix().to_owned(),
        last4: minted.key.last4().to_owned(),
        suspended: false,
        disabled: false,
        owner_id: None,
        meta: None,
    };

    if let Some(path) = &options.kv_bulk {
        append_bulk(path, &minted.hash.to_hex(), &record.to_json())?;
    }
    if options.quiet {
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
