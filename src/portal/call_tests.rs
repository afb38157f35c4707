use super::*;
use crate::config::tests::demo_config;
use crate::manage::op::Expiry;
use crate::manage::PageUpdate;
use serde_json::json;

/// forgeai's grantable permissions are its default scopes: read and
/// execute_flows (it also knows view_logs, write and manage_deployments).
fn narrow() -> Scope {
    Scope {
        products: Some(vec!["forgeai".into()]),
        owner_id: Some("u1".into()),
        scopes: None,
    }
}

fn new_key(product: &str, scopes: Option<&[&str]>) -> PageNewKey {
    PageNewKey {
        allowed_ips: Default::default(),
        product: product.into(),
        name: "k".into(),
        scopes: scopes.map(|l| l.iter().map(|s| (*s).to_owned()).collect()),
        expires_at: None,
        webhook_url: None,
    }
}

fn create(scope: &Scope, new: PageNewKey) -> Result<NewKey, Error> {
    match restrict(&demo_config(), scope, PageOp::CreateKey(new))? {
        (Op::CreateKey(new), Need::Nothing) => Ok(new),
        other => panic!("{other:?}"),
    }
}

#[test]
fn creates_stay_in_scope_and_belong_to_the_holder() {
    let new = create(&narrow(), new_key("forgeai", None)).unwrap();
    assert_eq!(new.owner_id.as_deref(), Some("u1"));
    assert_eq!(new.meta, None);
    assert_eq!(new.environment, Environment::Live);
    assert_eq!(new.scopes, None, "the defaults are all grantable");
    assert!(create(&narrow(), new_key("mailforge", None)).is_err());
    // A session without a holder makes keys without one: never another's.
    let open = create(&Scope::default(), new_key("forgeai", None)).unwrap();
    assert_eq!(open.owner_id, None);
}

#[test]
fn a_create_asks_only_for_grantable_scopes() {
    let ok = create(&narrow(), new_key("forgeai", Some(&["read"]))).unwrap();
    assert_eq!(ok.scopes, Some(vec!["read".to_owned()]));
    for beyond in ["view_logs", "manage_deployments", "write"] {
        let error = create(&narrow(), new_key("forgeai", Some(&["read", beyond]))).unwrap_err();
        assert_eq!(error.code(), "scope_not_grantable", "{beyond}");
        assert_eq!(error.status(), 403);
        assert_eq!(error.field(), Some("scopes[1]"));
    }
    // Not a permission at all: invalid_field, as for the management API.
    let error = create(&narrow(), new_key("forgeai", Some(&["fly"]))).unwrap_err();
    assert_eq!(error.code(), "invalid_field");
    // A session ceiling narrows it further, and the defaults with it.
    let read_only = Scope {
        scopes: Some(vec!["read".into()]),
        ..narrow()
    };
    let error = create(&read_only, new_key("forgeai", Some(&["execute_flows"]))).unwrap_err();
    assert_eq!(error.code(), "scope_not_grantable");
    let defaults = create(&read_only, new_key("forgeai", None)).unwrap();
    assert_eq!(defaults.scopes, Some(vec!["read".to_owned()]));
    // A ceiling with none of the defaults: the page must name scopes.
    let logs = Scope {
        scopes: Some(vec!["admin_read".into()]),
        ..Scope::default()
    };
    let error = create(&logs, new_key("forgeai", None)).unwrap_err();
    assert_eq!(error.field(), Some("scopes"));
}

#[test]
fn an_update_never_carries_meta_or_enabled_and_only_shortens() {
    let change = PageUpdate {
        allowed_ips: Default::default(),
        name: Some("n".into()),
        scopes: Some(vec!["read".into()]),
        expires_at: Some(2_000_000_000),
    };
    let (op, need) = restrict(
        &demo_config(),
        &narrow(),
        PageOp::UpdateKey {
            id: "key_x".into(),
            change,
        },
    )
    .unwrap();
    assert_eq!(
        op,
        Op::UpdateKey {
            allowed_ips: Default::default(),
            id: "key_x".into(),
            name: Some("n".into()),
            scopes: Some(vec!["read".into()]),
            expires_at: Some(Expiry::Earlier(2_000_000_000)),
            enabled: None,
            meta: None,
        }
    );
    assert_eq!(
        need,
        Need::Key {
            id: "key_x".into(),
            scopes: Some(vec!["read".into()])
        }
    );
}

#[test]
fn a_named_key_must_be_seen_and_its_scopes_grantable() {
    let config = demo_config();
    let mine = json!({"id": "key_1", "product": "forgeai", "owner_id": "u1"});
    let theirs = json!({"id": "key_2", "product": "forgeai", "owner_id": "u2"});
    assert_eq!(admit(&config, &narrow(), &mine, None), Ok(()));
    assert_eq!(
        admit(&config, &narrow(), &theirs, None),
        Err(Error::KeyNotFound)
    );
    let read = ["read".to_owned()];
    assert_eq!(admit(&config, &narrow(), &mine, Some(&read)), Ok(()));
    let admin = ["read".to_owned(), "manage_deployments".to_owned()];
    let error = admit(&config, &narrow(), &mine, Some(&admin)).unwrap_err();
    assert_eq!(error.code(), "scope_not_grantable");
    let unknown = ["fly".to_owned()];
    let error = admit(&config, &narrow(), &mine, Some(&unknown)).unwrap_err();
    assert_eq!(error.code(), "invalid_field");
    // Its product's ceiling, not another's: mailforge grants admin_read.
    let mail = json!({"id": "key_3", "product": "mailforge"});
    let admin_read = ["admin_read".to_owned()];
    assert_eq!(
        admit(&config, &Scope::default(), &mail, Some(&admin_read)),
        Ok(())
    );
    let forge = json!({"id": "key_4", "product": "forgeai"});
    assert!(admit(&config, &Scope::default(), &forge, Some(&admin_read)).is_err());
}

