//! A status notice as it goes out to the centre: a FHIR R4 collection `Bundle` with
//! a `Task` saying what happened to the tube and the tube's `Specimen`.

use super::elements::{
    anonymous_patient, bundle, fhir_instant, order, organization, specimen_id, tube_identifier,
    uuid_for,
};
use super::notice::StatusKind;
use super::systems::{LAB_SYSTEM, STATION_SYSTEM, TASK_SYSTEM, TUBE_SYSTEM};
use serde_json::{Value, json};

/// A FHIR R4 `Bundle` (type `collection`) with a `Task` saying what happened to the tube
/// (`completed` for received, `rejected`, `requested` for a redraw) and the `Specimen`.
pub fn status_bundle(kind: &StatusKind, barcode: &str, station: &str) -> Value {
    let at = kind.at();
    let when = fhir_instant(&at);
    let specimen_uuid = specimen_id(barcode);
    let task_uuid = uuid_for(&["Task", kind.name(), barcode, &when]);
    let (status, intent, code, display, owner, reason, specimen_status) = match kind {
        StatusKind::Received { lab, .. } => (
            "completed",
            "filler-order",
            "specimen-received",
            "Specimen received by the lab",
            organization(LAB_SYSTEM, lab),
            None,
            "available",
        ),
        StatusKind::Rejected { lab, reason, .. } => (
            "rejected",
            "filler-order",
            "specimen-rejected",
            "Specimen rejected by the lab",
            organization(LAB_SYSTEM, lab),
            Some(reason),
            "unsatisfactory",
        ),
        StatusKind::RedrawRequested { reason, .. } => (
            "requested",
            "order",
            "redraw-requested",
            "New specimen to be drawn",
            organization(STATION_SYSTEM, station),
            Some(reason),
            "unsatisfactory",
        ),
    };
    let mut task = json!({
        "resourceType": "Task",
        "id": task_uuid,
        "status": status,
        "intent": intent,
        "code": { "coding": [{ "system": TASK_SYSTEM, "code": code, "display": display }], "text": display },
        "focus": {
            "reference": format!("urn:uuid:{specimen_uuid}"),
            "type": "Specimen",
            "identifier": { "system": TUBE_SYSTEM, "value": barcode },
        },
        "for": anonymous_patient(station),
        "basedOn": [order(barcode)],
        "authoredOn": when,
        "lastModified": when,
        "owner": owner,
    });
    if let Some(reason) = reason {
        task["statusReason"] = json!({ "text": reason });
    }
    let mut specimen = json!({
        "resourceType": "Specimen",
        "id": specimen_uuid,
        "identifier": [tube_identifier(barcode, station)],
        "status": specimen_status,
        "subject": anonymous_patient(station),
        "request": [order(barcode)],
    });
    if !matches!(kind, StatusKind::RedrawRequested { .. }) {
        specimen["receivedTime"] = json!(when);
    }
    bundle(
        &uuid_for(&["Bundle", kind.name(), barcode, &when]),
        &at,
        vec![(task_uuid, task), (specimen_uuid, specimen)],
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{resources, result};
    use super::super::report_out::report_bundle;
    use super::super::values::LabResult;
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn status_bundles() {
        let at = Utc.with_ymd_and_hms(2024, 6, 3, 2, 0, 0).unwrap();
        let cases = [
            (
                StatusKind::Received {
                    lab: "LAB-PH".into(),
                    at,
                },
                "completed",
                "available",
                None,
            ),
            (
                StatusKind::Rejected {
                    lab: "LAB-PH".into(),
                    at,
                    reason: "haemolysed".into(),
                },
                "rejected",
                "unsatisfactory",
                Some("haemolysed"),
            ),
            (
                StatusKind::RedrawRequested {
                    reason: "stability window exceeded".into(),
                    at,
                },
                "requested",
                "unsatisfactory",
                Some("stability window exceeded"),
            ),
        ];
        for (kind, task_status, specimen_status, reason) in cases {
            let b = status_bundle(&kind, "T-1", "LH-C017");
            assert_eq!(b["type"], "collection");
            assert_eq!(b["timestamp"], "2024-06-03T02:00:00+00:00");
            let task = resources(&b, "Task")[0];
            let sp = resources(&b, "Specimen")[0];
            assert_eq!(task["status"], task_status, "{kind:?}");
            assert_eq!(task["focus"]["identifier"]["system"], TUBE_SYSTEM);
            assert_eq!(task["focus"]["identifier"]["value"], "T-1");
            assert_eq!(
                task["focus"]["reference"],
                format!("urn:uuid:{}", sp["id"].as_str().unwrap()).as_str()
            );
            assert_eq!(task["lastModified"], "2024-06-03T02:00:00+00:00");
            match reason {
                Some(r) => assert_eq!(task["statusReason"]["text"], r),
                None => assert!(task.get("statusReason").is_none()),
            }
            assert_eq!(sp["status"], specimen_status);
            assert_eq!(sp["identifier"][0]["value"], "T-1");
        }
        // The same tube is the same Specimen in every bundle about it.
        let r = LabResult {
            barcode: "T-1".into(),
            ..result()
        };
        let from_report = resources(&report_bundle(&r), "Specimen")[0]["id"].clone();
        let from_status = resources(
            &status_bundle(
                &StatusKind::Received {
                    lab: "LAB-PH".into(),
                    at,
                },
                "T-1",
                "LH-C017",
            ),
            "Specimen",
        )[0]["id"]
            .clone();
        assert_eq!(from_report, from_status);
    }
}
