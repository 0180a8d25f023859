//! One link in a tube's chain of custody: what happened to it, when, where and by
//! which device or person. The live service stores these; the dashboard shows them.

use crate::{Instant, TubeBarcode};
use serde::{Deserialize, Serialize};

/// What happened to a tube at one link of its chain of custody.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustodyStepKind {
    /// Drawn from the patient at the centre.
    Drawn,
    /// Sealed into a box at the centre.
    SealedInBox,
    /// Its box loaded on a drone or van.
    Loaded,
    /// In flight on a drone.
    InFlight,
    /// On a van.
    InVan,
    /// Its drone landed on a pad (not the lab's).
    Landed,
    /// Its drone landed away from any pad.
    Stranded,
    /// Received by a lab.
    ReceivedAtLab,
    /// Centrifuged at the lab.
    Centrifuged,
    /// Its result verified.
    Resulted,
    /// Its result reached the centre.
    Reported,
    /// Refused by the lab.
    RejectedAtLab,
}

impl CustodyStepKind {
    /// The step's name, as it is serialized and stored.
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

/// One link in a tube's chain of custody.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustodyStep {
    /// The tube.
    pub barcode: TubeBarcode,
    /// What happened.
    pub step: CustodyStepKind,
    /// When.
    pub at: Instant,
    /// A centre, pad or lab id, or `lat,lon` where there is none.
    pub place: Option<String>,
    /// The box, drone, courier or user that held or handled the tube.
    pub by: Option<String>,
}
