//! Per-key IP allowlists: CIDR ranges, parsed strictly, matched cheaply.
//!
//! Pure, and a leaf: no import of the crate. Invariants: a [`Cidr`] is
//! built only by [`Cidr::parse`], which takes an IPv4 or IPv6 address in
//! its plain notation (no zone id, no octal or hex IPv4, no white space)
//! with an optional `/len` (a bare address is `/32` or `/128`), and
//! refuses a range whose host bits are set rather than guess what was
//! meant; every range is held as a network in the IPv6 space (IPv4 as
//! IPv4-mapped, `::ffff:a.b.c.d`), so `::ffff:1.2.3.4` and `1.2.3.4` are
//! one address and match the same ranges; an [`AllowList`] holds at most
//! [`MAX_RANGES`] distinct ranges (a repeat, after normalisation, is
//! refused), in the order given, and reads and writes itself as the
//! canonical texts (`203.0.113.0/24`, `2001:db8::/32`). An empty list
//! admits every client; a non-empty one admits only a client address it
//! contains, and never a missing one ([`AllowList::admits`]: fail closed).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most ranges one list may hold.
pub const MAX_RANGES: usize = 100;

/// Longest range text accepted, in bytes (the longest canonical IPv6
/// range, `ffff:…:ffff/128`, is 43).
const MAX_TEXT: usize = 64;

/// The IPv4-mapped IPv6 prefix, `::ffff:0:0/96`.
const MAPPED: u128 = 0xffff_0000_0000;

/// One CIDR range: a network and a prefix length, in the IPv6 space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network, host bits zero; IPv4 as IPv4-mapped.
    net: u128,
    /// The prefix length in the IPv6 space (IPv4's plus 96).
    len: u8,
}

/// An address in the IPv6 space: IPv4 (and IPv4-mapped IPv6) as
/// IPv4-mapped.
fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => MAPPED | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The mask of a `len`-bit prefix (`len` at most 128).
fn mask(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

impl Cidr {
    /// Parses `203.0.113.0/24`, `2001:db8::/32`, or a bare address. The
    /// error says what is wrong and, for host bits, the range meant.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        if text.is_empty() || text.len() > MAX_TEXT {
            return Err(format!(
                "must be an IPv4 or IPv6 address or CIDR range, 1 to {MAX_TEXT} characters"
            ));
        }
        let (address, len) = match text.split_once('/') {
            Some((address, len)) => (address, Some(len)),
            None => (text, None),
        };
        let (ip, width) = if address.contains(':') {
            let v6 = address.parse::<Ipv6Addr>().map_err(|_| {
                "is not an IPv6 address in plain notation (no zone id such as %eth0, no \
                 brackets)"
                    .to_owned()
            })?;
            (IpAddr::V6(v6), 128u8)
        } else {
            let v4 = address.parse::<Ipv4Addr>().map_err(|_| {
                "is not an IPv4 address in dotted decimal (four numbers 0-255 without leading \
                 zeros, such as 203.0.113.0)"
                    .to_owned()
            })?;
            (IpAddr::V4(v4), 32u8)
        };
        let len = match len {
            None => width,
            Some(digits) => prefix_len(digits, width)?,
        };
        let offset = if width == 32 { 96 } else { 0 };
        let len = len + offset;
        let addr = bits(ip);
        let net = addr & mask(len);
        if net != addr {
            let meant = Cidr { net, len };
            return Err(format!(
                "has host bits set after the /{}: did you mean {meant}?",
                len - offset
            ));
        }
        Ok(Cidr { net, len })
    }

    /// Whether the range holds `ip` (IPv4 and IPv4-mapped IPv6 alike).
    pub fn contains(&self, ip: IpAddr) -> bool {
        bits(ip) & mask(self.len) == self.net
    }
}

/// A prefix length: 1 to 3 decimal digits, no leading zero, at most
/// `width`.
fn prefix_len(digits: &str, width: u8) -> Result<u8, String> {
    let plain = (1..=3).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !(digits.len() > 1 && digits.starts_with('0'));
    match digits.parse::<u8>() {
        Ok(len) if plain && len <= width => Ok(len),
        _ => Err(format!(
            "has a prefix length that is not a number from 0 to {width}"
        )),
    }
}

/// The canonical text: IPv4 ranges in dotted decimal, others as IPv6.
impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len >= 96 && self.net & mask(96) == MAPPED {
            let v4 = Ipv4Addr::from(u32::try_from(self.net & 0xffff_ffff).unwrap_or(0));
            write!(f, "{v4}/{}", self.len - 96)
        } else {
            write!(f, "{}/{}", Ipv6Addr::from(self.net), self.len)
        }
    }
}

/// A key's or a product's allowed client ranges. Empty: any client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    ranges: Vec<Cidr>,
}

impl AllowList {
    /// Parses a list; on a fault, each bad entry's index and reason (or,
    /// for a list over [`MAX_RANGES`], one fault without an index).
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<AllowList, Vec<(Option<usize>, String)>> {
        if list.len() > MAX_RANGES {
            return Err(vec![(
                None,
                format!(
                    "must list at most {MAX_RANGES} ranges (it lists {}); use wider ranges",
                    list.len()
                ),
            )]);
        }
        let mut ranges: Vec<Cidr> = Vec::with_capacity(list.len());
        let mut faults = Vec::new();
        for (i, text) in list.iter().enumerate() {
            match Cidr::parse(text.as_ref()) {
                Ok(range) => match ranges.iter().position(|r| *r == range) {
                    Some(_) => faults.push((
                        Some(i),
                        format!("repeats an earlier range ({range}); list each range once"),
                    )),
                    None => ranges.push(range),
                },
                Err(reason) => faults.push((Some(i), reason)),
            }
        }
        if faults.is_empty() {
            Ok(AllowList { ranges })
        } else {
            Err(faults)
        }
    }

    /// Whether the list is empty (admits any client).
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The canonical texts, in order.
    pub fn texts(&self) -> Vec<String> {
        self.ranges.iter().map(Cidr::to_string).collect()
    }

    /// Whether a request from `client` is admitted: always by an empty
    /// list; by a non-empty one only when `client` is known and in one of
    /// its ranges.
    pub fn admits(&self, client: Option<IpAddr>) -> bool {
        if self.ranges.is_empty() {
            return true;
        }
        client.is_some_and(|ip| self.ranges.iter().any(|r| r.contains(ip)))
    }
}

impl serde::Serialize for AllowList {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.ranges.iter().map(Cidr::to_string))
    }
}

impl<'de> serde::Deserialize<'de> for AllowList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        AllowList::parse(&texts).map_err(|faults| {
            let (at, reason) = faults.into_iter().next().unwrap_or_default();
            serde::de::Error::custom(match at {
                Some(i) => format!("allowed_ips[{i}] {reason}"),
                None => format!("allowed_ips {reason}"),
            })
        })
    }
}

#[cfg(test)]
#[path = "ip_allow_tests.rs"]
mod tests;
