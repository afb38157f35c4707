//! `keygate keys import`: existing keys from a CSV or JSON Lines file into
//! an account, through `POST /accounts/{account}/keys/import`.
//!
//! Invariants: a key read from the file is never printed (a refusal names
//! the line, the member and the server's reason, which never holds a key);
//! the file is sent in calls of at most [`MAX_IMPORT_KEYS`] (400) keys and
//! [`MAX_CALL_BYTES`] bytes; a re-run imports nothing twice (the API is
//! idempotent per key); `--dry-run` sends nothing.

use std::collections::BTreeMap;
use std::io::Write;

use clap::Args;
use serde_json::{json, Map, Value};

use keygate::manage::import::{check, IMPORT_BODY_LIMIT, MAX_IMPORT_KEYS};

/// Most bytes of one call's body: the route's limit less room for the
/// envelope.
const MAX_CALL_BYTES: usize = IMPORT_BODY_LIMIT - 1024;

/// The CSV columns (a header row names them, in any order).
pub const COLUMNS: &[&str] = &[
    "key",
    "sha256",
    "product",
    "name",
    "scopes",
    "environment",
    "expires_at",
    "expires_in_days",
    "owner_id",
    "meta",
    "allowed_ips",
];

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Account id.
    #[arg(long)]
    pub account: String,
    /// A CSV file with a header row (columns: key or sha256, product, name,
    /// and optionally scopes and allowed_ips (space-separated), environment,
    /// expires_at, expires_in_days, owner_id, meta (a JSON object)), or a
    /// JSON Lines file of import items (.jsonl, .ndjson).
    #[arg(long, value_name = "FILE")]
    pub file: String,
    /// csv or jsonl (default: from the file's extension).
    #[arg(long, value_parser = ["csv", "jsonl"])]
    pub format: Option<String>,
    /// Read and check the file against --config locally; send nothing. The
    /// keyed tag of a plaintext key is checked by the server only.
    #[arg(long)]
    pub dry_run: bool,
    /// The imported keys do not count against the product's key_limit.
    #[arg(long)]
    pub ignore_key_limit: bool,
    /// The wrangler config a dry run checks the rows against.
    #[arg(long, value_name = "FILE", default_value = "wrangler.toml")]
    pub config: String,
}

/// One row of the file: its line and the import item it makes.
pub struct Row {
    pub line: usize,
    pub item: Value,
}

/// What the rows came to.
#[derive(Default)]
pub struct Summary {
    pub created: usize,
    pub already_present: usize,
    pub refused: Vec<(usize, String)>,
}

impl Summary {
    fn text(&self, verb: &str) -> String {
        let mut out = format!(
            "{verb} {}, already present {}, refused {}\n",
            self.created,
            self.already_present,
            self.refused.len()
        );
        for (line, why) in &self.refused {
            out.push_str(&format!("  line {line}: {why}\n"));
        }
        out
    }
}

/// Reads the rows of `args.file`.
pub fn read_rows(args: &ImportArgs) -> Result<Vec<Row>, String> {
    let path = &args.file;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let format = match args.format.as_deref() {
        Some(f) => f.to_owned(),
        None if path.ends_with(".csv") => "csv".to_owned(),
        None if path.ends_with(".jsonl") || path.ends_with(".ndjson") => "jsonl".to_owned(),
        None => return Err(format!("{path}: say --format csv or --format jsonl")),
    };
    let rows = if format == "csv" {
        csv_rows(&text)
    } else {
        jsonl_rows(&text)
    }
    .map_err(|e| format!("{path}: {e}"))?;
    if rows.is_empty() {
        return Err(format!("{path} has no keys"));
    }
    Ok(rows)
}

