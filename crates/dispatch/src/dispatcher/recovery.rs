//! Trouble every policy handles the same way: a mission aborted (its drone faulted,
//! was lost, paused or reassigned), the fleet grounded, a lab that can no longer
//! take what is bound for it. Boxes go back to waiting, or lie stranded on the pad
//! the drone landed on for another drone, a van, or the lab's reception.

use crate::ctx::Ctx;
use crate::planner::plan_leg;
use crate::state::{BoxStatus, Carrier, DroneStatus, MissionStatus, SetDown, SpecimenBox};
use crate::world::World;
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Recovery, Severity};
use labflight_core::{BoxId, Command, LabId, MissionId};

/// Aborts a mission: a drone that has not loaded yet returns to a pad and its
/// boxes wait again; one carrying boxes lands at the nearest pad and a courier
/// recovers them.
pub(super) fn abort_mission(ctx: &mut Ctx<'_>, mission: &MissionId, reason: &str) {
    let Some(m) = ctx.state.missions.get_mut(mission) else {
        return;
    };
    if matches!(m.status, MissionStatus::Delivered | MissionStatus::Aborted) {
        return;
    }
    let picked_up = m.status == MissionStatus::PickedUp;
    m.status = MissionStatus::Aborted;
    let (boxes, lab, carrier) = (m.boxes.clone(), m.lab.clone(), m.carrier.clone());
    let hub = m.plan.as_ref().and_then(|p| p.hub.clone());
    ctx.unbook_inbound(&boxes, &lab);
    // The van that was to meet the drone at the hub finds nothing there.
    if let Some(hub) = &hub {
        call_off_hub_van(ctx, hub, reason);
    }
    let drone = match carrier {
        Carrier::Drone(drone) => drone,
        // A van not yet loaded is told not to call: it must not collect a box
        // that has gone with another carrier. (Its booking stays: where it is
        // on its way is not known here, so it is free again when the run would
        // have ended.)
        Carrier::Courier(courier) if !picked_up => {
            ctx.out.push(Command::CancelCourier {
                mission: mission.clone(),
                courier,
                reason: reason.to_owned(),
            });
            return;
        }
        Carrier::Courier(_) => return,
    };
    let position = ctx
        .state
        .drones
        .get(&drone)
        .map(|d| d.position)
        .unwrap_or(ctx.world.frame.origin);
    let world = ctx.world;
    let Some(pad) = nearest_pad(world, position) else {
        return;
    };
    if let Some(m) = ctx.state.missions.get_mut(mission) {
        m.abort_pad = Some(pad.clone());
    }
    let recovery = if picked_up {
        Recovery::LandAtNearestPad { pad: pad.clone() }
    } else {
        Recovery::ReturnToPad { pad: pad.clone() }
    };
    let pad_pos = world.pad_position(&pad).unwrap_or(position);
    for b in &boxes {
        let Some(sb) = ctx.state.boxes.get_mut(b) else {
            continue;
        };
        // On a round, boxes at centres not yet called at were never loaded; a box
        // a drone was to fetch from a pad away from its centre still lies there;
        // a box a lab has taken in meanwhile stays there.
        if matches!(sb.status, BoxStatus::Delivered { .. }) {
            continue;
        }
        if matches!(sb.status, BoxStatus::OnBoard { .. }) {
            sb.status = BoxStatus::Stranded { at: pad_pos };
            sb.set_down = Some(SetDown::on(world, pad.clone(), ctx.state.now));
        } else if let Some(lying) = sb.set_down.as_ref() {
            let at = world.pad_position(&lying.pad).unwrap_or(pad_pos);
            sb.status = BoxStatus::Stranded { at };
        } else {
            sb.status = BoxStatus::Waiting;
        }
    }
    ask_lab_to_take_in(ctx, &boxes);
    if let Some(d) = ctx.state.drones.get_mut(&drone)
        && d.mission() == Some(mission)
    {
        d.status = DroneStatus::Returning { pad: pad.clone() };
        d.last_seen = d.last_seen.max(ctx.state.now);
    }
    ctx.out.push(Command::AbortMission {
        mission: mission.clone(),
        drone,
        recovery,
        reason: reason.to_owned(),
    });
}

