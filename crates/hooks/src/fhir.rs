//! FHIR R4 JSON for labflight's two result flows: the labs' reports coming in
//! (`parse_lab_report`, strict, with every error naming the FHIR path and the bad value so
//! a lab's integrator can fix their payload from the message alone), and what goes out to
//! the health centres (`report_bundle` for results, `status_bundle` for specimen
//! received / rejected / redraw notices), plus the plausibility table that keeps an
//! impossible value or a wrong unit from ever reaching a centre.
//!
//! No patient data passes through labflight: a tube is known by its barcode and its
//! centre only, so every `subject` is a display-only reference to
//! "anonymous patient of &lt;centre&gt;". The centre's own LIS joins the barcode to the patient.
//!
//! Outgoing resources get deterministic UUIDs (RFC 9562 version 8, from SHA-256 of the
//! report id or barcode), so sending the same report twice yields the same bundle.

use chrono::{DateTime, SecondsFormat, Utc};
use labflight_core::LoincCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use thiserror::Error;

/// The media type to send and accept FHIR JSON with.
pub const FHIR_JSON: &str = "application/fhir+json";
/// LOINC's code system URI.
pub const LOINC_SYSTEM: &str = "http://loinc.org";
/// UCUM's code system URI.
pub const UCUM_SYSTEM: &str = "http://unitsofmeasure.org";
/// Identifier system of a tube barcode (`Specimen.identifier`).
pub const TUBE_SYSTEM: &str = "urn:labflight:tube";
/// Identifier system of the order a tube was drawn for (`ServiceRequest` by identifier).
pub const ORDER_SYSTEM: &str = "urn:labflight:order";
/// Identifier system of a community health centre.
pub const STATION_SYSTEM: &str = "urn:labflight:station";
/// Identifier system of a lab.
pub const LAB_SYSTEM: &str = "urn:labflight:lab";
/// Identifier system of a lab's report id on outgoing `DiagnosticReport`s.
pub const REPORT_SYSTEM: &str = "urn:labflight:report";
/// Code system of the kinds of status notice (`Task.code`).
pub const TASK_SYSTEM: &str = "urn:labflight:task";

const V2_0074: &str = "http://terminology.hl7.org/CodeSystem/v2-0074";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const LAB_REPORT_LOINC: (&str, &str) = ("11502-2", "Laboratory report");

// ---------------------------------------------------------------------------------------
// Plain inputs
// ---------------------------------------------------------------------------------------

/// One lab result for one tube, as labflight keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabResult {
    /// The lab's own DiagnosticReport identifier.
    pub report_id: String,
    /// The tube's barcode.
    pub barcode: String,
    /// The centre the tube came from, e.g. `LH-C017`.
    pub station: String,
    /// The lab that did the tests, e.g. `LAB-PH`.
    pub lab: String,
    /// When the blood was drawn.
    pub collected_at: DateTime<Utc>,
    /// When the lab issued the result.
    pub issued_at: DateTime<Utc>,
    /// The values measured.
    pub observations: Vec<ObservationValue>,
}

/// One numeric result. Values must be finite: a non-finite value is left out of the
/// FHIR output (JSON has no NaN), which `check_plausible` catches beforehand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservationValue {
    /// The test's LOINC code.
    pub loinc: String,
    /// The test's name.
    pub display: String,
    /// The value measured.
    pub value: f64,
    /// UCUM code, e.g. `mmol/L`, `10*9/L`.
    pub unit: String,
    /// Reference range, same unit.
    pub low: Option<f64>,
    /// Reference range's upper bound, same unit.
    pub high: Option<f64>,
}

/// Where a value sits against its reference range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Interpretation {
    /// Below the range.
    Low,
    /// Within the range.
    Normal,
    /// Above the range.
    High,
}

impl Interpretation {
    /// The v3-ObservationInterpretation code: `L`, `N`, `H`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Low => "L",
            Self::Normal => "N",
            Self::High => "H",
        }
    }
    /// The code's display text: `Low`, `Normal`, `High`.
    pub fn display(self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Normal => "Normal",
            Self::High => "High",
        }
    }
}

