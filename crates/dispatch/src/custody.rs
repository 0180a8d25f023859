//! Which custody steps an event means for which tubes, read against the dispatcher's
//! state just before the event: a drone landing moves the tubes of the boxes it
//! carries, a courier's pickup moves the tubes of the boxes it collects. The live
//! service stores the steps; nothing here decides anything.

use crate::state::{BoxStatus, Carrier, State};
use labflight_core::event::{CourierEventKind, DroneEventKind};
use labflight_core::{BoxId, CustodyStep, CustodyStepKind as Step, Event, Stamped};

/// The custody steps `stamped` adds, given the state before it was handled.
pub fn custody_steps(before: &State, stamped: &Stamped) -> Vec<CustodyStep> {
    let at = stamped.at;
    let mut out = Vec::new();
    let mut for_box = |b: &BoxId, step: Step, place: Option<String>, by: Option<String>| {
        if let Some(sb) = before.boxes.get(b) {
            for t in &sb.tubes {
                out.push(CustodyStep {
                    barcode: t.barcode.clone(),
                    step,
                    at,
                    place: place.clone(),
                    by: by.clone(),
                });
            }
        }
    };
    match &stamped.event {
        Event::BoxSealed {
            box_id,
            station,
            tubes,
        } => {
            if before.boxes.contains_key(box_id) {
                return out;
            }
            let (place, by) = (station.to_string(), box_id.to_string());
            for t in tubes {
                out.push(CustodyStep {
                    barcode: t.barcode.clone(),
                    step: Step::Drawn,
                    at: t.drawn_at,
                    place: Some(place.clone()),
                    by: None,
                });
                out.push(CustodyStep {
                    barcode: t.barcode.clone(),
                    step: Step::SealedInBox,
                    at,
                    place: Some(place.clone()),
                    by: Some(by.clone()),
                });
            }
        }
        Event::Drone { drone, kind } => {
            // Named only by the kinds that record a step.
            let records = matches!(
                kind,
                DroneEventKind::PayloadLoaded { .. }
                    | DroneEventKind::Landed { .. }
                    | DroneEventKind::PayloadReleased { .. }
            );
            let by = records.then(|| drone.to_string());
            let aboard = |b: &&BoxId| {
                before.boxes.get(*b).is_some_and(|sb| {
                    matches!(&sb.status, BoxStatus::OnBoard { mission }
                        if before.missions.get(mission).is_some_and(|m| m.carrier == Carrier::Drone(drone.clone())))
                })
            };
            // Worked out only for a landing: the simulator and replay ask this of
            // every event, and a day holds thousands of missions.
            let carried = || -> Vec<BoxId> {
                before
                    .missions
                    .values()
                    .filter(|m| m.carrier == Carrier::Drone(drone.clone()))
                    .flat_map(|m| m.boxes.iter())
                    .filter(aboard)
                    .cloned()
                    .collect()
            };
            match kind {
                DroneEventKind::PayloadLoaded { box_id } => {
                    let place = before.boxes.get(box_id).map(lies_at);
                    for_box(box_id, Step::Loaded, place.clone(), by.clone());
                    for_box(box_id, Step::InFlight, place, by);
                }
                DroneEventKind::Landed { pad, position } => {
                    // Landing at the mission's lab is recorded when the lab scans
                    // the box in (below): the two reports come on different links.
                    let place = pad
                        .as_ref()
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| format!("{:.6},{:.6}", position.lat, position.lon));
                    let step = if pad.is_some() {
                        Step::Landed
                    } else {
                        Step::Stranded
                    };
                    // A box its lab already scanned in (held: the drone was
                    // unheard) is received there as the drone lands.
                    let scanned = pad
                        .as_ref()
                        .map(|p| before.scanned_in_aboard(drone, p))
                        .unwrap_or_default();
                    let held = |b: &BoxId| scanned.iter().any(|(s, _)| s == b);
                    let mut landed: Vec<BoxId> = carried()
                        .into_iter()
                        .filter(|b| lab_pad_of(before, b) != *pad || held(b))
                        .collect();
                    // Loaded with no mission to carry them: set down here.
                    landed.extend(before.stranded_aboard(drone).map(|b| b.id.clone()));
                    for b in &landed {
                        for_box(b, step, Some(place.clone()), by.clone());
                    }
                    for (b, lab) in &scanned {
                        for_box(b, Step::ReceivedAtLab, Some(lab.to_string()), None);
                    }
                }
                DroneEventKind::PayloadReleased { box_id } => {
                    for_box(box_id, Step::Landed, None, by);
                }
                _ => {}
            }
        }
        Event::Courier { courier, kind } => {
            let by = Some(courier.to_string());
            match kind {
                CourierEventKind::PickedUp { boxes } => {
                    // Only what was booked on this van: a box that went with another
                    // carrier keeps its custody (the dispatcher raises the conflict).
                    let booked = |b: &&BoxId| before.van_run_awaiting(b, courier).is_some();
                    for b in boxes.iter().filter(booked) {
                        let place = before.boxes.get(b).map(lies_at);
                        for_box(b, Step::Loaded, place.clone(), by.clone());
                        for_box(b, Step::InVan, place, by.clone());
                    }
                }
                CourierEventKind::Delivered { lab, boxes } => {
                    for b in boxes {
                        // Its pickup report still to come (a redelivery after a
                        // restart may come after the delivery): the van had it.
                        if before.van_run_awaiting(b, courier).is_some() {
                            let place = before.boxes.get(b).map(lies_at);
                            for_box(b, Step::Loaded, place.clone(), by.clone());
                            for_box(b, Step::InVan, place, by.clone());
                        }
                        let received = before
                            .boxes
                            .get(b)
                            .is_some_and(|sb| matches!(sb.status, BoxStatus::Delivered { .. }));
                        if !received {
                            for_box(b, Step::ReceivedAtLab, Some(lab.to_string()), by.clone());
                        }
                    }
                }
                CourierEventKind::Available { .. } => {}
            }
        }
        Event::BoxReceived { box_id, lab } => {
            let Some(sb) = before.boxes.get(box_id) else {
                return out;
            };
            // A lab the mission was redirected away from: the drone's own report
            // of landing on that lab's pad records the landing.
            if let BoxStatus::OnBoard { mission } = &sb.status
                && let Some(m) = before.missions.get(mission)
                && let Carrier::Drone(drone) = &m.carrier
                && m.lab == *lab
            {
                let pad = lab_pad_of(before, box_id).map(|p| p.to_string());
                let place = pad.or_else(|| Some(lab.to_string()));
                for_box(box_id, Step::Landed, place, Some(drone.to_string()));
            }
            if !matches!(sb.status, BoxStatus::Delivered { .. }) {
                for_box(box_id, Step::ReceivedAtLab, Some(lab.to_string()), None);
            }
        }
        Event::TubeResulted { barcode, lab } if before.tubes.contains_key(barcode) => {
            out.push(CustodyStep {
                barcode: barcode.clone(),
                step: Step::Resulted,
                at,
                place: Some(lab.to_string()),
                by: None,
            });
        }
        Event::TubeCentrifuged { barcode, lab } if before.tubes.contains_key(barcode) => {
            out.push(CustodyStep {
                barcode: barcode.clone(),
                step: Step::Centrifuged,
                at,
                place: Some(lab.to_string()),
                by: None,
            });
        }
        Event::TubeRejected {
            barcode,
            lab,
            reason,
        } if before.tubes.contains_key(barcode) => {
            out.push(CustodyStep {
                barcode: barcode.clone(),
                step: Step::RejectedAtLab,
                at,
                place: Some(lab.to_string()),
                by: Some(reason.clone()),
            });
        }
        Event::ResultReported { barcode } => {
            if let Some(t) = before.tubes.get(barcode) {
                let station = before.boxes.get(&t.box_id).map(|b| b.station.to_string());
                out.push(CustodyStep {
                    barcode: barcode.clone(),
                    step: Step::Reported,
                    at,
                    place: station,
                    by: None,
                });
            }
        }
        _ => {}
    }
    out
}

/// Where a box is loaded from: its centre, or the pad a drone set it down on.
fn lies_at(b: &crate::state::SpecimenBox) -> String {
    b.set_down
        .as_ref()
        .map_or_else(|| b.station.to_string(), |s| s.pad.to_string())
}

/// The lab pad of the drone mission a box is aboard, if any.
fn lab_pad_of(state: &State, b: &BoxId) -> Option<labflight_core::PadId> {
    let BoxStatus::OnBoard { mission } = &state.boxes.get(b)?.status else {
        return None;
    };
    state.missions.get(mission)?.plan.as_ref()?.lab_pad.clone()
}