/// Calls off a hub leg's van run not yet collected: the boxes will not be on
/// the hub's pad. Its boxes were booked into the lab by the drone mission, which
/// released them.
pub(super) fn call_off_hub_van(
    ctx: &mut Ctx<'_>,
    hub: &labflight_core::command::Hub,
    reason: &str,
) {
    let Some(van) = ctx.state.missions.get_mut(&hub.van_run) else {
        return;
    };
    if van.status != MissionStatus::Assigned {
        return;
    }
    van.status = MissionStatus::Aborted;
    ctx.out.push(Command::CancelCourier {
        mission: hub.van_run.clone(),
        courier: hub.courier.clone(),
        reason: reason.to_owned(),
    });
}

/// Grounds the fleet: missions not yet loaded are aborted (boxes wait for a van
/// or the release); drones carrying boxes land at the nearest pad.
pub(super) fn ground_fleet(ctx: &mut Ctx<'_>, cause: Reason) {
    let why = ctx.english(&cause);
    let why = why.as_str();
    ctx.alert(
        AlertKind::FleetGrounded,
        Severity::Critical,
        "fleet",
        Reason::FleetGrounded {
            why: Box::new(cause),
        },
    );
    let active: Vec<MissionId> = ctx
        .state
        .missions
        .values()
        .filter(|m| matches!(m.carrier, Carrier::Drone(_)))
        .filter(|m| matches!(m.status, MissionStatus::Assigned | MissionStatus::PickedUp))
        .map(|m| m.id.clone())
        .collect();
    for m in active {
        let loaded = ctx
            .state
            .missions
            .get(&m)
            .is_some_and(|x| x.status == MissionStatus::PickedUp);
        if !loaded {
            abort_mission(ctx, &m, why);
        }
    }
}

/// Missions bound for `lab` that it can no longer serve: flying ones are
/// redirected to the best other lab (`only` that one, when a coordinator chose
/// it); ones not yet loaded are re-planned.
pub(super) fn reroute_from(ctx: &mut Ctx<'_>, lab: &LabId, only: Option<&LabId>, cause: Reason) {
    let reason = ctx.english(&cause);
    let reason = reason.as_str();
    ctx.alert(
        AlertKind::LabUnavailable,
        Severity::Warning,
        lab.as_str(),
        cause,
    );
    let affected: Vec<MissionId> = ctx
        .state
        .missions
        .values()
        .filter(|m| {
            m.lab == *lab && matches!(m.status, MissionStatus::Assigned | MissionStatus::PickedUp)
        })
        .map(|m| m.id.clone())
        .collect();
    for id in affected {
        let m = ctx.state.missions[&id].clone();
        let arrive = m.planned_arrival;
        let boxes: Vec<&SpecimenBox> = m
            .boxes
            .iter()
            .filter_map(|b| ctx.state.boxes.get(b))
            .collect();
        let families = crate::planner::families_of(boxes.iter().copied());
        let still_fine = ctx
            .world
            .labs
            .get(lab)
            .is_some_and(|l| ctx.predicted_result(l, &families, arrive).is_ok());
        if still_fine {
            continue;
        }
        // A hub leg's van takes the boxes on to the lab it was booked for, as any
        // van already on its way keeps its run.
        let hub_leg = m.plan.as_ref().is_some_and(|p| p.hub.is_some());
        match (&m.carrier, m.status.clone()) {
            (Carrier::Drone(_), MissionStatus::PickedUp) if hub_leg => {}
            (Carrier::Drone(drone), MissionStatus::PickedUp) => {
                // Straight to another lab: centres not yet called at wait for another drone.
                release_unloaded(ctx, &id);
                let m = ctx.state.missions[&id].clone();
                let boxes: Vec<&SpecimenBox> = m
                    .boxes
                    .iter()
                    .filter_map(|b| ctx.state.boxes.get(b))
                    .collect();
                let Some(pos) = ctx.state.drones.get(drone).map(|d| d.position) else {
                    continue;
                };
                let payload: f64 = boxes.iter().map(|b| b.payload_kg).sum();
                let now = ctx.state.now;
                let (choice, _) = ctx.choose_lab(pos, &m.boxes, payload, now, only);
                let Some(choice) = choice.filter(|c| c.lab != *lab) else {
                    continue;
                };
                let Some(leg) = plan_leg(
                    ctx.world,
                    ctx.state,
                    ctx.cache,
                    pos,
                    ctx.world.labs[&choice.lab].position,
                    payload,
                ) else {
                    continue;
                };
                ctx.unbook_inbound(&m.boxes, lab);
                let lab_pad = ctx.world.lab_pad(&choice.lab).cloned();
                let arrival = now + leg.duration();
                let m_mut = ctx.state.missions.get_mut(&id).expect("listed above");
                m_mut.redirect_to(&choice.lab, lab_pad, arrival);
                let leg = leg.to_leg(drone.as_str(), choice.lab.as_str(), now);
                let boxes_ids = m.boxes.clone();
                ctx.forecast_planned(&boxes_ids, &choice.lab, None, arrival);
                ctx.out.push(Command::Redirect {
                    mission: id.clone(),
                    drone: drone.clone(),
                    lab: choice.lab.clone(),
                    leg,
                    reason: reason.to_owned(),
                });
                // Book the new lab's inbound load.
                let families: Vec<_> = boxes_ids
                    .iter()
                    .filter_map(|b| ctx.state.boxes.get(b))
                    .flat_map(|b| b.tubes.iter().flat_map(|t| t.families.iter().copied()))
                    .collect();
                let ls = ctx.lab_mut(&choice.lab);
                for f in families {
                    *ls.inbound.entry(f).or_insert(0) += 1;
                }
            }
            (Carrier::Drone(_), MissionStatus::Assigned) => abort_mission(ctx, &id, reason),
            // A van already on its way keeps its run; the lab holds the tubes for the next analyzer.
            _ => {}
        }
    }
}