impl ObservationValue {
    /// High above `high`, low below `low`, normal otherwise (bounds are normal);
    /// `None` without any bound.
    pub fn interpretation(&self) -> Option<Interpretation> {
        if self.low.is_none() && self.high.is_none() {
            return None;
        }
        Some(match (self.low, self.high) {
            (Some(low), _) if self.value < low => Interpretation::Low,
            (_, Some(high)) if self.value > high => Interpretation::High,
            _ => Interpretation::Normal,
        })
    }
}

/// A notice about a tube that is not (yet) a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StatusKind {
    /// The lab has the tube in reception.
    Received {
        /// The lab.
        lab: String,
        /// When it arrived.
        at: DateTime<Utc>,
    },
    /// The lab will not test the tube (haemolysed, expired, wrong tube, ...).
    Rejected {
        /// The lab.
        lab: String,
        /// When it was rejected.
        at: DateTime<Utc>,
        /// Why, in the lab's words.
        reason: String,
    },
    /// The centre is asked to draw the patient again.
    RedrawRequested {
        /// Why a new sample is needed.
        reason: String,
        /// When it was asked for.
        at: DateTime<Utc>,
    },
}

impl StatusKind {
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Received { at, .. }
            | Self::Rejected { at, .. }
            | Self::RedrawRequested { at, .. } => *at,
        }
    }

    /// `received`, `rejected` or `redraw` (the outbox's kind names).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Received { .. } => "received",
            Self::Rejected { .. } => "rejected",
            Self::RedrawRequested { .. } => "redraw",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------

/// A deterministic RFC 9562 version 8 UUID from SHA-256 of length-prefixed parts.
fn uuid_for(parts: &[&str]) -> String {
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
fn fhir_instant(t: &DateTime<Utc>) -> String {
    let precision = if t.timestamp_subsec_nanos() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Millis
    };
    t.to_rfc3339_opts(precision, false)
}

/// Drops nulls, empty strings, empty arrays and empty objects, which FHIR forbids.
fn prune(value: Value) -> Option<Value> {
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

fn bundle(id: &str, timestamp: &DateTime<Utc>, entries: Vec<(String, Value)>) -> Value {
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

fn anonymous_patient(station: &str) -> Value {
    json!({ "type": "Patient", "display": format!("anonymous patient of {station}") })
}

fn organization(system: &str, id: &str) -> Value {
    json!({ "type": "Organization", "identifier": { "system": system, "value": id }, "display": id })
}

fn order(barcode: &str) -> Value {
    json!({ "type": "ServiceRequest", "identifier": { "system": ORDER_SYSTEM, "value": barcode } })
}

fn tube_identifier(barcode: &str, station: &str) -> Value {
    json!({ "system": TUBE_SYSTEM, "value": barcode, "assigner": organization(STATION_SYSTEM, station) })
}

fn loinc_concept(code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": LOINC_SYSTEM, "code": code, "display": display }], "text": display })
}

fn quantity(value: f64, unit: &str) -> Value {
    json!({ "value": value, "unit": unit, "system": UCUM_SYSTEM, "code": unit })
}

fn specimen_id(barcode: &str) -> String {
    uuid_for(&["Specimen", barcode])
}

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

/// `OperationOutcome.issue.severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueSeverity {
    /// `fatal`.
    Fatal,
    /// `error`.
    Error,
    /// `warning`.
    Warning,
    /// `information`.
    Information,
}

impl IssueSeverity {
    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fatal => "fatal",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Information => "information",
        }
    }
}

