use super::*;
use crate::webhook::target::{Refused, Target};

const ANSWER: &str = r#"{"Status":0,"TC":false,"Question":[{"name":"hooks.example.com","type":1}],
  "Answer":[{"name":"hooks.example.com","type":5,"TTL":60,"data":"edge.example.net."},
            {"name":"edge.example.net","type":1,"TTL":60,"data":"93.184.215.14"}]}"#;

#[test]
fn the_query_names_the_record_and_escapes_the_name() {
    assert_eq!(
        query_url(
            "https://cloudflare-dns.com/dns-query",
            "hooks.example.com",
            "A"
        ),
        "https://cloudflare-dns.com/dns-query?name=hooks.example.com&type=A"
    );
    assert_eq!(
        query_url("http://127.0.0.1:1/q?ct=json", "a&type=TXT", "AAAA"),
        "http://127.0.0.1:1/q?ct=json&name=a%26type%3DTXT&type=AAAA"
    );
}

#[test]
fn addresses_skip_cnames_and_keep_the_type_asked() {
    let ips = addresses(ANSWER.as_bytes(), 1).unwrap();
    assert_eq!(ips, vec!["93.184.215.14".parse::<IpAddr>().unwrap()]);
    assert!(addresses(ANSWER.as_bytes(), 28).unwrap().is_empty());
}

#[test]
fn failures_refuse() {
    for (body, why) in [
        (r#"{"Status":3}"#, "NXDOMAIN"),
        (r#"{"Status":2,"Answer":[]}"#, "status 2"),
        ("<html>", "not DNS JSON"),
        (
            r#"{"Status":0,"Answer":[{"type":1,"data":"10.0.0.999"}]}"#,
            "malformed",
        ),
    ] {
        let err = addresses(body.as_bytes(), 1).unwrap_err();
        assert!(err.contains(why), "{body}: {err}");
    }
    let huge = vec![b' '; MAX_ANSWER_BYTES + 1];
    assert!(addresses(&huge, 1).is_err());
}

#[test]
fn a_public_name_pointing_inwards_is_refused() {
    let target = Target::parse("https://hooks.example.com/h", false).unwrap();
    let inward = addresses(
        br#"{"Status":0,"Answer":[{"type":1,"data":"93.184.215.14"},{"type":1,"data":"10.1.2.3"}]}"#,
        1,
    )
    .unwrap();
    assert!(matches!(
        target.admits_resolved(&inward),
        Err(Refused::NotPublic(_))
    ));
    let public = addresses(ANSWER.as_bytes(), 1).unwrap();
    assert_eq!(target.admits_resolved(&public), Ok(()));
    assert!(target.admits_resolved(&[]).is_err(), "no address at all");
}

#[test]
fn dev_mode_asks_only_a_resolver_on_this_machine() {
    assert!(used("https://cloudflare-dns.com/dns-query", false));
    assert!(!used("https://cloudflare-dns.com/dns-query", true));
    assert!(used("http://127.0.0.1:8790/dns-query", true));
    assert!(used("http://localhost:8790/dns-query", true));
}