fn jsonl_rows(text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (at, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // A line that is not JSON stops the import before anything is
        // sent; its text (which may hold a key) is never printed.
        let item = serde_json::from_str(line).map_err(|e| {
            format!(
                "line {}: not JSON ({}, column {})",
                at + 1,
                e.classify_name(),
                e.column()
            )
        })?;
        rows.push(Row { line: at + 1, item });
    }
    Ok(rows)
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "a syntax error",
            serde_json::error::Category::Data => "a wrong value",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

/// CSV (RFC 4180: quoted fields may hold commas, quotes doubled, and line
/// breaks) with a header row of [`COLUMNS`]; an empty cell is no value.
fn csv_rows(text: &str) -> Result<Vec<Row>, String> {
    let records = csv_records(text)?;
    let Some(((_, header), body)) = records.split_first() else {
        return Ok(Vec::new());
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
    for name in &header {
        if !COLUMNS.contains(&name.as_str()) {
            return Err(format!(
                "line 1: unknown column {name:?}; the columns are {}",
                COLUMNS.join(", ")
            ));
        }
    }
    let mut rows = Vec::new();
    for (line, cells) in body {
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        if cells.len() != header.len() {
            return Err(format!(
                "line {line}: {} cells where the header has {}",
                cells.len(),
                header.len()
            ));
        }
        let mut item = Map::new();
        for (name, cell) in header.iter().zip(cells) {
            if cell.is_empty() {
                continue;
            }
            let value = match name.as_str() {
                "scopes" | "allowed_ips" => json!(cell.split_whitespace().collect::<Vec<_>>()),
                "expires_in_days" => match cell.parse::<i64>() {
                    Ok(n) => json!(n),
                    Err(_) => json!(cell),
                },
                "meta" => serde_json::from_str(cell)
                    .map_err(|_| format!("line {line}: meta is not JSON"))?,
                _ => json!(cell),
            };
            item.insert(name.clone(), value);
        }
        rows.push(Row {
            line: *line,
            item: Value::Object(item),
        });
    }
    Ok(rows)
}

/// The records of a CSV text, each with the line it starts on.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut records = Vec::new();
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                cell.push(c);
            }
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => cells.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                cells.push(std::mem::take(&mut cell));
                records.push((start, std::mem::take(&mut cells)));
                line += 1;
                start = line;
            }
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err(format!("line {start}: a quoted cell is not closed"));
    }
    if !cell.is_empty() || !cells.is_empty() {
        cells.push(cell);
        records.push((start, cells));
    }
    Ok(records)
}

/// The rows in calls of at most [`MAX_IMPORT_KEYS`] keys and [`MAX_CALL_BYTES`].
pub fn batches(rows: &[Row]) -> Vec<&[Row]> {
    let mut out = Vec::new();
    let (mut from, mut bytes) = (0, 0);
    for (at, row) in rows.iter().enumerate() {
        let size = row.item.to_string().len() + 1;
        if at > from && (at - from >= MAX_IMPORT_KEYS || bytes + size > MAX_CALL_BYTES) {
            out.push(rows.get(from..at).unwrap_or_default());
            from = at;
            bytes = 0;
        }
        bytes += size;
    }
    if from < rows.len() {
        out.push(rows.get(from..).unwrap_or_default());
    }
    out
}

/// The body of one call.
pub fn body(rows: &[Row], ignore_key_limit: bool) -> Value {
    let keys: Vec<&Value> = rows.iter().map(|r| &r.item).collect();
    let mut body = json!({ "keys": keys });
    if ignore_key_limit {
        body["ignore_key_limit"] = json!(true);
    }
    body
}

/// Checks every row against `config`, sending nothing.
pub fn dry_run(args: &ImportArgs, config: &keygate::config::Config) -> Result<String, String> {
    let rows = read_rows(args)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let mut summary = Summary::default();
    let mut seen = BTreeMap::new();
    for batch in batches(&rows) {
        let text = body(batch, args.ignore_key_limit).to_string();
        let results = check(config, text.as_bytes(), now).map_err(|e| e.detail())?;
        for (row, result) in batch.iter().zip(results) {
            match result {
                Ok(()) => {
                    // The same key twice in the file is one key.
                    let id = row.item.get("key").or(row.item.get("sha256"));
                    match id.map(Value::to_string) {
                        Some(id) if seen.contains_key(&id) => summary.already_present += 1,
                        Some(id) => {
                            seen.insert(id, row.line);
                            summary.created += 1;
                        }
                        None => summary.created += 1,
                    }
                }
                Err(e) => summary
                    .refused
                    .push((row.line, reason(e.code(), e.field(), &e.detail()))),
            }
        }
    }
    Ok(format!(
        "dry run: nothing was sent\n{}",
        summary.text("would import")
    ))
}