/// `OperationOutcome.issue.code`: FHIR R4's IssueType value set, complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueCode {
    /// `invalid`.
    Invalid,
    /// `structure`.
    Structure,
    /// `required`.
    Required,
    /// `value`.
    Value,
    /// `invariant`.
    Invariant,
    /// `security`.
    Security,
    /// `login`.
    Login,
    /// `unknown`.
    Unknown,
    /// `expired`.
    Expired,
    /// `forbidden`.
    Forbidden,
    /// `suppressed`.
    Suppressed,
    /// `processing`.
    Processing,
    /// `not-supported`.
    NotSupported,
    /// `duplicate`.
    Duplicate,
    /// `multiple-matches`.
    MultipleMatches,
    /// `not-found`.
    NotFound,
    /// `deleted`.
    Deleted,
    /// `too-long`.
    TooLong,
    /// `code-invalid`.
    CodeInvalid,
    /// `extension`.
    Extension,
    /// `too-costly`.
    TooCostly,
    /// `business-rule`.
    BusinessRule,
    /// `conflict`.
    Conflict,
    /// `transient`.
    Transient,
    /// `lock-error`.
    LockError,
    /// `no-store`.
    NoStore,
    /// `exception`.
    Exception,
    /// `timeout`.
    Timeout,
    /// `incomplete`.
    Incomplete,
    /// `throttled`.
    Throttled,
    /// `informational`.
    Informational,
}

impl IssueCode {
    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Structure => "structure",
            Self::Required => "required",
            Self::Value => "value",
            Self::Invariant => "invariant",
            Self::Security => "security",
            Self::Login => "login",
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Forbidden => "forbidden",
            Self::Suppressed => "suppressed",
            Self::Processing => "processing",
            Self::NotSupported => "not-supported",
            Self::Duplicate => "duplicate",
            Self::MultipleMatches => "multiple-matches",
            Self::NotFound => "not-found",
            Self::Deleted => "deleted",
            Self::TooLong => "too-long",
            Self::CodeInvalid => "code-invalid",
            Self::Extension => "extension",
            Self::TooCostly => "too-costly",
            Self::BusinessRule => "business-rule",
            Self::Conflict => "conflict",
            Self::Transient => "transient",
            Self::LockError => "lock-error",
            Self::NoStore => "no-store",
            Self::Exception => "exception",
            Self::Timeout => "timeout",
            Self::Incomplete => "incomplete",
            Self::Throttled => "throttled",
            Self::Informational => "informational",
        }
    }
}

/// A FHIR R4 `OperationOutcome` with one issue; `expression` is a FHIRPath to the
/// offending element.
pub fn operation_outcome(
    severity: IssueSeverity,
    code: IssueCode,
    diagnostics: &str,
    expression: Option<&str>,
) -> Value {
    prune(json!({
        "resourceType": "OperationOutcome",
        "issue": [{
            "severity": severity.as_str(),
            "code": code.as_str(),
            "diagnostics": diagnostics,
            "expression": expression.map(|e| vec![e]),
        }],
    }))
    .unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------
// Parsing incoming lab reports
// ---------------------------------------------------------------------------------------

/// Why a lab's report was refused. Each names the FHIR path (a FHIRPath expression, also
/// usable as `OperationOutcome.issue.expression`) and, when there is one, the bad value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FhirError {
    /// Something required is not there.
    #[error("{path}: missing ({what})")]
    Missing {
        /// Where (FHIRPath).
        path: String,
        /// What was expected there.
        what: String,
    },
    /// Something is there but wrong.
    #[error("{path}: {value} {problem}")]
    Invalid {
        /// Where (FHIRPath).
        path: String,
        /// The offending JSON, as sent (shortened when long).
        value: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl FhirError {
    /// The FHIRPath of the offending element.
    pub fn path(&self) -> &str {
        match self {
            Self::Missing { path, .. } | Self::Invalid { path, .. } => path,
        }
    }

    /// The `OperationOutcome` to answer the lab with.
    pub fn to_operation_outcome(&self) -> Value {
        let code = match self {
            Self::Missing { .. } => IssueCode::Required,
            Self::Invalid { .. } => IssueCode::Value,
        };
        operation_outcome(
            IssueSeverity::Error,
            code,
            &self.to_string(),
            Some(self.path()),
        )
    }
}

fn missing(path: impl Into<String>, what: impl Into<String>) -> FhirError {
    FhirError::Missing {
        path: path.into(),
        what: what.into(),
    }
}

fn invalid(path: impl Into<String>, value: &Value, problem: impl Into<String>) -> FhirError {
    let mut shown = value.to_string();
    if shown.chars().count() > 120 {
        shown = shown.chars().take(117).collect::<String>() + "...";
    }
    FhirError::Invalid {
        path: path.into(),
        value: shown,
        problem: problem.into(),
    }
}

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

/// A present, non-null member.
fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

fn opt_str<'a>(v: &'a Value, path: &str, key: &str) -> Result<Option<&'a str>, FhirError> {
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

fn req_str<'a>(v: &'a Value, path: &str, key: &str, what: &str) -> Result<&'a str, FhirError> {
    opt_str(v, path, key)?.ok_or_else(|| missing(format!("{path}.{key}"), what))
}

