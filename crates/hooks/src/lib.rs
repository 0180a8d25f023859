//! Result sharing: FHIR R4 reports for the centres and Standard Webhooks signatures.
//!
//! Labs post their reports to labflight as FHIR R4 JSON; labflight checks them
//! ([`parse_lab_report`], [`check_plausible`]) and passes results and specimen status
//! notices on to the health centres' endpoints as FHIR R4 Bundles ([`report_bundle`],
//! [`status_bundle`]), each request signed per Standard Webhooks ([`headers`]) so the
//! centre can check it with [`verify`].
//!
//! - [`fhir`]: building and reading the FHIR JSON, the plausibility table.
//! - [`signature`]: `whsec_` secrets, signing, verification.
//! - [`hl7`]: the same result as an HL7 v2 ORU^R01 over MLLP, for older systems.

#![deny(missing_docs)]

pub mod fhir;
pub mod hl7;
pub mod signature;

pub use fhir::{
    FHIR_JSON, FhirError, IncomingReport, IssueCode, IssueSeverity, LAB_TESTS, LabResult, LabTest,
    ObservationValue, PlausibilityError, ReportStatus, StatusKind, check_plausible,
    drop_patient_data, lab_test, normal_ranges, operation_outcome, parse_lab_report, report_bundle,
    status_bundle,
};
pub use signature::{
    DEFAULT_TOLERANCE_SECS, Secret, SecretError, VerifyError, WebhookHeaders, headers, sign, verify,
};
