//! A coordinator's overrides from the dashboard: ground or release the fleet,
//! pause or resume a drone, mark a lab unavailable, divert a lab's pending boxes
//! to another, force a pickup, reassign a mission to a chosen drone.

use super::recovery::{abort_mission, ground_fleet, reroute_from};
use crate::ctx::Ctx;
use crate::state::{Carrier, MissionStatus};
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Severity};
use labflight_core::event::Override;

/// A coordinator's override; always a re-plan, unless it names nothing known.
pub(super) fn apply_override(ctx: &mut Ctx<'_>, by: &str, action: &Override) -> bool {
    match action {
        Override::GroundFleet => {
            if !ctx.state.grounded_by_coordinator {
                ctx.state.grounded_by_coordinator = true;
                ground_fleet(ctx, Reason::GroundedBy { by: by.to_owned() });
            }
        }
        Override::ReleaseFleet => {
            ctx.state.grounded_by_coordinator = false;
            ctx.alert(
                AlertKind::FleetGrounded,
                Severity::Info,
                "fleet",
                Reason::FleetReleasedBy { by: by.to_owned() },
            );
        }
        Override::PauseDrone { drone } => {
            let Some(d) = ctx.state.drones.get_mut(drone) else {
                return false;
            };
            d.paused = true;
            let mission = d.mission().cloned();
            if let Some(m) = mission
                && ctx
                    .state
                    .missions
                    .get(&m)
                    .is_some_and(|m| m.status == MissionStatus::Assigned)
            {
                abort_mission(ctx, &m, &format!("drone paused by {by}"));
            }
        }
        Override::ResumeDrone { drone } => {
            if let Some(d) = ctx.state.drones.get_mut(drone) {
                d.paused = false;
            }
        }
        Override::LabUnavailable { lab } => {
            ctx.lab_mut(lab).unavailable = true;
            reroute_from(
                ctx,
                lab,
                None,
                Reason::LabMarkedUnavailableBy {
                    lab: lab.clone(),
                    by: by.to_owned(),
                },
            );
        }
        Override::LabAvailable { lab } => {
            ctx.lab_mut(lab).unavailable = false;
        }
        Override::DivertLab { from, to } => {
            // The edge refused what is refused here; a journal replayed from
            // elsewhere gets the same answer and changes nothing.
            if crate::divert::check_divert(ctx.world, ctx.state, from, to).is_err() {
                return false;
            }
            ctx.lab_mut(from).unavailable = true;
            reroute_from(
                ctx,
                from,
                Some(to),
                Reason::DivertedBy {
                    from: from.clone(),
                    to: to.clone(),
                    by: by.to_owned(),
                },
            );
        }
        Override::ForcePickup { station } => {
            if ctx.world.stations.contains_key(station) {
                ctx.state.forced_pickups.insert(station.clone());
            }
        }
        Override::ReassignMission { mission, drone } => {
            let Some(m) = ctx.state.missions.get(mission) else {
                return false;
            };
            if m.status != MissionStatus::Assigned || !matches!(m.carrier, Carrier::Drone(_)) {
                return false;
            }
            let station = m.station.clone();
            abort_mission(ctx, mission, &format!("reassigned to {drone} by {by}"));
            ctx.drones_changed();
            // The boxes are waiting again; plan them with only the chosen drone.
            crate::policy::base::assign_station_to(ctx, &station, drone, by);
        }
    }
    true
}