fn opt_array<'a>(v: &'a Value, path: &str, key: &str) -> Result<&'a [Value], FhirError> {
    match get(v, key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(invalid(format!("{path}.{key}"), other, "is not an array")),
    }
}

fn opt_number(v: &Value, path: &str, key: &str) -> Result<Option<f64>, FhirError> {
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

fn parse_observation(o: &Value, p: &str) -> Result<ObservationValue, FhirError> {
    let code = get(o, "code").ok_or_else(|| missing(format!("{p}.code"), "the LOINC code"))?;
    let code_path = format!("{p}.code");
    let codings = opt_array(code, &code_path, "coding")?;
    let (k, coding) = codings
        .iter()
        .enumerate()
        .find(|(_, c)| get(c, "system").and_then(Value::as_str) == Some(LOINC_SYSTEM))
        .ok_or_else(|| match get(code, "coding") {
            Some(c) => invalid(
                format!("{code_path}.coding"),
                c,
                format!("has no coding with system {LOINC_SYSTEM}"),
            ),
            None => missing(
                format!("{code_path}.coding"),
                format!("a coding with system {LOINC_SYSTEM}"),
            ),
        })?;
    let coding_path = format!("{code_path}.coding[{k}]");
    let loinc = req_str(coding, &coding_path, "code", "the LOINC code")?;
    if !LoincCode::is_well_formed(loinc) {
        return Err(invalid(
            format!("{coding_path}.code"),
            &json!(loinc),
            "is not a LOINC code (digits, a dash, a check digit)",
        ));
    }
    let display = match opt_str(coding, &coding_path, "display")? {
        Some(d) => d,
        None => opt_str(code, &code_path, "text")?.unwrap_or_default(),
    };

    let q_path = format!("{p}.valueQuantity");
    let Some(q) = get(o, "valueQuantity") else {
        let other = [
            "valueString",
            "valueCodeableConcept",
            "valueInteger",
            "valueRatio",
        ]
        .into_iter()
        .find(|k| get(o, k).is_some());
        return Err(missing(
            q_path,
            match other {
                Some(k) => format!("labflight takes numeric results only, found {k}"),
                None => "the numeric result".to_string(),
            },
        ));
    };
    let value = opt_number(q, &q_path, "value")?
        .ok_or_else(|| missing(format!("{q_path}.value"), "the numeric result"))?;
    let system = opt_str(q, &q_path, "system")?;
    if let Some(system) = system.filter(|s| *s != UCUM_SYSTEM) {
        return Err(invalid(
            format!("{q_path}.system"),
            &json!(system),
            format!("is not {UCUM_SYSTEM}: units must be UCUM codes"),
        ));
    }
    let unit = req_str(q, &q_path, "code", "the UCUM unit code")?;

    let (mut low, mut high) = (None, None);
    if let Some(range) = opt_array(o, p, "referenceRange")?.first() {
        let r_path = format!("{p}.referenceRange[0]");
        if let Some(l) = get(range, "low") {
            low = opt_number(l, &format!("{r_path}.low"), "value")?;
        }
        if let Some(h) = get(range, "high") {
            high = opt_number(h, &format!("{r_path}.high"), "value")?;
        }
    }

    Ok(ObservationValue {
        loinc: loinc.to_string(),
        display: display.to_string(),
        value,
        unit: unit.to_string(),
        low,
        high,
    })
}

// ---------------------------------------------------------------------------------------
// Plausibility
// ---------------------------------------------------------------------------------------

/// A test labflight knows: its UCUM unit(s), adult normal range and plausible range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabTest {
    /// Its LOINC code.
    pub loinc: &'static str,
    /// Its name.
    pub display: &'static str,
    /// Accepted UCUM codes; the first is the one labflight writes.
    pub units: &'static [&'static str],
    /// Adult reference range.
    pub normal_low: f64,
    /// Adult reference range's upper bound.
    pub normal_high: f64,
    /// Outside this a value is a transcription or instrument error, not a patient.
    pub plausible_low: f64,
    /// The plausible range's upper bound.
    pub plausible_high: f64,
}

