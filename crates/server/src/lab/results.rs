//! The labs' reports: `POST /api/v1/lab/results` takes a FHIR R4
//! DiagnosticReport (Observations contained, or a Bundle) naming the tube by its
//! Specimen barcode, and labs mark tubes received or rejected. Each goes through
//! the service core, which journals it and answers once it is committed.

use super::callers::lab_of;
use crate::control::{Accepted, Control, Refusal, TubeAtLab};
use crate::limits;
use crate::outcome::{FHIR_JSON, Fhir, Outcome, body_bytes, bounded};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use labflight_hooks::fhir::{
    IssueCode, IssueSeverity, check_plausible, drop_patient_data, operation_outcome,
    parse_lab_report,
};
use serde::Deserialize;
use utoipa::ToSchema;

/// Largest report body accepted.
const MAX_REPORT_BYTES: usize = 1024 * 1024;

/// Where in `value` a string (or a key) holds a character below U+0020 other
/// than tab, CR and LF (FHIR R4 strings may not), as a path from `at`.
fn control_character(value: &serde_json::Value, at: &str) -> Option<String> {
    let bad = |s: &str| {
        s.chars()
            .any(|c| c < ' ' && !matches!(c, '\t' | '\r' | '\n'))
    };
    match value {
        serde_json::Value::String(s) if bad(s) => Some(at.to_owned()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| control_character(v, &format!("{at}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            let here = format!("{at}.{k}");
            if bad(k) {
                Some(here)
            } else {
                control_character(v, &here)
            }
        }),
        _ => None,
    }
}

/// Sends a request to the service core; every refusal (the core's, or a core
/// that cannot answer) as an OperationOutcome.
async fn ask(
    s: &AppState,
    make: impl FnOnce(crate::control::Reply) -> Control,
) -> Result<Accepted, Outcome> {
    crate::control::ask(s.control.as_ref(), make)
        .await
        .and_then(|answer| answer)
        .map_err(Outcome)
}

/// A lab's verified (or preliminary) result for one tube, as FHIR R4. The body
/// is read as JSON whatever its declared content type.
#[utoipa::path(post, path = "/api/v1/lab/results", tag = "lab",
    security(("bearer" = []), ("session" = [])),
    request_body(description = "FHIR R4 DiagnosticReport (Observations and Specimen contained) or a Bundle holding them, naming the tube by Specimen.identifier; at most 1 MiB",
        content((crate::outcome::LabReportDoc = "application/fhir+json"), (crate::outcome::LabReportDoc = "application/json"))),
    responses(
        (status = 201, description = "accepted (`informational`; says which patient data was dropped, if any)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 200, description = "the same report again: nothing changed (`duplicate`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 400, description = "not JSON, not a report this API reads, or a field over its limit; the expression names the element", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 404, description = "no tube with the Specimen's barcode", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 409, description = "the tube was not received by this lab, is already resulted, or the report id names another tube", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 413, description = "the body is over 1 MiB (`too-costly`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 422, description = "an Observation's value is implausible (`business-rule`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::LabRefusals))]
pub async fn post_result(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let lab = match lab_of(&s, &headers).await {
        Ok(c) => c.lab.unwrap_or_default(),
        Err(o) => return o.into_response(),
    };
    let body = match body_bytes(body, MAX_REPORT_BYTES).await {
        Ok(b) => b,
        Err(o) => return o.into_response(),
    };
    let mut value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return Outcome(Refusal::new(
                400,
                IssueCode::Structure,
                format!("body is not JSON: {e}"),
            ))
            .into_response();
        }
    };
    // FHIR strings hold no control characters but tab, CR and LF; a NUL would
    // also fail the store (PostgreSQL's text columns refuse it).
    let root = value["resourceType"]
        .as_str()
        .unwrap_or("(root)")
        .to_owned();
    if let Some(path) = control_character(&value, &root) {
        return Outcome(
            Refusal::new(
                400,
                IssueCode::Value,
                format!(
                    "{path}: holds a control character (FHIR strings allow only tab, CR and LF)"
                ),
            )
            .at(&path),
        )
        .into_response();
    }
    // No patient data is kept: what is stored is the report without it.
    let dropped = drop_patient_data(&mut value);
    let report = match parse_lab_report(&value) {
        Ok(r) => r,
        Err(e) => {
            return Outcome(Refusal::new(400, IssueCode::Invalid, e.to_string())).into_response();
        }
    };
    if let Err(o) = bounded(
        "DiagnosticReport.identifier",
        &report.report_id,
        limits::REPORT_ID,
    )
    .and_then(|()| bounded("Specimen.identifier", &report.barcode, limits::BARCODE))
    .and_then(|()| {
        bounded(
            "DiagnosticReport.performer",
            report.lab.as_deref().unwrap_or(""),
            limits::ID,
        )
    }) {
        return o.into_response();
    }
    for (i, o) in report.observations.iter().enumerate() {
        if let Err(e) = check_plausible(o) {
            return Outcome(
                Refusal::new(422, IssueCode::BusinessRule, e.to_string())
                    .at(&format!("Observation[{i}]")),
            )
            .into_response();
        }
    }
    let raw = if dropped.is_empty() {
        String::from_utf8_lossy(&body).into_owned()
    } else {
        value.to_string()
    };
    let accepted = if dropped.is_empty() {
        "result accepted".to_owned()
    } else {
        format!(
            "result accepted; patient data dropped, not kept (labflight knows tubes by barcode only): {}",
            dropped.join(", ")
        )
    };
    match ask(&s, |reply| Control::LabResult {
        lab,
        report,
        raw,
        reply,
    })
    .await
    {
        Ok(Accepted::New) => (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, FHIR_JSON)],
            operation_outcome(
                IssueSeverity::Information,
                IssueCode::Informational,
                &accepted,
                None,
            )
            .to_string(),
        )
            .into_response(),
        Ok(Accepted::Duplicate) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, FHIR_JSON)],
            operation_outcome(
                IssueSeverity::Information,
                IssueCode::Duplicate,
                "this report was already accepted; nothing changed",
                None,
            )
            .to_string(),
        )
            .into_response(),
        Err(o) => o.into_response(),
    }
}

