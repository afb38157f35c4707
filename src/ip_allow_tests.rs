use std::net::IpAddr;

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn list(texts: &[&str]) -> AllowList {
    AllowList::parse(texts).unwrap()
}

#[test]
fn ranges_are_normalised() {
    for (given, canonical) in [
        ("203.0.113.0/24", "203.0.113.0/24"),
        ("203.0.113.7", "203.0.113.7/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("2001:DB8:0:0::/32", "2001:db8::/32"),
        ("2001:db8::1", "2001:db8::1/128"),
        ("::/0", "::/0"),
        ("::1/128", "::1/128"),
        // IPv4-mapped IPv6 ranges are IPv4 ranges.
        ("::ffff:1.2.3.0/120", "1.2.3.0/24"),
        ("::ffff:0:0/96", "0.0.0.0/0"),
        ("::ffff:1.2.3.4", "1.2.3.4/32"),
    ] {
        assert_eq!(
            Cidr::parse(given).unwrap().to_string(),
            canonical,
            "{given}"
        );
        // The canonical text reads back as itself.
        assert_eq!(
            Cidr::parse(canonical).unwrap().to_string(),
            canonical,
            "{canonical}"
        );
    }
}

#[test]
fn host_bits_are_refused_with_the_range_meant() {
    let err = Cidr::parse("10.1.2.3/8").unwrap_err();
    assert!(err.contains("did you mean 10.0.0.0/8?"), "{err}");
    let err = Cidr::parse("2001:db8::1/32").unwrap_err();
    assert!(err.contains("did you mean 2001:db8::/32?"), "{err}");
    let err = Cidr::parse("1.2.3.4/0").unwrap_err();
    assert!(err.contains("0.0.0.0/0"), "{err}");
}

#[test]
fn odd_notations_are_refused() {
    for bad in [
        "",
        " 1.2.3.4",
        "1.2.3.4 ",
        "1.2.3.4/ 8",
        "fe80::1%eth0",
        "fe80::1%1/128",
        "[2001:db8::1]",
        "1.2.3",
        "1.2.3.4.5",
        "01.2.3.4",
        "0x7f.0.0.1",
        "127.1",
        "256.0.0.0",
        "1.2.3.0/33",
        "::/129",
        "1.2.3.0/024",
        "1.2.3.0/+24",
        "1.2.3.0/-1",
        "1.2.3.0/",
        "1.2.3.0/24/24",
        "/24",
        "localhost",
        "1.2.3.0/2a",
        "２.2.3.4",
        "::ffff:1.2.3.4%0",
        &"1".repeat(65),
    ] {
        assert!(Cidr::parse(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn edges_of_the_prefix() {
    let any4 = Cidr::parse("0.0.0.0/0").unwrap();
    assert!(any4.contains(ip("255.255.255.255")));
    assert!(any4.contains(ip("::ffff:8.8.8.8")));
    assert!(!any4.contains(ip("2001:db8::1")), "0.0.0.0/0 is IPv4 only");
    let any = Cidr::parse("::/0").unwrap();
    assert!(any.contains(ip("2001:db8::1")));
    assert!(any.contains(ip("8.8.8.8")), "::/0 holds every address");
    let one = Cidr::parse("203.0.113.7/32").unwrap();
    assert!(one.contains(ip("203.0.113.7")));
    assert!(!one.contains(ip("203.0.113.8")));
    assert!(!one.contains(ip("203.0.113.6")));
    let one6 = Cidr::parse("2001:db8::7/128").unwrap();
    assert!(one6.contains(ip("2001:db8::7")));
    assert!(!one6.contains(ip("2001:db8::6")));
    let net6 = Cidr::parse("2001:db8::/32").unwrap();
    assert!(net6.contains(ip("2001:db8:ffff::1")));
    assert!(!net6.contains(ip("2001:db9::1")));
    let odd = Cidr::parse("192.168.0.0/23").unwrap();
    assert!(odd.contains(ip("192.168.1.255")));
    assert!(!odd.contains(ip("192.168.2.0")));
}

#[test]
fn ipv4_mapped_clients_match_ipv4_ranges() {
    let allowed = list(&["1.2.3.0/24"]);
    assert!(allowed.admits(Some(ip("::ffff:1.2.3.4"))));
    assert!(allowed.admits(Some(ip("1.2.3.4"))));
    assert!(!allowed.admits(Some(ip("::ffff:1.2.4.4"))));
    // IPv4-compatible (::1.2.3.4) is another, IPv6, address.
    assert!(!allowed.admits(Some(ip("::1.2.3.4"))));
    let mapped = list(&["::ffff:1.2.3.0/120"]);
    assert!(mapped.admits(Some(ip("1.2.3.99"))));
}

#[test]
fn a_missing_client_address_is_refused_by_a_non_empty_list() {
    assert!(!list(&["0.0.0.0/0"]).admits(None));
    assert!(!list(&["::/0"]).admits(None));
    assert!(AllowList::default().admits(None));
    assert!(AllowList::default().admits(Some(ip("8.8.8.8"))));
}

#[test]
fn at_most_a_hundred_ranges() {
    let texts: Vec<String> = (0..100).map(|i| format!("10.0.{i}.0/24")).collect();
    let full = AllowList::parse(&texts).unwrap();
    assert_eq!(full.texts().len(), 100);
    assert!(full.admits(Some(ip("10.0.99.1"))));
    assert!(!full.admits(Some(ip("10.0.100.1"))));
    let texts: Vec<String> = (0..101).map(|i| format!("10.0.{i}.0/24")).collect();
    let faults = AllowList::parse(&texts).unwrap_err();
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0].0, None);
    assert!(faults[0].1.contains("at most 100"));
}

#[test]
fn repeats_are_refused_after_normalisation() {
    let faults = AllowList::parse(&["1.2.3.4", "1.2.3.4/32", "::ffff:1.2.3.4", "2001:db8::/32"])
        .unwrap_err();
    let at: Vec<Option<usize>> = faults.iter().map(|f| f.0).collect();
    assert_eq!(at, vec![Some(1), Some(2)]);
    assert!(faults[0].1.contains("repeats"));
    // Overlapping ranges are not repeats.
    assert!(AllowList::parse(&["10.0.0.0/8", "10.1.0.0/16"]).is_ok());
}

#[test]
fn every_bad_entry_is_reported() {
    let faults = AllowList::parse(&["1.2.3.4", "nope", "10.0.0.1/8"]).unwrap_err();
    let at: Vec<Option<usize>> = faults.iter().map(|f| f.0).collect();
    assert_eq!(at, vec![Some(1), Some(2)]);
}

#[test]
fn serde_writes_canonical_texts_and_reads_strictly() {
    let allowed = list(&["2001:DB8::/32", "203.0.113.7"]);
    let json = serde_json::to_string(&allowed).unwrap();
    assert_eq!(json, r#"["2001:db8::/32","203.0.113.7/32"]"#);
    assert_eq!(serde_json::from_str::<AllowList>(&json).unwrap(), allowed);
    assert!(serde_json::from_str::<AllowList>(r#"["10.0.0.1/8"]"#).is_err());
    assert!(serde_json::from_str::<AllowList>(r#"["1.2.3.4","1.2.3.4"]"#).is_err());
    assert!(serde_json::from_str::<AllowList>(r#""1.2.3.4""#).is_err());
}