const fn test(
    loinc: &'static str,
    display: &'static str,
    units: &'static [&'static str],
    normal: (f64, f64),
    plausible: (f64, f64),
) -> LabTest {
    LabTest {
        loinc,
        display,
        units,
        normal_low: normal.0,
        normal_high: normal.1,
        plausible_low: plausible.0,
        plausible_high: plausible.1,
    }
}

/// The tests labflight's labs report. Units are those Chinese labs report in (SI).
///
/// Note: 2345-7, 2160-0 and 2093-3 are LOINC's *mass* concentration codes, yet the
/// labflight scenarios report them in molar units (mmol/L, umol/L) as Chinese labs do; the
/// molar codes 14749-6, 14682-9 and 14647-2 are listed too and are the correct ones to
/// send.
pub const LAB_TESTS: &[LabTest] = &[
    test(
        "2345-7",
        "Glucose [Mass/volume] in Serum or Plasma",
        &["mmol/L"],
        (3.9, 6.1),
        (0.5, 50.0),
    ),
    test(
        "14749-6",
        "Glucose [Moles/volume] in Serum or Plasma",
        &["mmol/L"],
        (3.9, 6.1),
        (0.5, 50.0),
    ),
    test(
        "4548-4",
        "Hemoglobin A1c/Hemoglobin.total in Blood",
        &["%"],
        (4.0, 6.0),
        (2.0, 20.0),
    ),
    test(
        "718-7",
        "Hemoglobin [Mass/volume] in Blood",
        &["g/L"],
        (115.0, 175.0),
        (20.0, 250.0),
    ),
    test(
        "6690-2",
        "Leukocytes [#/volume] in Blood by Automated count",
        &["10*9/L"],
        (3.5, 9.5),
        (0.0, 500.0),
    ),
    test(
        "777-3",
        "Platelets [#/volume] in Blood by Automated count",
        &["10*9/L"],
        (125.0, 350.0),
        (0.0, 3000.0),
    ),
    test(
        "2160-0",
        "Creatinine [Mass/volume] in Serum or Plasma",
        &["umol/L"],
        (41.0, 111.0),
        (5.0, 3000.0),
    ),
    test(
        "14682-9",
        "Creatinine [Moles/volume] in Serum or Plasma",
        &["umol/L"],
        (41.0, 111.0),
        (5.0, 3000.0),
    ),
    test(
        "2093-3",
        "Cholesterol [Mass/volume] in Serum or Plasma",
        &["mmol/L"],
        (2.8, 5.2),
        (0.5, 30.0),
    ),
    test(
        "14647-2",
        "Cholesterol [Moles/volume] in Serum or Plasma",
        &["mmol/L"],
        (2.8, 5.2),
        (0.5, 30.0),
    ),
    test(
        "2823-3",
        "Potassium [Moles/volume] in Serum or Plasma",
        &["mmol/L"],
        (3.5, 5.3),
        (1.0, 12.0),
    ),
    test(
        "2951-2",
        "Sodium [Moles/volume] in Serum or Plasma",
        &["mmol/L"],
        (137.0, 147.0),
        (90.0, 200.0),
    ),
    test(
        "3016-3",
        "Thyrotropin [Units/volume] in Serum or Plasma",
        &["m[IU]/L", "mIU/L", "u[IU]/mL"],
        (0.27, 4.2),
        (0.0, 200.0),
    ),
    test(
        "5902-2",
        "Prothrombin time (PT)",
        &["s"],
        (9.4, 12.5),
        (5.0, 200.0),
    ),
    test(
        "6301-6",
        "INR in Platelet poor plasma by Coagulation assay",
        &["{INR}", "1"],
        (0.8, 1.2),
        (0.5, 15.0),
    ),
];

