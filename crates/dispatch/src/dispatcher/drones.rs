//! What drones report besides telemetry: take-off, landing, a box loaded, a
//! mission complete, a battery ready, a fault, a lost or restored link. Custody
//! follows the box: a drone reporting a box it was not sent for takes it into its
//! own mission, resumes an aborted one, or strands it where it lands.

use super::homing::after_flight;
use super::recovery::{abort_mission, ask_lab_to_take_in, nearest_pad};
use crate::ctx::Ctx;
use crate::state::{BoxStatus, Carrier, DroneStatus, MissionStatus, SetDown};
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Severity};
use labflight_core::event::DroneEventKind;
use labflight_core::{BoxId, Command, DroneId, MissionId, PadId};

/// Something happened to a drone: it is heard from (its link restored unless it
/// reports the loss); whether to plan again.
pub(super) fn apply_drone_event(ctx: &mut Ctx<'_>, drone: &DroneId, kind: &DroneEventKind) -> bool {
    let now = ctx.state.now;
    let Some(d) = ctx.state.drones.get_mut(drone) else {
        return false;
    };
    d.last_seen = now;
    // A drone that reports anything but the loss of its link is heard from again.
    let heard_again =
        *kind != DroneEventKind::LinkLost && std::mem::replace(&mut d.link_lost, false);
    apply_drone_event_kind(ctx, drone, kind) || heard_again
}

/// What each drone event means for the drone, its mission and its boxes.
fn apply_drone_event_kind(ctx: &mut Ctx<'_>, drone: &DroneId, kind: &DroneEventKind) -> bool {
    let Some(d) = ctx.state.drones.get_mut(drone) else {
        return false;
    };
    match kind {
        DroneEventKind::TookOff => {
            d.pad = None;
            false
        }
        DroneEventKind::Landed { pad, position } => {
            d.position = *position;
            d.pad = pad.clone();
            if let Some(mission) = d.mission().cloned()
                && let Some(pad) = pad
                && obeyed_the_abort(ctx, drone, &mission, pad)
            {
                return true;
            }
            let Some(d) = ctx.state.drones.get_mut(drone) else {
                return false;
            };
            let home = matches!(&d.status, DroneStatus::Returning { pad: target }
                if Some(target) == pad.as_ref());
            if home {
                d.status = DroneStatus::Idle;
            }
            let handed = pad
                .as_ref()
                .is_some_and(|p| hand_over_on_landing(ctx, drone, p));
            if home {
                after_flight(ctx, drone);
            }
            home || handed
        }
        DroneEventKind::PayloadLoaded { box_id } => payload_loaded(ctx, drone, box_id),
        DroneEventKind::PayloadReleased { .. } => false,
        DroneEventKind::MissionComplete { mission } => {
            if d.mission() == Some(mission) {
                d.status = DroneStatus::Idle;
                d.flights += 1;
                if let Some(m) = ctx.state.missions.get(mission) {
                    // Where it ends: the lab's pad, or a hub leg's hub.
                    let ends_on = m.plan.as_ref().and_then(|p| match &p.hub {
                        Some(hub) => Some(hub.pad.clone()),
                        None => p.lab_pad.clone(),
                    });
                    if d.pad.is_none() {
                        d.pad = ends_on;
                    }
                }
                hand_over_at_hub(ctx, mission);
                after_flight(ctx, drone);
            }
            true
        }
        DroneEventKind::BatteryReady { battery_pct } => {
            d.battery_pct = battery_pct.clamp(0.0, 100.0);
            if matches!(d.status, DroneStatus::Charging { .. }) {
                d.status = DroneStatus::Idle;
                after_flight(ctx, drone);
            }
            true
        }
        DroneEventKind::Fault { reason } => {
            let mission = d.mission().cloned();
            d.status = DroneStatus::Fault {
                reason: reason.clone(),
            };
            ctx.alert(
                AlertKind::DroneFault,
                Severity::Critical,
                drone.as_str(),
                Reason::DroneFault {
                    detail: reason.to_string(),
                },
            );
            if let Some(m) = mission {
                abort_mission(ctx, &m, &format!("drone fault: {reason}"));
            }
            true
        }
        DroneEventKind::LinkLost => {
            if !std::mem::replace(&mut d.link_lost, true) {
                ctx.alert(
                    AlertKind::DroneLost,
                    Severity::Warning,
                    drone.as_str(),
                    Reason::LinkLost,
                );
            }
            false
        }
        DroneEventKind::LinkRestored => {
            d.link_lost = false;
            true
        }
    }
}

