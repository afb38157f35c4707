//! Whether a URL's host is a public destination: where keygate may send a
//! request on a client's behalf (webhook URLs now, and again at send time).
//!
//! Pure: no DNS, no I/O. Invariant: a literal address is judged after the
//! WHATWG host parser of the `url` crate has normalised it, so every
//! notation of one address (`2130706433`, `0x7f000001`, `0177.0.0.1`,
//! `127.1`, `[::ffff:127.0.0.1]`) gets the same answer. Names are judged
//! only as far as `localhost` and `*.localhost`; a public name that
//! resolves to a private address must be caught where it is resolved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Why a host is not a public destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotPublic {
    /// The URL has no host.
    NoHost,
    /// `localhost`, a `*.localhost` name, or a loopback address.
    Loopback,
    /// A private or shared address: 10/8, 172.16/12, 192.168/16,
    /// 100.64/10, fc00::/7.
    Private,
    /// A link-local address: 169.254/16, fe80::/10.
    LinkLocal,
    /// An unspecified, broadcast, multicast, reserved or documentation
    /// address.
    Special,
}

impl NotPublic {
    /// The reason, for a message.
    pub fn describe(self) -> &'static str {
        match self {
            NotPublic::NoHost => "it has no host",
            NotPublic::Loopback => "its host is this machine (localhost or a loopback address)",
            NotPublic::Private => "its host is a private network address",
            NotPublic::LinkLocal => "its host is a link-local address",
            NotPublic::Special => {
                "its host is an unspecified, broadcast, multicast or reserved address"
            }
        }
    }

    /// Whether the host is this machine.
    pub fn is_loopback(self) -> bool {
        self == NotPublic::Loopback
    }
}

/// Whether `url`'s host may receive requests from keygate.
pub fn check(url: &Url) -> Result<(), NotPublic> {
    match url.host() {
        None => Err(NotPublic::NoHost),
        Some(Host::Domain(name)) => check_name(name),
        Some(Host::Ipv4(ip)) => check_v4(ip),
        Some(Host::Ipv6(ip)) => check_v6(ip),
    }
}

/// Whether an address (a literal, or what a name resolved to) may receive
/// requests from keygate: the same rules as for a literal host.
pub fn check_ip(ip: IpAddr) -> Result<(), NotPublic> {
    match ip {
        IpAddr::V4(ip) => check_v4(ip),
        IpAddr::V6(ip) => check_v6(ip),
    }
}

/// Whether a host name may receive requests from keygate (only
/// `localhost` and `*.localhost` are refused; see the module's invariant).
pub fn check_name(name: &str) -> Result<(), NotPublic> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    // `.` or `..` names no host at all (found by fuzzing: it was taken for
    // this machine, so dev mode accepted `http://./x`).
    if name.is_empty() {
        return Err(NotPublic::NoHost);
    }
    if name == "localhost" || name.ends_with(".localhost") {
        return Err(NotPublic::Loopback);
    }
    Ok(())
}

/// The IPv4 blocks that are not public destinations: IANA's IPv4
/// Special-Purpose Address Registry (RFC 6890 and its updates) wherever
/// "Globally Reachable" is not `True`, plus multicast (224/4). Whole
/// blocks are refused where the registry makes a few addresses inside
/// them global (192.0.0.9 and .10): refusing more is the safe side. The
/// registry's smaller entries inside 192.0.0.0/24 (service continuity,
/// NAT64 discovery) fall in that block.
const V4_BLOCKS: [(Ipv4Addr, u8, NotPublic); 16] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8, NotPublic::Special), // "this network" (RFC 791)
    (Ipv4Addr::new(10, 0, 0, 0), 8, NotPublic::Private), // RFC 1918
    (Ipv4Addr::new(100, 64, 0, 0), 10, NotPublic::Private), // shared (CGNAT, RFC 6598)
    (Ipv4Addr::new(127, 0, 0, 0), 8, NotPublic::Loopback), // RFC 1122
    (Ipv4Addr::new(169, 254, 0, 0), 16, NotPublic::LinkLocal), // RFC 3927
    (Ipv4Addr::new(172, 16, 0, 0), 12, NotPublic::Private), // RFC 1918
    (Ipv4Addr::new(192, 0, 0, 0), 24, NotPublic::Special), // IETF protocol assignments (RFC 6890)
    (Ipv4Addr::new(192, 0, 2, 0), 24, NotPublic::Special), // TEST-NET-1 (RFC 5737)
    (Ipv4Addr::new(192, 88, 99, 0), 24, NotPublic::Special), // 6to4 relay anycast (RFC 7526, deprecated)
    (Ipv4Addr::new(192, 168, 0, 0), 16, NotPublic::Private), // RFC 1918
    (Ipv4Addr::new(198, 18, 0, 0), 15, NotPublic::Special),  // benchmarking (RFC 2544)
    (Ipv4Addr::new(198, 51, 100, 0), 24, NotPublic::Special), // TEST-NET-2 (RFC 5737)
    (Ipv4Addr::new(203, 0, 113, 0), 24, NotPublic::Special), // TEST-NET-3 (RFC 5737)
    (Ipv4Addr::new(224, 0, 0, 0), 4, NotPublic::Special),    // multicast (RFC 5771)
    (Ipv4Addr::new(240, 0, 0, 0), 4, NotPublic::Special),    // reserved (RFC 1112)
    (Ipv4Addr::new(255, 255, 255, 255), 32, NotPublic::Special), // limited broadcast (RFC 919)
];