#[test]
fn key_ops_need_the_key() {
    let (_, need) = restrict(
        &demo_config(),
        &narrow(),
        PageOp::RevokeKey { id: "key_x".into() },
    )
    .unwrap();
    assert_eq!(need, Need::key("key_x"));
}

#[test]
fn an_idempotency_key_is_kept_for_the_sessions_holder_and_products() {
    let token = crate::secret::AdminToken::new("an-admin-token-of-at-least-32-characters").unwrap();
    let pending = || {
        crate::manage::idempotency::prepare(Some("k"), &token, "POST", "portal:/api/keys", b"{}")
            .unwrap()
            .unwrap()
    };
    let once = |scope: &Scope| match restrict(
        &demo_config(),
        scope,
        PageOp::Once {
            pending: pending(),
            then: Box::new(PageOp::CreateKey(new_key("forgeai", None))),
        },
    )
    .unwrap()
    .0
    {
        Op::Once { ticket, .. } => ticket,
        other => panic!("{other:?}"),
    };
    let alice = once(&narrow());
    assert_eq!(alice, once(&narrow()));
    let bob = once(&Scope {
        owner_id: Some("u2".into()),
        ..narrow()
    });
    assert_ne!(alice.id, bob.id);
    assert_ne!(alice.id, once(&Scope::default()).id);
    let admin = pending().for_caller(&Caller::Admin);
    assert_ne!(alice.id, admin.id);
}

#[test]
fn lists_are_forced_to_the_holder_and_filtered() {
    let (op, _) = restrict(
        &demo_config(),
        &narrow(),
        PageOp::ListKeys {
            status: None,
            product: None,
            owner_id: None,
            limit: 50,
            after: None,
        },
    )
    .unwrap();
    assert!(
        matches!(op, Op::ListKeys { owner_id: Some(ref o), product: Some(ref p), .. } if o == "u1" && p == "forgeai")
    );
    let mut body = json!({"keys": [
        {"id": "1", "product": "forgeai", "owner_id": "u1"},
        {"id": "2", "product": "b", "owner_id": "u1"},
        {"id": "3", "product": "forgeai", "owner_id": "u2"},
        {"id": "4", "product": "forgeai"}
    ]});
    filter_keys(&narrow(), &mut body);
    assert_eq!(body["keys"].as_array().unwrap().len(), 1);
    let mut events = json!({"events": [
        {"id": "e1", "key_id": "1"}, {"id": "e2", "key_id": "2"}, {"id": "e3"}
    ]});
    filter_events(&narrow(), &["1".into()], &mut events);
    assert_eq!(events["events"].as_array().unwrap().len(), 1);
    let mut all = json!({"events": [{"id": "e3"}]});
    filter_events(&Scope::default(), &[], &mut all);
    assert_eq!(all["events"].as_array().unwrap().len(), 1);
}

#[test]
fn a_page_op_carries_an_allowlist_only_when_the_operator_allows_it() {
    let list = crate::ip_allow::AllowList::parse(&["203.0.113.0/24"]).unwrap();
    let mut new = new_key("forgeai", None);
    new.allowed_ips = Some(list.clone());
    // A page op built by hand (not by the body reader) is refused too.
    let error = create(&narrow(), new.clone()).unwrap_err();
    assert_eq!(error.code(), "forbidden_field");
    let change = PageUpdate {
        name: None,
        scopes: None,
        expires_at: None,
        allowed_ips: Some(list.clone()),
    };
    let op = PageOp::UpdateKey {
        id: "key_1".into(),
        change: change.clone(),
    };
    assert_eq!(
        restrict(&demo_config(), &narrow(), op).unwrap_err().code(),
        "forbidden_field"
    );
    let on = crate::config::Config::from_json(&crate::config::tests::DEMO_JSON.replacen(
        r#""products""#,
        r#""portal": {"editable_allowed_ips": true}, "products""#,
        1,
    ))
    .unwrap();
    match restrict(&on, &narrow(), PageOp::CreateKey(new)).unwrap() {
        (Op::CreateKey(key), _) => assert_eq!(key.allowed_ips, list),
        other => panic!("{other:?}"),
    }
    let op = PageOp::UpdateKey {
        id: "key_1".into(),
        change,
    };
    match restrict(&on, &narrow(), op).unwrap() {
        (Op::UpdateKey { allowed_ips, .. }, _) => assert_eq!(allowed_ips, Some(list)),
        other => panic!("{other:?}"),
    }
}
