//! Origin signatures: RFC 9421 HTTP Message Signatures, `hmac-sha256`, one
//! key per product.
//!
//! Pure: the clock, the nonce and the body digest come in as arguments.
//! keygate signs every request it forwards under the label [`LABEL`]:
//!
//! ```text
//! Signature-Input: keygate=("@method" "@authority" "@path" "@query" "keygate-product" …);
//!                  created=…;expires=…;nonce="…";keyid="<product id>";alg="hmac-sha256"
//! Signature: keygate=:<base64 HMAC-SHA256 of the signature base>:
//! ```
//!
//! The signature base is built exactly as RFC 9421 §2.5 says: one line
//! `"<component>": <value>` per covered component, then the
//! `"@signature-params"` line, joined by `\n` with no trailing newline.
//! Invariants: a field value that is not visible ASCII (plus space and tab)
//! is never signed (the caller refuses the request); the MAC is compared in
//! constant time; time arithmetic cannot overflow.

mod key;
mod names;
mod parse;

pub use key::ProductKey;
pub use parse::Input;

use hmac::Mac;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secret::base64;
pub use names::{ALG, DEFAULT_TTL_SECONDS, LABEL};

/// The request components a signature covers, as the origin will see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered<'a> {
    /// `@method`: the method, as sent (uppercase for keygate).
    pub method: &'a str,
    /// `@authority`: the upstream's host, lowercase, with the port only
    /// when it is not the scheme's default.
    pub authority: &'a str,
    /// `@path`: the path the origin receives (`/` when empty).
    pub path: &'a str,
    /// `@query`: the query without `?`; `None` when there is none.
    pub query: Option<&'a str>,
    /// Header fields, in order: lowercase name and value.
    pub fields: Vec<(&'a str, &'a str)>,
}

/// The signature parameters, in the order they are serialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params<'a> {
    /// `created`, Unix seconds.
    pub created: i64,
    /// `expires`, Unix seconds.
    pub expires: i64,
    /// `nonce`; keygate also sends it as `Keygate-Request-Id`.
    pub nonce: &'a str,
    /// `keyid`: the product id.
    pub keyid: &'a str,
}

/// The two header values keygate sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `Signature-Input` value.
    pub input: String,
    /// `Signature` value.
    pub signature: String,
}

/// A component whose name or value cannot be signed: not visible ASCII,
/// or a parameter that cannot be a structured-field string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsignable(pub String);

impl Covered<'_> {
    /// Appends the component lines of the signature base (each ending in
    /// a newline, without `@signature-params`) to `base`, and the inner
    /// list of their names to `names`.
    fn write(&self, base: &mut String, names: &mut String) -> Result<(), Unsignable> {
        let path = if self.path.is_empty() { "/" } else { self.path };
        // `@query` is `?` and the query: only its end can be trimmed.
        let query = self.query.unwrap_or("").trim_end_matches([' ', '\t']);
        let derived = [
            ("@method", "", self.method.trim_matches([' ', '\t'])),
            ("@authority", "", self.authority.trim_matches([' ', '\t'])),
            ("@path", "", path.trim_matches([' ', '\t'])),
            ("@query", "?", query),
        ];
        let fields = self
            .fields
            .iter()
            .map(|&(name, value)| (name, "", value.trim_matches([' ', '\t'])));
        names.push('(');
        for (i, (name, prefix, value)) in derived.into_iter().chain(fields).enumerate() {
            if !is_field_name(name) || !is_field_value(value) {
                return Err(Unsignable(name.to_owned()));
            }
            if i > 0 {
                names.push(' ');
            }
            names.push('"');
            names.push_str(name);
            names.push('"');
            base.push('"');
            base.push_str(name);
            base.push_str("\": ");
            base.push_str(prefix);
            base.push_str(value);
            base.push('\n');
        }
        names.push(')');
        Ok(())
    }
}

