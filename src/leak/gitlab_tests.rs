use super::*;

const TOKEN: &str = "gitlab-revocation-token-0123456789abcdef";

fn auth() -> Authenticated {
    authenticate(
        &BearerToken::new(TOKEN).unwrap(),
        Some(&format!("Bearer {TOKEN}")),
    )
    .unwrap()
}

fn types() -> Vec<String> {
    vec![token_type("fai"), token_type("sf")]
}

#[test]
fn the_bearer_token_is_required() {
    assert!(BearerToken::new("short").is_err());
    let token = BearerToken::new(TOKEN).unwrap();
    assert!(!format!("{token:?}").contains(TOKEN));
    for header in [
        None,
        Some(""),
        Some(TOKEN),
        Some("Bearer wrong-token-0123456789abcdefghijk"),
        Some("Basic x"),
    ] {
        assert!(
            matches!(
                authenticate(&token, header),
                Err(LeakError::Unauthenticated(_))
            ),
            "{header:?}"
        );
    }
}

#[test]
fn revocable_types_are_listed() {
    assert_eq!(
        revocable_token_types(auth(), &types()),
        serde_json::json!({"types": ["keygate_fai_key", "keygate_sf_key"]})
    );
}

#[test]
fn revoke_requests_are_parsed() {
    let body = br#"[{"type":"keygate_fai_key","token":"fai_live_x","location":"https://gitlab.example/r/-/blob/1/f"},{"type":"keygate_sf_key","token":"sf_test_y"}]"#;
    let got = parse_revoke(auth(), body, &types()).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].token.expose(), "fai_live_x");
    assert_eq!(
        got[0].location.as_deref(),
        Some("https://gitlab.example/r/-/blob/1/f")
    );
    assert_eq!(got[1].location, None);
    assert!(!format!("{got:?}").contains("fai_live_x"));
}

#[test]
fn bad_revoke_requests_are_refused() {
    let bad = |body: &[u8]| parse_revoke(auth(), body, &types()).unwrap_err();
    assert!(
        matches!(bad(br#"[{"type":"other","token":"x"}]"#), LeakError::Malformed(m) if m.contains("[0].type"))
    );
    assert!(matches!(
        bad(br#"[{"type":"keygate_fai_key","token":""}]"#),
        LeakError::Malformed(_)
    ));
    assert!(matches!(
        bad(br#"{"type":"keygate_fai_key","token":"x"}"#),
        LeakError::Malformed(_)
    ));
    assert!(matches!(bad(b""), LeakError::Malformed(_)));
    let long = serde_json::to_vec(&serde_json::json!([{"type": "keygate_fai_key", "token": "x", "location": "l".repeat(MAX_FIELD_BYTES + 1)}])).unwrap();
    assert!(matches!(bad(&long), LeakError::Malformed(_)));
    assert!(matches!(
        bad(&vec![b' '; MAX_BODY_BYTES + 1]),
        LeakError::TooLarge { .. }
    ));
    let entry = serde_json::json!({"type": "keygate_fai_key", "token": "x"});
    assert!(matches!(
        bad(&serde_json::to_vec(&vec![entry; MAX_TOKENS + 1]).unwrap()),
        LeakError::Malformed(_)
    ));
}
