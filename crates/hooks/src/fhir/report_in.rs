//! A lab's report coming in: a `DiagnosticReport` (with `contained` resources) or a
//! `Bundle` holding one, read strictly into what labflight takes from it: the
//! report's id, status, lab and issue time, the tube's barcode and the values.

use super::error::{FhirError, invalid, missing};
use super::members::{get, opt_array, opt_str, req_str};
use super::observation_in::parse_observation;
use super::systems::TUBE_SYSTEM;
use super::values::ObservationValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// A `DiagnosticReport.status` labflight passes on to the centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportStatus {
    /// `preliminary`: more may follow.
    Preliminary,
    /// `final`.
    Final,
    /// `amended`: replaces an earlier report.
    Amended,
    /// `corrected`: replaces an earlier report that was wrong.
    Corrected,
}

impl ReportStatus {
    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preliminary => "preliminary",
            Self::Final => "final",
            Self::Amended => "amended",
            Self::Corrected => "corrected",
        }
    }
}

/// What labflight takes from a lab's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingReport {
    /// `DiagnosticReport.identifier[0].value`.
    pub report_id: String,
    /// `DiagnosticReport.status`.
    pub status: ReportStatus,
    /// The tube barcode, from `Specimen.identifier`.
    pub barcode: String,
    /// `DiagnosticReport.performer[0]`: its identifier value, else its display.
    pub lab: Option<String>,
    /// `DiagnosticReport.issued`.
    pub issued: Option<DateTime<Utc>>,
    /// The contained Observations' values.
    pub observations: Vec<ObservationValue>,
}

