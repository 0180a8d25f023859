//! Typed identifiers, so a drone id can never be passed where a lab id is meant.
//! Ids are short human-readable strings (`LH-C017`, `D-03`), as they appear in
//! map files, MQTT topics and the dashboard. They are held inline (`SmolStr`):
//! the dispatcher copies and compares them in every plan, and a `String` would
//! cost an allocation per copy.

use serde::{Deserialize, Serialize};
use smol_str::SmolStr;
use std::fmt;

macro_rules! typed_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub SmolStr);

        impl $name {
            /// The id from its text.
            pub fn new(id: impl AsRef<str>) -> Self {
                Self(SmolStr::new(id))
            }
            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(SmolStr::new(s))
            }
        }
    )*};
}

typed_id!(
    /// A community health centre (社康中心), e.g. `LH-C017`.
    StationId,
    /// A hospital laboratory, e.g. `LAB-PH`.
    LabId,
    /// A drone landing pad ("airport"), e.g. `PAD-C017`.
    PadId,
    /// A drone airframe, e.g. `D-03`.
    DroneId,
    /// A smart specimen box, e.g. `BX-LH-C017-2`.
    BoxId,
    /// One drone or courier mission, assigned by the dispatcher.
    MissionId,
    /// A specimen tube, known only by its barcode (never by patient).
    TubeBarcode,
    /// A primary-care medical group (基层医疗集团), e.g. `PH` or `CH`.
    GroupId,
    /// A courier van of the ground fallback.
    CourierId,
);
