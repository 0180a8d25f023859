//! Drones lent between medical groups (partitions): the lender's dispatcher
//! lets an idle drone go (`DroneLent`), the borrower's takes it into its fleet
//! where it stands (`DroneBorrowed`); both events are journaled, so each
//! partition replays alone. Who lends to whom is decided outside the partitions,
//! between their steps, from what each says of itself here: the pickup it is
//! short of a drone for (`shortfall`) and the drones it can spare (`spare_drones`).

use crate::ctx::Ctx;
use crate::state::{BoxStatus, Drone, DroneStatus, State};
use crate::world::World;
use labflight_core::pad::PadSite;
use labflight_core::{DroneId, Instant, LatLon};

/// A pickup is short of a drone when its box's stability limit is this near and
/// no drone of the partition is free, minutes.
pub const SHORT_WITHIN_MINUTES: i64 = 60;

/// A drone is spared only with at least this much battery, percent.
pub const SPARE_BATTERY_PCT: f64 = 90.0;

/// A partition lends only while it keeps at least this many drones free.
pub const KEEP_FREE: usize = 2;

/// Where this partition is short of a drone: the centre of the waiting box whose
/// stability limit comes first within `SHORT_WITHIN_MINUTES` among those with no
/// free drone of the partition within `near_m` metres. `None` when it is not
/// short.
pub fn shortfall(world: &World, state: &State, near_m: f64) -> Option<LatLon> {
    if state.fleet_grounded() {
        return None;
    }
    let reserve = world.drone_spec.reserve_fraction;
    let free: Vec<LatLon> = (state.drones.values())
        .filter(|d| d.available(reserve))
        .map(|d| d.position)
        .collect();
    let soon = state.now + chrono::Duration::minutes(SHORT_WITHIN_MINUTES);
    let mut pressing: Vec<_> = (state.open_boxes.iter())
        .filter_map(|id| state.boxes.get(id))
        .filter(|b| b.status == BoxStatus::Waiting && b.stability_deadline <= soon)
        .collect();
    pressing.sort_by(|a, b| (a.stability_deadline, &a.id).cmp(&(b.stability_deadline, &b.id)));
    pressing
        .into_iter()
        .filter_map(|b| world.stations.get(&b.station))
        .map(|s| s.position)
        .find(|at| {
            free.iter()
                .all(|d| world.frame.distance_m(*d, *at) > near_m)
        })
}

/// The drones this partition can spare, by id: free (on the ground) with at
/// least `SPARE_BATTERY_PCT`, while `KEEP_FREE` others stay free (a partition
/// short of a drone itself lends none: `simulate_partitioned` asks `shortfall`
/// first). Each with where it stands.
pub fn spare_drones(world: &World, state: &State) -> Vec<(DroneId, LatLon)> {
    let reserve = world.drone_spec.reserve_fraction;
    if state.fleet_grounded() {
        return Vec::new();
    }
    let free: Vec<&Drone> = state
        .drones
        .values()
        .filter(|d| d.available(reserve))
        .collect();
    let spare = free.len().saturating_sub(KEEP_FREE);
    free.into_iter()
        .filter(|d| d.battery_pct >= SPARE_BATTERY_PCT)
        .take(spare)
        .map(|d| (d.id.clone(), d.position))
        .collect()
}

/// A drone of ours is lent to another group: it leaves the fleet. Only a free
/// drone is lent (`spare_drones`); one that is not (a replayed journal edited by
/// hand) stays, and the coordinators hear of it.
pub(super) fn drone_lent(ctx: &mut Ctx<'_>, drone: &DroneId, to: &str) -> bool {
    let reserve = ctx.world.drone_spec.reserve_fraction;
    match ctx.state.drones.get(drone) {
        Some(d) if d.available(reserve) => {
            ctx.state.drones.remove(drone);
            ctx.drones_changed();
            true
        }
        Some(_) => {
            ctx.alert(
                labflight_core::command::AlertKind::CustodyConflict,
                labflight_core::command::Severity::Warning,
                drone.as_str(),
                labflight_core::Reason::DroneNotFreeToLend { to: to.to_owned() },
            );
            false
        }
        None => false,
    }
}

/// A drone lent by another group joins the fleet, free where it stands; its home
/// is our charger nearest to it.
pub(super) fn drone_borrowed(
    ctx: &mut Ctx<'_>,
    drone: &DroneId,
    position: LatLon,
    battery_pct: f64,
    now: Instant,
) -> bool {
    let world = ctx.world;
    let home = world
        .chargers_near(position, 16)
        .into_iter()
        .find(|pad| !matches!(&pad.site, PadSite::Lab(l) if !world.is_own_lab(l)))
        .map(|pad| pad.id.clone());
    ctx.state.drones.insert(
        drone.clone(),
        Drone {
            id: drone.clone(),
            position,
            pad: None,
            battery_pct: battery_pct.clamp(0.0, 100.0),
            status: DroneStatus::Idle,
            paused: false,
            last_seen: now,
            home,
            link_lost: false,
            flights: 0,
        },
    );
    ctx.drones_changed();
    true
}
