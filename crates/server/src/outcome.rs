//! How the labs' and hooks' API refuses: every refusal is a FHIR R4
//! OperationOutcome (`application/fhir+json`), axum's own refusals of a path or
//! query ([`Fhir`]), JSON bodies ([`json_body`]) and fields ([`bounded`],
//! [`not_blank`]) included, so each answer has
//! the shape the OpenAPI document states ([`OperationOutcomeDoc`]).

use crate::control::Refusal;
use crate::limits;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use labflight_hooks::fhir::{IssueCode, IssueSeverity, operation_outcome};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every answer of this API that is a FHIR resource.
pub const FHIR_JSON: &str = "application/fhir+json";

/// A refusal as `application/fhir+json` OperationOutcome.
#[derive(Debug)]
pub struct Outcome(pub Refusal);

impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        let r = self.0;
        let body = operation_outcome(
            IssueSeverity::Error,
            r.code,
            &r.diagnostics,
            r.expression.as_deref(),
        );
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
        (
            status,
            [(header::CONTENT_TYPE, FHIR_JSON)],
            body.to_string(),
        )
            .into_response()
    }
}

/// An axum extractor (`Path`, `Query`) whose refusal is an [`Outcome`] (`invalid`).
#[derive(Debug)]
pub(crate) struct Fhir<X>(pub X);

impl<X, S> FromRequestParts<S> for Fhir<X>
where
    X: FromRequestParts<S>,
    X::Rejection: IntoResponse,
    S: Send + Sync,
{
    type Rejection = Outcome;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Outcome> {
        let response = match X::from_request_parts(parts, state).await {
            Ok(x) => return Ok(Fhir(x)),
            Err(rejection) => rejection.into_response(),
        };
        let (status, text) = crate::error::rejection_parts(response).await;
        let code = if status.is_server_error() {
            IssueCode::Exception
        } else {
            IssueCode::Invalid
        };
        Err(Outcome(Refusal::new(status.as_u16(), code, text)))
    }
}

/// The request body, refused with 413 (`too-costly`) past `limit` bytes.
pub(crate) async fn body_bytes(
    body: axum::body::Body,
    limit: usize,
) -> Result<axum::body::Bytes, Outcome> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        Outcome(Refusal::new(
            413,
            IssueCode::TooCostly,
            format!("request body: at most {limit} bytes"),
        ))
    })
}

/// A JSON body of at most [`crate::limits::SMALL_BODY`] bytes (413 past it),
/// whatever its declared content type; 400 (`structure`) naming what was
/// expected when it does not parse as `T`.
pub(crate) async fn json_body<T: serde::de::DeserializeOwned>(
    body: axum::body::Body,
    expected: &str,
) -> Result<T, Outcome> {
    let bytes = body_bytes(body, crate::limits::SMALL_BODY).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Outcome(Refusal::new(
            400,
            IssueCode::Structure,
            format!("body: expected {expected}: {e}"),
        ))
    })
}

/// A blank required field, refused (400, `required`) naming it.
pub(crate) fn not_blank(name: &'static str, value: &str) -> Result<(), Outcome> {
    if value.trim().is_empty() {
        Err(Outcome(
            Refusal::new(400, IssueCode::Required, format!("{name} is blank")).at(name),
        ))
    } else {
        Ok(())
    }
}

/// A free-text field over its limit (400, `too-long`) or holding a NUL (400,
/// `value`), refused naming the field.
pub(crate) fn bounded(name: &'static str, value: &str, limit: usize) -> Result<(), Outcome> {
    limits::field(name, value, limit).map(|_| ()).map_err(|e| {
        let code = match e {
            limits::FieldError::TooLong { .. } => IssueCode::TooLong,
            limits::FieldError::Nul { .. } => IssueCode::Value,
        };
        Outcome(Refusal::new(400, code, e.to_string()).at(name))
    })
}

