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
        &Caller::Admin,
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
    let rotate = ticket(
        &t,
        &Caller::Admin,
        "k",
        "POST",
        "/accounts/a/keys/x/rotate",
        b"{\"a\":1}",
    );
    assert_ne!(base.fingerprint, rotate.fingerprint);
    // Length-prefixed: moving bytes between path and body changes it.
    let a = ticket(&t, &Caller::Admin, "k", "POST", "/p", b"ab");
    let b = ticket(&t, &Caller::Admin, "k", "POST", "/pa", b"b");
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

    // Another admin token derives another sealing key (and row id).
    let other = ticket_with("another-admin-token-of-32-characters-at-least", "k");
    assert_ne!(other.id, ticket.id);
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
    ticket(
        &token(raw_token),
        &Caller::Admin,
        key,
        "POST",
        "/accounts/a/keys",
        b"{}",
    )
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
    // Another admin token, same request: never replayed. Its row id
    // differs, so it never finds this row; given it anyway, it cannot
    // open it.
    let other_token = ticket_with("another-admin-token-of-32-characters-at-least", "k");
    assert_ne!(other_token.id, ticket.id);
    let error = decide(&other_token, Some(&row), NOW + 10).unwrap_err();
    assert_eq!(error.code(), "idempotency_key_reused");
}

fn page(owner: Option<&str>, products: Option<&[&str]>) -> Caller {
    Caller::Page {
        owner_id: owner.map(Into::into),
        products: products.map(|l| l.iter().map(|p| (*p).to_owned()).collect()),
    }
}

fn from(caller: &Caller, key: &str, body: &str) -> Ticket {
    ticket(
        &token(TOKEN),
        caller,
        key,
        "POST",
        "portal:/api/keys",
        body.as_bytes(),
    )
}

#[test]
fn answers_are_kept_per_caller() {
    let alice = page(Some("alice"), Some(&["forgeai"]));
    let bob = page(Some("bob"), Some(&["forgeai"]));
    let callers = [
        Caller::Admin,
        alice.clone(),
        bob.clone(),
        page(None, Some(&["forgeai"])),
        page(Some("alice"), None),
        page(Some("alice"), Some(&["forgeai", "mailforge"])),
        page(None, None),
    ];
    // Every caller has its own row id and sealing key for one
    // Idempotency-Key and body.
    let tickets: Vec<Ticket> = callers.iter().map(|c| from(c, "k", "{}")).collect();
    for (i, a) in tickets.iter().enumerate() {
        for b in tickets.iter().skip(i + 1) {
            assert_ne!(a.id, b.id);
            assert_ne!(a.seal, b.seal);
            assert_eq!(a.fingerprint, b.fingerprint);
        }
    }
    // Alice's kept answer: a retry of hers replays it.
    let kept = from(&alice, "k", "{}").keep(&reply(), &NONCE, NOW).unwrap();
    assert_eq!(
        decide(&from(&alice, "k", "{}"), Some(&kept), NOW + 1).unwrap(),
        Decision::Replay(reply())
    );
    // Bob, with her Idempotency-Key, looks up another row: none is kept,
    // so his request runs afresh (same body or not), with no 422.
    let bobs = from(&bob, "k", "{}");
    assert_ne!(bobs.id, kept.id);
    assert_eq!(decide(&bobs, None, NOW + 1).unwrap(), Decision::Run);
    let bobs_other = from(&bob, "k", "{\"name\":\"x\"}");
    assert_eq!(decide(&bobs_other, None, NOW + 1).unwrap(), Decision::Run);
    // Nor could his ticket open her row.
    assert_eq!(bobs.open(&kept), None);
    // The admin API and a page session do not share answers either.
    assert_ne!(from(&Caller::Admin, "k", "{}").id, kept.id);
    // The products' order does not make another caller.
    assert_eq!(
        from(&page(Some("a"), Some(&["x", "y"])), "k", "{}"),
        from(&page(Some("a"), Some(&["y", "x", "y"])), "k", "{}")
    );
    // Owner and product names cannot run into each other.
    assert_ne!(
        from(&page(Some("ab"), Some(&["c"])), "k", "{}").id,
        from(&page(Some("a"), Some(&["bc"])), "k", "{}").id
    );
}

#[test]
fn a_pending_ticket_hides_its_seal() {
    let pending = prepare(Some("k"), &token(TOKEN), "POST", "/p", b"{}")
        .unwrap()
        .unwrap();
    let debug = format!("{pending:?}");
    assert!(debug.contains("[redacted]"));
    assert!(!debug.contains(&pending.seal));
    assert_eq!(
        prepare(Some("k"), &token(TOKEN), "PATCH", "/p", b"{}").unwrap(),
        None
    );
    assert_eq!(
        prepare(None, &token(TOKEN), "POST", "/p", b"{}").unwrap(),
        None
    );
    assert!(prepare(Some("bad key"), &token(TOKEN), "POST", "/p", b"{}").is_err());
}
