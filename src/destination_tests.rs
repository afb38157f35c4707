use super::*;

fn verdict(url: &str) -> Result<(), NotPublic> {
    check(&Url::parse(url).unwrap())
}

#[test]
fn every_notation_of_a_local_address_is_refused() {
    use NotPublic::*;
    let cases = [
        // The list.
        ("https://127.0.0.1/", Loopback),
        ("https://2130706433/", Loopback),
        ("https://0x7f000001/", Loopback),
        ("https://[::1]/", Loopback),
        ("https://169.254.169.254/latest/meta-data", LinkLocal),
        ("https://10.0.0.1/", Private),
        ("https://[::ffff:127.0.0.1]/", Loopback),
        ("https://localhost/", Loopback),
        // Other spellings the WHATWG parser normalises.
        ("https://0177.0.0.1/", Loopback),
        ("https://127.1/", Loopback),
        ("https://0x7f.0.0.1/", Loopback),
        ("https://017700000001/", Loopback),
        ("https://127.255.255.254:8443/", Loopback),
        ("https://LOCALHOST./", Loopback),
        ("https://api.localhost/", Loopback),
        ("https://%6c%6fcalhost/", Loopback),
        ("https://[0:0:0:0:0:0:0:1]/", Loopback),
        ("https://[::ffff:7f00:1]/", Loopback),
        ("https://[::127.0.0.1]/", Loopback),
        ("https://[64:ff9b::7f00:1]/", Loopback),
        ("https://[2002:7f00:1::]/", Loopback),
        ("https://[::ffff:169.254.169.254]/", LinkLocal),
        ("https://[::ffff:a00:1]/", Private),
        ("https://172.16.0.1/", Private),
        ("https://172.31.255.255/", Private),
        ("https://192.168.1.1/", Private),
        ("https://100.64.0.1/", Private),
        ("https://100.127.255.255/", Private),
        ("https://[fc00::1]/", Private),
        ("https://[fd12:3456::1]/", Private),
        ("https://[fe80::1]/", LinkLocal),
        ("https://[febf::1]/", LinkLocal),
        ("https://0.0.0.0/", Special),
        ("https://0/", Special),
        ("https://[::]/", Special),
        ("https://255.255.255.255/", Special),
        ("https://224.0.0.1/", Special),
        ("https://239.255.255.250/", Special),
        ("https://240.0.0.1/", Special),
        ("https://[ff02::1]/", Special),
        ("https://192.0.2.1/", Special),
        ("https://[2001:db8::1]/", Special),
    ];
    for (url, want) in cases {
        assert_eq!(verdict(url), Err(want), "{url}");
    }
}

#[test]
fn public_hosts_pass() {
    for url in [
        "https://hooks.example.com/k",
        "https://8.8.8.8/",
        "https://172.15.255.255/",
        "https://172.32.0.1/",
        "https://100.63.255.255/",
        "https://100.128.0.1/",
        "https://169.253.1.1/",
        "https://192.169.0.1/",
        "https://11.0.0.1/",
        "https://[2606:4700::1111]/",
        "https://[::ffff:8.8.8.8]/",
        "https://localhost.example.com/",
        "https://notlocalhost/",
    ] {
        assert_eq!(verdict(url), Ok(()), "{url}");
    }
}

#[test]
fn a_url_without_a_host_is_refused() {
    assert_eq!(verdict("mailto:a@example.com"), Err(NotPublic::NoHost));
    // A name of dots is no host, not this machine (found by fuzzing).
    for url in [
        "http://./x",
        "http:////////./////92233//---/x",
        "https://../",
    ] {
        assert_eq!(verdict(url), Err(NotPublic::NoHost), "{url}");
    }
}

