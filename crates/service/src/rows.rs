//! The rows the store keeps beside the journal for people to query (tubes, boxes,
//! missions, commands by mission), made from the dispatcher's state.

use labflight_core::{Command, Event};
use labflight_dispatch::state::{Carrier, State};
use labflight_store::{BoxRow, MissionRow, TubeRow};
use std::collections::BTreeSet;

/// The mission a command belongs to, if any.
pub(crate) fn mission_of(c: &Command) -> Option<String> {
    match c {
        Command::AssignMission(p) => Some(p.mission.to_string()),
        Command::AbortMission { mission, .. }
        | Command::AddToMission { mission, .. }
        | Command::Redirect { mission, .. }
        | Command::CancelCourier { mission, .. } => Some(mission.to_string()),
        Command::RequestCourier(r) => Some(r.mission.to_string()),
        _ => None,
    }
}

/// The stored row of a tube, from the dispatcher's state.
pub(crate) fn tube_row(state: &State, barcode: &labflight_core::TubeBarcode) -> Option<TubeRow> {
    let t = state.tubes.get(barcode)?;
    let b = state.boxes.get(&t.box_id)?;
    let tube = b.tubes.iter().find(|x| &x.barcode == barcode)?;
    Some(TubeRow {
        barcode: barcode.to_string(),
        station: b.station.to_string(),
        box_id: b.id.to_string(),
        tube_type: tube.tube_type.0.clone(),
        drawn_at: tube.drawn_at,
        status: t.status.name().to_owned(),
    })
}

/// The boxes an event and its commands may have changed.
pub(crate) fn boxes_touched(
    state: &State,
    event: &Event,
    commands: &[Command],
    steps: &[labflight_core::CustodyStep],
) -> BTreeSet<labflight_core::BoxId> {
    let mut ids = BTreeSet::new();
    match event {
        Event::BoxSealed { box_id, .. } | Event::BoxReceived { box_id, .. } => {
            ids.insert(box_id.clone());
        }
        _ => {}
    }
    for s in steps {
        if let Some(t) = state.tubes.get(&s.barcode) {
            ids.insert(t.box_id.clone());
        }
    }
    let of_mission = |m: &labflight_core::MissionId| {
        state
            .missions
            .get(m)
            .map(|m| m.boxes.clone())
            .unwrap_or_default()
    };
    for c in commands {
        let named = match c {
            Command::AssignMission(p) => p.boxes.clone(),
            Command::AddToMission { boxes, .. } => boxes.clone(),
            Command::RequestCourier(r) => r.boxes.clone(),
            Command::AbortMission { mission, .. }
            | Command::Redirect { mission, .. }
            | Command::CancelCourier { mission, .. } => of_mission(mission),
            _ => Vec::new(),
        };
        ids.extend(named);
    }
    ids
}

/// The stored row of a box.
pub(crate) fn box_row(b: &labflight_dispatch::state::SpecimenBox) -> BoxRow {
    let lab = match &b.status {
        labflight_dispatch::state::BoxStatus::Delivered { lab } => Some(lab.to_string()),
        _ => None,
    };
    BoxRow {
        box_id: b.id.to_string(),
        station: b.station.to_string(),
        tubes: b.tubes.len() as i32,
        sealed_at: b.sealed_at,
        status: b.status.name().to_owned(),
        mission: b.status.mission().map(|m| m.to_string()),
        lab,
    }
}

/// The stored row of a mission.
pub(crate) fn mission_row(m: &labflight_dispatch::state::Mission) -> MissionRow {
    MissionRow {
        mission: m.id.to_string(),
        carrier: match &m.carrier {
            Carrier::Drone(d) => d.to_string(),
            Carrier::Courier(c) => c.to_string(),
        },
        station: m.station.to_string(),
        lab: m.lab.to_string(),
        status: format!("{:?}", m.status).to_lowercase(),
    }
}