/// The IPv6 blocks that are not public destinations, checked after the
/// blocks that embed an IPv4 address (mapped, compatible, NAT64
/// well-known prefix, 6to4, Teredo) were decoded and judged by that
/// address: IANA's IPv6 Special-Purpose Address Registry (RFC 6890 and
/// its updates) wherever "Globally Reachable" is not `True`, plus
/// multicast. Outside these, only global unicast (2000::/3) is admitted,
/// so every reserved block (`::/8` with SIIT's `::ffff:0:0:0/96`,
/// `100::/8` with the discard prefix `100::/64`, NAT64 local-use
/// `64:ff9b:1::/48`) is refused too. The whole IETF protocol block
/// 2001::/23 is refused, although a few anycast addresses inside it are
/// global: refusing more is the safe side.
const V6_BLOCKS: [(Ipv6Addr, u8, NotPublic); 7] = [
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        NotPublic::Special,
    ), // IETF protocol assignments (RFC 2928): Teredo, benchmarking, ORCHID, AMT...
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        NotPublic::Special,
    ), // documentation (RFC 3849)
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        NotPublic::Special,
    ), // documentation (RFC 9637)
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        NotPublic::Private,
    ), // unique local (RFC 4193)
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        NotPublic::LinkLocal,
    ), // link-local (RFC 4291)
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        NotPublic::Private,
    ), // site-local (RFC 3879, deprecated)
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        NotPublic::Special,
    ), // multicast (RFC 4291)
];

fn check_v4(ip: Ipv4Addr) -> Result<(), NotPublic> {
    let bits = u32::from(ip);
    for (block, len, why) in V4_BLOCKS {
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        if bits & mask == u32::from(block) & mask {
            return Err(why);
        }
    }
    Ok(())
}

fn check_v6(ip: Ipv6Addr) -> Result<(), NotPublic> {
    if ip == Ipv6Addr::LOCALHOST {
        return Err(NotPublic::Loopback);
    }
    if ip.is_unspecified() {
        return Err(NotPublic::Special);
    }
    let s = ip.segments();
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d).
    if let Some(v4) = ip.to_ipv4() {
        return check_v4(v4);
    }
    // NAT64's well-known prefix (64:ff9b::/96, RFC 6052) embeds an IPv4
    // address in its last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return check_v4(embedded_v4(s[6], s[7]));
    }
    // 6to4 (2002::/16, RFC 3056) embeds one in bits 16-48.
    if s[0] == 0x2002 {
        return check_v4(embedded_v4(s[1], s[2]));
    }
    // Teredo (2001::/32, RFC 4380): the server's address in bits 32-64,
    // the client's, inverted, in the last 32 bits. Both are judged (for
    // the reason given); the block is refused whatever they are.
    if s[0] == 0x2001 && s[1] == 0 {
        check_v4(embedded_v4(s[2], s[3]))?;
        check_v4(embedded_v4(!s[6], !s[7]))?;
        return Err(NotPublic::Special);
    }
    let bits = u128::from(ip);
    for (block, len, why) in V6_BLOCKS {
        let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        if bits & mask == u128::from(block) & mask {
            return Err(why);
        }
    }
    // Only global unicast (2000::/3) is left to be public.
    if s[0] & 0xe000 != 0x2000 {
        return Err(NotPublic::Special);
    }
    Ok(())
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

#[cfg(test)]
#[path = "destination_tests.rs"]
mod tests;
