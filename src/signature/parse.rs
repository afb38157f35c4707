//! Reading `Signature-Input` and `Signature` (RFC 8941 dictionaries) for
//! the native verifier.
//!
//! Pure and strict: only the shapes keygate emits are accepted (an inner
//! list of sf-strings without parameters; integer or sf-string
//! parameters). Anything else is `None`, never a panic.

use super::names::LABEL;

/// The `keygate` member of `Signature-Input`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// Covered component names, in order.
    pub components: Vec<String>,
    /// `created`.
    pub created: Option<i64>,
    /// `expires`.
    pub expires: Option<i64>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `keyid`.
    pub keyid: Option<String>,
    /// `alg`.
    pub alg: Option<String>,
    /// The member re-serialised canonically: the `@signature-params` value.
    pub raw: String,
}

/// Longest header value read.
const MAX_LEN: usize = 8192;

/// The dictionary members `name=value`, split at commas outside strings
/// and parentheses.
fn members(value: &str) -> Option<Vec<(&str, &str)>> {
    if value.len() > MAX_LEN {
        return None;
    }
    let mut out = Vec::new();
    let (mut start, mut depth, mut quoted, mut escaped) = (0usize, 0u32, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '(' if !quoted => depth = depth.checked_add(1)?,
            ')' if !quoted => depth = depth.checked_sub(1)?,
            ',' if !quoted && depth == 0 => {
                out.push(value.get(start..i)?);
                start = i.checked_add(1)?;
            }
            _ => {}
        }
    }
    out.push(value.get(start..)?);
    out.into_iter()
        .map(|m| m.trim().split_once('='))
        .collect::<Option<Vec<_>>>()
}

fn member(value: &str) -> Option<&str> {
    members(value)?
        .into_iter()
        .find(|(name, _)| *name == LABEL)
        .map(|(_, v)| v)
}

/// An sf-string without escapes: `"…"` of visible ASCII.
fn sf_string(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    inner
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        .then_some(inner)
}

/// Parses the `keygate` member of a `Signature-Input` value.
pub fn input(value: &str) -> Option<Input> {
    let member = member(value)?;
    let inner = member.strip_prefix('(')?;
    let (list, params) = inner.split_once(')')?;
    let components = list
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| sf_string(s).map(str::to_owned))
        .collect::<Option<Vec<_>>>()?;
    let mut input = Input {
        raw: format!(
            "({})",
            components
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        components,
        created: None,
        expires: None,
        nonce: None,
        keyid: None,
        alg: None,
    };
    if !params.is_empty() {
        for param in params.strip_prefix(';')?.split(';') {
            let (name, value) = param.trim_start().split_once('=')?;
            let integer = || value.parse::<i64>().ok().filter(|_| is_integer(value));
            let canonical = match name {
                "created" | "expires" => {
                    let n = integer()?;
                    let slot = if name == "created" {
                        &mut input.created
                    } else {
                        &mut input.expires
                    };
                    *slot = Some(n);
                    n.to_string()
                }
                "nonce" | "keyid" | "alg" => {
                    let text = Some(sf_string(value)?.to_owned());
                    match name {
                        "nonce" => input.nonce = text,
                        "keyid" => input.keyid = text,
                        _ => input.alg = text,
                    }
                    value.to_owned()
                }
                _ => return None,
            };
            input.raw.push_str(&format!(";{name}={canonical}"));
        }
    }
    Some(input)
}

/// An RFC 8941 integer: an optional `-` and 1-15 digits.
fn is_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The base64 text of the `keygate` member of a `Signature` value.
pub fn signature(value: &str) -> Option<String> {
    let member = member(value)?;
    let b64 = member.strip_prefix(':')?.strip_suffix(':')?;
    b64.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .then(|| b64.to_owned())
}
