//! The code systems, identifier systems and codes labflight writes and reads in
//! FHIR: LOINC, UCUM, HL7's terminology, and labflight's own `urn:labflight:`
//! systems for tubes, orders, centres, labs, reports and notices.

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

/// HL7 v2 table 0074, diagnostic service sections (`LAB`).
pub(super) const V2_0074: &str = "http://terminology.hl7.org/CodeSystem/v2-0074";
/// FHIR's observation categories (`laboratory`).
pub(super) const OBSERVATION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/observation-category";
/// HL7 v3 observation interpretations (`L`, `N`, `H`).
pub(super) const INTERPRETATION: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
/// The LOINC code of a report holding several results.
pub(super) const LAB_REPORT_LOINC: (&str, &str) = ("11502-2", "Laboratory report");