/// IANA's special-purpose registries (RFC 6890 and updates), v4 and v6,
/// one row per block not globally reachable: its first and last address,
/// and the embedded IPv4 of NAT64 and Teredo decoded.
#[test]
fn every_special_purpose_block_is_refused() {
    use NotPublic::*;
    let cases = [
        // IPv4 registry.
        ("0.255.255.255", Special),
        ("192.0.0.0", Special),
        ("192.0.0.9", Special), // inside 192.0.0.0/24: refused with it
        ("192.0.0.170", Special),
        ("192.0.0.255", Special),
        ("192.0.2.255", Special),
        ("192.88.99.0", Special), // 6to4 relay anycast (deprecated)
        ("192.88.99.255", Special),
        ("198.18.0.0", Special),
        ("198.19.255.255", Special),
        ("198.51.100.7", Special),
        ("203.0.113.255", Special),
        ("240.0.0.0", Special),
        ("255.255.255.254", Special),
        // IPv6 registry and reserved space.
        ("::ffff:0:0", Special),       // IPv4-mapped 0.0.0.0
        ("::ffff:0:a00:1", Special),   // SIIT (::ffff:0:0:0/96) is reserved space
        ("::ffff:0:808:808", Special), // SIIT with a public IPv4: still refused
        ("64:ff9b:1::1", Special),     // NAT64 local-use (RFC 8215)
        ("64:ff9b:1:ffff::808:808", Special),
        ("64:ff9b::a00:1", Private), // NAT64 well-known, decoded
        ("64:ff9b::a9fe:a9fe", LinkLocal),
        ("100::", Special), // discard-only (RFC 6666)
        ("100::ffff:ffff:ffff:ffff", Special),
        ("100:0:0:1::1", Special), // dummy prefix (RFC 9780)
        ("2001::1", Special),      // Teredo
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Special), // Teredo, public client
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", Loopback), // client 127.0.0.1, inverted
        ("2001:0:0a00:0001::", Private), // server 10.0.0.1
        ("2001:1::1", Special),    // PCP anycast: inside 2001::/23
        ("2001:2::", Special),     // benchmarking (RFC 5180)
        ("2001:2:0:ffff::1", Special),
        ("2001:10::1", Special), // ORCHID (deprecated)
        ("2001:1f::1", Special),
        ("2001:20::1", Special),       // ORCHIDv2
        ("2001:1ff:ffff::1", Special), // end of 2001::/23
        ("2001:db8:ffff::1", Special),
        ("3fff::1", Special), // documentation (RFC 9637)
        ("3fff:fff::1", Special),
        ("2002:c058:6301::", Special), // 6to4 of 192.88.99.1
        ("5f00::1", Special),          // SRv6 SIDs: outside 2000::/3
        ("4000::1", Special),
        ("e000::1", Special),
        ("fec0::1", Private),
        ("ff0e::1", Special),
    ];
    for (ip, want) in cases {
        let parsed: IpAddr = ip.parse().unwrap();
        assert_eq!(check_ip(parsed), Err(want), "{ip}");
        let literal = match parsed {
            IpAddr::V4(_) => format!("https://{ip}/"),
            IpAddr::V6(_) => format!("https://[{ip}]/"),
        };
        assert_eq!(verdict(&literal), Err(want), "{literal}");
    }
}

#[test]
fn global_neighbours_of_special_blocks_pass() {
    for ip in [
        "1.1.1.1",
        "192.0.1.0",
        "192.0.3.0",
        "192.31.196.1", // AS112: globally reachable
        "192.88.98.255",
        "192.88.100.0",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
        "2001:200::1", // just past 2001::/23
        "2001:db7:ffff::1",
        "2001:db9::1",
        "2002:808:808::",
        "2606:4700:4700::1111",
        "2620:4f:8000::1", // AS112 direct delegation: globally reachable
        "3ffe:ffff::1",
        "3fff:1000::1",
        "64:ff9b::808:808", // NAT64 well-known, public IPv4
        "::ffff:1.1.1.1",
    ] {
        assert_eq!(check_ip(ip.parse().unwrap()), Ok(()), "{ip}");
    }
}
