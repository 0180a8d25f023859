//! A centre seals a box: the dispatcher takes its tubes into custody, asks for a
//! redraw of any already past its stability limit, and puts the box on a drone
//! already on its way to the centre (ride-along) or a van about to call there.

use super::vans::van_calling;
use crate::ctx::Ctx;
use crate::ctx::takes_more_at;
use crate::state::{BoxStatus, Carrier, MissionStatus, SpecimenBox, TubeState, TubeStatus};
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Severity, StationNotice};
use labflight_core::{BoxId, Command, MissionId, StationId, TestFamily, Tube};
use std::collections::BTreeSet;

/// A centre sealed a box: its tubes are taken into custody (a redraw asked for any
/// already past its limit), and the box rides along with a drone on its way to the
/// centre or joins a van about to call. Always a re-plan, unless repeated or from
/// an unknown centre.
pub(super) fn box_sealed(
    ctx: &mut Ctx<'_>,
    box_id: &BoxId,
    station: &StationId,
    tubes: &[Tube],
) -> bool {
    if ctx.state.boxes.contains_key(box_id) || !ctx.world.stations.contains_key(station) {
        // A repeated seal is harmless; an unknown centre is the edge's to reject.
        return false;
    }
    let now = ctx.state.now;
    let families: BTreeSet<_> = tubes
        .iter()
        .flat_map(|t| t.families.iter().copied())
        .collect();
    let stability_deadline = tubes
        .iter()
        .map(Tube::stability_deadline)
        .min()
        .unwrap_or(ctx.world.service.cutoff);
    for t in tubes {
        ctx.state.tubes.insert(
            t.barcode.clone(),
            TubeState {
                box_id: box_id.clone(),
                status: TubeStatus::InBox,
                lab: None,
                families: t.families.clone(),
                received_at: None,
                left_queue_at: None,
                reported_at: None,
            },
        );
        if t.stability_deadline() <= now {
            ctx.alert(
                AlertKind::StabilityExceeded,
                Severity::Critical,
                t.barcode.as_str(),
                Reason::SealedAfterStability,
            );
            ctx.out.push(Command::NotifyStation {
                station: station.clone(),
                notice: StationNotice::RedrawNeeded {
                    barcode: t.barcode.clone(),
                    reason: "stability limit passed before the box was sealed".into(),
                },
            });
        }
    }
    let payload_kg = ctx.world.box_spec.payload_kg(tubes.len());
    let ride_along = if ctx.ride_along {
        ride_along(ctx, station, payload_kg, &families)
    } else {
        None
    };
    ctx.state.open_box(SpecimenBox {
        id: box_id.clone(),
        station: station.clone(),
        tubes: tubes.to_vec(),
        sealed_at: now,
        status: BoxStatus::Waiting,
        families: families.clone(),
        payload_kg,
        stability_deadline,
        at_risk_alerted: false,
        excursion_alerted: false,
        forced: false,
        temp_c: None,
        loaded_on: None,
        set_down: None,
        scanned_in_by: None,
        forecast: None,
    });
    if let Some(mission) = ride_along {
        add_to_mission(ctx, &mission, box_id, payload_kg);
    } else if ctx.ride_along
        && let Some(mission) = van_calling(ctx, station, &families)
    {
        ctx.join_van_call(&mission, vec![box_id.clone()]);
    }
    true
}

/// A drone mission on its way to `station` that can still take `payload_kg` more
/// to a lab that runs `families`: not yet loaded, within the payload limit and the
/// battery above reserve.
pub(super) fn ride_along(
    ctx: &Ctx<'_>,
    station: &StationId,
    payload_kg: f64,
    families: &BTreeSet<TestFamily>,
) -> Option<MissionId> {
    let world = ctx.world;
    ctx.state
        .missions
        .values()
        .filter(|m| matches!(m.status, MissionStatus::Assigned | MissionStatus::PickedUp))
        .filter(|m| matches!(m.carrier, Carrier::Drone(_)))
        .filter(|m| world.lab_runs_all(&m.lab, families))
        .find(|m| {
            m.plan
                .as_ref()
                .is_some_and(|plan| takes_more_at(world, plan, station, payload_kg, ctx.state.now))
        })
        .map(|m| m.id.clone())
}

/// Puts a box sealed at a centre a drone is on its way to onto that mission.
fn add_to_mission(ctx: &mut Ctx<'_>, mission: &MissionId, box_id: &BoxId, payload_kg: f64) {
    let Some(m) = ctx.state.missions.get_mut(mission) else {
        return;
    };
    let Carrier::Drone(drone) = m.carrier.clone() else {
        return;
    };
    m.boxes.push(box_id.clone());
    let lab = m.lab.clone();
    let station = ctx.state.boxes.get(box_id).map(|b| b.station.clone());
    if let Some(plan) = m.plan.as_mut() {
        plan.boxes.push(box_id.clone());
        if let Some(stop) = plan
            .later_stops
            .iter_mut()
            .find(|s| Some(&s.station) == station.as_ref())
        {
            stop.boxes.push(box_id.clone());
        }
        plan.payload_kg = ((plan.payload_kg + payload_kg) * 1000.0).round() / 1000.0;
    }
    let total = m.plan.as_ref().map_or(payload_kg, |p| p.payload_kg);
    if let Some(b) = ctx.state.boxes.get_mut(box_id) {
        b.status = BoxStatus::Assigned {
            mission: mission.clone(),
        };
    }
    let arrival = ctx.state.missions.get(mission).map(|m| m.planned_arrival);
    if let Some(arrival) = arrival {
        ctx.forecast_planned(std::slice::from_ref(box_id), &lab, None, arrival);
    }
    ctx.book_inbound_for(std::slice::from_ref(box_id), &lab);
    ctx.out.push(Command::AddToMission {
        mission: mission.clone(),
        drone,
        boxes: vec![box_id.clone()],
        payload_kg: total,
    });
}
