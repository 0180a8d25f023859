//! labflight's FHIR output checked by an independent FHIR R4 implementation (the Python
//! `fhir.resources` 6.4 models, driven by `tests/validate_fhir.py`), so that "valid R4"
//! does not rest on our own reading of the spec. The test fails, never skips, when the
//! validator is missing, and it also proves the validator can say no.

use chrono::{TimeZone, Utc};
use labflight_hooks::{
    IssueCode, IssueSeverity, LabResult, ObservationValue, StatusKind, operation_outcome,
    parse_lab_report, report_bundle, status_bundle,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL: &str = "pip install 'fhir.resources==6.4.*'";

/// A fresh directory under the system temp dir, unique to this test process and name.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "labflight-hooks-fhir-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).expect("write bundle");
    path
}

/// Runs the validator on `files`: Ok(stdout) when all are valid, Err(output) when the
/// validator rejected at least one. Panics, with the install line, if it cannot run.
fn validate(files: &[PathBuf]) -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_fhir.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run python3 ({e}): the FHIR validation test needs python3 with `{INSTALL}`"
            )
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    match output.status.code() {
        Some(0) => Ok(text),
        Some(1) => Err(text),
        _ => panic!(
            "the FHIR validator could not run ({}); install it with `{INSTALL}`:\n{text}",
            output.status
        ),
    }
}

fn obs(
    loinc: &str,
    display: &str,
    value: f64,
    unit: &str,
    low: f64,
    high: f64,
) -> ObservationValue {
    ObservationValue {
        loinc: loinc.into(),
        display: display.into(),
        value,
        unit: unit.into(),
        low: Some(low),
        high: Some(high),
    }
}

fn report() -> LabResult {
    LabResult {
        report_id: "PH-2024-000123".into(),
        barcode: "T-LH-C017-0042".into(),
        station: "LH-C017".into(),
        lab: "LAB-PH".into(),
        collected_at: Utc.with_ymd_and_hms(2024, 6, 3, 1, 15, 0).unwrap(),
        issued_at: Utc
            .with_ymd_and_hms(2024, 6, 3, 4, 2, 30)
            .unwrap()
            .checked_add_signed(chrono::Duration::milliseconds(250))
            .unwrap(),
        observations: vec![
            // high, low, normal
            obs("2345-7", "Glucose", 11.2, "mmol/L", 3.9, 6.1),
            obs("718-7", "Hemoglobin", 96.0, "g/L", 115.0, 175.0),
            obs("6690-2", "Leukocytes", 6.4, "10*9/L", 3.5, 9.5),
        ],
    }
}

fn status_bundles() -> Vec<(&'static str, Value)> {
    let at = Utc.with_ymd_and_hms(2024, 6, 3, 2, 0, 0).unwrap();
    vec![
        (
            "received.json",
            status_bundle(
                &StatusKind::Received {
                    lab: "LAB-PH".into(),
                    at,
                },
                "T-LH-C017-0042",
                "LH-C017",
            ),
        ),
        (
            "rejected.json",
            status_bundle(
                &StatusKind::Rejected {
                    lab: "LAB-PH".into(),
                    at,
                    reason: "haemolysed".into(),
                },
                "T-LH-C017-0042",
                "LH-C017",
            ),
        ),
        (
            "redraw.json",
            status_bundle(
                &StatusKind::RedrawRequested {
                    reason: "stability window exceeded in transit".into(),
                    at,
                },
                "T-LH-C017-0042",
                "LH-C017",
            ),
        ),
    ]
}

/// The first entry whose resource has the given type.
fn resource_mut<'a>(bundle: &'a mut Value, kind: &str) -> &'a mut Value {
    bundle["entry"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .map(|e| &mut e["resource"])
        .find(|r| r["resourceType"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in bundle"))
}

#[test]
fn report_and_status_bundles_are_valid_fhir_r4() {
    let dir = scratch("valid");
    let report = report_bundle(&report());
    // The bundle really has one high, one low and one normal value.
    let flags: Vec<&str> = report["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["interpretation"][0]["coding"][0]["code"].as_str())
        .collect();
    assert_eq!(flags, ["H", "L", "N"]);

    let mut files = vec![write(&dir, "report.json", &report)];
    for (name, bundle) in status_bundles() {
        files.push(write(&dir, name, &bundle));
    }
    // The OperationOutcomes labs get back, in a collection Bundle so the same check applies.
    let refusal = parse_lab_report(&json!({ "resourceType": "DiagnosticReport" }))
        .unwrap_err()
        .to_operation_outcome();
    let accepted = operation_outcome(
        IssueSeverity::Information,
        IssueCode::Informational,
        "result accepted",
        None,
    );
    let outcomes = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            { "fullUrl": "urn:uuid:6c1c6f4e-8a8e-4c56-9d0e-4b1f1f7d7a01", "resource": refusal },
            { "fullUrl": "urn:uuid:6c1c6f4e-8a8e-4c56-9d0e-4b1f1f7d7a02", "resource": accepted },
        ],
    });
    files.push(write(&dir, "outcomes.json", &outcomes));
    match validate(&files) {
        Ok(out) => assert_eq!(out.matches("valid   ").count(), 5, "{out}"),
        Err(out) => panic!("labflight produced FHIR the validator rejects:\n{out}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn validator_rejects_broken_bundles() {
    let dir = scratch("broken");
    let cases: Vec<(&str, Value, &str)> = vec![
        // A code outside its required value set (checked by the script's bindings pass).
        (
            "bogus-status.json",
            {
                let mut b = report_bundle(&report());
                resource_mut(&mut b, "Observation")["status"] = json!("bogus");
                b
            },
            "'bogus'",
        ),
        // A datatype error (checked by fhir.resources itself).
        (
            "string-value.json",
            {
                let mut b = report_bundle(&report());
                resource_mut(&mut b, "Observation")["valueQuantity"]["value"] = json!("abc");
                b
            },
            "valueQuantity",
        ),
        // A missing required element (Task.intent is 1..1).
        (
            "no-intent.json",
            {
                let (_, mut b) = status_bundles().remove(1);
                resource_mut(&mut b, "Task")
                    .as_object_mut()
                    .unwrap()
                    .remove("intent");
                b
            },
            "intent",
        ),
        // An element R4 does not have.
        (
            "unknown-element.json",
            {
                let (_, mut b) = status_bundles().remove(0);
                resource_mut(&mut b, "Specimen")["patientName"] = json!("Zhang San");
                b
            },
            "patientName",
        ),
        // A reference to nothing in the bundle.
        (
            "dangling-reference.json",
            {
                let mut b = report_bundle(&report());
                resource_mut(&mut b, "DiagnosticReport")["specimen"][0]["reference"] =
                    json!("urn:uuid:00000000-0000-8000-8000-000000000000");
                b
            },
            "matches no entry",
        ),
    ];
    for (name, bundle, expected) in cases {
        let file = write(&dir, name, &bundle);
        match validate(std::slice::from_ref(&file)) {
            Ok(out) => panic!("the validator accepted the broken bundle {name}:\n{out}"),
            Err(out) => {
                assert!(
                    out.contains(&format!("INVALID {}", file.display())),
                    "{out}"
                );
                assert!(
                    out.contains(expected),
                    "{name}: expected {expected:?} in:\n{out}"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
