//! Tubes and what keeps them valid: tube types, stability limits, temperature bands.

use crate::{Instant, TestFamily, TubeBarcode};
use serde::{Deserialize, Serialize};

/// A LOINC code naming an ordered test, e.g. `58410-2` (CBC panel).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LoincCode(pub String);

impl LoincCode {
    /// Whether the text has LOINC's shape: digits, a dash, one check digit.
    pub fn is_well_formed(text: &str) -> bool {
        match text.split_once('-') {
            Some((num, check)) => {
                !num.is_empty()
                    && num.len() <= 7
                    && num.bytes().all(|b| b.is_ascii_digit())
                    && check.len() == 1
                    && check.bytes().all(|b| b.is_ascii_digit())
            }
            None => false,
        }
    }
}

/// A tube type id from the scenario's tube table, e.g. `edta`, `sst`, `fluoride`, `citrate`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TubeType(pub String);

/// A transport temperature band in °C.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TempBand {
    /// Lowest allowed temperature, °C.
    pub min_c: f64,
    /// Highest allowed temperature, °C.
    pub max_c: f64,
}

impl TempBand {
    /// Whether `temp_c` lies within the band.
    pub fn contains(&self, temp_c: f64) -> bool {
        (self.min_c..=self.max_c).contains(&temp_c)
    }
}

/// One tube in a box manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tube {
    /// Its barcode.
    pub barcode: TubeBarcode,
    /// Its tube type (by additive).
    pub tube_type: TubeType,
    /// The tests ordered on it (LOINC).
    pub tests: Vec<LoincCode>,
    /// The lab disciplines those tests need (derived from the test catalogue).
    pub families: Vec<TestFamily>,
    /// When it was drawn.
    pub drawn_at: Instant,
    /// Minutes from draw until the tube must be in reception at a lab.
    pub stability_minutes: f64,
    /// The temperature band it must stay in.
    pub band: TempBand,
    /// Spun at the centre before sealing.
    pub spun: bool,
}

impl Tube {
    /// The instant this tube stops being usable if not received by a lab.
    pub fn stability_deadline(&self) -> Instant {
        self.drawn_at + crate::scenario::minutes(self.stability_minutes)
    }
}
