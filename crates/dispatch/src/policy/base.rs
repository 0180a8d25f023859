//! What every policy shares, below the policies themselves: the `Policy` trait,
//! which of a centre's boxes one drone carries, and what happens to boxes a drone
//! in trouble set down (a lab's reception takes them in, or a van recovers them).
//! The dispatcher uses it too (a coordinator's reassignment, a box set down at a
//! lab); nothing here knows any particular policy.

use crate::ctx::Ctx;
use crate::planner::evaluate_drone;
use crate::state::{BoxStatus, SpecimenBox, State};
use crate::world::{World, family_mask};
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Alternative, Explanation, Severity};
use labflight_core::pad::PadSite;
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, DroneId, LabId, LatLon, PadId, StationId};
use std::collections::BTreeMap;

/// A dispatch policy: decides what moves after every event that may change the answer.
pub trait Policy: std::fmt::Debug + Send {
    /// The policy's name (`PolicyKind::name`).
    fn name(&self) -> &'static str;
    /// Decide what to move now; called after every event that may change the answer.
    fn plan(&mut self, ctx: &mut Ctx<'_>);
    /// Whether a box sealed while a drone is on its way to the centre joins that flight.
    fn rides_along(&self) -> bool {
        true
    }
    /// What the policy remembers between events, for a snapshot (none by default).
    fn save(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// Takes back what `save` gave.
    fn load(&mut self, _saved: &serde_json::Value) -> Result<(), String> {
        Ok(())
    }
}

/// Plans the boxes waiting at `station` with one given drone (a coordinator's
/// reassignment). Alerts when that drone cannot do it.
pub(crate) fn assign_station_to(ctx: &mut Ctx<'_>, station: &StationId, drone: &DroneId, by: &str) {
    let Some(pos) = ctx.world.stations.get(station).map(|s| s.position) else {
        return;
    };
    let waiting = ctx
        .state
        .waiting_boxes()
        .remove(station)
        .unwrap_or_default();
    let boxes = load_boxes(ctx, &waiting);
    if boxes.is_empty() || !ctx.drone_available(drone) {
        ctx.alert(
            AlertKind::NoFeasibleDrone,
            Severity::Warning,
            drone.as_str(),
            Reason::CannotReassignUnavailable {
                drone: drone.clone(),
            },
        );
        return;
    }
    let payload: f64 = boxes.iter().map(|b| ctx.state.boxes[b].payload_kg).sum();
    let now = ctx.state.now;
    let (lab, alts) = ctx.choose_lab(pos, &boxes, payload, now, None);
    let Some(lab) = lab else {
        return;
    };
    let d = ctx.state.drones[drone].clone();
    match evaluate_drone(ctx.world, ctx.state, ctx.cache, &d, pos, payload, &lab.leg) {
        Ok(option) => {
            let mut alternatives = vec![Alternative::new(
                Some(drone.clone()),
                None,
                (option.pickup_at - now).num_seconds() as f64 / 60.0,
                Reason::Chosen,
                ctx.world.offset,
            )];
            alternatives.extend(alts);
            let why = Explanation::new(
                Reason::ReassignedBy { by: by.to_owned() },
                alternatives,
                ctx.world.offset,
            );
            ctx.assign_drone(
                drone,
                station,
                boxes,
                &lab,
                &option,
                Vec::new(),
                payload,
                why,
            );
        }
        Err(reason) => ctx.alert(
            AlertKind::NoFeasibleDrone,
            Severity::Warning,
            drone.as_str(),
            Reason::CannotReassign {
                drone: drone.clone(),
                why: Box::new(reason),
            },
        ),
    }
}

/// Of `waiting` (a centre's waiting boxes, oldest first), those one drone can
/// carry to one lab: within the payload, and together needing only tests some
/// lab runs all of (a box no lab can test is never loaded; see
/// `alert_untestable`).
pub(crate) fn load_boxes(
    ctx: &Ctx<'_>,
    waiting: &[labflight_core::BoxId],
) -> Vec<labflight_core::BoxId> {
    load_boxes_up_to(ctx, waiting, ctx.world.drone_spec.max_payload_kg)
}

/// `load_boxes` for a carrier taking up to `max` kg (a van: `f64::INFINITY`).
pub(crate) fn load_boxes_up_to(
    ctx: &Ctx<'_>,
    waiting: &[labflight_core::BoxId],
    max: f64,
) -> Vec<labflight_core::BoxId> {
    let mut payload = 0.0;
    // The families needed so far, as bits (`family_mask`).
    let mut needs = 0;
    let mut out = Vec::new();
    for id in waiting {
        let Some(b) = ctx.state.boxes.get(id) else {
            continue;
        };
        if payload + b.payload_kg > max + 1e-9 {
            continue;
        }
        let with = needs | family_mask(&b.families);
        if with != needs {
            if !ctx.world.some_lab_runs_mask(with) {
                continue;
            }
            needs = with;
        }
        payload += b.payload_kg;
        out.push(id.clone());
    }
    out
}

/// Alerts, once each, the waiting boxes of `waiting` that no lab of the world can
/// test (a tube needs a family none runs all of with the others): no path may
/// send them anywhere, and the coordinator must find the tubes another way.
pub(crate) fn alert_untestable(ctx: &mut Ctx<'_>, waiting: &[BoxId]) {
    for id in waiting {
        let Some(b) = ctx.state.boxes.get(id) else {
            continue;
        };
        if b.at_risk_alerted || ctx.world.some_lab_runs(&b.families) {
            continue;
        }
        if let Some(b) = ctx.state.boxes.get_mut(id) {
            b.at_risk_alerted = true;
        }
        ctx.forecast_risk(
            std::slice::from_ref(id),
            &labflight_core::forecast::Risk::NoLab,
        );
        ctx.alert(
            AlertKind::TubeAtRisk,
            Severity::Critical,
            id.as_str(),
            labflight_core::reason::Reason::NoLabRunsEveryTest,
        );
    }
}

/// How long a box that a drone in trouble set down on a lab's pad is left for that
/// lab's reception to take in before a van is sent for it.
const LAB_TAKES_IN_MINUTES: f64 = 15.0;

/// Every box stranded on a drone that landed away from a lab, in id order: listed
/// once per plan, for the drones that may fetch them and the vans.
pub(crate) fn stranded_boxes(state: &State) -> Vec<BoxId> {
    state
        .open_boxes()
        .filter(|b| matches!(b.status, BoxStatus::Stranded { .. }))
        .map(|b| b.id.clone())
        .collect()
}

/// The `stranded` boxes go by van to the best lab, one van for all the boxes in
/// one place; but not those set down on the pad of a lab that can take them in,
/// for a while.
pub(crate) fn recover_stranded(ctx: &mut Ctx<'_>, stranded: &[BoxId]) {
    // By where they lie: the centre named, the pad away from it if so, the position.
    type Place = (StationId, Option<PadId>, LatLon, Vec<BoxId>);
    let mut by_place: BTreeMap<String, Place> = BTreeMap::new();
    for b in stranded.iter().filter_map(|id| ctx.state.boxes.get(id)) {
        let BoxStatus::Stranded { at } = b.status else {
            continue;
        };
        if lab_to_take_in(ctx, b).is_some() {
            continue;
        }
        let place = b.set_down.as_ref().map_or_else(
            || format!("{:.6},{:.6}", at.lat, at.lon),
            |s| s.pad.to_string(),
        );
        let (centre, away) = next_call_for(ctx.world, b);
        by_place
            .entry(place)
            .or_insert_with(|| (centre, away, at, Vec::new()))
            .3
            .push(b.id.clone());
    }
    let why = "recover a box from a drone that landed away from a lab";
    for (station, away, at, boxes) in by_place.into_values() {
        match ctx.quote_van_run(at, &boxes) {
            Some(van) => ctx.book_van_run_at(&station, away.as_ref(), boxes, &van, why),
            None => {
                for box_id in boxes {
                    let Some(sb) = ctx.state.boxes.get_mut(&box_id) else {
                        continue;
                    };
                    if !std::mem::replace(&mut sb.at_risk_alerted, true) {
                        ctx.alert(
                            AlertKind::TubeAtRisk,
                            Severity::Critical,
                            box_id.as_str(),
                            Reason::StrandedNoVan,
                        );
                    }
                }
            }
        }
    }
}

/// Where the next carrier calls for a stranded box: the centre whose pad it lies
/// on; on a lab's or a depot's pad, that pad (and the centre it came from, named
/// but not called at).
pub(crate) fn next_call_for(world: &World, b: &SpecimenBox) -> (StationId, Option<PadId>) {
    let pad = b.set_down.as_ref().and_then(|s| world.pads.get(&s.pad));
    match pad.map(|p| (&p.id, &p.site)) {
        Some((_, PadSite::Station(s))) => (s.clone(), None),
        Some((id, _)) => (b.station.clone(), Some(id.clone())),
        None => (b.station.clone(), None),
    }
}

/// The lab whose pad a stranded box was set down on, if that lab can do its tests
/// and `LAB_TAKES_IN_MINUTES` have not yet passed: its reception takes it in.
pub(crate) fn lab_to_take_in(ctx: &Ctx<'_>, b: &SpecimenBox) -> Option<LabId> {
    let set_down = b.set_down.as_ref()?;
    if ctx.state.now - set_down.since >= minutes(LAB_TAKES_IN_MINUTES) {
        return None;
    }
    let PadSite::Lab(lab) = &ctx.world.pads.get(&set_down.pad)?.site else {
        return None;
    };
    let l = ctx.world.labs.get(lab)?;
    ctx.predicted_result(l, &b.families, ctx.state.now)
        .ok()
        .map(|_| lab.clone())
}
