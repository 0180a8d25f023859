//! One drone weighed for one pickup: the energy it may spend, when it would pick up
//! and land, and whether its battery carries it there (`evaluate_drone`).

use super::routes::*;
use crate::state::{Drone, State};
use crate::world::World;
use labflight_core::{Instant, LatLon, Reason};

/// Energy a drone may still spend before touching its reserve.
pub fn spendable_wh(world: &World, drone: &Drone) -> f64 {
    let spec = &world.drone_spec;
    spec.battery_wh * (drone.battery_pct / 100.0 - spec.reserve_fraction)
}

/// A further centre on a drone's round (as the mission will name it) and the leg
/// flown to it from the previous centre.
#[derive(Clone, Debug)]
pub struct PlannedStop {
    /// The call as the mission names it: centre, boxes, pickup time.
    pub stop: labflight_core::command::Stop,
    /// The leg flown to it from the previous centre.
    pub leg_in: PlannedLeg,
}

/// One drone weighed for one pickup.
#[derive(Clone, Debug)]
pub struct DroneOption {
    /// The empty leg from where the drone stands to the centre.
    pub to_station: PlannedLeg,
    /// When it would pick up.
    pub pickup_at: Instant,
    /// The energy of the whole flight, watt-hours.
    pub energy_wh: f64,
}

/// Whether `drone` can fly to `station_pos` empty, then carry `payload_kg` along
/// `to_lab`, within its spendable energy; the pickup time if so, the reason if not.
pub fn evaluate_drone(
    world: &World,
    state: &State,
    cache: &mut RouteCache,
    drone: &Drone,
    station_pos: LatLon,
    payload_kg: f64,
    to_lab: &PlannedLeg,
) -> Result<DroneOption, Reason> {
    if payload_kg > world.drone_spec.max_payload_kg + 1e-9 {
        return Err(Reason::PayloadOverLimit {
            payload_kg,
            limit_kg: world.drone_spec.max_payload_kg,
        });
    }
    let Some(to_station) = plan_leg(world, state, cache, drone.position, station_pos, 0.0) else {
        return Err(Reason::NoRouteToCentre);
    };
    if !to_station.estimate.feasible || !to_lab.estimate.feasible {
        return Err(Reason::WindTooStrong);
    }
    let energy_wh = to_station.estimate.energy_wh + to_lab.estimate.energy_wh;
    let spendable = spendable_wh(world, drone);
    if energy_wh > spendable {
        // Whole watt-hours, formatted as integers: this runs for every drone weighed.
        return Err(Reason::BatteryShort {
            needs_wh: energy_wh.round() as i64,
            has_wh: spendable.max(0.0).round() as i64,
        });
    }
    let pickup_at = state.now + to_station.duration();
    Ok(DroneOption {
        to_station,
        pickup_at,
        energy_wh,
    })
}
