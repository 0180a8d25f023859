//! A tube's lab result as labflight keeps it and passes it on: the report, its
//! numeric values, and where each value sits against its reference range.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