impl Params<'_> {
    /// Appends `;created=…;expires=…;nonce="…";keyid="…";alg="hmac-sha256"`.
    fn write(&self, out: &mut String) -> Result<(), Unsignable> {
        for (name, value) in [("nonce", self.nonce), ("keyid", self.keyid)] {
            if !is_sf_string(value) {
                return Err(Unsignable(name.to_owned()));
            }
        }
        out.push_str(";created=");
        push_integer(out, self.created);
        out.push_str(";expires=");
        push_integer(out, self.expires);
        out.push_str(";nonce=\"");
        out.push_str(self.nonce);
        out.push_str("\";keyid=\"");
        out.push_str(self.keyid);
        out.push_str("\";alg=\"");
        out.push_str(ALG);
        out.push('"');
        Ok(())
    }
}

/// Appends `n` in decimal ([`crate::log_line::push_u64`] for the digits).
fn push_integer(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    crate::log_line::push_u64(out, n.unsigned_abs());
}

/// The RFC 9421 signature base and the `@signature-params` value.
pub fn signature_base(
    covered: &Covered<'_>,
    params: &Params<'_>,
) -> Result<(String, String), Unsignable> {
    let mut base = String::with_capacity(1_024);
    let mut signature_params = String::with_capacity(384);
    covered.write(&mut base, &mut signature_params)?;
    params.write(&mut signature_params)?;
    base.push_str("\"@signature-params\": ");
    base.push_str(&signature_params);
    Ok((base, signature_params))
}

/// Signs `covered` with the product's key.
pub fn sign(
    key: &ProductKey,
    covered: &Covered<'_>,
    params: &Params<'_>,
) -> Result<SignatureHeaders, Unsignable> {
    let (base, signature_params) = signature_base(covered, params)?;
    let mut input = String::with_capacity(LABEL.len() + 1 + signature_params.len());
    input.push_str(LABEL);
    input.push('=');
    input.push_str(&signature_params);
    let mac = mac_base64(key, &base);
    let mut signature = String::with_capacity(LABEL.len() + 3 + mac.len());
    signature.push_str(LABEL);
    signature.push_str("=:");
    signature.push_str(&mac);
    signature.push(':');
    Ok(SignatureHeaders { input, signature })
}

/// `expires` for a signature created at `created` that lives `ttl`
/// seconds; saturates instead of overflowing.
pub fn expires_at(created: i64, ttl: u32) -> i64 {
    created.saturating_add(i64::from(ttl))
}

/// RFC 9530 `Content-Digest` value for a body: `sha-256=:<base64>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", base64(&Sha256::digest(body)))
}

fn mac_base64(key: &ProductKey, base: &str) -> String {
    let mut mac = key.mac();
    mac.update(base.as_bytes());
    base64(&mac.finalize().into_bytes())
}

/// The bytes of a lowercase field name: `tchar` less the capitals.
// Built at compile time: an index out of range fails the build, not a
// request.
#[allow(clippy::indexing_slicing)]
const NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_lowercase()
            || c.is_ascii_digit()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

/// A lowercase field name or a derived component name (`@…`).
fn is_field_name(name: &str) -> bool {
    let rest = name.strip_prefix('@').unwrap_or(name);
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| NAME_BYTES.get(usize::from(b)).copied().unwrap_or(false))
}

/// Visible ASCII, space and tab only: what every implementation reads the
/// same way. (No early exit, so the check runs many bytes at a time.)
fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .fold(true, |ok, b| ok & (b == b'\t' || (0x20..0x7f).contains(&b)))
}

/// Fits in an RFC 8941 sf-string without escapes.
fn is_sf_string(value: &str) -> bool {
    value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// Why a signature is refused by [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// `Signature-Input` or `Signature` is missing, has no `keygate` member,
    /// or does not parse.
    Malformed,
    /// `alg` is not `hmac-sha256`, or `keyid` is not the expected product.
    WrongKey,
    /// A required component is not covered, a covered header is absent, or
    /// a `Keygate-*` header is present but not covered.
    NotCovered,
    /// `created` is in the future beyond the skew, or `expires` has passed.
    Expired,
    /// The nonce is not the `Keygate-Request-Id`.
    NonceMismatch,
    /// `Content-Digest` is covered but does not match the body.
    DigestMismatch,
    /// The MAC does not match.
    Mismatch,
}

