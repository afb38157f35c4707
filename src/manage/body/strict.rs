//! JSON as JSON Schema reads it, where serde_json is more lenient.
//!
//! Pure. Invariant: [`NoRepeats`] fails on any object, at any depth, that
//! names a member twice (serde_json would keep the last silently); and
//! [`whole_numbers`] turns only floats with no fractional part that fit an
//! `i64` into integers, so `60.0` and `1e1` meet `"type": "integer"` as
//! they do in JSON Schema, while `60.5` and `1e300` stay floats.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Parses any JSON value, refusing repeated members; keeps nothing.
pub(super) struct NoRepeats;

impl<'de> Deserialize<'de> for NoRepeats {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoRepeatsVisitor)
    }
}

struct NoRepeatsVisitor;

impl<'de> Visitor<'de> for NoRepeatsVisitor {
    type Value = NoRepeats;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }

    fn visit_i64<E>(self, _: i64) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }

    fn visit_u64<E>(self, _: u64) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }

    fn visit_f64<E>(self, _: f64) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }

    fn visit_str<E>(self, _: &str) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }

    fn visit_unit<E>(self) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoRepeats, A::Error> {
        while seq.next_element::<NoRepeats>()?.is_some() {}
        Ok(NoRepeats)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoRepeats, A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(name) = map.next_key::<String>()? {
            map.next_value::<NoRepeats>()?;
            if !seen.insert(name.clone()) {
                return Err(de::Error::custom(format!(
                    "the member `{name}` is given more than once"
                )));
            }
        }
        Ok(NoRepeats)
    }
}

/// Rewrites whole-number floats in `value`, at any depth, as integers.
pub(super) fn whole_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(whole) = n.as_f64().and_then(as_whole) {
                *value = serde_json::Value::from(whole);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        serde_json::Value::Object(members) => members.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// `f` as an `i64` if it is a whole number in range.
fn as_whole(f: f64) -> Option<i64> {
    // 2^63 is exact as an f64; anything below it (and >= -2^63) fits.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeats(json: &str) -> bool {
        serde_json::from_str::<NoRepeats>(json).is_err()
    }

    #[test]
    fn repeated_members_are_found_at_any_depth() {
        assert!(!repeats(r#"{"a":1,"b":[{"a":2},{"a":3}],"c":{"a":null}}"#));
        assert!(repeats(r#"{"a":1,"a":1}"#));
        assert!(repeats(
            r#"{"product":"salesforge","name":"x","product":"forgeai"}"#
        ));
        assert!(repeats(r#"{"x":[{"k":1,"k":2}]}"#));
        assert!(repeats(r#"{"x":{"y":{"k":1,"k":2}}}"#));
        // Escapes name the same member.
        assert!(repeats(r#"{"name":1,"n\u0061me":2}"#));
        assert!(!repeats(r#"{"name":1,"Name":2}"#));
    }

    #[test]
    fn whole_floats_become_integers_and_others_stay() {
        let mut v: serde_json::Value = serde_json::from_str(
            r#"{"a":60.0,"b":1e1,"c":-0.0,"d":[2.0],"e":60.5,"f":1e300,"g":7}"#,
        )
        .unwrap();
        whole_numbers(&mut v);
        assert_eq!(v["a"], 60);
        assert_eq!(v["b"], 10);
        assert_eq!(v["c"], 0);
        assert_eq!(v["d"][0], 2);
        assert!(v["e"].is_f64());
        assert!(v["f"].is_f64());
        assert_eq!(v["g"], 7);
        assert_eq!(as_whole(9.223_372_036_854_776e18), None);
        assert_eq!(as_whole(-9.223_372_036_854_776e18), Some(i64::MIN));
        assert_eq!(as_whole(f64::NAN), None);
    }
}
