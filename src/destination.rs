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

#[cfg(any(not(target_arch = "wasm32"), feature = "control"))]
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
#[cfg(any(not(target_arch = "wasm32"), feature = "control"))]
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

fn check_v4(ip: Ipv4Addr) -> Result<(), NotPublic> {
    let [a, b, c, _] = ip.octets();
    if a == 127 {
        return Err(NotPublic::Loopback);
    }
    if a == 10 || (a == 172 && (16..32).contains(&b)) || (a == 192 && b == 168) {
        return Err(NotPublic::Private);
    }
    if a == 100 && (64..128).contains(&b) {
        return Err(NotPublic::Private); // shared address space (CGNAT)
    }
    if a == 169 && b == 254 {
        return Err(NotPublic::LinkLocal);
    }
    let special = a == 0                                   // "this network", unspecified
        || a >= 224                                        // multicast, reserved, broadcast
        || (a == 192 && b == 0 && c == 0)                  // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)                  // documentation
        || (a == 198 && b == 51 && c == 100)               // documentation
        || (a == 203 && b == 0 && c == 113)                // documentation
        || (a == 198 && (18..20).contains(&b)); // benchmarking
    if special {
        return Err(NotPublic::Special);
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
    // NAT64 (64:ff9b::/96) embeds an IPv4 address in its last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return check_v4(embedded_v4(s[6], s[7]));
    }
    // 6to4 (2002::/16) embeds one in bits 16-48.
    if s[0] == 0x2002 {
        return check_v4(embedded_v4(s[1], s[2]));
    }
    match s[0] {
        x if x & 0xfe00 == 0xfc00 => Err(NotPublic::Private), // fc00::/7
        x if x & 0xffc0 == 0xfe80 => Err(NotPublic::LinkLocal), // fe80::/10
        x if x & 0xffc0 == 0xfec0 => Err(NotPublic::Private), // fec0::/10, site-local
        x if x & 0xff00 == 0xff00 => Err(NotPublic::Special), // multicast
        0x2001 if s[1] == 0x0db8 => Err(NotPublic::Special),  // documentation
        _ => Ok(()),
    }
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

#[cfg(test)]
#[path = "destination_tests.rs"]
mod tests;
