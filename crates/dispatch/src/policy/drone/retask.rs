//! Re-tasking a drone on its way home: a drone that delivered and flies back to
//! its depot with nothing to do is offered to the plan like an idle one
//! (`Ctx::retask_returning`, `Drone::retaskable`), so a due pickup near its way
//! is flown from where it is instead of after it has landed, swapped and flown
//! back out. At the 11:30 wave the depot-based drones spend a third of each
//! cycle flying home and swapping there. Its verdict says so
//! (`Reason::ChosenOnWayHome`).

use crate::ctx::Ctx;
use crate::state::DroneStatus;
use labflight_core::command::Alternative;
use labflight_core::{DroneId, Reason};

/// Whether `drone` is flying home (it is being re-tasked if it is chosen).
pub(super) fn on_its_way_home(ctx: &Ctx<'_>, drone: &DroneId) -> bool {
    ctx.state
        .drones
        .get(drone)
        .is_some_and(|d| matches!(d.status, DroneStatus::Returning { .. }))
}

/// Marks the chosen drone's verdict as re-tasked on its way home when it is.
pub(super) fn mark_retasked(ctx: &Ctx<'_>, weighed: &mut [Alternative], drone: &DroneId) {
    if !on_its_way_home(ctx, drone) {
        return;
    }
    for alt in weighed
        .iter_mut()
        .filter(|a| a.drone.as_ref() == Some(drone))
    {
        alt.judge(Reason::ChosenOnWayHome, ctx.world.offset);
    }
}