/// Resources found around the report, each with its FHIRPath.
#[derive(Default)]
struct Found<'a> {
    reports: Vec<(String, &'a Value)>,
    observations: Vec<(String, &'a Value)>,
    specimens: Vec<(String, &'a Value)>,
}

impl<'a> Found<'a> {
    fn sort(&mut self, path: String, resource: &'a Value) -> Result<(), FhirError> {
        match get(resource, "resourceType").and_then(Value::as_str) {
            Some("DiagnosticReport") => self.reports.push((path, resource)),
            Some("Observation") => self.observations.push((path, resource)),
            Some("Specimen") => self.specimens.push((path, resource)),
            Some(_) => {} // Patient, ServiceRequest, Organization, ...: not ours to read
            None => {
                return Err(missing(
                    format!("{path}.resourceType"),
                    "every resource names its type",
                ));
            }
        }
        Ok(())
    }
}

/// Reads a lab's report: a `DiagnosticReport` with `contained` Observations (and
/// optionally a contained Specimen), or a `Bundle` (collection, transaction or batch)
/// holding one DiagnosticReport, its Observations and its Specimen.
pub fn parse_lab_report(body: &Value) -> Result<IncomingReport, FhirError> {
    if !body.is_object() {
        return Err(invalid("(root)", body, "is not a JSON object"));
    }
    let mut found = Found::default();
    let report_path = match get(body, "resourceType").and_then(Value::as_str) {
        Some("DiagnosticReport") => "DiagnosticReport".to_string(),
        Some("Bundle") => {
            let kind = req_str(body, "Bundle", "type", "the Bundle type")?;
            if !matches!(kind, "collection" | "transaction" | "batch") {
                return Err(invalid(
                    "Bundle.type",
                    &json!(kind),
                    "is not accepted: expected collection, transaction or batch",
                ));
            }
            let entries = opt_array(body, "Bundle", "entry")?;
            for (i, entry) in entries.iter().enumerate() {
                let path = format!("Bundle.entry[{i}].resource");
                let resource = get(entry, "resource")
                    .ok_or_else(|| missing(path.clone(), "every entry holds a resource"))?;
                found.sort(path, resource)?;
            }
            match found.reports.as_slice() {
                [] => {
                    return Err(missing("Bundle.entry", "an entry with a DiagnosticReport"));
                }
                [(path, _)] => path.clone(),
                [_, (second, _), ..] => {
                    return Err(invalid(
                        second.as_str(),
                        &json!("DiagnosticReport"),
                        "is a second DiagnosticReport: send one report per Bundle",
                    ));
                }
            }
        }
        Some(other) => {
            return Err(invalid(
                "resourceType",
                &json!(other),
                "is not accepted: expected DiagnosticReport or Bundle",
            ));
        }
        None => return Err(missing("resourceType", "DiagnosticReport or Bundle")),
    };
    let report = match found.reports.first() {
        Some((_, r)) => *r,
        None => body,
    };
    let p = report_path.as_str();
    for (j, resource) in opt_array(report, p, "contained")?.iter().enumerate() {
        found.sort(format!("{p}.contained[{j}]"), resource)?;
    }

    let identifiers = opt_array(report, p, "identifier")?;
    let first = identifiers.first().ok_or_else(|| {
        missing(
            format!("{p}.identifier"),
            "the lab's report identifier is required",
        )
    })?;
    let report_id = req_str(
        first,
        &format!("{p}.identifier[0]"),
        "value",
        "the lab's report identifier",
    )?
    .to_string();

    let status_text = req_str(report, p, "status", "the report status")?;
    let status = match status_text {
        "preliminary" => ReportStatus::Preliminary,
        "final" => ReportStatus::Final,
        "amended" => ReportStatus::Amended,
        "corrected" => ReportStatus::Corrected,
        other => {
            return Err(invalid(
                format!("{p}.status"),
                &json!(other),
                "is not accepted: expected final, amended, corrected or preliminary",
            ));
        }
    };

    let issued = match opt_str(report, p, "issued")? {
        None => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text)
                .map_err(|e| {
                    invalid(
                        format!("{p}.issued"),
                        &json!(text),
                        format!("is not an instant with offset: {e}"),
                    )
                })?
                .with_timezone(&Utc),
        ),
    };

    let lab = match opt_array(report, p, "performer")?.first() {
        None => None,
        Some(performer) => {
            let path = format!("{p}.performer[0]");
            let by_id = match get(performer, "identifier") {
                Some(id) => opt_str(id, &format!("{path}.identifier"), "value")?,
                None => None,
            };
            by_id
                .or(opt_str(performer, &path, "display")?)
                .map(str::to_string)
        }
    };

    let barcode = find_barcode(report, p, &found.specimens)?;

    if found.observations.is_empty() {
        return Err(missing(
            format!("{p}.result"),
            "no Observation found in the report's contained resources or the Bundle",
        ));
    }
    let observations = found
        .observations
        .iter()
        .map(|(path, o)| parse_observation(o, path))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(IncomingReport {
        report_id,
        status,
        barcode,
        lab,
        issued,
        observations,
    })
}