/// A request as the origin received it, for [`verify`].
#[derive(Debug, Clone)]
pub struct Received<'a> {
    /// Method.
    pub method: &'a str,
    /// Authority (the `Host` header).
    pub authority: &'a str,
    /// Path.
    pub path: &'a str,
    /// Query without `?`, `None` when absent.
    pub query: Option<&'a str>,
    /// Header fields: name (any case) and value.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, to check a covered `Content-Digest`.
    pub body: &'a [u8],
}

/// Components every keygate signature must cover.
pub const REQUIRED: [&str; 6] = [
    "@method",
    "@authority",
    "@path",
    "@query",
    "keygate-product",
    "keygate-request-id",
];

/// Origin-side check, as an origin given only `product`'s key would make
/// it: the `keygate` signature must use `hmac-sha256` and `keyid =
/// product`, cover [`REQUIRED`] and every `Keygate-*` header present, have
/// `created - skew <= now <= expires`, a nonce equal to
/// `Keygate-Request-Id`, a matching `Content-Digest` when one is covered,
/// and a MAC that matches. Returns the parameters (for a replay check on
/// the nonce).
pub fn verify(
    key: &ProductKey,
    product: &str,
    received: &Received<'_>,
    now: i64,
    skew: u32,
) -> Result<Input, VerifyError> {
    let header = |name: &str| {
        let values: Vec<&str> = received
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim_matches([' ', '\t']))
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    let input = header("signature-input")
        .and_then(|v| parse::input(&v))
        .ok_or(VerifyError::Malformed)?;
    let presented = header("signature")
        .and_then(|v| parse::signature(&v))
        .ok_or(VerifyError::Malformed)?;
    if input.alg.as_deref() != Some(ALG) || input.keyid.as_deref() != Some(product) {
        return Err(VerifyError::WrongKey);
    }
    let covers = |name: &str| input.components.iter().any(|c| c == name);
    let keygate_headers = received
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| n.starts_with("keygate-"));
    if !REQUIRED.iter().all(|c| covers(c)) || !keygate_headers.into_iter().all(|n| covers(&n)) {
        return Err(VerifyError::NotCovered);
    }
    let (Some(created), Some(expires)) = (input.created, input.expires) else {
        return Err(VerifyError::Malformed);
    };
    if created.saturating_sub(i64::from(skew)) > now || now > expires {
        return Err(VerifyError::Expired);
    }
    let nonce = input.nonce.as_deref().ok_or(VerifyError::Malformed)?;
    if header("keygate-request-id").as_deref() != Some(nonce) {
        return Err(VerifyError::NonceMismatch);
    }
    let mut values = Vec::new();
    for name in input.components.iter().filter(|c| !c.starts_with('@')) {
        values.push((name.as_str(), header(name).ok_or(VerifyError::NotCovered)?));
    }
    if covers("content-digest")
        && header("content-digest").as_deref() != Some(content_digest(received.body).as_str())
    {
        return Err(VerifyError::DigestMismatch);
    }
    // Rebuild the base in the order the input names the components.
    let mut lines = Vec::with_capacity(input.components.len().saturating_add(1));
    let query = format!("?{}", received.query.unwrap_or(""));
    for name in &input.components {
        let value = match name.as_str() {
            "@method" => received.method,
            "@authority" => received.authority,
            "@path" if received.path.is_empty() => "/",
            "@path" => received.path,
            "@query" => query.as_str(),
            n if n.starts_with('@') => return Err(VerifyError::Malformed),
            n => values
                .iter()
                .find(|(v, _)| *v == n)
                .map(|(_, v)| v.as_str())
                .ok_or(VerifyError::NotCovered)?,
        };
        lines.push(format!("\"{name}\": {value}"));
    }
    lines.push(format!("\"@signature-params\": {}", input.raw));
    let expected = mac_base64(key, &lines.join("\n"));
    if expected.as_bytes().ct_eq(presented.as_bytes()).into() {
        Ok(input)
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
pub(crate) mod tests;