/// A drone reports a box loaded. Normally the box was assigned to the mission it
/// flies. Otherwise custody follows the box, not the plan: a drone declared lost
/// (its mission aborted, the box re-planned) may reappear with the box on board.
/// The box leaves whatever else was planned for it, and the drone's aborted
/// mission resumes to the best lab; on a drone flying another mission it rides to
/// that mission's lab; failing both it is stranded where the drone lands, for a
/// van. Whether the plan changed (a freed drone or van is free again).
fn payload_loaded(ctx: &mut Ctx<'_>, drone: &DroneId, box_id: &BoxId) -> bool {
    let flying = ctx
        .state
        .drones
        .get(drone)
        .and_then(|d| d.mission().cloned());
    let Some(b) = ctx.state.boxes.get_mut(box_id) else {
        return false;
    };
    if b.loaded_on.as_ref() == Some(drone) {
        return false;
    }
    b.loaded_on = Some(drone.clone());
    let status = b.status.clone();
    match &status {
        BoxStatus::Assigned { mission } if flying.as_ref() == Some(mission) => {
            load_on(ctx, box_id, mission);
            return false;
        }
        BoxStatus::OnBoard { mission } if flying.as_ref() == Some(mission) => return false,
        // At its centre, or on the pad a drone set it down on: custody follows the box.
        BoxStatus::Waiting | BoxStatus::Assigned { .. } | BoxStatus::Stranded { .. } => {}
        other => {
            let msg = Reason::LoadingConflict {
                drone: drone.clone(),
                box_id: box_id.clone(),
                status: other.name().to_owned(),
            };
            ctx.alert(
                AlertKind::CustodyConflict,
                Severity::Critical,
                box_id.as_str(),
                msg,
            );
            return false;
        }
    }
    // The box is on this drone, not where the plan had it.
    if let BoxStatus::Assigned { mission } = &status {
        leave_mission(ctx, box_id, mission, drone);
    }
    if let Some(m) = flying {
        // A mission of this drone's already holding the box (a second box of a
        // resumed mission), or another one it is flying: the box rides along.
        if let Some(mm) = ctx.state.missions.get_mut(&m)
            && !mm.boxes.contains(box_id)
        {
            mm.boxes.push(box_id.clone());
        }
        let (lab, arrival) = {
            let mm = &ctx.state.missions[&m];
            (mm.lab.clone(), mm.planned_arrival)
        };
        ctx.forecast_planned(std::slice::from_ref(box_id), &lab, None, arrival);
        ctx.book_inbound_for(std::slice::from_ref(box_id), &lab);
        load_on(ctx, box_id, &m);
        let msg = Reason::LoadedOnOtherMission {
            box_id: box_id.clone(),
            drone: drone.clone(),
            mission: m.clone(),
            lab: lab.clone(),
        };
        ctx.alert(
            AlertKind::CustodyConflict,
            Severity::Warning,
            drone.as_str(),
            msg,
        );
        return true;
    }
    if resume_aborted_mission(ctx, drone, box_id) {
        return true;
    }
    strand_on(ctx, drone, box_id);
    true
}

/// Marks a box on board `mission`, which is then picked up.
fn load_on(ctx: &mut Ctx<'_>, box_id: &BoxId, mission: &MissionId) {
    if let Some(b) = ctx.state.boxes.get_mut(box_id) {
        b.status = BoxStatus::OnBoard {
            mission: mission.clone(),
        };
        b.set_down = None;
    }
    if let Some(m) = ctx.state.missions.get_mut(mission) {
        m.status = MissionStatus::PickedUp;
    }
}

