//! The management API's OpenAPI 3.1 document, as served.
//!
//! The document is `openapi/management.json`, compiled in. Invariant: the
//! served copy names the configured prefix and host as its server, so
//! generated clients call the right address, and names this deployment's
//! products and each product's permissions as enums, so generated clients
//! and testers send only what the server takes; the tests below keep the
//! document's paths and methods equal to what [`super::request`] routes.

use serde_json::{json, Value};

use crate::config::{Config, Management};

/// The document as kept in the repository.
pub const DOCUMENT: &str = include_str!("../../openapi/management.json");

/// The document as this deployment serves it: [`document_for`] its
/// management address, with its products and permissions as enums.
pub fn served(config: &Config) -> String {
    let Some(api) = &config.management else {
        return DOCUMENT.to_owned();
    };
    let Ok(mut doc) = serde_json::from_str::<Value>(&document_for(api)) else {
        return DOCUMENT.to_owned();
    };
    name_products(&mut doc, config);
    doc.to_string()
}

/// Request schemas narrowed to `config`'s product ids and permissions.
/// Response schemas stay open: a key may outlive its product's config.
fn name_products(doc: &mut Value, config: &Config) {
    let ids: Vec<&str> = config.products.iter().map(|p| p.id.as_str()).collect();
    let mut every: Vec<&str> = config
        .products
        .iter()
        .flat_map(|p| p.known_permissions.iter().map(String::as_str))
        .collect();
    every.sort_unstable();
    every.dedup();
    if ids.is_empty() {
        return;
    }
    let schemas = "/components/schemas";
    set(
        doc,
        &format!("{schemas}/CreateKey/properties/product/enum"),
        json!(ids),
    );
    set(
        doc,
        "/components/parameters/ProductFilter/schema/enum",
        json!(ids),
    );
    set(
        doc,
        &format!("{schemas}/VerifyRequest/properties/product/enum"),
        json!(ids),
    );
    if every.is_empty() {
        return;
    }
    for schema in ["CreateKey", "UpdateKey"] {
        let at = format!("{schemas}/{schema}/properties/scopes/items/enum");
        set(doc, &at, json!(every));
    }
    // Each product's own permissions, where validators look (generators
    // ignore `if`/`then`, and the union above is what they type).
    let per_product: Vec<Value> = config
        .products
        .iter()
        .filter(|p| !p.known_permissions.is_empty())
        .map(|p| {
            json!({
                "if": { "properties": { "product": { "const": p.id } }, "required": ["product"] },
                "then": { "properties": { "scopes": { "items": { "enum": p.known_permissions } } } }
            })
        })
        .collect();
    if let Some(create) = doc.pointer_mut(&format!("{schemas}/CreateKey")) {
        if let Some(object) = create.as_object_mut() {
            object.insert("allOf".to_owned(), Value::Array(per_product));
        }
    }
}

/// Sets the member at `pointer` (whose parent exists) to `value`.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let Some((parent, name)) = pointer.rsplit_once('/') else {
        return;
    };
    if let Some(object) = doc.pointer_mut(parent).and_then(Value::as_object_mut) {
        object.insert(name.to_owned(), value);
    }
}