/// The entry of `LAB_TESTS` for a LOINC code.
pub fn lab_test(loinc: &str) -> Option<&'static LabTest> {
    LAB_TESTS.iter().find(|t| t.loinc == loinc)
}

/// `(display, UCUM unit, normal low, normal high)` of a known LOINC code.
pub fn normal_ranges(loinc: &str) -> Option<(&'static str, &'static str, f64, f64)> {
    lab_test(loinc).map(|t| (t.display, t.units[0], t.normal_low, t.normal_high))
}

/// Why a value cannot be passed on to a centre.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlausibilityError {
    /// The code is not a LOINC code.
    #[error("LOINC {loinc:?}: not a LOINC code (digits, a dash, a check digit)")]
    BadCode {
        /// The LOINC code sent.
        loinc: String,
    },
    /// The value is not a finite number.
    #[error("LOINC {loinc}: value {value} {unit:?} is not a finite number")]
    NotFinite {
        /// The LOINC code sent.
        loinc: String,
        /// The value sent.
        value: f64,
        /// The unit sent.
        unit: String,
    },
    /// The unit is not a UCUM code.
    #[error("LOINC {loinc}: value {value} has unit {unit:?}, which is not a UCUM code")]
    BadUnit {
        /// The LOINC code sent.
        loinc: String,
        /// The value sent.
        value: f64,
        /// The unit sent.
        unit: String,
    },
    /// The unit is not one this test is reported in.
    #[error("LOINC {loinc}: value {value} has unit {unit:?}; expected {expected}")]
    WrongUnit {
        /// The LOINC code sent.
        loinc: String,
        /// The value sent.
        value: f64,
        /// The unit sent.
        unit: String,
        /// The units accepted for this test.
        expected: String,
    },
    /// The value is outside the plausible range.
    #[error("LOINC {loinc}: value {value} {unit} is outside the plausible {low} to {high} {unit}")]
    Implausible {
        /// The LOINC code sent.
        loinc: String,
        /// The value sent.
        value: f64,
        /// The unit sent.
        unit: String,
        /// The plausible range's lower bound.
        low: f64,
        /// The plausible range's upper bound.
        high: f64,
    },
}

