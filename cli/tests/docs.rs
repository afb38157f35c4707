//! Docs that cannot drift: README.md, CONTRIBUTING.md, CHANGELOG.md and
//! docs/*.md checked against the code they describe.
//!
//! * every ```` ```toml ```` block passes `keygate check` (a block whose
//!   info string says `toml not-checked` is skipped: a deliberately
//!   invalid example). A block without a top-level `name` is a fragment,
//!   merged into the shipped `wrangler.toml` first (see [`merge`]);
//! * every relative link resolves, and every `#anchor` names a heading of
//!   its page (GitHub's slug rules);
//! * every error code the code can answer (`src/error.rs`) is in
//!   docs/errors.md;
//! * every management route the API reference names is in the OpenAPI
//!   document, with that method;
//! * the signed components docs/origin.md lists are exactly those the
//!   gateway signs (`keygate::forward::plan`), and README's example is a
//!   subsequence of them;
//! * docs/cli.md is what `keygate reference` prints.
//!
//! Each check collects every fault before it fails, naming file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// The checked Markdown files, relative to the root.
fn pages() -> Vec<PathBuf> {
    let root = root();
    let mut out: Vec<PathBuf> = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| root.join(p).exists())
        .collect();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("a docs entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(&root).expect("under root").to_path_buf())
        .collect();
    docs.sort();
    out.extend(docs);
    out
}

fn read(rel: &Path) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{}: {e}", rel.display()))
}

/// A fenced code block: its info string, first line number and text.
struct Block {
    info: String,
    line: usize,
    text: String,
}

