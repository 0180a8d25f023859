//! The tests labflight knows: each one's LOINC code, name, UCUM units, adult normal
//! range and plausible range (the table the plausibility check and the simulated
//! labs read).

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

#[cfg(test)]
mod tests {
    use super::super::fixtures::obs;
    use super::super::plausibility::check_plausible;
    use super::*;
    use labflight_core::LoincCode;

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