/// The document with `servers` set to where this deployment serves the API.
pub fn document_for(api: &Management) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(DOCUMENT) else {
        return DOCUMENT.to_owned();
    };
    let url = match &api.host {
        Some(host) => format!("https://{host}{}", api.path_prefix),
        None if api.path_prefix.is_empty() => "/".to_owned(),
        None => api.path_prefix.clone(),
    };
    if let Some(servers) = doc.get_mut("servers") {
        *servers = json!([{ "url": url, "description": "This deployment." }]);
    }
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::demo_config;
    use crate::manage::request::{parse, Incoming, Request};
    use crate::Error;

    fn doc() -> serde_json::Value {
        serde_json::from_str(DOCUMENT).unwrap()
    }

    #[test]
    fn the_document_is_openapi_3_1() {
        let doc = doc();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
        assert_eq!(doc["servers"][0]["url"], "/_keygate/v1");
    }

    #[test]
    fn served_copies_name_this_deployment() {
        let api = |host: Option<&str>, prefix: &str| Management {
            host: host.map(str::to_owned),
            path_prefix: prefix.to_owned(),
        };
        let served = |m| -> serde_json::Value { serde_json::from_str(&document_for(&m)).unwrap() };
        assert_eq!(served(api(None, "/admin"))["servers"][0]["url"], "/admin");
        assert_eq!(served(api(None, ""))["servers"][0]["url"], "/");
        assert_eq!(
            served(api(Some("admin.forge.ai"), ""))["servers"][0]["url"],
            "https://admin.forge.ai"
        );
        assert_eq!(served(api(None, "/admin"))["paths"], doc()["paths"]);
    }

    /// The served document names the configured products and each one's
    /// permissions; the kept one stays generic.
    #[test]
    fn the_served_document_names_this_deployments_products() {
        let config = demo_config();
        let served: serde_json::Value = serde_json::from_str(&served(&config)).unwrap();
        let ids: Vec<&str> = config.products.iter().map(|p| p.id.as_str()).collect();
        let create = &served["components"]["schemas"]["CreateKey"];
        assert_eq!(create["properties"]["product"]["enum"], json!(ids));
        assert_eq!(
            served["components"]["parameters"]["ProductFilter"]["schema"]["enum"],
            json!(ids)
        );
        let every = create["properties"]["scopes"]["items"]["enum"]
            .as_array()
            .unwrap();
        for product in &config.products {
            for permission in &product.known_permissions {
                assert!(every.contains(&json!(permission)), "{permission}");
            }
            let rule = create["allOf"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["if"]["properties"]["product"]["const"] == json!(product.id))
                .unwrap();
            assert_eq!(
                rule["then"]["properties"]["scopes"]["items"]["enum"],
                json!(product.known_permissions)
            );
        }
        assert_eq!(
            served["components"]["schemas"]["UpdateKey"]["properties"]["scopes"]["items"]["enum"],
            json!(every)
        );
        // Responses stay open, and the kept document names no product.
        assert!(
            served["components"]["schemas"]["KeyView"]["properties"]["product"]
                .get("enum")
                .is_none()
        );
        assert!(
            doc()["components"]["schemas"]["CreateKey"]["properties"]["product"]
                .get("enum")
                .is_none()
        );
        // Without a management API there is nothing to serve but the kept copy.
        let mut off = demo_config();
        off.management = None;
        assert_eq!(super::served(&off), DOCUMENT);
    }

    /// The schema's name pattern is the rule [`crate::manage::name`]
    /// applies, so a client validating against the document agrees.
    #[test]
    fn the_name_pattern_is_the_name_rule() {
        let doc = doc();
        for schema in ["CreateKey", "UpdateKey"] {
            let name = &doc["components"]["schemas"][schema]["properties"]["name"];
            assert_eq!(
                name["pattern"].as_str(),
                Some(crate::manage::name::schema_pattern().as_str()),
                "{schema}"
            );
            assert_eq!(name["minLength"], 1);
            assert_eq!(name["maxLength"], 64);
        }
    }

    /// Every link names a documented operation and fills exactly its
    /// path parameters, so stateful testers can follow it.
    #[test]
    fn links_lead_to_operations() {
        let doc = doc();
        let paths = doc["paths"].as_object().unwrap();
        let mut operations = std::collections::BTreeMap::new();
        for (template, item) in paths {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                    let params: std::collections::BTreeSet<String> = template
                        .split('{')
                        .skip(1)
                        .filter_map(|s| s.split_once('}').map(|(p, _)| p.to_owned()))
                        .collect();
                    operations.insert(id.to_owned(), params);
                }
            }
        }
        let mut links = 0;
        for item in paths.values() {
            for op in item.as_object().unwrap().values() {
                let Some(responses) = op.get("responses").and_then(|r| r.as_object()) else {
                    continue;
                };
                for response in responses.values() {
                    for link in response["links"].as_object().into_iter().flatten() {
                        let (name, link) = link;
                        let target = link["operationId"].as_str().unwrap();
                        let wanted = operations.get(target).expect(target);
                        let given: std::collections::BTreeSet<String> = link["parameters"]
                            .as_object()
                            .unwrap()
                            .keys()
                            .cloned()
                            .collect();
                        assert_eq!(&given, wanted, "{name}");
                        links += 1;
                    }
                }
            }
        }
        let created = &doc["paths"]["/accounts/{account}/keys"]["post"]["responses"]["201"];
        for name in ["GetKey", "UpdateKey", "RotateKey", "RevokeKey"] {
            assert!(created["links"].get(name).is_some(), "{name}");
        }
        assert!(links >= 8);
    }

    /// Every documented operation is routed, and every routed path and
    /// method is documented (verify by the gateway, the rest here).
    #[test]
    fn the_document_and_the_router_agree() {
        let config = demo_config();
        let concrete = |template: &str| {
            template
                .replace("{account}", "acct_1")
                .replace("{id}", "key_00000000000000000")
        };
        let doc = doc();
        let paths = doc["paths"].as_object().unwrap();
        for method in ["GET", "HEAD", "POST", "PATCH", "DELETE", "PUT"] {
            for (template, item) in paths {
                // Verify is the gateway's own route (crate::verify), not
                // the management router's.
                if template == crate::verify::VERIFY_PATH {
                    continue;
                }
                // The leak endpoints are answered before the management
                // router (crate::leak::Route), each on one method only.
                if let Some(route) = crate::leak::Route::of(template) {
                    let documented = item.get(method.to_lowercase()).is_some();
                    assert_eq!(documented, method == route.method(), "{method} {template}");
                    continue;
                }
                // HEAD is served wherever GET is (RFC 9110).
                let as_documented = if method == "HEAD" { "get" } else { method };
                let documented = item.get(as_documented.to_lowercase()).is_some();
                let path = concrete(template);
                let incoming = Incoming {
                    method,
                    path: &path,
                    query: None,
                    content_type: Some("application/json"),
                    if_match: None,
                    body: b"{}",
                };
                let routed = parse(&config, &incoming, 0, false);
                let routed = !matches!(
                    routed,
                    Err(Error::MethodNotAllowed { .. } | Error::NotFound)
                );
                assert_eq!(documented, routed, "{method} {template}");
            }
        }
        let incoming = Incoming {
            method: "GET",
            path: "/openapi.json",
            query: None,
            content_type: None,
            if_match: None,
            body: b"",
        };
        assert_eq!(parse(&config, &incoming, 0, false), Ok(Request::OpenApi));
        for path in [
            "/leaks/github",
            "/leaks/gitlab/revocable_token_types",
            "/leaks/gitlab/revoke_tokens",
        ] {
            assert!(crate::leak::Route::of(path).is_some(), "{path}");
            assert!(paths.contains_key(path), "{path} is documented");
        }
    }
}