/// The tube barcode: the `urn:labflight:tube` identifier of the Specimen(s) (or of the
/// report's `specimen` references), else the only identifier there is.
fn find_barcode(
    report: &Value,
    report_path: &str,
    specimens: &[(String, &Value)],
) -> Result<String, FhirError> {
    // (path, system, value) of every specimen identifier in sight.
    let mut ids: Vec<(String, Option<String>, String)> = Vec::new();
    let mut collect = |id: &Value, path: String| -> Result<(), FhirError> {
        let system = opt_str(id, &path, "system")?.map(str::to_string);
        if let Some(value) = opt_str(id, &path, "value")? {
            ids.push((path, system, value.to_string()));
        }
        Ok(())
    };
    for (path, specimen) in specimens {
        for (k, id) in opt_array(specimen, path, "identifier")?.iter().enumerate() {
            collect(id, format!("{path}.identifier[{k}]"))?;
        }
    }
    for (k, reference) in opt_array(report, report_path, "specimen")?
        .iter()
        .enumerate()
    {
        if let Some(id) = get(reference, "identifier") {
            collect(id, format!("{report_path}.specimen[{k}].identifier"))?;
        }
    }

    let tube: Vec<&(String, Option<String>, String)> = ids
        .iter()
        .filter(|(_, system, _)| system.as_deref() == Some(TUBE_SYSTEM))
        .collect();
    let candidates = if tube.is_empty() {
        ids.iter().collect()
    } else {
        tube
    };
    let distinct: BTreeSet<&str> = candidates.iter().map(|(_, _, v)| v.as_str()).collect();
    match distinct.len() {
        1 => Ok(candidates[0].2.clone()),
        0 => Err(missing(
            match specimens.first() {
                Some((path, _)) => format!("{path}.identifier"),
                None => format!("{report_path}.specimen"),
            },
            format!("the tube barcode: a Specimen identifier with system {TUBE_SYSTEM}"),
        )),
        _ => {
            let (first_path, _, first) = candidates[0];
            let other = candidates
                .iter()
                .find(|(_, _, v)| v != first)
                .expect("two distinct values");
            Err(invalid(
                other.0.as_str(),
                &json!(other.2),
                format!(
                    "differs from {first:?} at {first_path}: which is the tube barcode? \
                     (mark it with system {TUBE_SYSTEM})"
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{contained_report, expect_error};
    use super::super::systems::{LAB_SYSTEM, LOINC_SYSTEM, UCUM_SYSTEM};
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parses_contained_report() {
        let r = parse_lab_report(&contained_report()).unwrap();
        assert_eq!(r.report_id, "RPT-77");
        assert_eq!(r.status, ReportStatus::Final);
        assert_eq!(r.barcode, "T-9");
        assert_eq!(r.lab.as_deref(), Some("Longhua People's Hospital lab"));
        assert_eq!(
            r.issued,
            Some(Utc.with_ymd_and_hms(2024, 6, 3, 4, 2, 30).unwrap())
        );
        assert_eq!(
            r.observations,
            vec![
                ObservationValue {
                    loinc: "718-7".into(),
                    display: "Hemoglobin".into(),
                    value: 131.0,
                    unit: "g/L".into(),
                    low: Some(115.0),
                    high: Some(150.0)
                },
                ObservationValue {
                    loinc: "777-3".into(),
                    display: "PLT".into(),
                    value: 240.5,
                    unit: "10*9/L".into(),
                    low: None,
                    high: None
                },
            ]
        );
    }

    #[test]
    fn parses_bundle_report() {
        let body = json!({
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                { "fullUrl": "urn:uuid:1", "resource": {
                    "resourceType": "DiagnosticReport",
                    "identifier": [{ "value": "RPT-78" }],
                    "status": "amended",
                    "code": { "text": "Glucose" },
                    "performer": [{ "identifier": { "system": LAB_SYSTEM, "value": "LAB-PH" } }],
                    "result": [{ "reference": "urn:uuid:2" }]
                }, "request": { "method": "POST", "url": "DiagnosticReport" } },
                { "fullUrl": "urn:uuid:2", "resource": {
                    "resourceType": "Observation", "status": "final",
                    "code": { "coding": [{ "system": LOINC_SYSTEM, "code": "2345-7" }] },
                    "valueQuantity": { "value": 5.4, "system": UCUM_SYSTEM, "code": "mmol/L" }
                } },
                { "fullUrl": "urn:uuid:3", "resource": { "resourceType": "Patient" } },
                { "fullUrl": "urn:uuid:4", "resource": {
                    "resourceType": "Specimen",
                    // Only one identifier, in the lab's own system: taken as the barcode.
                    "identifier": [{ "system": "urn:oid:9.9", "value": "T-10" }]
                } }
            ]
        });
        let r = parse_lab_report(&body).unwrap();
        assert_eq!(r.report_id, "RPT-78");
        assert_eq!(r.status, ReportStatus::Amended);
        assert_eq!(r.barcode, "T-10");
        assert_eq!(r.lab.as_deref(), Some("LAB-PH"));
        assert_eq!(r.issued, None);
        assert_eq!(r.observations.len(), 1);
        assert_eq!(r.observations[0].value, 5.4);
        assert_eq!(r.observations[0].unit, "mmol/L");
    }

    #[test]
    fn barcode_from_report_specimen_reference_by_identifier() {
        let mut body = contained_report();
        body["contained"].as_array_mut().unwrap().remove(0);
        body["specimen"] = json!([{ "identifier": { "system": TUBE_SYSTEM, "value": "T-11" } }]);
        assert_eq!(parse_lab_report(&body).unwrap().barcode, "T-11");
    }

    #[test]
    fn error_missing_identifier() {
        let mut body = contained_report();
        body.as_object_mut().unwrap().remove("identifier");
        expect_error(&body, "DiagnosticReport.identifier", "missing");
        body["identifier"] = json!([{ "system": "urn:oid:1.2.3" }]);
        expect_error(&body, "DiagnosticReport.identifier[0].value", "missing");
        body["identifier"] = json!([{ "value": 42 }]);
        expect_error(&body, "DiagnosticReport.identifier[0].value", "42");
    }

    #[test]
    fn error_no_specimen_barcode() {
        let mut body = contained_report();
        body["contained"][0]
            .as_object_mut()
            .unwrap()
            .remove("identifier");
        expect_error(
            &body,
            "DiagnosticReport.contained[0].identifier",
            TUBE_SYSTEM,
        );
        body["contained"].as_array_mut().unwrap().remove(0);
        body.as_object_mut().unwrap().remove("specimen");
        expect_error(&body, "DiagnosticReport.specimen", "barcode");
        // Two different identifiers and neither marked as the tube: ambiguous.
        let mut body = contained_report();
        body["contained"][0]["identifier"] = json!([
            { "system": "urn:a", "value": "X1" }, { "system": "urn:b", "value": "X2" }
        ]);
        expect_error(
            &body,
            "DiagnosticReport.contained[0].identifier[1]",
            "\"X2\"",
        );
    }

    #[test]
    fn error_wrong_status() {
        let mut body = contained_report();
        body["status"] = json!("registered");
        expect_error(&body, "DiagnosticReport.status", "\"registered\"");
        body.as_object_mut().unwrap().remove("status");
        expect_error(&body, "DiagnosticReport.status", "missing");
    }

    #[test]
    fn error_bad_issued() {
        let mut body = contained_report();
        body["issued"] = json!("2024-06-03");
        expect_error(&body, "DiagnosticReport.issued", "\"2024-06-03\"");
    }

    #[test]
    fn error_bundle_shape() {
        expect_error(
            &json!({ "resourceType": "Patient" }),
            "resourceType",
            "\"Patient\"",
        );
        expect_error(&json!({}), "resourceType", "missing");
        expect_error(&json!([1]), "(root)", "[1]");
        let bundle = |kind: &str, entry: Value| json!({ "resourceType": "Bundle", "type": kind, "entry": entry });
        expect_error(
            &bundle("searchset", json!([])),
            "Bundle.type",
            "\"searchset\"",
        );
        expect_error(
            &bundle("collection", json!([])),
            "Bundle.entry",
            "DiagnosticReport",
        );
        let dr = contained_report();
        expect_error(
            &bundle("batch", json!([{ "resource": dr }, { "resource": dr }])),
            "Bundle.entry[1].resource",
            "second DiagnosticReport",
        );
        // Errors inside a bundle name the entry.
        let mut o = contained_report()["contained"][1].clone();
        o["valueQuantity"]["value"] = json!("abc");
        let mut dr = contained_report();
        dr["contained"].as_array_mut().unwrap().truncate(1);
        expect_error(
            &bundle("collection", json!([{ "resource": dr }, { "resource": o }])),
            "Bundle.entry[1].resource.valueQuantity.value",
            "\"abc\"",
        );
    }

    #[test]
    fn error_no_observations() {
        let mut body = contained_report();
        body["contained"].as_array_mut().unwrap().truncate(1);
        expect_error(&body, "DiagnosticReport.result", "Observation");
    }
}