/// Takes the boxes a round has not loaded yet off the mission: they wait again.
fn release_unloaded(ctx: &mut Ctx<'_>, mission: &MissionId) {
    let Some(m) = ctx.state.missions.get(mission) else {
        return;
    };
    let unloaded: Vec<BoxId> = m
        .boxes
        .iter()
        .filter(|b| {
            ctx.state
                .boxes
                .get(*b)
                .is_some_and(|b| matches!(b.status, BoxStatus::Assigned { .. }))
        })
        .cloned()
        .collect();
    if unloaded.is_empty() {
        return;
    }
    let lab = m.lab.clone();
    ctx.unbook_inbound(&unloaded, &lab);
    for b in &unloaded {
        if let Some(sb) = ctx.state.boxes.get_mut(b) {
            sb.status = BoxStatus::Waiting;
        }
    }
    let m = ctx
        .state
        .missions
        .get_mut(mission)
        .expect("looked up above");
    m.boxes.retain(|b| !unloaded.contains(b));
    if let Some(plan) = m.plan.as_mut() {
        plan.boxes.retain(|b| !unloaded.contains(b));
        for stop in plan.later_stops.iter_mut() {
            stop.boxes.retain(|b| !unloaded.contains(b));
        }
    }
}

/// Asks the lab whose pad a box was just set down on to take it in, when it can
/// (`policy::lab_to_take_in`): the box is there, a van would only drive it round.
pub(super) fn ask_lab_to_take_in(ctx: &mut Ctx<'_>, boxes: &[BoxId]) {
    for box_id in boxes {
        let Some(b) = ctx.state.boxes.get(box_id) else {
            continue;
        };
        if !matches!(b.status, BoxStatus::Stranded { .. }) {
            continue;
        }
        if let Some(lab) = crate::policy::base::lab_to_take_in(ctx, b) {
            ctx.alert(
                AlertKind::TubeAtRisk,
                Severity::Warning,
                box_id.as_str(),
                Reason::SetDownForLab { lab: lab.clone() },
            );
        }
    }
}

/// The pad nearest `position`, where a drone in trouble lands.
pub(super) fn nearest_pad(
    world: &World,
    position: labflight_core::LatLon,
) -> Option<labflight_core::PadId> {
    world
        .index
        .nearest_pad_with_capacity(position, |_| true)
        .map(|(s, _)| labflight_core::PadId::from(s.id.as_str()))
}
