//! What a lab may claim about a tube: only the lab the tube's box is delivered to,
//! or on a mission to, may mark it received, spun, rejected, resulted or reported.
//! The one rule both edges ask (the labs' HTTP API and their MQTT events), read
//! against the dispatcher's state.

use crate::state::{BoxStatus, MissionStatus, State, TubeStatus};
use labflight_core::{LabId, MissionId, Reason, TubeBarcode};

/// What a lab says happened to a tube in its hands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabClaim {
    /// The tube's box arrived: the lab scanned it in.
    Received,
    /// Spun down before analysis.
    Centrifuged,
    /// Refused (haemolysed, clotted, mislabelled...).
    Rejected,
    /// Analysed: a result exists.
    Resulted,
    /// The result reached the centre.
    ResultReported,
}

impl LabClaim {
    /// The claim's name as journaled (`Event::CustodyDisputed::claim`).
    pub fn name(self) -> &'static str {
        match self {
            LabClaim::Received => "received",
            LabClaim::Centrifuged => "centrifuged",
            LabClaim::Rejected => "rejected",
            LabClaim::Resulted => "resulted",
            LabClaim::ResultReported => "result_reported",
        }
    }
}

/// Why a claim is refused.
#[derive(Clone, Debug, PartialEq)]
pub enum ClaimRefused {
    /// No tube has this barcode.
    UnknownTube,
    /// The tube is elsewhere.
    NotYours {
        /// Its actual state (`Reason::TubeWhereabouts`: `… is in box B-1
        /// waiting at its centre S-012`), for the lab and the coordinators.
        actual: Reason,
    },
}

/// Whether `lab` may make any claim (`LabClaim`) about `barcode`, given the state now.
pub fn check_lab_claim(
    state: &State,
    lab: &LabId,
    barcode: &TubeBarcode,
) -> Result<(), ClaimRefused> {
    let tube = state.tubes.get(barcode).ok_or(ClaimRefused::UnknownTube)?;
    let received_here = tube.lab.as_ref() == Some(lab) && tube.status >= TubeStatus::AtLab;
    // Devices report on several topics, whose order the broker does not keep
    // between them: a lab's scan may come before the drone's "loaded", or its
    // result before the box's "received". What matters is that the box is the
    // lab's to have, not which report came first.
    if received_here || box_bound_for(state, barcode, lab) {
        Ok(())
    } else {
        Err(ClaimRefused::NotYours {
            actual: tube_whereabouts(state, barcode),
        })
    }
}

/// The tube's box is delivered to `lab`, or on a mission (assigned or under way)
/// flying or driving to it, or redirected away from it (the redirect may have
/// crossed the landing: the box is in that lab's hands), or set down on its pad.
fn box_bound_for(state: &State, barcode: &TubeBarcode, lab: &LabId) -> bool {
    let Some(b) = state
        .tubes
        .get(barcode)
        .and_then(|t| state.boxes.get(&t.box_id))
    else {
        return false;
    };
    match &b.status {
        BoxStatus::Delivered { lab: at } => at == lab,
        BoxStatus::Assigned { mission } | BoxStatus::OnBoard { mission } => {
            state.missions.get(mission).is_some_and(|m| {
                (&m.lab == lab || m.redirected_from.contains(lab))
                    && m.status != MissionStatus::Aborted
            })
        }
        // Set down on the lab's own pad: the lab's to take in.
        BoxStatus::Stranded { .. } => b.set_down.as_ref().and_then(|s| s.lab.as_ref()) == Some(lab),
        BoxStatus::Waiting => false,
    }
}

/// Where labflight has the tube, in words: what a refused lab and the coordinators see.
pub fn tube_whereabouts(state: &State, barcode: &TubeBarcode) -> Reason {
    let Some(tube) = state.tubes.get(barcode) else {
        return Reason::TubeUnknown {
            barcode: barcode.to_string(),
        };
    };
    let Some(b) = state.boxes.get(&tube.box_id) else {
        return Reason::TubeWithoutBox {
            barcode: barcode.to_string(),
        };
    };
    let lab_of = |mission: &MissionId| state.missions.get(mission).map(|m| m.lab.clone());
    let place = match &b.status {
        BoxStatus::Waiting => Reason::BoxWaitingAtCentre {
            station: b.station.clone(),
        },
        BoxStatus::Assigned { mission } => match lab_of(mission) {
            Some(lab) => Reason::BoxAssignedNotPickedUp {
                station: b.station.clone(),
                mission: mission.clone(),
                lab,
            },
            None => Reason::BoxWaitingAtCentre {
                station: b.station.clone(),
            },
        },
        BoxStatus::OnBoard { mission } => match lab_of(mission) {
            Some(lab) => Reason::BoxOnItsWay {
                mission: mission.clone(),
                lab,
            },
            None => Reason::BoxSetDownAwayFromLab,
        },
        BoxStatus::Stranded { .. } => Reason::BoxSetDownAwayFromLab,
        BoxStatus::Delivered { lab } => Reason::BoxDeliveredTo { lab: lab.clone() },
    };
    Reason::TubeWhereabouts {
        barcode: barcode.to_string(),
        status: tube.status.name().to_owned(),
        box_id: b.id.clone(),
        place: Box::new(place),
    }
}
