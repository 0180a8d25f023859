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
//!
//! Layout: `systems` holds the code and identifier systems; `values` a result as
//! labflight keeps it and `notice` a status notice. Going out: `report_out` and
//! `status_out` build the Bundles from the pieces in `elements`; `outcome` is the
//! `OperationOutcome` labs are answered with. Coming in: `report_in` reads a lab's
//! report (each `Observation` through `observation_in`), with `members` reading
//! JSON members by FHIR path and `error` the refusal; `privacy` removes patient
//! data first. `lab_tests` is the table of known tests and `plausibility` the
//! check against it. Everything public is re-exported here.

#[cfg(test)]
mod fixtures;

mod elements;
mod error;
mod lab_tests;
mod members;
mod notice;
mod observation_in;
mod outcome;
mod plausibility;
mod privacy;
mod report_in;
mod report_out;
mod status_out;
mod systems;
mod values;

pub use error::FhirError;
pub use lab_tests::{LAB_TESTS, LabTest, lab_test, normal_ranges};
pub use notice::StatusKind;
pub use outcome::{IssueCode, IssueSeverity, operation_outcome};
pub use plausibility::{PlausibilityError, check_plausible};
pub use privacy::drop_patient_data;
pub use report_in::{IncomingReport, ReportStatus, parse_lab_report};
pub use report_out::report_bundle;
pub use status_out::status_bundle;
pub use systems::{
    FHIR_JSON, LAB_SYSTEM, LOINC_SYSTEM, ORDER_SYSTEM, REPORT_SYSTEM, STATION_SYSTEM, TASK_SYSTEM,
    TUBE_SYSTEM, UCUM_SYSTEM,
};
pub use values::{Interpretation, LabResult, ObservationValue};