/// Takes a box out of a mission planned for it (it left on `drone`); a mission left
/// with nothing to carry is aborted, freeing its drone or van.
fn leave_mission(ctx: &mut Ctx<'_>, box_id: &BoxId, mission: &MissionId, drone: &DroneId) {
    let Some(m) = ctx.state.missions.get_mut(mission) else {
        return;
    };
    m.boxes.retain(|b| b != box_id);
    let (lab, empty) = (m.lab.clone(), m.boxes.is_empty());
    ctx.unbook_inbound(std::slice::from_ref(box_id), &lab);
    if empty {
        abort_mission(ctx, mission, &format!("its box {box_id} left on {drone}"));
    }
}

/// What a drone landing on `pad` hands over besides its mission's boxes: boxes
/// stranded aboard lie there now, and boxes the pad's lab already scanned in
/// (its claim disputed then: the drone was unheard, the box thought elsewhere)
/// are received there. Whether any box moved.
fn hand_over_on_landing(ctx: &mut Ctx<'_>, drone: &DroneId, pad: &PadId) -> bool {
    let scanned = ctx.state.scanned_in_aboard(drone, pad);
    let moved = set_down_where_landed(ctx, drone, pad);
    for (box_id, lab) in &scanned {
        super::lab::box_delivered(ctx, box_id, lab);
    }
    moved || !scanned.is_empty()
}

/// A drone whose aborted mission was resumed (`resume_aborted_mission`) lands on
/// the pad the abort sent it to, not its lab's: it obeyed the abort before the
/// resumption reached it, and set its boxes down there. The mission ends there
/// (aborted again) and the boxes lie on that pad for the next carrier. Whether
/// that is what happened.
fn obeyed_the_abort(ctx: &mut Ctx<'_>, drone: &DroneId, mission: &MissionId, pad: &PadId) -> bool {
    let Some(m) = ctx.state.missions.get_mut(mission) else {
        return false;
    };
    let lab_pad = m.plan.as_ref().and_then(|p| p.lab_pad.as_ref());
    if m.abort_pad.as_ref() != Some(pad) || lab_pad == Some(pad) {
        return false;
    }
    m.status = MissionStatus::Aborted;
    let (boxes, lab) = (m.boxes.clone(), m.lab.clone());
    let (world, now) = (ctx.world, ctx.state.now);
    let at = world.pad_position(pad).unwrap_or(world.frame.origin);
    let mut set_down = Vec::new();
    for b in &boxes {
        let Some(sb) = ctx.state.boxes.get_mut(b) else {
            continue;
        };
        if !matches!(&sb.status, BoxStatus::OnBoard { mission: on } if on == mission) {
            continue;
        }
        sb.status = BoxStatus::Stranded { at };
        sb.set_down = Some(SetDown::on(world, pad.clone(), now));
        sb.loaded_on = None;
        set_down.push(b.clone());
    }
    ctx.unbook_inbound(&set_down, &lab);
    if let Some(d) = ctx.state.drones.get_mut(drone) {
        d.status = DroneStatus::Idle;
    }
    ask_lab_to_take_in(ctx, &set_down);
    after_flight(ctx, drone);
    true
}

