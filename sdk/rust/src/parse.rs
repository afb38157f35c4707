//! Reading `Signature-Input` and `Signature` (RFC 8941 dictionaries).
//!
//! Pure and strict: exactly one member, labelled `keygate`; an inner list
//! of sf-strings without parameters; the five parameters keygate sends,
//! each once. Anything else is [`Rule::Malformed`], never a panic.

use crate::{Error, Rule, LABEL};

/// The `keygate` member of `Signature-Input`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Input {
    pub components: Vec<String>,
    pub created: i64,
    pub expires: i64,
    pub nonce: String,
    pub keyid: String,
    pub alg: String,
    /// The `@signature-params` value, re-serialised canonically.
    pub params: String,
}

fn malformed(why: impl Into<String>) -> Error {
    Error::new(Rule::Malformed, why)
}

/// The value of the only member, which must be labelled `keygate`.
pub(crate) fn only(value: &str) -> Result<&str, Error> {
    let one = || malformed("expected exactly one signature, labelled keygate");
    if value.len() > 8192 {
        return Err(one());
    }
    let (mut depth, mut quoted) = (0i32, false);
    for c in value.chars() {
        match c {
            '\\' if quoted => return Err(one()),
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => return Err(one()),
            _ => {}
        }
        if depth < 0 {
            return Err(one());
        }
    }
    match value.trim().split_once('=') {
        Some((LABEL, rest)) => Ok(rest),
        _ => Err(one()),
    }
}

/// An sf-string without escapes.
fn sf_string(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    inner
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        .then_some(inner)
}

fn is_component(s: &str) -> bool {
    matches!(s, "@method" | "@authority" | "@path" | "@query")
        || (!s.is_empty()
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
            }))
}

/// An RFC 8941 integer: an optional `-` and 1-15 digits.
fn integer(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    ((1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

pub(crate) fn input(member: &str) -> Result<Input, Error> {
    let inner = member
        .strip_prefix('(')
        .ok_or_else(|| malformed("Signature-Input: not an inner list"))?;
    let (list, rest) = inner
        .split_once(')')
        .ok_or_else(|| malformed("Signature-Input: not an inner list"))?;
    let mut components: Vec<String> = Vec::new();
    for item in list.split(' ').filter(|s| !s.is_empty()) {
        let c = sf_string(item)
            .filter(|c| is_component(c))
            .ok_or_else(|| malformed(format!("Signature-Input: component {item}")))?;
        if components.iter().any(|x| x == c) {
            return Err(malformed(format!("Signature-Input: component {c} twice")));
        }
        components.push(c.to_owned());
    }
    let mut params = format!(
        "({})",
        components
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (mut created, mut expires, mut nonce, mut keyid, mut alg) = (None, None, None, None, None);
    if !rest.is_empty() {
        let rest = rest
            .strip_prefix(';')
            .ok_or_else(|| malformed("Signature-Input: parameters"))?;
        for p in rest.split(';') {
            let (name, raw) = p
                .split_once('=')
                .ok_or_else(|| malformed("Signature-Input: parameters"))?;
            let name = name.trim();
            let bad = || malformed(format!("Signature-Input: {name}"));
            match name {
                "created" | "expires" => {
                    let n = integer(raw).ok_or_else(bad)?;
                    let slot = if name == "created" {
                        &mut created
                    } else {
                        &mut expires
                    };
                    if slot.replace(n).is_some() {
                        return Err(bad());
                    }
                    params.push_str(&format!(";{name}={n}"));
                }
                "nonce" | "keyid" | "alg" => {
                    let s = sf_string(raw).ok_or_else(bad)?.to_owned();
                    params.push_str(&format!(";{name}=\"{s}\""));
                    let slot = match name {
                        "nonce" => &mut nonce,
                        "keyid" => &mut keyid,
                        _ => &mut alg,
                    };
                    if slot.replace(s).is_some() {
                        return Err(bad());
                    }
                }
                _ => {
                    return Err(malformed(format!(
                        "Signature-Input: unknown parameter {name}"
                    )))
                }
            }
        }
    }
    let missing = |what: &str| malformed(format!("Signature-Input: no {what}"));
    Ok(Input {
        components,
        created: created.ok_or_else(|| missing("created"))?,
        expires: expires.ok_or_else(|| missing("expires"))?,
        nonce: nonce.ok_or_else(|| missing("nonce"))?,
        keyid: keyid.ok_or_else(|| missing("keyid"))?,
        alg: alg.ok_or_else(|| missing("alg"))?,
        params,
    })
}
