//! The periodic tick and the service's restart: drones silent past the link
//! timeout are reported lost, at the last draw time every centre is asked to seal,
//! and centres a van is about to call at are asked to seal for it.

use super::recovery::abort_mission;
use super::vans::seal_for_vans;
use crate::ctx::Ctx;
use crate::state::{DroneStatus, MissionStatus};
use labflight_core::Command;
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Severity, StationNotice};

/// Periodic checks: drones silent past the link timeout are reported lost; at the
/// last draw time every centre is asked to seal what it has drawn.
pub(super) fn tick(ctx: &mut Ctx<'_>) {
    let now = ctx.state.now;
    if now >= ctx.world.service.last_draw && !ctx.state.last_call_made {
        last_call(ctx);
    }
    if ctx.ride_along {
        seal_for_vans(ctx);
        crate::storm::seal_as_drones_call(ctx);
    }
    let timeout = labflight_core::scenario::minutes(ctx.world.params.link_timeout_minutes);
    let mut lost = Vec::new();
    for d in ctx.state.drones.values_mut() {
        let flying = matches!(
            d.status,
            DroneStatus::OnMission { .. } | DroneStatus::Returning { .. }
        );
        if flying && !d.link_lost && now - d.last_seen > timeout {
            d.link_lost = true;
            lost.push((d.id.clone(), d.mission().cloned(), d.position));
        }
    }
    for (drone, mission, pos) in lost {
        let msg = Reason::NoTelemetry {
            minutes: ctx.world.params.link_timeout_minutes,
            lat: pos.lat,
            lon: pos.lon,
        };
        ctx.alert(
            AlertKind::DroneLost,
            Severity::Critical,
            drone.as_str(),
            msg,
        );
        if let Some(m) = mission
            && ctx
                .state
                .missions
                .get(&m)
                .is_some_and(|m| m.status == MissionStatus::Assigned)
        {
            abort_mission(ctx, &m, "drone lost before pickup");
        }
    }
}

/// Asks every centre to seal its open box at the last draw time: the dispatcher
/// only sees sealed boxes, and a box left open until staff seal it by age would
/// reach the lab too late for the last draws' results.
fn last_call(ctx: &mut Ctx<'_>) {
    ctx.state.last_call_made = true;
    let time = ctx.world.clock(ctx.world.service.last_draw);
    for station in ctx.world.stations.keys() {
        ctx.out.push(Command::NotifyStation {
            station: station.clone(),
            notice: StationNotice::SealNow {
                reason: format!("last draw time {time}: seal what has been drawn"),
            },
        });
    }
}

/// The service restarted: silence while it was down is not a drone's.
pub(super) fn service_resumed(ctx: &mut Ctx<'_>) -> bool {
    let now = ctx.state.now;
    for d in ctx.state.drones.values_mut() {
        d.last_seen = d.last_seen.max(now);
    }
    false
}
