use super::*;

const INPUT: &str = r#"
name = "keygate"
main = "build/index.js"
compatibility_date = "2026-01-01"
routes = [{ pattern = "api.example.com/*", zone_name = "example.com" }]

[build]
command = "bash scripts/build.sh"

[[kv_namespaces]]
binding = "KEYS"
id = "abc"

[[durable_objects.bindings]]
name = "ACCOUNTS"
class_name = "Account"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Account"]

[vars.KEYGATE_CONFIG]
cache_ttl_seconds = 10
"#;

fn input(extra: &str) -> Table {
    toml::from_str(&format!("{INPUT}\n{extra}")).unwrap()
}

fn get<'t>(table: &'t Table, path: &str) -> Option<&'t Value> {
    let mut parts = path.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = match part.parse::<usize>() {
            Ok(i) => value.as_array()?.get(i)?,
            Err(_) => value.get(part)?,
        };
    }
    Some(value)
}

#[test]
fn splits_one_config_into_two_workers() {
    let out = render(&input(""), "/b").unwrap();
    assert_eq!(out.gateway_name, "keygate");
    assert_eq!(out.control_name, "keygate-control");
    let (g, c) = (&out.gateway, &out.control);
    assert_eq!(get(g, "name").unwrap().as_str(), Some("keygate"));
    assert_eq!(
        get(g, "main").unwrap().as_str(),
        Some("/b/gateway/index.js")
    );
    assert_eq!(get(c, "name").unwrap().as_str(), Some("keygate-control"));
    assert_eq!(
        get(c, "main").unwrap().as_str(),
        Some("/b/control/index.js")
    );
    // Same config in both.
    assert_eq!(get(g, "vars"), get(c, "vars"));
    assert_eq!(get(g, "kv_namespaces"), get(c, "kv_namespaces"));
    // The gateway binds the control Worker's class and the control Worker.
    assert_eq!(
        get(g, "durable_objects.bindings.0.script_name")
            .unwrap()
            .as_str(),
        Some("keygate-control")
    );
    assert_eq!(
        get(g, "services.0.binding").unwrap().as_str(),
        Some("CONTROL")
    );
    assert_eq!(
        get(g, "services.0.service").unwrap().as_str(),
        Some("keygate-control")
    );
    assert!(g.get("migrations").is_none());
    assert!(g.get("build").is_none());
    assert!(g.get("routes").is_some());
    // The control Worker owns the class and its migration; no product routes.
    assert!(get(c, "durable_objects.bindings.0.script_name").is_none());
    assert_eq!(
        get(c, "migrations.0.new_sqlite_classes.0")
            .unwrap()
            .as_str(),
        Some("Account")
    );
    assert!(c.get("routes").is_none());
    assert!(c.get("services").is_none());
    assert!(c.get("build").is_none());
}

#[test]
fn settings_name_and_route_the_control_worker() {
    let out = render(
        &input(
            "[keygate]\ncontrol_name = \"kc\"\n\
             control_routes = [{ pattern = \"keys.example.com\", custom_domain = true }]",
        ),
        "build",
    )
    .unwrap();
    assert_eq!(out.control_name, "kc");
    assert_eq!(
        get(&out.control, "routes.0.pattern").unwrap().as_str(),
        Some("keys.example.com")
    );
    assert!(out.gateway.get("keygate").is_none());
    assert!(out.control.get("keygate").is_none());
}

#[test]
fn transfer_moves_the_class_from_the_old_worker() {
    let out = render(&input("[keygate]\ntransfer_from = \"keygate-old\""), "b").unwrap();
    let c = &out.control;
    assert!(get(c, "migrations.0.new_sqlite_classes").is_none());
    assert_eq!(get(c, "migrations.0.tag").unwrap().as_str(), Some("v1"));
    assert_eq!(
        get(c, "migrations.0.transferred_classes.0.from_script")
            .unwrap()
            .as_str(),
        Some("keygate-old")
    );
    assert_eq!(
        get(c, "migrations.0.transferred_classes.0.to")
            .unwrap()
            .as_str(),
        Some("Account")
    );
}

#[test]
fn an_existing_control_binding_is_replaced_not_doubled() {
    let out = render(
        &input("[[services]]\nbinding = \"CONTROL\"\nservice = \"other\"\n[[services]]\nbinding = \"X\"\nservice = \"x\""),
        "b",
    )
    .unwrap();
    let services = get(&out.gateway, "services").unwrap().as_array().unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(
        get(&out.gateway, "services.1.service").unwrap().as_str(),
        Some("keygate-control")
    );
}

#[test]
fn refuses_what_cannot_make_two_workers() {
    let cases: [(&str, &str); 7] = [
        ("name = \"keygate\"", "environments"),
        ("", "unknown"),
        ("", "must differ"),
        ("", "KEYGATE_CONFIG"),
        ("", "KEYS"),
        ("", "ACCOUNTS"),
        ("", "non-empty string"),
    ];
    let inputs = [
        format!("{INPUT}\n[env.staging]\nname = \"x\""),
        format!("{INPUT}\n[keygate]\ncontrol_nme = \"x\""),
        format!("{INPUT}\n[keygate]\ncontrol_name = \"keygate\""),
        INPUT.replace("[vars.KEYGATE_CONFIG]", "[vars.OTHER]"),
        INPUT.replace("binding = \"KEYS\"", "binding = \"K\""),
        INPUT.replace("name = \"ACCOUNTS\"", "name = \"A\""),
        format!("{INPUT}\n[keygate]\ncontrol_name = \"\""),
    ];
    for ((_, needle), text) in cases.iter().zip(inputs) {
        let table: Table = toml::from_str(&text).unwrap();
        let error = render(&table, "b").unwrap_err();
        assert!(error.contains(needle), "{error} lacks {needle}");
    }
}
