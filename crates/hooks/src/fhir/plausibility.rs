//! The last gate before a centre: an impossible value, a wrong unit or a malformed
//! code never leaves labflight.

use super::lab_tests::lab_test;
use super::values::ObservationValue;
use labflight_core::LoincCode;
use thiserror::Error;

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
    use super::super::fixtures::obs;
    use super::*;

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
}
