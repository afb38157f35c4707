//! `keygate render`: the operator's one `wrangler.toml` in, the two Workers'
//! wrangler configs out.
//!
//! Invariant: both outputs carry the input's `[vars]` (so the same
//! `KEYGATE_CONFIG`, and the same config digest) and its KV namespaces;
//! the gateway gets the `ACCOUNTS` binding to the control Worker's class
//! (`script_name`) and the `CONTROL` service binding, never a migration;
//! the control Worker gets the class and its migrations, and no product
//! routes. Pure: text in, text out.

use keygate::config::{ACCOUNTS_BINDING, CONFIG_VAR, KEYS_BINDING};
use keygate::seam::CONTROL_BINDING;
use toml::{Table, Value};

/// The operator's table of render settings, `[keygate]` in `wrangler.toml`.
pub const SETTINGS: &str = "keygate";

/// The two Workers' wrangler configs.
#[derive(Debug)]
pub struct Rendered {
    /// The gateway's name (the input's `name`).
    pub gateway_name: String,
    /// The control Worker's name.
    pub control_name: String,
    /// The gateway's config.
    pub gateway: Table,
    /// The control Worker's config.
    pub control: Table,
}

/// Renders `input`; `main_dir` is where `gateway/index.js` and
/// `control/index.js` are, as the configs should name it.
pub fn render(input: &Table, main_dir: &str) -> Result<Rendered, String> {
    if input.contains_key("env") {
        return Err(
            "[env.*] environments are not supported: keep one wrangler.toml per \
                    environment and render each"
                .to_owned(),
        );
    }
    let gateway_name = string(input, "name")?
        .ok_or("`name` is missing: it names the gateway Worker")?
        .to_owned();
    let settings = match input.get(SETTINGS) {
        None => Table::new(),
        Some(Value::Table(t)) => t.clone(),
        Some(_) => return Err(format!("[{SETTINGS}] must be a table")),
    };
    for key in settings.keys() {
        if !["control_name", "control_routes", "transfer_from"].contains(&key.as_str()) {
            return Err(format!(
                "[{SETTINGS}].{key} is unknown (known: control_name, control_routes, \
                 transfer_from)"
            ));
        }
    }
    let control_name = match string(&settings, "control_name")? {
        Some(name) => name.to_owned(),
        None => format!("{gateway_name}-control"),
    };
    if control_name == gateway_name {
        return Err(format!(
            "[{SETTINGS}].control_name must differ from the gateway's name {gateway_name:?}"
        ));
    }
    let transfer_from = string(&settings, "transfer_from")?;
    if input.get("vars").and_then(|v| v.get(CONFIG_VAR)).is_none() {
        return Err(format!("no [vars.{CONFIG_VAR}] table"));
    }
    if !binds(input, "kv_namespaces", "binding", KEYS_BINDING) {
        return Err(format!(
            "no [[kv_namespaces]] with binding = \"{KEYS_BINDING}\""
        ));
    }
    let objects = input
        .get("durable_objects")
        .and_then(|d| d.get("bindings"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !objects
        .iter()
        .any(|b| b.get("name").and_then(Value::as_str) == Some(ACCOUNTS_BINDING))
    {
        return Err(format!(
            "no [[durable_objects.bindings]] with name = \"{ACCOUNTS_BINDING}\""
        ));
    }

    let mut gateway = input.clone();
    let mut control = input.clone();
    for dropped in ["main", "build", SETTINGS] {
        gateway.remove(dropped);
        control.remove(dropped);
    }

    // The gateway: product traffic. It binds the control Worker's class and
    // the control Worker itself; it owns no class, so it has no migrations.
    gateway.remove("migrations");
    gateway.insert(
        "main".into(),
        Value::String(format!("{main_dir}/gateway/index.js")),
    );
    let remote: Vec<Value> = objects
        .iter()
        .map(|binding| {
            let mut binding = binding.clone();
            if let Some(table) = binding.as_table_mut() {
                table
                    .entry("script_name")
                    .or_insert_with(|| Value::String(control_name.clone()));
            }
            binding
        })
        .collect();
    let mut durable_objects = Table::new();
    durable_objects.insert("bindings".into(), Value::Array(remote));
    gateway.insert("durable_objects".into(), Value::Table(durable_objects));
    let mut services = match gateway.remove("services") {
        Some(Value::Array(existing)) => existing,
        Some(_) => return Err("`services` must be an array of tables".to_owned()),
        None => Vec::new(),
    };
    services.retain(|s| s.get("binding").and_then(Value::as_str) != Some(CONTROL_BINDING));
    let mut service = Table::new();
    service.insert("binding".into(), Value::String(CONTROL_BINDING.into()));
    service.insert("service".into(), Value::String(control_name.clone()));
    services.push(Value::Table(service));
    gateway.insert("services".into(), Value::Array(services));

    // The control Worker: the management API and the Account class.
    control.insert("name".into(), Value::String(control_name.clone()));
    control.insert(
        "main".into(),
        Value::String(format!("{main_dir}/control/index.js")),
    );
    for dropped in ["routes", "route", "services", "workers_dev"] {
        control.remove(dropped);
    }
    if let Some(routes) = settings.get("control_routes") {
        control.insert("routes".into(), routes.clone());
    }
    if let Some(from) = transfer_from {
        let migrations = control
            .get_mut("migrations")
            .and_then(Value::as_array_mut)
            .ok_or("transfer_from needs the [[migrations]] that created the class")?;
        for migration in migrations.iter_mut().filter_map(Value::as_table_mut) {
            transfer(migration, from);
        }
    }

    Ok(Rendered {
        gateway_name,
        control_name,
        gateway,
        control,
    })
}

/// Rewrites a migration that created classes into one that takes them,
/// with their storage, from the Worker `from`.
fn transfer(migration: &mut Table, from: &str) {
    let mut moved = Vec::new();
    for kind in ["new_sqlite_classes", "new_classes"] {
        if let Some(Value::Array(classes)) = migration.remove(kind) {
            for class in classes.iter().filter_map(Value::as_str) {
                let mut entry = Table::new();
                entry.insert("from".into(), Value::String(class.into()));
                entry.insert("from_script".into(), Value::String(from.into()));
                entry.insert("to".into(), Value::String(class.into()));
                moved.push(Value::Table(entry));
            }
        }
    }
    if !moved.is_empty() {
        migration.insert("transferred_classes".into(), Value::Array(moved));
    }
}

fn string<'t>(table: &'t Table, key: &str) -> Result<Option<&'t str>, String> {
    match table.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s)),
        Some(_) => Err(format!("`{key}` must be a non-empty string")),
    }
}

fn binds(table: &Table, list: &str, field: &str, name: &str) -> bool {
    table
        .get(list)
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items
                .iter()
                .any(|i| i.get(field).and_then(Value::as_str) == Some(name))
        })
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
