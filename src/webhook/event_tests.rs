use super::*;

const SUBJECT: KeySubject<'static> = KeySubject {
    account: "acct_1",
    key_id: "key_1",
    product: "forgeai",
};

#[test]
fn every_type_round_trips_by_name() {
    for kind in EventType::ALL {
        assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        // keygate's own events are all in its reserved namespaces, so no
        // relayed event can share a name with one.
        assert!(
            check_relayed_type(kind.as_str()).is_err(),
            "{}",
            kind.as_str()
        );
    }
    assert_eq!(EventType::parse("key.Created"), None);
    assert_eq!(EventType::parse("key.created "), None);
}

#[test]
fn event_ids_are_stable_and_header_safe() {
    let id = event_id(&[0xab; 16]);
    assert_eq!(id, format!("msg_{}", "ab".repeat(16)));
    assert!(crate::webhook::sign::is_valid_id(&id));
}

#[test]
fn the_body_is_canonical() {
    let event = Event::new(
        "msg_1".into(),
        EventType::KeyRotated,
        1_800_000_000,
        key_rotated(&SUBJECT, "key_2", 1_800_086_400),
    );
    assert_eq!(
        event.body(),
        r#"{"type":"key.rotated","timestamp":"2027-01-15T08:00:00Z","data":{"account":"acct_1","grace_ends_at":"2027-01-16T08:00:00Z","key_id":"key_1","new_key_id":"key_2","product":"forgeai"}}"#
    );
    // Insertion order does not matter.
    let mut a = Map::new();
    a.insert("z".into(), 1.into());
    a.insert("a".into(), json!({"y": 1, "b": 2}));
    let mut b = Map::new();
    b.insert("a".into(), json!({"b": 2, "y": 1}));
    b.insert("z".into(), 1.into());
    let ev = |data| Event::new("m".into(), EventType::KeyUpdated, 0, data);
    assert_eq!(ev(a).body(), ev(b).body());
}

#[test]
fn every_builtin_payload_is_an_object_with_its_ids() {
    let bodies = [
        key_changed(&SUBJECT, json!({"id": "key_1", "name": "ci"}), &[]),
        key_changed(&SUBJECT, json!({"id": "key_1"}), &["name", "scopes"]),
        key_rotated(&SUBJECT, "key_2", 10),
        key_expiring(&SUBJECT, 100, 86_400),
        key_expired(&SUBJECT, 100),
        key_leaked(
            &SUBJECT,
            leak_details(
                "github",
                Some("https://github.com/o/r/blob/x"),
                Some("content"),
                LeakAction::Revoked,
            ),
        ),
        key_limit_reached("acct_1", "forgeai", 10),
        account_changed("acct_1"),
        webhook_disabled(
            "acct_1",
            &Hook::Key("key_1".into()),
            "https://h.example/",
            410,
        ),
    ];
    for data in bodies {
        assert_eq!(data.get("account"), Some(&json!("acct_1")));
        let body = Event::new("m".into(), EventType::KeyCreated, 0, data).body();
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert!(parsed["data"].is_object());
        assert_eq!(parsed.as_object().unwrap().len(), 3);
    }
    let changed = key_changed(&SUBJECT, json!({}), &["enabled"]);
    assert_eq!(changed["changed"], json!(["enabled"]));
    let details = leak_details("gitlab", None, None, LeakAction::Flagged);
    let leaked = key_leaked(&SUBJECT, details);
    assert_eq!(leaked["action"], "flagged");
    assert_eq!(leaked["url"], Value::Null);
}

#[test]
fn strings_are_escaped_in_the_body() {
    let data = account_changed("a\"b\\c\u{1}");
    let body = Event::new("m".into(), EventType::AccountSuspended, 0, data).body();
    let parsed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed["data"]["account"], "a\"b\\c\u{1}");
}

#[test]
fn relayed_types_are_checked() {
    for good in [
        "job.completed",
        "forgeai.image.ready",
        "a.b",
        "job_2.done_3",
    ] {
        assert!(check_relayed_type(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "job",
        "job.",
        ".job",
        "job..done",
        "Job.done",
        "job.Done",
        "1job.done",
        "job.done ",
        "job-x.done",
        "job.dóne",
        "key.created",
        "key.anything",
        "account.deleted",
        "webhook.disabled",
    ] {
        assert!(check_relayed_type(bad).is_err(), "{bad:?}");
    }
    let long = format!("a.{}", "b".repeat(MAX_TYPE_BYTES - 1));
    assert!(check_relayed_type(&long).is_err());
    assert!(check_relayed_type(&long[..MAX_TYPE_BYTES]).is_ok());
}

#[test]
fn relayed_data_must_be_a_bounded_object() {
    let ok = RelayedEvent::new("job.done", json!({"job": 1})).unwrap();
    assert_eq!(ok.kind(), "job.done");
    let event = Event::relayed("msg_1".into(), ok, 0);
    assert_eq!(
        event.body(),
        r#"{"type":"job.done","timestamp":"1970-01-01T00:00:00Z","data":{"job":1}}"#
    );
    for data in [json!(null), json!([1]), json!("x"), json!(1)] {
        let err = RelayedEvent::new("job.done", data).unwrap_err();
        assert!(matches!(err, Error::InvalidField { ref field, .. } if field == "data"));
    }
    let err = RelayedEvent::new("key.revoked", json!({})).unwrap_err();
    assert!(matches!(err, Error::InvalidField { ref field, .. } if field == "type"));
    // At the bound and one byte over: {"x":"…"} is 8 bytes of framing.
    let at = json!({ "x": "a".repeat(MAX_RELAYED_DATA_BYTES - 8) });
    assert!(RelayedEvent::new("job.done", at).is_ok());
    let over = json!({ "x": "a".repeat(MAX_RELAYED_DATA_BYTES - 7) });
    assert!(RelayedEvent::new("job.done", over).is_err());
}

#[test]
fn subscriptions_name_known_types_once() {
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(parse_subscription(&[]).unwrap(), vec![]);
    assert_eq!(
        parse_subscription(&names(&["key.expiring", "key.leaked"])).unwrap(),
        vec![EventType::KeyExpiring, EventType::KeyLeaked]
    );
    let err = parse_subscription(&names(&["key.expiring", "job.done"])).unwrap_err();
    assert!(matches!(err, Error::InvalidField { ref field, .. } if field == "event_types[1]"));
    assert!(parse_subscription(&names(&["key.leaked", "key.leaked"])).is_err());
}