/// Refuses impossible values and wrong units for the tests in `LAB_TESTS`; other LOINC
/// codes pass if the value is finite and the unit looks like a UCUM code.
pub fn check_plausible(o: &ObservationValue) -> Result<(), PlausibilityError> {
    let loinc = o.loinc.clone();
    if !LoincCode::is_well_formed(&o.loinc) {
        return Err(PlausibilityError::BadCode { loinc });
    }
    let unit = o.unit.clone();
    if !o.value.is_finite() {
        return Err(PlausibilityError::NotFinite {
            loinc,
            value: o.value,
            unit,
        });
    }
    // UCUM codes are printable ASCII without spaces.
    if unit.is_empty() || !unit.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(PlausibilityError::BadUnit {
            loinc,
            value: o.value,
            unit,
        });
    }
    let Some(test) = lab_test(&o.loinc) else {
        return Ok(());
    };
    if !test.units.contains(&o.unit.as_str()) {
        return Err(PlausibilityError::WrongUnit {
            loinc,
            value: o.value,
            unit,
            expected: test
                .units
                .iter()
                .map(|u| format!("{u:?}"))
                .collect::<Vec<_>>()
                .join(" or "),
        });
    }
    if !(test.plausible_low..=test.plausible_high).contains(&o.value) {
        return Err(PlausibilityError::Implausible {
            loinc,
            value: o.value,
            unit,
            low: test.plausible_low,
            high: test.plausible_high,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn obs(loinc: &str, value: f64, unit: &str, low: f64, high: f64) -> ObservationValue {
        ObservationValue {
            loinc: loinc.into(),
            display: normal_ranges(loinc).map(|r| r.0).unwrap_or("x").into(),
            value,
            unit: unit.into(),
            low: Some(low),
            high: Some(high),
        }
    }

    fn result() -> LabResult {
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

    fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == kind)
            .collect()
    }

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

    /// A contained-style report as a lab's LIS would send it.
    fn contained_report() -> Value {
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

    /// Parses `body` expecting an error whose message names `path` and contains `needle`.
    fn expect_error(body: &Value, path: &str, needle: &str) -> FhirError {
        let err = parse_lab_report(body).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.path(), path, "{msg}");
        assert!(msg.starts_with(path), "{msg}");
        assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
        err
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
    fn error_non_loinc_code() {
        let mut body = contained_report();
        body["contained"][2]["code"]["coding"] =
            json!([{ "system": "http://snomed.info/sct", "code": "61928009" }]);
        expect_error(
            &body,
            "DiagnosticReport.contained[2].code.coding",
            "http://snomed.info/sct",
        );
        body["contained"][2]["code"]["coding"] = json!([{ "system": LOINC_SYSTEM, "code": "PLT" }]);
        expect_error(
            &body,
            "DiagnosticReport.contained[2].code.coding[0].code",
            "\"PLT\"",
        );
    }

    #[test]
    fn error_nan_or_string_value() {
        let mut body = contained_report();
        body["contained"][1]["valueQuantity"]["value"] = json!("abc");
        let err = expect_error(
            &body,
            "DiagnosticReport.contained[1].valueQuantity.value",
            "\"abc\" is not a number",
        );
        assert_eq!(
            err.to_string(),
            "DiagnosticReport.contained[1].valueQuantity.value: \"abc\" is not a number"
        );
        body["contained"][1]["valueQuantity"]["value"] = json!("NaN");
        expect_error(
            &body,
            "DiagnosticReport.contained[1].valueQuantity.value",
            "\"NaN\"",
        );
        body["contained"][1]["valueQuantity"]
            .as_object_mut()
            .unwrap()
            .remove("value");
        expect_error(
            &body,
            "DiagnosticReport.contained[1].valueQuantity.value",
            "missing",
        );
        let mut body = contained_report();
        body["contained"][1]
            .as_object_mut()
            .unwrap()
            .remove("valueQuantity");
        body["contained"][1]["valueString"] = json!("positive");
        expect_error(
            &body,
            "DiagnosticReport.contained[1].valueQuantity",
            "valueString",
        );
    }

    #[test]
    fn error_missing_or_non_ucum_unit() {
        let mut body = contained_report();
        body["contained"][2]["valueQuantity"] = json!({ "value": 200, "unit": "x10^9/L" });
        expect_error(
            &body,
            "DiagnosticReport.contained[2].valueQuantity.code",
            "UCUM",
        );
        body["contained"][2]["valueQuantity"] =
            json!({ "value": 200, "system": "urn:my-units", "code": "G/L" });
        expect_error(
            &body,
            "DiagnosticReport.contained[2].valueQuantity.system",
            "\"urn:my-units\"",
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
    fn error_bad_range_and_issued() {
        let mut body = contained_report();
        body["contained"][1]["referenceRange"][0]["high"]["value"] = json!("150");
        expect_error(
            &body,
            "DiagnosticReport.contained[1].referenceRange[0].high.value",
            "\"150\"",
        );
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

    #[test]
    fn errors_become_operation_outcomes() {
        let mut body = contained_report();
        body["status"] = json!("cancelled");
        let oo = parse_lab_report(&body).unwrap_err().to_operation_outcome();
        assert_eq!(oo["resourceType"], "OperationOutcome");
        assert_eq!(oo["issue"][0]["severity"], "error");
        assert_eq!(oo["issue"][0]["code"], "value");
        assert_eq!(oo["issue"][0]["expression"][0], "DiagnosticReport.status");
        assert!(
            oo["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains("\"cancelled\"")
        );
        let ok = operation_outcome(
            IssueSeverity::Information,
            IssueCode::Informational,
            "accepted",
            None,
        );
        assert_eq!(ok["issue"][0]["severity"], "information");
        assert!(ok["issue"][0].get("expression").is_none());
    }

    #[test]
    fn plausibility() {
        let ok = obs("2345-7", 5.4, "mmol/L", 3.9, 6.1);
        check_plausible(&ok).unwrap();
        // Bounds of the plausible range are plausible.
        check_plausible(&ObservationValue {
            value: 50.0,
            ..ok.clone()
        })
        .unwrap();

        let err = check_plausible(&ObservationValue {
            unit: "mg/dL".into(),
            value: 97.0,
            ..ok.clone()
        })
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, PlausibilityError::WrongUnit { .. }));
        assert!(
            msg.contains("2345-7") && msg.contains("97") && msg.contains("mg/dL"),
            "{msg}"
        );

        let err = check_plausible(&ObservationValue {
            value: 540.0,
            ..ok.clone()
        })
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, PlausibilityError::Implausible { .. }));
        assert!(
            msg.contains("2345-7") && msg.contains("540") && msg.contains("mmol/L"),
            "{msg}"
        );

        assert!(matches!(
            check_plausible(&ObservationValue {
                value: f64::NAN,
                ..ok.clone()
            }),
            Err(PlausibilityError::NotFinite { .. })
        ));
        assert!(matches!(
            check_plausible(&obs("718-7", -1.0, "g/L", 115.0, 175.0)),
            Err(PlausibilityError::Implausible { .. })
        ));
        check_plausible(&obs("3016-3", 2.1, "mIU/L", 0.27, 4.2)).unwrap();
        check_plausible(&obs("6301-6", 2.5, "{INR}", 0.8, 1.2)).unwrap();

        // Unknown codes pass with a UCUM-looking unit only.
        check_plausible(&obs("1742-6", 35.0, "U/L", 9.0, 50.0)).unwrap();
        assert!(matches!(
            check_plausible(&obs("1742-6", 35.0, "", 9.0, 50.0)),
            Err(PlausibilityError::BadUnit { .. })
        ));
        assert!(matches!(
            check_plausible(&obs("1742-6", 35.0, "units per litre", 9.0, 50.0)),
            Err(PlausibilityError::BadUnit { .. })
        ));
        assert!(matches!(
            check_plausible(&obs("ALT", 35.0, "U/L", 9.0, 50.0)),
            Err(PlausibilityError::BadCode { .. })
        ));
    }

    #[test]
    fn normal_ranges_table_is_consistent() {
        assert_eq!(
            normal_ranges("2345-7"),
            Some((
                "Glucose [Mass/volume] in Serum or Plasma",
                "mmol/L",
                3.9,
                6.1
            ))
        );
        assert_eq!(normal_ranges("0000-0"), None);
        for t in LAB_TESTS {
            assert!(LoincCode::is_well_formed(t.loinc), "{}", t.loinc);
            assert!(!t.units.is_empty());
            assert!(t.normal_low < t.normal_high, "{}", t.loinc);
            assert!(t.plausible_low <= t.normal_low, "{}", t.loinc);
            assert!(t.normal_high <= t.plausible_high, "{}", t.loinc);
            // Values in the normal range are plausible, in the canonical unit.
            let mid = (t.normal_low + t.normal_high) / 2.0;
            check_plausible(&obs(t.loinc, mid, t.units[0], t.normal_low, t.normal_high)).unwrap();
            assert_eq!(
                LAB_TESTS.iter().filter(|u| u.loinc == t.loinc).count(),
                1,
                "{} listed twice",
                t.loinc
            );
        }
    }
}
