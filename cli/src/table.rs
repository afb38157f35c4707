//! Readable output for the management commands: tables and key/value
//! blocks from the management API's JSON.
//!
//! Pure: JSON in, text out. Invariant: a value is shown on one line
//! (control characters become `?`), so a name or meta cannot forge rows.

use serde_json::Value;

/// The columns of a key list.
pub const KEY_COLUMNS: [&str; 8] = [
    "id",
    "name",
    "product",
    "environment",
    "masked",
    "status",
    "enabled",
    "expires_at",
];

/// The columns of an event list.
pub const EVENT_COLUMNS: [&str; 5] = ["id", "type", "at", "key_id", "product"];

/// One cell: strings as they are, `null` and absent as `-`, anything else
/// as compact JSON; control characters replaced.
pub fn cell(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    };
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A table of `rows` (JSON objects) with `columns`, left-aligned, two
/// spaces between columns; widths count characters.
pub fn table(columns: &[&str], rows: &[Value]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|c| cell(row.get(*c))).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([name.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<String>| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = vec![line(
        columns.iter().map(|c| c.to_ascii_uppercase()).collect(),
    )];
    out.extend(cells.into_iter().map(line));
    out.join("\n") + "\n"
}

/// An object as `name: value` lines, members sorted by name.
pub fn record(object: &Value) -> String {
    let Some(members) = object.as_object() else {
        return cell(Some(object)) + "\n";
    };
    let width = members.keys().map(String::len).max().unwrap_or(0);
    members
        .iter()
        .map(|(name, value)| {
            format!(
                "{:<width$}  {}\n",
                format!("{name}:"),
                cell(Some(value)),
                width = width + 1
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_and_show_absent_as_dash() {
        let rows = [
            json!({"id": "key_1", "name": "ci", "status": "active", "scopes": ["read", "write"]}),
            json!({"id": "key_22", "name": "long name", "status": null}),
        ];
        let text = table(&["id", "name", "status", "scopes"], &rows);
        assert_eq!(
            text,
            "ID      NAME       STATUS  SCOPES\n\
             key_1   ci         active  read write\n\
             key_22  long name  -       -\n"
        );
        assert_eq!(table(&["id"], &[]), "ID\n");
    }

    #[test]
    fn values_stay_on_one_line() {
        let rows = [json!({"name": "a\nkey_9  forged\r", "meta": {"plan": "pro"}})];
        let text = table(&["name", "meta"], &rows);
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("a?key_9  forged?"));
        assert!(text.contains(r#"{"plan":"pro"}"#));
    }

    #[test]
    fn records_list_members() {
        let text = record(&json!({"id": "acct_1", "status": "suspended", "n": 3}));
        assert_eq!(text, "id:      acct_1\nn:       3\nstatus:  suspended\n");
        assert_eq!(record(&json!("x")), "x\n");
    }
}
