//! No patient data is kept: what identifies a patient is removed from a lab's
//! report before labflight reads or stores it.

use super::members::get;
use serde_json::Value;

/// Resource types that describe a person: never kept.
const PERSON_RESOURCES: [&str; 3] = ["Patient", "RelatedPerson", "Person"];
/// Members of any resource that point at the patient: never kept.
const PERSON_MEMBERS: [&str; 2] = ["subject", "patient"];

/// Removes everything that identifies a patient from a lab's report, in place:
/// `Patient` (and `RelatedPerson`, `Person`) resources — Bundle entries or
/// `contained` — and every `subject` / `patient` member (a reference, an
/// identifier, a name in `display`). labflight knows a tube by its barcode only, so
/// nothing it reads is lost; what it stores is the cleaned report. Returns the FHIR
/// paths dropped, for the lab's answer.
pub fn drop_patient_data(body: &mut Value) -> Vec<String> {
    let mut dropped = Vec::new();
    let root = get(body, "resourceType")
        .and_then(Value::as_str)
        .unwrap_or("(root)")
        .to_owned();
    clean_resource(body, &root, &mut dropped);
    dropped
}

fn person_type(v: &Value) -> Option<&str> {
    get(v, "resourceType")
        .and_then(Value::as_str)
        .filter(|t| PERSON_RESOURCES.contains(t))
}

fn clean_resource(resource: &mut Value, path: &str, dropped: &mut Vec<String>) {
    let Some(obj) = resource.as_object_mut() else {
        return;
    };
    for member in PERSON_MEMBERS {
        if obj.remove(member).is_some() {
            dropped.push(format!("{path}.{member}"));
        }
    }
    if let Some(Value::Array(contained)) = obj.get_mut("contained") {
        for (j, mut c) in std::mem::take(contained).into_iter().enumerate() {
            let p = format!("{path}.contained[{j}]");
            if let Some(kind) = person_type(&c) {
                dropped.push(format!("{p} ({kind})"));
                continue;
            }
            clean_resource(&mut c, &p, dropped);
            contained.push(c);
        }
    }
    if let Some(Value::Array(entries)) = obj.get_mut("entry") {
        for (i, mut entry) in std::mem::take(entries).into_iter().enumerate() {
            let p = format!("{path}.entry[{i}].resource");
            if let Some(r) = entry.get_mut("resource") {
                if let Some(kind) = person_type(r) {
                    dropped.push(format!("{p} ({kind})"));
                    continue;
                }
                clean_resource(r, &p, dropped);
            }
            entries.push(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::contained_report;
    use super::super::report_in::parse_lab_report;
    use super::*;
    use serde_json::json;

    #[test]
    fn patient_data_is_dropped_wherever_it_is() {
        let mut body = contained_report();
        body["contained"].as_array_mut().unwrap().push(json!({
            "resourceType": "Patient", "id": "p",
            "name": [{"family": "Synthetic", "given": ["Testpatient"]}],
            "identifier": [{"system": "urn:oid:2.16.156", "value": "SYNTHETIC-PATIENT-0001"}]
        }));
        body["subject"] = json!({"reference": "#p", "display": "Testpatient Synthetic"});
        body["contained"][1]["subject"] =
            json!({"identifier": {"value": "SYNTHETIC-PATIENT-0001"}});
        let before = parse_lab_report(&body).unwrap();
        let dropped = drop_patient_data(&mut body);
        assert_eq!(
            dropped,
            [
                "DiagnosticReport.subject",
                "DiagnosticReport.contained[1].subject",
                "DiagnosticReport.contained[3] (Patient)"
            ],
            "{body}"
        );
        let text = body.to_string();
        for gone in [
            "Testpatient",
            "SYNTHETIC-PATIENT-0001",
            "Patient",
            "subject",
        ] {
            assert!(!text.contains(gone), "{gone} kept: {text}");
        }
        assert_eq!(
            parse_lab_report(&body).unwrap(),
            before,
            "nothing labflight reads is lost"
        );

        let mut bundle = json!({
            "resourceType": "Bundle", "type": "collection",
            "entry": [
                {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "name": [{"text": "Li Si"}]}},
                {"fullUrl": "urn:uuid:2", "resource": contained_report()},
                {"fullUrl": "urn:uuid:3", "resource": {"resourceType": "RelatedPerson", "name": [{"text": "Wang Wu"}]}}
            ]
        });
        bundle["entry"][1]["resource"]["subject"] = json!({"reference": "urn:uuid:1"});
        let dropped = drop_patient_data(&mut bundle);
        assert_eq!(
            dropped,
            [
                "Bundle.entry[0].resource (Patient)",
                "Bundle.entry[1].resource.subject",
                "Bundle.entry[2].resource (RelatedPerson)"
            ]
        );
        assert_eq!(bundle["entry"].as_array().unwrap().len(), 1);
        let text = bundle.to_string();
        assert!(
            !text.contains("Li Si") && !text.contains("Wang Wu"),
            "{text}"
        );
        assert!(parse_lab_report(&bundle).is_ok());
        // Nothing to drop: nothing changes.
        let mut clean = contained_report();
        assert!(drop_patient_data(&mut clean).is_empty());
        assert_eq!(clean, contained_report());
    }
}