/// One issue of an OperationOutcome.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = OperationOutcomeIssue)]
pub(crate) struct IssueDoc {
    /// `fatal`, `error`, `warning` or `information`.
    #[schema(pattern = "^(fatal|error|warning|information)$")]
    pub severity: String,
    /// FHIR R4 IssueType (`invalid`, `not-found`, `business-rule`, …).
    pub code: String,
    /// What was wrong (or what happened), in words.
    pub diagnostics: String,
    /// FHIRPath of the offending element, when there is one.
    pub expression: Option<Vec<String>>,
}

/// A FHIR R4 OperationOutcome: how the labs' and hooks' API answers a refusal
/// (and an accepted result).
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = OperationOutcome)]
pub(crate) struct OperationOutcomeDoc {
    /// Always `OperationOutcome`.
    #[serde(rename = "resourceType")]
    #[schema(pattern = "^OperationOutcome$")]
    pub resource_type: String,
    /// One issue.
    #[schema(min_items = 1)]
    pub issue: Vec<IssueDoc>,
}

/// A FHIR R4 resource as a lab sends it: a DiagnosticReport with its
/// Observations and Specimen contained, or a Bundle (`collection`,
/// `transaction` or `batch`) holding them. What is checked beyond this shape —
/// the report identifier, status, the Specimen's barcode, the Observations'
/// codes and plausible values — is refused with 400 or 422 naming the element.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = LabReport, example = json!({
    "resourceType": "DiagnosticReport",
    "identifier": [{"system": "urn:labflight:lab:LAB-CH:report", "value": "LAB-CH-LH-C001-0001"}],
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "11502-2", "display": "Laboratory report"}]},
    "contained": [
        {"resourceType": "Specimen", "id": "specimen",
         "identifier": [{"system": "urn:labflight:tube", "value": "LH-C001-0001"}]},
        {"resourceType": "Observation", "id": "obs0", "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin [Mass/volume] in Blood"}]},
         "valueQuantity": {"value": 132.0, "unit": "g/L", "system": "http://unitsofmeasure.org", "code": "g/L"}}
    ],
    "specimen": [{"reference": "#specimen"}],
    "result": [{"reference": "#obs0"}]
}))]
pub(crate) struct LabReportDoc {
    /// `DiagnosticReport` or `Bundle`.
    #[serde(rename = "resourceType")]
    #[schema(pattern = "^(DiagnosticReport|Bundle)$")]
    pub resource_type: String,
    /// The report's identifier (DiagnosticReport): the first one's `value` is the
    /// report id a repeat is known by.
    pub identifier: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
    /// `preliminary`, `final`, `amended` or `corrected` (DiagnosticReport).
    pub status: Option<String>,
    /// The Observations and the Specimen (DiagnosticReport).
    pub contained: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
    /// The Bundle's type (Bundle).
    pub r#type: Option<String>,
    /// The Bundle's entries, each with a `resource` (Bundle).
    pub entry: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}

/// What any call of the labs' API may hear besides its own answers.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum LabRefusals {
    /// No lab token and no signed-in lab user (`login`).
    #[response(status = 401, content_type = "application/fhir+json")]
    Unauthorized(OperationOutcomeDoc),
    /// The caller is not a lab, or the token belongs to no lab (`forbidden`).
    #[response(status = 403, content_type = "application/fhir+json")]
    Forbidden(OperationOutcomeDoc),
    /// The store failed; the diagnostics say what (`exception`).
    #[response(status = 500, content_type = "application/fhir+json")]
    Internal(OperationOutcomeDoc),
    /// The service core is not running, or stopped (`transient`).
    #[response(status = 503, content_type = "application/fhir+json")]
    Unavailable(OperationOutcomeDoc),
}

/// What any call of the hooks' API may hear besides its own answers.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum HookRefusals {
    /// Neither the admin token nor a signed-in coordinator (`login`).
    #[response(status = 401, content_type = "application/fhir+json")]
    Unauthorized(OperationOutcomeDoc),
    /// The caller may not manage hooks (`forbidden`).
    #[response(status = 403, content_type = "application/fhir+json")]
    Forbidden(OperationOutcomeDoc),
    /// The store failed; the diagnostics say what (`exception`).
    #[response(status = 500, content_type = "application/fhir+json")]
    Internal(OperationOutcomeDoc),
}
