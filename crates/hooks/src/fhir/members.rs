//! Reading the members of a lab's JSON, each refusal naming the member's FHIR path:
//! strings, arrays and finite numbers, absent or null being the same.

use super::error::{FhirError, invalid, missing};
use serde_json::Value;

/// A present, non-null member.
pub(super) fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

pub(super) fn opt_str<'a>(
    v: &'a Value,
    path: &str,
    key: &str,
) -> Result<Option<&'a str>, FhirError> {
    match get(v, key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim())),
        Some(other) => Err(invalid(
            format!("{path}.{key}"),
            other,
            "is not a non-empty string",
        )),
    }
}

pub(super) fn req_str<'a>(
    v: &'a Value,
    path: &str,
    key: &str,
    what: &str,
) -> Result<&'a str, FhirError> {
    opt_str(v, path, key)?.ok_or_else(|| missing(format!("{path}.{key}"), what))
}

pub(super) fn opt_array<'a>(v: &'a Value, path: &str, key: &str) -> Result<&'a [Value], FhirError> {
    match get(v, key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(invalid(format!("{path}.{key}"), other, "is not an array")),
    }
}

pub(super) fn opt_number(v: &Value, path: &str, key: &str) -> Result<Option<f64>, FhirError> {
    let path = format!("{path}.{key}");
    match get(v, key) {
        None => Ok(None),
        Some(n @ Value::Number(_)) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(invalid(path, n, "is not a finite number")),
        },
        Some(other) => Err(invalid(path, other, "is not a number")),
    }
}
