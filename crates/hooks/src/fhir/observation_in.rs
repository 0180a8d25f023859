//! One `Observation` of a lab's report read into a numeric value: its LOINC code,
//! its quantity in a UCUM unit, and its reference range.

use super::error::{FhirError, invalid, missing};
use super::members::{get, opt_array, opt_number, opt_str, req_str};
use super::systems::{LOINC_SYSTEM, UCUM_SYSTEM};
use super::values::ObservationValue;
use labflight_core::LoincCode;
use serde_json::{Value, json};

/// Reads the `Observation` at FHIR path `p` into its numeric value.
pub(super) fn parse_observation(o: &Value, p: &str) -> Result<ObservationValue, FhirError> {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{contained_report, expect_error};
    use super::super::systems::LOINC_SYSTEM;
    use serde_json::json;

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
    fn error_bad_range() {
        let mut body = contained_report();
        body["contained"][1]["referenceRange"][0]["high"]["value"] = json!("150");
        expect_error(
            &body,
            "DiagnosticReport.contained[1].referenceRange[0].high.value",
            "\"150\"",
        );
    }
}