/// Boxes stranded aboard `drone` (loaded with no mission, or aboard a mission
/// aborted in flight) lie where it actually landed, which may not be the pad it
/// was told to land at: a drone declared lost flies on unheard.
fn set_down_where_landed(ctx: &mut Ctx<'_>, drone: &DroneId, pad: &PadId) -> bool {
    let (world, now) = (ctx.world, ctx.state.now);
    let Some(at) = world.pad_position(pad) else {
        return false;
    };
    let aboard: Vec<BoxId> = ctx
        .state
        .stranded_aboard(drone)
        .map(|b| b.id.clone())
        .collect();
    for box_id in &aboard {
        let Some(b) = ctx.state.boxes.get_mut(box_id) else {
            continue;
        };
        b.loaded_on = None;
        if b.set_down.as_ref().is_some_and(|s| &s.pad == pad) {
            continue;
        }
        // Not where a carrier sent to fetch it will look: that one is called off.
        let fetch = b.status.mission().cloned();
        b.status = BoxStatus::Stranded { at };
        b.set_down = Some(SetDown::on(world, pad.clone(), now));
        if let Some(fetch) = fetch {
            leave_mission(ctx, box_id, &fetch, drone);
        }
    }
    ask_lab_to_take_in(ctx, &aboard);
    !aboard.is_empty()
}

/// Resumes the latest aborted mission of `drone` that held `box_id`, to the lab
/// with the earliest result the drone can still reach, or to the lab that has
/// already scanned the box in (the drone flew on unheard: nothing to redirect).
/// Whether it did.
fn resume_aborted_mission(ctx: &mut Ctx<'_>, drone: &DroneId, box_id: &BoxId) -> bool {
    let carrier = Carrier::Drone(drone.clone());
    let Some(mission) = ctx
        .state
        .missions
        .values()
        .filter(|m| m.carrier == carrier && m.status == MissionStatus::Aborted)
        .filter(|m| m.boxes.contains(box_id))
        .map(|m| m.id.clone())
        .next_back()
    else {
        return false;
    };
    let Some(d) = ctx.state.drones.get(drone).cloned() else {
        return false;
    };
    let (payload, now) = (ctx.state.boxes[box_id].payload_kg, ctx.state.now);
    let only_box = std::slice::from_ref(box_id);
    let redirect = match ctx.state.boxes[box_id].scanned_in_by.clone() {
        Some(scanned) => {
            resume_to(ctx, &mission, box_id, &scanned.lab, now);
            None
        }
        None => {
            let (Some(choice), _) = ctx.choose_lab(d.position, only_box, payload, now, None) else {
                return false;
            };
            if choice.leg.estimate.energy_wh > crate::planner::spendable_wh(ctx.world, &d)
                || !choice.leg.estimate.feasible
            {
                return false;
            }
            resume_to(
                ctx,
                &mission,
                box_id,
                &choice.lab,
                now + choice.leg.duration(),
            );
            Some(choice)
        }
    };
    let lab = ctx.state.missions[&mission].lab.clone();
    if let Some(dm) = ctx.state.drones.get_mut(drone) {
        dm.status = DroneStatus::OnMission {
            mission: mission.clone(),
        };
    }
    ctx.drones_changed();
    let said = Reason::LostDroneReappeared {
        drone: drone.clone(),
        box_id: box_id.clone(),
        mission: mission.clone(),
        lab: lab.clone(),
    };
    let reason = ctx.english(&said);
    ctx.alert(
        AlertKind::DroneLost,
        Severity::Warning,
        drone.as_str(),
        said,
    );
    if let Some(choice) = redirect {
        ctx.out.push(Command::Redirect {
            mission: mission.clone(),
            drone: drone.clone(),
            lab: choice.lab.clone(),
            leg: choice.leg.to_leg(drone.as_str(), choice.lab.as_str(), now),
            reason,
        });
    }
    true
}

/// The aborted `mission` carries `box_id` on to `lab`, arriving at `arrival`
/// (`Mission::redirect_to`: the drone may still land at the lab it was bound
/// for first, which may then claim the box).
fn resume_to(
    ctx: &mut Ctx<'_>,
    mission: &MissionId,
    box_id: &BoxId,
    lab: &labflight_core::LabId,
    arrival: labflight_core::Instant,
) {
    let lab_pad = ctx.world.lab_pad(lab).cloned();
    let m = ctx
        .state
        .missions
        .get_mut(mission)
        .expect("an aborted mission");
    // Straight to the lab now: a hub leg's van was called off with the abort.
    m.redirect_to(lab, lab_pad, arrival);
    m.boxes = vec![box_id.clone()];
    let only_box = std::slice::from_ref(box_id);
    ctx.forecast_planned(only_box, lab, None, arrival);
    ctx.book_inbound_for(only_box, lab);
    load_on(ctx, box_id, mission);
}