/// Splits a page into fenced blocks and the prose lines outside them
/// (with their 1-based numbers).
fn parse(text: &str) -> (Vec<Block>, Vec<(usize, String)>) {
    let mut blocks = Vec::new();
    let mut prose = Vec::new();
    let mut open: Option<(String, String, usize, String)> = None; // fence, info, line, text
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(fence) = ["````", "```"].iter().find(|f| trimmed.starts_with(**f)) {
                    let info = trimmed[fence.len()..].trim().to_owned();
                    open = Some(((*fence).to_owned(), info, n + 1, String::new()));
                } else {
                    prose.push((n, line.to_owned()));
                }
            }
            Some((fence, info, start, body)) => {
                if trimmed.starts_with(fence.as_str()) && trimmed.trim_matches('`').is_empty() {
                    blocks.push(Block {
                        info: std::mem::take(info),
                        line: *start,
                        text: std::mem::take(body),
                    });
                    open = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    (blocks, prose)
}

/// GitHub's heading anchor: the rendered text lowercased, every character
/// but letters, marks, numbers, connector punctuation, space and `-`
/// dropped, spaces turned to `-`; repeats get `-1`, `-2`, ….
fn anchors(text: &str) -> BTreeSet<String> {
    let heading = Regex::new(r"^#{1,6}\s+(.*?)\s*#*\s*$").expect("regex");
    let link = Regex::new(r"!?\[([^\]]*)\]\([^)]*\)").expect("regex");
    let drop = Regex::new(r"[^\p{L}\p{M}\p{N}\p{Pc} -]").expect("regex");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (_, line) in parse(text).1 {
        let Some(m) = heading.captures(&line) else {
            continue;
        };
        let rendered = link.replace_all(&m[1], "$1").replace('`', "");
        let slug = drop
            .replace_all(&rendered.to_lowercase(), "")
            .replace(' ', "-");
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

/// Removes inline code spans, so that `[x](y)` inside backticks is no link.
fn without_code(line: &str) -> String {
    Regex::new(r"`[^`]*`")
        .expect("regex")
        .replace_all(line, "")
        .into_owned()
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let link = Regex::new(r"\]\(([^)\s]+)(?:\s+\x22[^\x22]*\x22)?\)").expect("regex");
    let mut faults = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = read(&page);
        let dir = page.parent().unwrap_or(Path::new("")).to_path_buf();
        for (n, line) in parse(&text).1 {
            for m in link.captures_iter(&without_code(&line)) {
                let target = &m[1];
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (file, anchor) = match target.split_once('#') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target, None),
                };
                let file = if file.is_empty() {
                    page.clone()
                } else {
                    dir.join(file)
                };
                let full = root().join(&file);
                if !full.exists() {
                    faults.push(format!("{}:{n}: {target}: no such file", page.display()));
                    continue;
                }
                if let Some(anchor) = anchor {
                    if file.extension().is_some_and(|e| e == "md")
                        && !anchors(&read(&normalise(&file))).contains(anchor)
                    {
                        faults.push(format!("{}:{n}: {target}: no such heading", page.display()));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} links found");
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

/// `docs/../README.md` as `README.md`.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Merges a fragment into the shipped config: tables merge member by
/// member; a table written over an array of tables (`[….products.cors]`)
/// merges into its last element, as TOML reads such a table when it
/// follows the array's last entry; any other value replaces.
fn merge(base: &mut toml::Table, fragment: toml::Table) {
    for (name, value) in fragment {
        match (base.get_mut(&name), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(f)) => merge(b, f),
            (Some(toml::Value::Array(items)), toml::Value::Table(f))
                if items.last().is_some_and(toml::Value::is_table) =>
            {
                if let Some(toml::Value::Table(last)) = items.last_mut() {
                    merge(last, f);
                }
            }
            (_, value) => {
                base.insert(name, value);
            }
        }
    }
}

#[test]
fn every_toml_example_passes_keygate_check() {
    let root = root();
    let base: toml::Table =
        toml::from_str(&read(Path::new("wrangler.toml"))).expect("wrangler.toml parses");
    let scratch = std::env::temp_dir().join(format!("keygate-docs-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let mut faults = Vec::new();
    let mut checked = 0;
    for page in pages() {
        for block in parse(&read(&page)).0 {
            let mut words = block.info.split_whitespace();
            if words.next() != Some("toml") || words.any(|w| w == "not-checked") {
                continue;
            }
            checked += 1;
            let at = format!("{}:{}", page.display(), block.line);
            let fragment: toml::Table = match toml::from_str(&block.text) {
                Ok(t) => t,
                Err(e) => {
                    faults.push(format!("{at}: not TOML: {e}"));
                    continue;
                }
            };
            let doc = if fragment.contains_key("name") {
                fragment
            } else {
                let mut doc = base.clone();
                merge(&mut doc, fragment);
                doc
            };
            let file = scratch.join(format!("example-{checked}.toml"));
            std::fs::write(&file, toml::to_string(&doc).expect("TOML out")).expect("write");
            let out = Command::new(env!("CARGO_BIN_EXE_keygate"))
                .args(["check", "--config"])
                .arg(&file)
                .current_dir(&root)
                .output()
                .expect("keygate runs");
            if !out.status.success() {
                faults.push(format!(
                    "{at}: keygate check: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(checked >= 5, "only {checked} toml examples found");
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn every_error_code_is_on_the_errors_page() {
    let source = read(Path::new("src/error.rs"));
    let body = source
        .split("pub fn code(&self)")
        .nth(1)
        .and_then(|rest| rest.split("\n    }\n").next())
        .expect("Error::code in src/error.rs");
    let code = Regex::new(r#"=> "([a-z_]+)""#).expect("regex");
    let codes: BTreeSet<&str> = code
        .captures_iter(body)
        .map(|c| c.get(1).map_or("", |m| m.as_str()))
        .collect();
    assert!(codes.len() > 30, "only {} codes found", codes.len());
    let page = read(Path::new("docs/errors.md"));
    let missing: Vec<&&str> = codes
        .iter()
        .filter(|c| !page.contains(&format!("| `{c}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "codes in src/error.rs with no row in docs/errors.md: {missing:?}"
    );
}

#[test]
fn every_route_in_the_api_reference_is_in_the_openapi_document() {
    let doc: serde_json::Value =
        serde_json::from_str(&read(Path::new("openapi/management.json"))).expect("JSON");
    let placeholder = Regex::new(r"\{[^}]*\}").expect("regex");
    let mut known = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            known.insert(format!(
                "{} {}",
                method.to_uppercase(),
                placeholder.replace_all(path, "{}")
            ));
        }
    }
    let route =
        Regex::new(r"`(GET|POST|PUT|PATCH|DELETE|HEAD) (?:\{prefix\})?(/[^`\s?]*)").expect("regex");
    let mut faults = Vec::new();
    let mut checked = 0;
    for page in ["docs/management-api.md", "docs/webhooks.md"] {
        for (n, line) in read(Path::new(page)).lines().enumerate() {
            for m in route.captures_iter(line) {
                let path = placeholder.replace_all(&m[2], "{}");
                // Product paths in examples are not management routes.
                if !["/accounts", "/keys/", "/openapi.json", "/verify", "/leaks/"]
                    .iter()
                    .any(|p| path.starts_with(p))
                {
                    continue;
                }
                checked += 1;
                let method = if &m[1] == "HEAD" { "GET" } else { &m[1] };
                if !known.contains(&format!("{method} {path}")) {
                    faults.push(format!("{page}:{}: {} {}", n + 1, &m[1], &m[2]));
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} routes found");
    assert!(
        faults.is_empty(),
        "routes not in openapi/management.json:\n{}",
        faults.join("\n")
    );
}

/// The covered components of a request that has every optional one: a
/// key with forwarded meta, a client address, a signed body with its
/// length and type.
fn signed_by_the_code() -> Vec<String> {
    use keygate::config::Config;
    use keygate::forward::{plan, BodyFacts, Stamp};
    use keygate::key::{mint, Environment};
    use keygate::policy::{authorize, RequestFacts};
    use keygate::record::KeyRecord;
    use keygate::secret::{KeySecret, OriginSecret};
    use keygate::signature::ProductKey;

    let config = Config::from_json(
        r#"{"products":[{"id":"salesforge","name":"Salesforge","prefix":"sf",
            "key":{"header":"X-Salesforge-Key"},"route":{"path_prefix":"/"},
            "upstream":"https://origin.example",
            "sign_body":true,"forward_meta":["plan"]}]}"#,
    )
    .expect("config");
    let product = &config.products[0];
    let secret = KeySecret::new("docs-drift-test-key-secret-0123456789abcdef", None).expect("s");
    let minted = mint("sf", Environment::Live, &[7; 32], &secret).expect("mint");
    let record = KeyRecord {
        allowed_ips: Default::default(),
        v: 1,
        id: "key_0c586b3T70e9ieZfx".into(),
        account: "acct_demo".into(),
        product: "salesforge".into(),
        environment: Environment::Live,
        name: "docs".into(),
        scopes: vec!["read".into(), "write".into()],
        created_at: 1_795_416_000,
        expires_at: None,
        revoked_at: None,
        prefix: "sf_live_0000".into(),
        last4: "abcd".into(),
        suspended: false,
        disabled: false,
        owner_id: None,
        meta: serde_json::json!({"plan": "pro"}).as_object().cloned(),
    };
    let facts = RequestFacts {
        client: None,
        method: "POST",
        path: "/v1/leads",
    };
    let authorized =
        authorize(product, &minted.key, &record, facts, 1_795_416_001).expect("authorized");
    let origin = OriginSecret::new("docs-drift-test-origin-secret-0123456789").expect("origin");
    let key = ProductKey::derive(&origin, "salesforge");
    let body = BodyFacts {
        content_type: Some("application/json"),
        content_length: Some(14),
        content_digest: Some("sha-256=:iLq22PbcaKh3Bk1YTLtbbFDnT2F+pQ2B06U8Lub/vE8=:"),
    };
    let stamp = Stamp {
        now: 1_795_416_001,
        request_id: "0123456789abcdef0123456789abcdef",
        key: &key,
        client_ip: Some("203.0.113.7"),
    };
    let planned = plan(&authorized, Some("page=2"), &body, &stamp).expect("plan");
    let input = planned
        .set_headers
        .iter()
        .find(|(name, _)| *name == "Signature-Input")
        .map(|(_, v)| v.clone())
        .expect("Signature-Input");
    components(&input)
}

/// The quoted names inside `keygate=(…)`.
fn components(input: &str) -> Vec<String> {
    let inner = input
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map_or("", |(inner, _)| inner);
    inner
        .split_whitespace()
        .map(|c| c.trim_matches('"').to_owned())
        .collect()
}

#[test]
fn the_signed_components_in_the_docs_are_what_the_code_signs() {
    let code = signed_by_the_code();
    let page = read(Path::new("docs/origin.md"));
    let listed = page
        .split("<!-- signed-components -->")
        .nth(1)
        .and_then(|rest| parse(rest).0.into_iter().next())
        .map(|block| {
            block
                .text
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .expect("docs/origin.md: a code block after <!-- signed-components -->");
    assert_eq!(
        listed, code,
        "docs/origin.md lists other signed components than the code signs"
    );
    // README's example: some of them, in the same order.
    let readme = read(Path::new("README.md"));
    let line = readme
        .lines()
        .find(|l| l.starts_with("Signature-Input: keygate=("))
        .expect("README shows a Signature-Input");
    let shown = components(line.trim_start_matches("Signature-Input: "));
    let mut rest = code.iter();
    for name in &shown {
        assert!(
            rest.any(|c| c == name),
            "README's Signature-Input: {name} is not signed, or out of order"
        );
    }
}

#[test]
fn the_cli_reference_is_generated() {
    let out = Command::new(env!("CARGO_BIN_EXE_keygate"))
        .arg("reference")
        .env_remove("KEYGATE_URL")
        .output()
        .expect("keygate runs");
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).expect("UTF-8");
    let checked_in = read(Path::new("docs/cli.md"));
    assert!(
        generated == checked_in,
        "docs/cli.md is out of date: run `make cli-docs`"
    );
}
