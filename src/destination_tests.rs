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
