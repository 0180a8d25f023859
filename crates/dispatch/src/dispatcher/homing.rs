//! Where a drone goes when a flight or a battery swap is over: home to its depot
//! when that is far from the lab it delivered to, to a charger when low, or it
//! waits where it is for the next plan.

use crate::ctx::Ctx;
use crate::state::DroneStatus;
use crate::world::World;
use labflight_core::DroneId;

/// After a flight or a battery swap. A drone based at a depot far from the lab it
/// delivered to flies home at once (charging there), so the far centres keep their
/// drones; any other drone swaps a battery below the top-up level where a charger
/// is at hand (far centres need a nearly full battery), or flies to a charger when
/// low, and otherwise waits where it is for the next plan, which may give it its
/// next mission right there (`send_idle_home` flies it home if not).
pub(super) fn after_flight(ctx: &mut Ctx<'_>, drone: &DroneId) {
    let world = ctx.world;
    let Some(d) = ctx.state.drones.get(drone) else {
        return;
    };
    if d.status != DroneStatus::Idle {
        return;
    }
    let stay_m = world.params.stay_at_lab_km * 1000.0;
    if home_depot(world, d)
        .is_some_and(|home| world.frame.distance_m(home.position, d.position) > stay_m)
        && go_home(ctx, drone)
    {
        return;
    }
    let d = &ctx.state.drones[drone];
    if let Some(pad) = ctx.charger_under(drone)
        && d.battery_pct < world.params.top_up_pct
    {
        ctx.swap_battery(drone, pad);
        return;
    }
    if d.battery_pct < world.params.low_battery_pct
        && let Some(site) = world.nearest_charger(d.position)
    {
        let reason = format!("battery {:.0} %: to a charger", d.battery_pct);
        ctx.fly_empty(drone, site.id.clone(), reason);
    }
}

/// The depot a drone is based at, when it is not standing on it.
fn home_depot<'w>(world: &'w World, d: &crate::state::Drone) -> Option<&'w labflight_core::Pad> {
    let home = d.home.as_ref().filter(|h| Some(*h) != d.pad.as_ref())?;
    world
        .pads
        .get(home)
        .filter(|p| p.site == labflight_core::pad::PadSite::Depot)
}

/// Idle depot-based drones away from home that the plan did not use fly home, so
/// the fleet stays spread over the district instead of piling up at the labs.
pub(super) fn send_idle_home(ctx: &mut Ctx<'_>) {
    let reserve = ctx.world.drone_spec.reserve_fraction;
    let away: Vec<DroneId> = ctx
        .state
        .drones
        .values()
        .filter(|d| d.available(reserve) && home_depot(ctx.world, d).is_some())
        .map(|d| d.id.clone())
        .collect();
    for drone in away {
        go_home(ctx, &drone);
    }
}

/// Sends a drone to its home depot if it has the battery for the flight; whether it did.
fn go_home(ctx: &mut Ctx<'_>, drone: &DroneId) -> bool {
    let world = ctx.world;
    let Some(d) = ctx.state.drones.get(drone) else {
        return false;
    };
    let Some(home) = home_depot(world, d) else {
        return false;
    };
    let metres = world.frame.distance_m(d.position, home.position);
    let secs = metres / world.drone_spec.cruise_airspeed_mps + world.drone_spec.takeoff_landing_s;
    let needed_wh = world.flight.hover_power_w(0.0) * secs / 3600.0;
    if needed_wh > crate::planner::spendable_wh(world, d) {
        return false;
    }
    let pad = home.id.clone();
    ctx.fly_empty(drone, pad, "back to its home depot".to_owned());
    true
}
