//! Relays for a centre beyond one flight's reach of every lab that can take its
//! boxes: the loaded drone lands on a charger pad on the way, has its battery
//! swapped, and flies on to the lab. The relay is weighed by the rest of the
//! planner as one leg (`Relay::as_leg`): its time runs from the centre to the
//! lab, the swap included, and its energy is what the drone spends before the
//! swap, the battery being full after it.

use super::routes::{PlannedLeg, RouteCache, plan_leg};
use crate::state::State;
use crate::world::World;
use labflight_core::{LatLon, Pad, PadId};
use labflight_geo::LegEstimate;
use std::sync::Arc;

/// Charger pads weighed as a relay for one centre and lab: the nearest to the
/// centre (a relay pad is a first hop the drone can fly loaded).
pub const RELAY_PADS_WEIGHED: usize = 6;

/// A relay from a centre to a lab: the hop to the charger pad, the swap there,
/// and the hop on to the lab.
#[derive(Clone, Debug, PartialEq)]
pub struct Relay {
    /// The charger pad.
    pub pad: PadId,
    /// The loaded hop from the centre to the pad.
    pub hop_in: PlannedLeg,
    /// The loaded hop from the pad to the lab, on a full battery.
    pub hop_out: PlannedLeg,
    /// The battery swap, seconds.
    pub swap_s: f64,
}

impl Relay {
    /// The relay as the one leg the planner weighs: the first hop's route, the
    /// whole time to the lab (the swap included), the distance of both hops,
    /// and the energy spent before the swap.
    pub fn as_leg(&self) -> PlannedLeg {
        let (a, b) = (&self.hop_in.estimate, &self.hop_out.estimate);
        PlannedLeg {
            route: Arc::clone(&self.hop_in.route),
            estimate: LegEstimate {
                distance_m: a.distance_m + b.distance_m,
                duration_s: a.duration_s + self.swap_s + b.duration_s,
                energy_wh: a.energy_wh,
                feasible: a.feasible && b.feasible,
            },
        }
    }
}

/// The quickest relay carrying `payload_kg` from `from` to `to` through one of
/// `pads` (the `RELAY_PADS_WEIGHED` charger pads nearest `from`,
/// `World::chargers_near`), each hop within what a full battery can spend; none
/// when no pad serves.
pub fn best_relay(
    world: &World,
    state: &State,
    cache: &mut RouteCache,
    pads: &[&Pad],
    (from, to): (LatLon, LatLon),
    payload_kg: f64,
) -> Option<Relay> {
    let spec = &world.drone_spec;
    let full_wh = spec.battery_wh * (1.0 - spec.reserve_fraction);
    let swap_s = spec.battery_swap_minutes * 60.0;
    let mut best: Option<Relay> = None;
    for pad in pads {
        // A pad at the centre or at the lab is no relay.
        if world.frame.distance_m(pad.position, from) < 50.0
            || world.frame.distance_m(pad.position, to) < 50.0
        {
            continue;
        }
        let within = |leg: &PlannedLeg| leg.estimate.feasible && leg.estimate.energy_wh <= full_wh;
        let Some(hop_in) = plan_leg(world, state, cache, from, pad.position, payload_kg) else {
            continue;
        };
        if !within(&hop_in) {
            continue;
        }
        let Some(hop_out) = plan_leg(world, state, cache, pad.position, to, payload_kg) else {
            continue;
        };
        if !within(&hop_out) {
            continue;
        }
        let relay = Relay {
            pad: pad.id.clone(),
            hop_in,
            hop_out,
            swap_s,
        };
        let quicker = best
            .as_ref()
            .is_none_or(|b| relay.as_leg().estimate.duration_s < b.as_leg().estimate.duration_s);
        if quicker {
            best = Some(relay);
        }
    }
    best
}
