use super::*;

fn refused(raw: &str, dev: bool) -> Refused {
    Target::parse(raw, dev).unwrap_err()
}

#[test]
fn every_spelling_of_an_inward_address_is_refused() {
    use NotPublic::*;
    let cases = [
        ("https://127.0.0.1/h", Loopback),
        ("https://2130706433/h", Loopback), // decimal
        ("https://0177.0.0.1/h", Loopback), // octal
        ("https://0x7f.1/h", Loopback),     // hex, short
        ("https://127.1/h", Loopback),      // short
        ("https://0x7f000001/h", Loopback),
        ("https://017700000001/h", Loopback),
        ("https://[::1]/h", Loopback),
        ("https://[::ffff:127.0.0.1]/h", Loopback),
        ("https://[::ffff:7f00:1]/h", Loopback),
        ("https://localhost/h", Loopback),
        ("https://LocalHost./h", Loopback),
        ("https://hooks.localhost/h", Loopback),
        ("https://a.b.localhost:8443/h", Loopback),
        ("https://10.1.2.3/h", Private),
        ("https://172.16.0.1/h", Private),
        ("https://192.168.0.10/h", Private),
        ("https://0xc0.0xa8.1.1/h", Private),
        ("https://100.64.0.1/h", Private), // CGNAT
        ("https://100.127.255.254/h", Private),
        ("https://[fc00::1]/h", Private),
        ("https://[fd12:3456::1]/h", Private),
        ("https://[::ffff:10.0.0.1]/h", Private),
        ("https://[::ffff:100.64.0.1]/h", Private),
        ("https://169.254.169.254/latest", LinkLocal),
        ("https://[fe80::1]/h", LinkLocal),
        ("https://[::ffff:169.254.169.254]/h", LinkLocal),
        ("https://0.0.0.0/h", Special), // unspecified
        ("https://0/h", Special),
        ("https://[::]/h", Special),
        ("https://255.255.255.255/h", Special), // broadcast
        ("https://224.0.0.1/h", Special),       // multicast
        ("https://[ff02::1]/h", Special),
        ("https://[::ffff:224.0.0.1]/h", Special),
    ];
    for (raw, why) in cases {
        assert_eq!(refused(raw, false), Refused::NotPublic(why), "{raw}");
        if why != Loopback {
            // Dev mode opens only this machine.
            assert_eq!(refused(raw, true), Refused::NotPublic(why), "dev {raw}");
        }
    }
}

#[test]
fn only_https_except_localhost_in_dev() {
    assert!(Target::parse("https://hooks.example.com/k?x=1", false).is_ok());
    assert!(Target::parse("https://93.184.216.34:8443/k", false).is_ok());
    assert_eq!(
        refused("http://hooks.example.com/k", false),
        Refused::Scheme
    );
    assert_eq!(refused("http://hooks.example.com/k", true), Refused::Scheme);
    assert_eq!(refused("http://localhost:9000/k", false), Refused::Scheme);
    for raw in [
        "http://localhost:9000/k",
        "http://127.0.0.1:9000/k",
        "http://[::1]:9/k",
        "https://localhost/k",
    ] {
        let target = Target::parse(raw, true).unwrap();
        assert!(target.url().as_str().starts_with("http"));
    }
    for raw in [
        "ftp://hooks.example.com/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:,x",
        "ws://localhost/",
        "gopher://localhost/",
    ] {
        assert_eq!(refused(raw, true), Refused::Scheme, "{raw}");
    }
}

#[test]
fn malformed_and_oversized_urls_are_refused() {
    assert_eq!(refused("hooks.example.com/k", false), Refused::NotAUrl);
    assert_eq!(refused("", false), Refused::NotAUrl);
    assert_eq!(refused("https://", false), Refused::NotAUrl);
    assert_eq!(refused("https://exa mple.com/", false), Refused::NotAUrl);
    assert_eq!(
        refused("https://user:pw@hooks.example.com/", false),
        Refused::Credentials
    );
    assert_eq!(
        refused("https://user@hooks.example.com/", false),
        Refused::Credentials
    );
    // The user-info trick: the host is what follows the @.
    assert_eq!(
        refused("https://hooks.example.com@127.0.0.1/", false),
        Refused::Credentials
    );
    let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_BYTES));
    assert_eq!(refused(&long, false), Refused::TooLong);
    assert!(!Refused::TooLong.describe().is_empty());
}

#[test]
fn resolved_addresses_are_checked_too() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let target = Target::parse("https://hooks.example.com/k", false).unwrap();
    assert!(target.is_name());
    assert!(target
        .admits_resolved(&[ip("93.184.216.34"), ip("2606:2800:220:1::1")])
        .is_ok());
    for inward in [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "fd00::1",
        "100.64.1.1",
        "0.0.0.0",
    ] {
        // One inward address among public ones refuses the lot.
        let got = target.admits_resolved(&[ip("93.184.216.34"), ip(inward)]);
        assert!(matches!(got, Err(Refused::NotPublic(_))), "{inward}");
    }
    assert!(target.admits_resolved(&[]).is_err());
    // A dev-mode local target may resolve to loopback, and nothing private.
    let local = Target::parse("http://localhost:9000/k", true).unwrap();
    assert!(local.admits_resolved(&[ip("127.0.0.1"), ip("::1")]).is_ok());
    assert!(local.admits_resolved(&[ip("10.0.0.1")]).is_err());
    let literal = Target::parse("https://93.184.216.34/k", false).unwrap();
    assert!(!literal.is_name());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_target_is_never_an_inward_literal(raw in "(https?://)?[a-z0-9.:\\[\\]@%x]{0,40}(/[a-z]{0,5})?", dev in any::<bool>()) {
            if let Ok(target) = Target::parse(&raw, dev) {
                let verdict = destination::check(target.url());
                if dev {
                    prop_assert!(verdict.is_ok() || verdict.is_err_and(NotPublic::is_loopback));
                } else {
                    prop_assert!(verdict.is_ok());
                    prop_assert_eq!(target.url().scheme(), "https");
                }
            }
        }
    }
}

#[test]
fn only_a_dev_target_on_this_machine_is_local() {
    assert!(Target::parse("http://127.0.0.1:8080/h", true)
        .unwrap()
        .is_local());
    assert!(!Target::parse("https://hooks.example.com/h", true)
        .unwrap()
        .is_local());
    assert!(!Target::parse("https://hooks.example.com/h", false)
        .unwrap()
        .is_local());
}

/// The special-purpose ranges of issue 18 (Info 2), as literals and as
/// what a name resolved to.
#[test]
fn special_purpose_ranges_are_refused() {
    let target = Target::parse("https://hooks.example.com/k", false).unwrap();
    for inward in [
        "64:ff9b:1::1",
        "64:ff9b:1:2::a00:1",
        "::ffff:0:0",
        "::ffff:0:808:808",
        "2001::1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",
        "100::1",
        "2001:2::1",
        "2001:10::1",
        "192.88.99.1",
        "64:ff9b::c0a8:1",
    ] {
        let literal = if inward.contains(':') {
            format!("https://[{inward}]/k")
        } else {
            format!("https://{inward}/k")
        };
        assert!(
            matches!(refused(&literal, false), Refused::NotPublic(_)),
            "{literal}"
        );
        let resolved: IpAddr = inward.parse().unwrap();
        assert!(target.admits_resolved(&[resolved]).is_err(), "{inward}");
    }
}