/// A box on a drone with no mission to carry it on: the drone lands at the nearest
/// pad and the box is stranded there for a van (`recover_stranded`).
fn strand_on(ctx: &mut Ctx<'_>, drone: &DroneId, box_id: &BoxId) {
    let world = ctx.world;
    let Some(d) = ctx.state.drones.get(drone) else {
        return;
    };
    let position = d.position;
    // Where it is already flying back to, or the nearest pad.
    let (pad, flying_back) = match &d.status {
        DroneStatus::Returning { pad } => (Some(pad.clone()), true),
        _ => (nearest_pad(world, position), false),
    };
    let at = pad
        .as_ref()
        .and_then(|p| world.pad_position(p))
        .unwrap_or(position);
    let now = ctx.state.now;
    if let Some(b) = ctx.state.boxes.get_mut(box_id) {
        b.status = BoxStatus::Stranded { at };
        b.set_down = pad.clone().map(|pad| SetDown::on(world, pad, now));
    }
    ask_lab_to_take_in(ctx, std::slice::from_ref(box_id));
    let said = Reason::LoadedWithoutMission {
        box_id: box_id.clone(),
        drone: drone.clone(),
    };
    let msg = ctx.english(&said);
    ctx.alert(
        AlertKind::TubeAtRisk,
        Severity::Critical,
        box_id.as_str(),
        said,
    );
    if let Some(pad) = pad
        && !flying_back
    {
        ctx.fly_empty(drone, pad, msg);
    }
}

/// A hub leg's drone has set its boxes down on the hub's pad: they are the van
/// run's now (`van_run_awaiting`), lying on the pad. A box the drone never
/// loaded still lies at its centre: it waits again, and a van run left with
/// nothing to collect is called off.
fn hand_over_at_hub(ctx: &mut Ctx<'_>, mission: &MissionId) {
    let Some(m) = ctx.state.missions.get_mut(mission) else {
        return;
    };
    let Some(hub) = m.plan.as_ref().and_then(|p| p.hub.clone()) else {
        return;
    };
    m.status = MissionStatus::Delivered;
    let (boxes, lab) = (m.boxes.clone(), m.lab.clone());
    let now = ctx.state.now;
    // Not on the pad: never loaded (waiting again, its lab booking released), or
    // gone with another carrier (whose mission holds its booking).
    let (mut left_behind, mut never_loaded) = (Vec::new(), Vec::new());
    for b in &boxes {
        let Some(sb) = ctx.state.boxes.get_mut(b) else {
            continue;
        };
        match &sb.status {
            // The van reported collecting it first (`State::van_run_awaiting`).
            BoxStatus::OnBoard { mission: on } | BoxStatus::Assigned { mission: on }
                if *on == hub.van_run => {}
            BoxStatus::OnBoard { mission: on } if on == mission => {
                sb.status = BoxStatus::Assigned {
                    mission: hub.van_run.clone(),
                };
                sb.loaded_on = None;
                sb.set_down = Some(SetDown::on(ctx.world, hub.pad.clone(), now));
            }
            BoxStatus::Assigned { mission: on } if on == mission => {
                sb.status = BoxStatus::Waiting;
                never_loaded.push(b.clone());
                left_behind.push(b.clone());
            }
            _ => left_behind.push(b.clone()),
        }
    }
    if left_behind.is_empty() {
        return;
    }
    ctx.unbook_inbound(&never_loaded, &lab);
    let Some(van) = ctx.state.missions.get_mut(&hub.van_run) else {
        return;
    };
    van.boxes.retain(|b| !left_behind.contains(b));
    if van.boxes.is_empty() {
        super::recovery::call_off_hub_van(
            ctx,
            &hub,
            &format!("{mission} set nothing down at {}", hub.pad),
        );
    }
}
