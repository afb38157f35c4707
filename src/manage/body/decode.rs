//! Decoding a request body: strict JSON into a typed body, with the
//! member at fault named.
//!
//! Pure. Invariant: a body is accepted only as a JSON object with no
//! repeated member ([`super::strict`]), no `null` but where the caller
//! allows it, and whole-number floats read as integers; any fault is one
//! [`Error`] that names the member and never echoes the body.

use serde::de::DeserializeOwned;

use super::strict;
use crate::Error;

/// Largest request body the management API reads, in bytes.
pub const BODY_LIMIT: usize = 65_536;

/// Decodes a JSON object body into `T`, naming the member at fault.
/// Only the members in `nullable` may be `null` (where `null` means
/// something: `expires_at: null` removes an expiry).
pub(crate) fn decode<T: DeserializeOwned>(
    body: &[u8],
    fields: &'static str,
    nullable: &[&str],
) -> Result<T, Error> {
    decode_within(body, BODY_LIMIT, fields, nullable)
}

/// [`decode`] for a route whose body may be up to `limit` bytes.
pub(crate) fn decode_within<T: DeserializeOwned>(
    body: &[u8],
    limit: usize,
    fields: &'static str,
    nullable: &[&str],
) -> Result<T, Error> {
    if body.len() > limit {
        return Err(Error::BodyTooLarge { limit });
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidJson {
            reason: "the body is empty".to_owned(),
        });
    }
    let syntax = |e: serde_json::Error| Error::InvalidJson {
        reason: format!(
            "line {} column {}: {}",
            e.line(),
            e.column(),
            without_position(&e)
        ),
    };
    // serde_json keeps the last of repeated members; refuse them first.
    serde_json::from_slice::<strict::NoRepeats>(body).map_err(syntax)?;
    let value: serde_json::Value = serde_json::from_slice(body).map_err(syntax)?;
    if !value.is_object() {
        return Err(Error::InvalidJson {
            reason: "the body is JSON but not an object".to_owned(),
        });
    }
    decode_value(value, fields, nullable)
}

/// Decodes an already parsed (and repeat-checked) JSON object into `T`,
/// as [`decode`] does; a value that is not an object is refused with
/// `invalid_field` at the top level (`.`).
pub(crate) fn decode_value<T: DeserializeOwned>(
    mut value: serde_json::Value,
    fields: &'static str,
    nullable: &[&str],
) -> Result<T, Error> {
    let Some(members) = value.as_object_mut() else {
        return Err(invalid(".", "must be a JSON object"));
    };
    // Optional members deserialise `null` as absent; the schema forbids
    // it, so it is refused once the members are known to be the
    // operation's (an unknown member is reported as such first).
    let null = members
        .iter()
        .find(|(name, v)| v.is_null() && !nullable.contains(&name.as_str()))
        .map(|(name, _)| name.clone());
    members.values_mut().for_each(strict::whole_numbers);
    let decoded = serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        if let Some(field) = quoted_after(&message, "unknown field `") {
            return Error::UnknownField {
                field: join(&path, field),
                expected: fields,
            };
        }
        if let Some(field) = quoted_after(&message, "missing field `") {
            return invalid(&join(&path, field), "is required");
        }
        invalid(&path, format!("is not valid: {message}"))
    })?;
    match null {
        Some(name) => Err(invalid(
            &name,
            "must not be null; leave the member out to keep its default",
        )),
        None => Ok(decoded),
    }
}

fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or_default().to_owned(),
        None => text,
    }
}

/// `name` in ``… `name` …`` after `marker`.
fn quoted_after<'m>(message: &'m str, marker: &str) -> Option<&'m str> {
    let rest = message.split_once(marker)?.1;
    Some(rest.split_once('`')?.0)
}

/// `path.field`, or `field` at the top level (`.`). serde_path_to_error
/// already ends the path with an unknown field's name.
fn join(path: &str, field: &str) -> String {
    if path == "." || path.is_empty() {
        field.to_owned()
    } else if path == field || path.ends_with(&format!(".{field}")) {
        path.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// `400 invalid_field` for `field`, saying why.
pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Error {
    Error::InvalidField {
        field: field.to_owned(),
        reason: reason.into(),
    }
}
