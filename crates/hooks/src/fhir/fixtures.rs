//! What the FHIR tests share: a lab result, its values, a report as a lab's LIS
//! would send it, and a way to expect a refusal naming a path.

use super::error::FhirError;
use super::lab_tests::normal_ranges;
use super::report_in::parse_lab_report;
use super::systems::{LOINC_SYSTEM, TUBE_SYSTEM, UCUM_SYSTEM};
use super::values::{LabResult, ObservationValue};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

pub(super) fn obs(loinc: &str, value: f64, unit: &str, low: f64, high: f64) -> ObservationValue {
    ObservationValue {
        loinc: loinc.into(),
        display: normal_ranges(loinc).map(|r| r.0).unwrap_or("x").into(),
        value,
        unit: unit.into(),
        low: Some(low),
        high: Some(high),
    }
}

pub(super) fn result() -> LabResult {
    LabResult {
        report_id: "PH-2024-000123".into(),
        barcode: "T-LH-C017-0042".into(),
        station: "LH-C017".into(),
        lab: "LAB-PH".into(),
        collected_at: Utc.with_ymd_and_hms(2024, 6, 3, 1, 15, 0).unwrap(),
        issued_at: Utc.with_ymd_and_hms(2024, 6, 3, 4, 2, 30).unwrap(),
        observations: vec![
            obs("2345-7", 7.8, "mmol/L", 3.9, 6.1),
            obs("718-7", 98.0, "g/L", 115.0, 175.0),
            obs("6690-2", 6.2, "10*9/L", 3.5, 9.5),
        ],
    }
}

pub(super) fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

/// A contained-style report as a lab's LIS would send it.
pub(super) fn contained_report() -> Value {
    json!({
        "resourceType": "DiagnosticReport",
        "identifier": [{ "system": "urn:oid:1.2.3", "value": "RPT-77" }],
        "status": "final",
        "code": { "coding": [{ "system": LOINC_SYSTEM, "code": "58410-2" }] },
        "issued": "2024-06-03T12:02:30+08:00",
        "performer": [{ "display": "Longhua People's Hospital lab" }],
        "contained": [
            {
                "resourceType": "Specimen", "id": "sp",
                "identifier": [{ "system": TUBE_SYSTEM, "value": "T-9" }]
            },
            {
                "resourceType": "Observation", "id": "o1", "status": "final",
                "code": { "coding": [
                    { "system": "http://snomed.info/sct", "code": "43396009" },
                    { "system": LOINC_SYSTEM, "code": "718-7", "display": "Hemoglobin" }
                ] },
                "valueQuantity": { "value": 131, "unit": "g/L", "system": UCUM_SYSTEM, "code": "g/L" },
                "referenceRange": [{ "low": { "value": 115 }, "high": { "value": 150 } }]
            },
            {
                "resourceType": "Observation", "id": "o2", "status": "final",
                "code": { "coding": [{ "system": LOINC_SYSTEM, "code": "777-3" }], "text": "PLT" },
                "valueQuantity": { "value": 240.5, "code": "10*9/L" }
            }
        ],
        "specimen": [{ "reference": "#sp" }],
        "result": [{ "reference": "#o1" }, { "reference": "#o2" }]
    })
}

/// Parses `body` expecting an error whose message names `path` and contains `needle`.
pub(super) fn expect_error(body: &Value, path: &str, needle: &str) -> FhirError {
    let err = parse_lab_report(body).unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.path(), path, "{msg}");
    assert!(msg.starts_with(path), "{msg}");
    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    err
}