/// The lab has the tube in its hands.
#[utoipa::path(post, path = "/api/v1/lab/tubes/{barcode}/received", tag = "lab",
    security(("bearer" = []), ("session" = [])),
    params(("barcode" = String, Path, description = "the tube's barcode", example = "LH-C001-0001", min_length = 1, max_length = 64)),
    responses(
        (status = 204, description = "recorded"),
        (status = 400, description = "the barcode is over 64 characters (`too-long`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 404, description = "no such tube", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 409, description = "the tube is not on its way to this lab, or already received elsewhere (`business-rule`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::LabRefusals))]
pub async fn tube_received(
    State(s): State<AppState>,
    headers: HeaderMap,
    Fhir(Path(barcode)): Fhir<Path<String>>,
) -> Response {
    let lab = match lab_of(&s, &headers).await {
        Ok(c) => c.lab.unwrap_or_default(),
        Err(o) => return o.into_response(),
    };
    if let Err(o) = bounded("barcode", &barcode, limits::BARCODE) {
        return o.into_response();
    }
    match ask(&s, |reply| Control::TubeAtLab {
        lab,
        barcode,
        status: TubeAtLab::Received,
        reply,
    })
    .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(o) => o.into_response(),
    }
}

/// Why a lab will not test a tube.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RejectBody {
    /// Why, in the lab's words: not blank, at most 500 characters.
    #[schema(
        example = "haemolysed",
        min_length = 1,
        max_length = 500,
        pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    reason: String,
}

/// The lab will not test the tube; the centre is asked to redraw.
#[utoipa::path(post, path = "/api/v1/lab/tubes/{barcode}/rejected", tag = "lab",
    security(("bearer" = []), ("session" = [])),
    params(("barcode" = String, Path, description = "the tube's barcode", example = "LH-C001-0001", min_length = 1, max_length = 64)),
    request_body(content = RejectBody, content_type = "application/json"),
    responses(
        (status = 204, description = "recorded; the centre is asked to redraw"),
        (status = 400, description = "no reason, a blank one, or a field over its limit", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 404, description = "no such tube", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 409, description = "the tube was not received by this lab, or is already resulted (`business-rule`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 413, description = "the body is over 16 KiB", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::LabRefusals))]
pub async fn tube_rejected(
    State(s): State<AppState>,
    headers: HeaderMap,
    Fhir(Path(barcode)): Fhir<Path<String>>,
    body: Body,
) -> Response {
    let lab = match lab_of(&s, &headers).await {
        Ok(c) => c.lab.unwrap_or_default(),
        Err(o) => return o.into_response(),
    };
    let body = match body_bytes(body, limits::SMALL_BODY).await {
        Ok(b) => b,
        Err(o) => return o.into_response(),
    };
    let reason = serde_json::from_slice::<RejectBody>(&body)
        .ok()
        .map(|b| b.reason)
        .filter(|r| !r.trim().is_empty());
    if let Err(o) = bounded("barcode", &barcode, limits::BARCODE)
        .and_then(|()| bounded("reason", reason.as_deref().unwrap_or(""), limits::REASON))
    {
        return o.into_response();
    }
    let Some(reason) = reason else {
        return Outcome(
            Refusal::new(
                400,
                IssueCode::Required,
                "a JSON body {\"reason\": \"...\"} is required",
            )
            .at("reason"),
        )
        .into_response();
    };
    let status = TubeAtLab::Rejected { reason };
    match ask(&s, |reply| Control::TubeAtLab {
        lab,
        barcode,
        status,
        reply,
    })
    .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(o) => o.into_response(),
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_control_character_anywhere_in_a_report_is_found_with_its_path() {
        let clean = json!({"a": ["tab\there", {"b": "line\r\nbreak"}], "n": 1});
        assert_eq!(control_character(&clean, "DiagnosticReport"), None);
        let nul = json!({"contained": [{"id": "ok"}, {"code": {"text": "x\u{0}y"}}]});
        assert_eq!(
            control_character(&nul, "DiagnosticReport").as_deref(),
            Some("DiagnosticReport.contained[1].code.text")
        );
        let key = json!({"ok": {"bad\u{1}key": 1}});
        assert_eq!(
            control_character(&key, "Bundle").as_deref(),
            Some("Bundle.ok.bad\u{1}key")
        );
    }
}
