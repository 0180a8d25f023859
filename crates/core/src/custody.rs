//! One link in a tube's chain of custody: what happened to it, when, where and by
//! which device or person. The live service stores these; the dashboard shows them.

use crate::{Instant, TubeBarcode};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustodyStepKind {
    Drawn,
    SealedInBox,
    Loaded,
    InFlight,
    InVan,
    Landed,
    Stranded,
    ReceivedAtLab,
    Centrifuged,
    Resulted,
    Reported,
    RejectedAtLab,
}

impl CustodyStepKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            CustodyStepKind::Drawn => "drawn",
            CustodyStepKind::SealedInBox => "sealed_in_box",
            CustodyStepKind::Loaded => "loaded",
            CustodyStepKind::InFlight => "in_flight",
            CustodyStepKind::InVan => "in_van",
            CustodyStepKind::Landed => "landed",
            CustodyStepKind::Stranded => "stranded",
            CustodyStepKind::ReceivedAtLab => "received_at_lab",
            CustodyStepKind::Centrifuged => "centrifuged",
            CustodyStepKind::Resulted => "resulted",
            CustodyStepKind::Reported => "reported",
            CustodyStepKind::RejectedAtLab => "rejected_at_lab",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustodyStep {
    pub barcode: TubeBarcode,
    pub step: CustodyStepKind,
    pub at: Instant,
    /// A centre, pad or lab id, or `lat,lon` where there is none.
    pub place: Option<String>,
    /// The box, drone, courier or user that held or handled the tube.
    pub by: Option<String>,
}
