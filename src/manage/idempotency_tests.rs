use serde_json::json;

use super::*;

const TOKEN: &str = "an-admin-token-of-at-least-32-characters";
const NOW: i64 = 1_795_000_000;
const NONCE: [u8; NONCE_BYTES] = [7; NONCE_BYTES];

fn token(raw: &str) -> AdminToken {
    AdminToken::new(raw).unwrap()
}

fn create(key: &str, body: &str) -> Ticket {
    ticket(
        &token(TOKEN),
        key,
        "POST",
        "/accounts/a/keys",
        body.as_bytes(),
    )
}

fn reply() -> Reply {
    Reply {
        status: 201,
        body: json!({ "id": "key_00000000000000000", "key": "fai_live_secret" }),
    }
}

#[test]
fn header_takes_visible_ascii_up_to_255() {
    assert_eq!(header(None).unwrap(), None);
    assert_eq!(header(Some("")).unwrap(), None);
    let uuid = "5f0c6a39-8a5b-4b0e-9d0c-2b8e4b7d9a11";
    assert_eq!(header(Some(uuid)).unwrap(), Some(uuid));
    let longest = "k".repeat(MAX_LEN);
    assert_eq!(header(Some(&longest)).unwrap(), Some(longest.as_str()));
    for bad in [
        " ".to_owned(),
        "k".repeat(MAX_LEN + 1),
        "has space".to_owned(),
        "tab\there".to_owned(),
        "nul\0".to_owned(),
        "caf\u{e9}".to_owned(),
        "del\u{7f}".to_owned(),
    ] {
        let error = header(Some(&bad)).unwrap_err();
        assert_eq!(error.status(), 400, "{bad:?}");
        match error {
            Error::InvalidField { field, reason } => {
                assert_eq!(field, HEADER);
                assert!(reason.len() > 20);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_ticket_never_holds_the_idempotency_key_or_shows_its_seal() {
    let ticket = create("retry-me-7", "{}");
    let text = serde_json::to_string(&ticket).unwrap();
    assert!(!text.contains("retry-me-7"));
    assert_eq!(ticket.id.len(), 64);
    let debug = format!("{ticket:?}");
    assert!(debug.contains("[redacted]"));
    assert!(!debug.contains(&ticket.seal));
    // It travels to the object and back unchanged.
    assert_eq!(serde_json::from_str::<Ticket>(&text).unwrap(), ticket);
}

#[test]
fn the_fingerprint_covers_method_path_and_body() {
    let base = create("k", "{\"a\":1}");
    assert_eq!(base, create("k", "{\"a\":1}"));
    assert_ne!(base.fingerprint, create("k", "{\"a\":2}").fingerprint);
    assert_ne!(base.fingerprint, create("k", "{\"a\":1} ").fingerprint);
    let t = token(TOKEN);
    let rotate = ticket(&t, "k", "POST", "/accounts/a/keys/x/rotate", b"{\"a\":1}");
    assert_ne!(base.fingerprint, rotate.fingerprint);
    // Length-prefixed: moving bytes between path and body changes it.
    let a = ticket(&t, "k", "POST", "/p", b"ab");
    let b = ticket(&t, "k", "POST", "/pa", b"b");
    assert_ne!(a.fingerprint, b.fingerprint);
    // The id depends on the Idempotency-Key only.
    assert_eq!(base.id, rotate.id);
    assert_ne!(base.id, create("k2", "{\"a\":1}").id);
}

#[test]
fn a_kept_answer_opens_with_its_ticket_only() {
    let ticket = create("k", "{}");
    let row = ticket.keep(&reply(), &NONCE, NOW).unwrap();
    assert_eq!(row.id, ticket.id);
    assert_eq!(row.created_at, NOW);
    // Sealed: the key's value is not readable in the row.
    assert!(!row.sealed.contains("secret"));
    assert!(!row
        .sealed
        .contains(&crate::key::hash::hex(b"fai_live_secret")));
    assert_eq!(ticket.open(&row), Some(reply()));

    // Another admin token derives another sealing key.
    let other = ticket_with("another-admin-token-of-32-characters-at-least", "k");
    assert_eq!(other.id, ticket.id);
    assert_eq!(other.open(&row), None);
    // Another Idempotency-Key too.
    assert_eq!(create("k2", "{}").open(&row), None);

    // Any altered byte, a cut, or garbage fails closed.
    let mut bytes = row.sealed.clone().into_bytes();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
    let altered = IdempotentRow {
        sealed: String::from_utf8(bytes).unwrap(),
        ..row.clone()
    };
    assert_eq!(ticket.open(&altered), None);
    for sealed in [
        "",
        "0",
        "zz",
        &row.sealed[..20],
        &row.sealed[..row.sealed.len() - 1],
    ] {
        let broken = IdempotentRow {
            sealed: sealed.to_owned(),
            ..row.clone()
        };
        assert_eq!(ticket.open(&broken), None, "{sealed:?}");
    }
}

fn ticket_with(raw_token: &str, key: &str) -> Ticket {
    ticket(&token(raw_token), key, "POST", "/accounts/a/keys", b"{}")
}

#[test]
fn decide_runs_replays_or_refuses() {
    let ticket = create("k", "{}");
    assert_eq!(decide(&ticket, None, NOW).unwrap(), Decision::Run);
    let row = ticket.keep(&reply(), &NONCE, NOW).unwrap();
    assert_eq!(
        decide(&ticket, Some(&row), NOW + 10).unwrap(),
        Decision::Replay(reply())
    );
    assert_eq!(
        decide(&ticket, Some(&row), NOW + KEPT_SECONDS - 1).unwrap(),
        Decision::Replay(reply())
    );
    // After 24 h the key is free again.
    assert_eq!(
        decide(&ticket, Some(&row), NOW + KEPT_SECONDS).unwrap(),
        Decision::Run
    );
    // Another body under the same key.
    let other_body = create("k", "{\"name\":\"x\"}");
    let error = decide(&other_body, Some(&row), NOW + 10).unwrap_err();
    assert_eq!(error.status(), 422);
    assert_eq!(error.code(), "idempotency_key_reused");
    // Another admin token, same request: never replayed.
    let other_token = ticket_with("another-admin-token-of-32-characters-at-least", "k");
    let error = decide(&other_token, Some(&row), NOW + 10).unwrap_err();
    assert_eq!(error.code(), "idempotency_key_reused");
}
