//! A lab result as it goes out to the centre: a FHIR R4 collection `Bundle` with
//! the `DiagnosticReport`, its `Specimen` and one `Observation` per value.

use super::elements::{
    anonymous_patient, bundle, fhir_instant, loinc_concept, order, organization, quantity,
    specimen_id, tube_identifier, uuid_for,
};
use super::systems::{
    INTERPRETATION, LAB_REPORT_LOINC, LAB_SYSTEM, OBSERVATION_CATEGORY, REPORT_SYSTEM, V2_0074,
};
use super::values::LabResult;
use serde_json::{Map, Value, json};

/// A FHIR R4 `Bundle` (type `collection`) holding the `DiagnosticReport`, its `Specimen`
/// and one `Observation` per value, linked by `urn:uuid:` full URLs.
pub fn report_bundle(result: &LabResult) -> Value {
    let rid = result.report_id.as_str();
    let report_uuid = uuid_for(&["DiagnosticReport", rid]);
    let specimen_uuid = specimen_id(&result.barcode);
    let specimen_ref = json!({ "reference": format!("urn:uuid:{specimen_uuid}") });
    let subject = anonymous_patient(&result.station);
    let collected = fhir_instant(&result.collected_at);
    let issued = fhir_instant(&result.issued_at);

    let mut observations = Vec::with_capacity(result.observations.len());
    for (i, o) in result.observations.iter().enumerate() {
        let uuid = uuid_for(&["Observation", rid, &i.to_string()]);
        let mut obs = json!({
            "resourceType": "Observation",
            "id": uuid,
            "status": "final",
            "category": [{ "coding": [{
                "system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"
            }] }],
            "code": loinc_concept(&o.loinc, &o.display),
            "subject": subject,
            "effectiveDateTime": collected,
            "issued": issued,
            "performer": [organization(LAB_SYSTEM, &result.lab)],
            "valueQuantity": quantity(o.value, &o.unit),
            "specimen": specimen_ref,
        });
        if let Some(i) = o.interpretation() {
            obs["interpretation"] = json!([{ "coding": [{
                "system": INTERPRETATION, "code": i.code(), "display": i.display()
            }] }]);
        }
        if o.low.is_some() || o.high.is_some() {
            let mut range = Map::new();
            if let Some(low) = o.low {
                range.insert("low".into(), quantity(low, &o.unit));
            }
            if let Some(high) = o.high {
                range.insert("high".into(), quantity(high, &o.unit));
            }
            obs["referenceRange"] = json!([range]);
        }
        observations.push((uuid, obs));
    }

    let code = match result.observations.as_slice() {
        [only] => loinc_concept(&only.loinc, &only.display),
        _ => loinc_concept(LAB_REPORT_LOINC.0, LAB_REPORT_LOINC.1),
    };
    let results: Vec<Value> = observations
        .iter()
        .map(|(uuid, _)| json!({ "reference": format!("urn:uuid:{uuid}"), "type": "Observation" }))
        .collect();
    let report = json!({
        "resourceType": "DiagnosticReport",
        "id": report_uuid,
        "identifier": [{
            "system": REPORT_SYSTEM,
            "value": rid,
            "assigner": organization(LAB_SYSTEM, &result.lab),
        }],
        "basedOn": [order(&result.barcode)],
        "status": "final",
        "category": [{ "coding": [{ "system": V2_0074, "code": "LAB", "display": "Laboratory" }] }],
        "code": code,
        "subject": subject,
        "effectiveDateTime": collected,
        "issued": issued,
        "performer": [organization(LAB_SYSTEM, &result.lab)],
        "specimen": [specimen_ref],
        "result": results,
    });
    let specimen = json!({
        "resourceType": "Specimen",
        "id": specimen_uuid,
        "identifier": [tube_identifier(&result.barcode, &result.station)],
        "status": "available",
        "subject": subject,
        "request": [order(&result.barcode)],
        "collection": { "collectedDateTime": collected },
    });

    let mut entries = vec![(report_uuid, report), (specimen_uuid, specimen)];
    entries.extend(observations);
    bundle(&uuid_for(&["Bundle", rid]), &result.issued_at, entries)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{resources, result};
    use super::super::report_in::{ReportStatus, parse_lab_report};
    use super::super::systems::{LOINC_SYSTEM, ORDER_SYSTEM, TUBE_SYSTEM, UCUM_SYSTEM};
    use super::*;

    #[test]
    fn report_bundle_key_fields() {
        let b = report_bundle(&result());
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["type"], "collection");
        assert_eq!(b["timestamp"], "2024-06-03T04:02:30+00:00");
        assert_eq!(b, report_bundle(&result()), "deterministic");
        let entries = b["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 5);
        for e in entries {
            let full = e["fullUrl"].as_str().unwrap();
            assert_eq!(
                full,
                format!("urn:uuid:{}", e["resource"]["id"].as_str().unwrap())
            );
        }

        let dr = resources(&b, "DiagnosticReport")[0];
        assert_eq!(dr["status"], "final");
        assert_eq!(dr["identifier"][0]["value"], "PH-2024-000123");
        assert_eq!(dr["category"][0]["coding"][0]["system"], V2_0074);
        assert_eq!(dr["category"][0]["coding"][0]["code"], "LAB");
        assert_eq!(dr["code"]["coding"][0]["code"], "11502-2");
        assert_eq!(dr["subject"]["display"], "anonymous patient of LH-C017");
        assert!(dr["subject"].get("reference").is_none());
        assert_eq!(dr["effectiveDateTime"], "2024-06-03T01:15:00+00:00");
        assert_eq!(dr["issued"], "2024-06-03T04:02:30+00:00");
        assert_eq!(dr["performer"][0]["display"], "LAB-PH");
        assert_eq!(dr["basedOn"][0]["identifier"]["system"], ORDER_SYSTEM);
        assert_eq!(dr["basedOn"][0]["identifier"]["value"], "T-LH-C017-0042");
        assert_eq!(dr["result"].as_array().unwrap().len(), 3);

        let sp = resources(&b, "Specimen")[0];
        assert_eq!(sp["identifier"][0]["system"], TUBE_SYSTEM);
        assert_eq!(sp["identifier"][0]["value"], "T-LH-C017-0042");
        assert_eq!(sp["status"], "available");
        assert_eq!(
            sp["collection"]["collectedDateTime"],
            "2024-06-03T01:15:00+00:00"
        );
        let sp_ref = format!("urn:uuid:{}", sp["id"].as_str().unwrap());
        assert_eq!(dr["specimen"][0]["reference"], sp_ref.as_str());

        let obs = resources(&b, "Observation");
        assert_eq!(obs.len(), 3);
        let ids: Vec<String> = obs
            .iter()
            .map(|o| format!("urn:uuid:{}", o["id"].as_str().unwrap()))
            .collect();
        for (k, id) in ids.iter().enumerate() {
            assert_eq!(dr["result"][k]["reference"], id.as_str());
        }
        let glucose = obs[0];
        assert_eq!(glucose["status"], "final");
        assert_eq!(glucose["category"][0]["coding"][0]["code"], "laboratory");
        assert_eq!(glucose["code"]["coding"][0]["system"], LOINC_SYSTEM);
        assert_eq!(glucose["code"]["coding"][0]["code"], "2345-7");
        assert_eq!(glucose["valueQuantity"]["value"], 7.8);
        assert_eq!(glucose["valueQuantity"]["system"], UCUM_SYSTEM);
        assert_eq!(glucose["valueQuantity"]["code"], "mmol/L");
        assert_eq!(glucose["referenceRange"][0]["low"]["value"], 3.9);
        assert_eq!(glucose["referenceRange"][0]["high"]["unit"], "mmol/L");
        assert_eq!(glucose["interpretation"][0]["coding"][0]["code"], "H");
        assert_eq!(
            glucose["interpretation"][0]["coding"][0]["system"],
            INTERPRETATION
        );
        assert_eq!(obs[1]["interpretation"][0]["coding"][0]["code"], "L");
        assert_eq!(obs[2]["interpretation"][0]["coding"][0]["code"], "N");
        assert_eq!(glucose["specimen"]["reference"], sp_ref.as_str());
        assert_eq!(glucose["effectiveDateTime"], "2024-06-03T01:15:00+00:00");
    }

    #[test]
    fn single_observation_report_uses_its_code_and_omits_empty_parts() {
        let mut r = result();
        r.observations.truncate(1);
        r.observations[0].low = None;
        r.observations[0].high = None;
        let b = report_bundle(&r);
        let dr = resources(&b, "DiagnosticReport")[0];
        assert_eq!(dr["code"]["coding"][0]["code"], "2345-7");
        let o = resources(&b, "Observation")[0];
        assert!(o.get("referenceRange").is_none());
        assert!(o.get("interpretation").is_none());
    }

    #[test]
    fn report_bundle_round_trips_through_the_parser() {
        let r = result();
        let parsed = parse_lab_report(&report_bundle(&r)).unwrap();
        assert_eq!(parsed.report_id, r.report_id);
        assert_eq!(parsed.barcode, r.barcode);
        assert_eq!(parsed.status, ReportStatus::Final);
        assert_eq!(parsed.lab.as_deref(), Some("LAB-PH"));
        assert_eq!(parsed.issued, Some(r.issued_at));
        assert_eq!(parsed.observations, r.observations);
    }
}
