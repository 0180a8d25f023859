//! The pieces every outgoing resource is built from: deterministic UUIDs, FHIR
//! instants, pruning of empty members, the collection Bundle, and the references
//! and codings that repeat across resources (the anonymous patient, organisations,
//! the order, the tube's identifier, LOINC concepts, UCUM quantities).

use super::systems::{LOINC_SYSTEM, ORDER_SYSTEM, STATION_SYSTEM, TUBE_SYSTEM, UCUM_SYSTEM};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// A deterministic RFC 9562 version 8 UUID from SHA-256 of length-prefixed parts.
pub(super) fn uuid_for(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80; // version 8
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// RFC 3339 with an explicit offset, as FHIR `instant` and `dateTime` want it.
pub(super) fn fhir_instant(t: &DateTime<Utc>) -> String {
    let precision = if t.timestamp_subsec_nanos() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Millis
    };
    t.to_rfc3339_opts(precision, false)
}

/// Drops nulls, empty strings, empty arrays and empty objects, which FHIR forbids.
pub(super) fn prune(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::Array(items) => {
            let items: Vec<Value> = items.into_iter().filter_map(prune).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(map) => {
            let map: Map<String, Value> = map
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!map.is_empty()).then_some(Value::Object(map))
        }
        other => Some(other),
    }
}

pub(super) fn bundle(id: &str, timestamp: &DateTime<Utc>, entries: Vec<(String, Value)>) -> Value {
    let entry: Vec<Value> = entries
        .into_iter()
        .map(|(uuid, resource)| json!({ "fullUrl": format!("urn:uuid:{uuid}"), "resource": resource }))
        .collect();
    prune(json!({
        "resourceType": "Bundle",
        "id": id,
        "type": "collection",
        "timestamp": fhir_instant(timestamp),
        "entry": entry,
    }))
    .unwrap_or(Value::Null)
}

pub(super) fn anonymous_patient(station: &str) -> Value {
    json!({ "type": "Patient", "display": format!("anonymous patient of {station}") })
}

pub(super) fn organization(system: &str, id: &str) -> Value {
    json!({ "type": "Organization", "identifier": { "system": system, "value": id }, "display": id })
}

pub(super) fn order(barcode: &str) -> Value {
    json!({ "type": "ServiceRequest", "identifier": { "system": ORDER_SYSTEM, "value": barcode } })
}

pub(super) fn tube_identifier(barcode: &str, station: &str) -> Value {
    json!({ "system": TUBE_SYSTEM, "value": barcode, "assigner": organization(STATION_SYSTEM, station) })
}

pub(super) fn loinc_concept(code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": LOINC_SYSTEM, "code": code, "display": display }], "text": display })
}

pub(super) fn quantity(value: f64, unit: &str) -> Value {
    json!({ "value": value, "unit": unit, "system": UCUM_SYSTEM, "code": unit })
}

pub(super) fn specimen_id(barcode: &str) -> String {
    uuid_for(&["Specimen", barcode])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_deterministic_version_8() {
        let a = uuid_for(&["Observation", "r1", "0"]);
        assert_eq!(a, uuid_for(&["Observation", "r1", "0"]));
        assert_ne!(a, uuid_for(&["Observation", "r1", "1"]));
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        assert_ne!(uuid_for(&["ab", "c"]), uuid_for(&["a", "bc"]));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }
}