/// `code field: detail`, the field's `keys[i]` put as the file's column.
fn reason(code: &str, field: Option<&str>, detail: &str) -> String {
    let field = field
        .map(|f| f.split_once('.').map_or("the row", |(_, member)| member))
        .unwrap_or("the row");
    format!("{code} ({field}): {detail}")
}

/// Imports every row, a call at a time, with progress on standard error.
pub fn send(
    args: &ImportArgs,
    call: &dyn Fn(Value) -> Result<Value, crate::failure::Failure>,
) -> Result<(Summary, Vec<Value>), crate::failure::Failure> {
    let rows = read_rows(args)?;
    let mut summary = Summary::default();
    let mut answers = Vec::new();
    let total = rows.len();
    let mut done = 0;
    let mut stderr = std::io::stderr();
    for batch in batches(&rows) {
        // A re-run is safe without an Idempotency-Key: a key already
        // imported is reported already_present, never imported twice.
        let answer = call(body(batch, args.ignore_key_limit))?;
        let results = answer
            .get("results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for result in &results {
            let at = result.get("index").and_then(Value::as_u64).unwrap_or(0);
            let line = batch
                .get(usize::try_from(at).unwrap_or(usize::MAX))
                .map_or(0, |r| r.line);
            match result.get("status").and_then(Value::as_str) {
                Some("created") => summary.created += 1,
                Some("already_present") => summary.already_present += 1,
                _ => {
                    let text = |m: &str| result.get(m).and_then(Value::as_str).unwrap_or("");
                    let field = result.get("field").and_then(Value::as_str);
                    let why = reason(text("code"), field, text("detail"));
                    summary.refused.push((line, why));
                }
            }
        }
        answers.push(answer);
        done += batch.len();
        let _ = write!(stderr, "\rimported {done}/{total} rows");
        let _ = stderr.flush();
    }
    let _ = writeln!(stderr);
    Ok((summary, answers))
}

/// The summary printed after an import.
pub fn summary_text(summary: &Summary) -> String {
    summary.text("imported")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_may_be_quoted_and_empty() {
        let rows = csv_rows(
            "sha256,product,name,scopes,meta\n\
             ab,forgeai,\"Acme, Inc.\",read write,\"{\"\"tier\"\":\"\"gold\"\"}\"\r\n\
             \n\
             cd,forgeai,plain,,\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(
            rows[0].item,
            json!({ "sha256": "ab", "product": "forgeai", "name": "Acme, Inc.", "scopes": ["read", "write"], "meta": { "tier": "gold" } })
        );
        assert_eq!(rows[1].line, 4);
        assert_eq!(
            rows[1].item,
            json!({ "sha256": "cd", "product": "forgeai", "name": "plain" })
        );
        assert!(csv_rows("sha256,colour\nab,red\n")
            .err()
            .unwrap()
            .contains("unknown column"));
        assert!(csv_rows("sha256,name\nab\n")
            .err()
            .unwrap()
            .contains("line 2"));
        assert!(csv_rows("sha256\n\"ab\n")
            .err()
            .unwrap()
            .contains("not closed"));
    }

    #[test]
    fn batches_hold_at_most_max_import_keys_and_fit_the_body_limit() {
        let rows: Vec<Row> = (0..1_000)
            .map(|i| Row {
                line: i + 1,
                item: json!({ "sha256": "a".repeat(64), "product": "forgeai", "name": "n" }),
            })
            .collect();
        let sizes: Vec<usize> = batches(&rows).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [400, 400, 200]);
        let big: Vec<Row> = (0..300)
            .map(|i| Row {
                line: i + 1,
                item: json!({ "sha256": "a".repeat(64), "name": "n", "meta": { "x": "y".repeat(4_000) } }),
            })
            .collect();
        for batch in batches(&big) {
            assert!(body(batch, true).to_string().len() <= IMPORT_BODY_LIMIT);
        }
    }
}
