//! Routes between positions around the no-fly zones and the legs flown on them
//! under the current wind and payload, cached for the pass (`RouteCache`).

use crate::state::State;
use crate::world::World;
use chrono::Duration;
use labflight_core::command::Leg;
use labflight_core::scenario::minutes;
use labflight_core::{Instant, LabId, LatLon};
use labflight_geo::{LegEstimate, Route};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// How many of the nearest labs are weighed for a pickup.
pub const LABS_WEIGHED: usize = 5;

/// Routes between positions, cached: drones mostly fly between the same pads.
/// Keyed by the bits of exact positions and figures, hashed with FxHash: these
/// lookups run thousands of times per re-plan, and SipHash's flood resistance
/// buys nothing for keys the dispatcher makes itself.
#[derive(Debug, Default)]
pub struct RouteCache {
    /// Shared, not copied: a route's waypoints are read by every leg planned on it.
    routes: FxHashMap<[u64; 4], Option<Arc<Route>>>,
    /// Whether a fully charged drone could fly a pickup, by the exact inputs of
    /// the answer (start, centre, lab, payload, wind): a far centre's boxes are
    /// asked about on every pass.
    reach: FxHashMap<[u64; 9], bool>,
    /// A leg's time and energy by its route, payload and wind: the same legs are
    /// weighed for every waiting centre on every pass.
    legs: FxHashMap<[u64; 7], LegEstimate>,
    /// The legs from a position to its `LABS_WEIGHED` nearest labs, nearest first,
    /// by position, payload and wind: one lookup per centre per pass.
    legs_to_labs: FxHashMap<[u64; 5], LegsToLabs>,
}

/// Exact positions: the cache only saves work and never changes an answer, so a
/// dispatcher restored from a snapshot (with an empty cache) decides the same.
pub(super) fn key(a: LatLon, b: LatLon) -> [u64; 4] {
    [
        a.lat.to_bits(),
        a.lon.to_bits(),
        b.lat.to_bits(),
        b.lon.to_bits(),
    ]
}

impl RouteCache {
    /// The remembered answer to `key`, or `answer()` remembered.
    pub fn reach(&mut self, key: [u64; 9], answer: impl FnOnce(&mut Self) -> bool) -> bool {
        if let Some(&known) = self.reach.get(&key) {
            return known;
        }
        let known = answer(self);
        self.reach.insert(key, known);
        known
    }

    /// The route from `a` to `b` around the no-fly zones (`None`: there is none), planned once.
    pub fn route(&mut self, world: &World, a: LatLon, b: LatLon) -> Option<Arc<Route>> {
        self.routes
            .entry(key(a, b))
            .or_insert_with(|| world.airspace.route(a, b).ok().map(Arc::new))
            .clone()
    }

    /// The estimate of flying `route` (from `a` to `b`) with `payload_kg` in `wind`.
    pub(super) fn leg(
        &mut self,
        world: &World,
        (a, b): (LatLon, LatLon),
        route: &Route,
        payload_kg: f64,
        wind: nalgebra::Vector2<f64>,
    ) -> LegEstimate {
        let [a0, a1, b0, b1] = key(a, b);
        let leg_key = [
            a0,
            a1,
            b0,
            b1,
            payload_kg.to_bits(),
            wind.x.to_bits(),
            wind.y.to_bits(),
        ];
        *self.legs.entry(leg_key).or_insert_with(|| {
            world
                .flight
                .leg_route(&world.frame, route, payload_kg, wind)
        })
    }

    /// The legs with `payload_kg` from `from` to its `LABS_WEIGHED` nearest labs,
    /// nearest first (`None` where no route exists).
    pub(super) fn legs_to_labs(
        &mut self,
        world: &World,
        state: &State,
        from: LatLon,
        payload_kg: f64,
    ) -> LegsToLabs {
        let wind = state.weather.wind();
        let key = [
            from.lat.to_bits(),
            from.lon.to_bits(),
            payload_kg.to_bits(),
            wind.x.to_bits(),
            wind.y.to_bits(),
        ];
        if let Some(known) = self.legs_to_labs.get(&key) {
            return Arc::clone(known);
        }
        let legs: LegsToLabs = world
            .nearest_labs(from, LABS_WEIGHED)
            .map(|lab| {
                let leg = plan_leg(world, state, self, from, lab.position, payload_kg);
                (lab.id.clone(), leg)
            })
            .collect();
        self.legs_to_labs.insert(key, Arc::clone(&legs));
        legs
    }
}

/// Labs and the legs to them, nearest first.
pub(super) type LegsToLabs = Arc<[(LabId, Option<PlannedLeg>)]>;

/// A planned leg with its estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedLeg {
    /// The route flown.
    pub route: Arc<Route>,
    /// Its time and energy under the current wind and payload.
    pub estimate: LegEstimate,
}

impl PlannedLeg {
    /// The flying time, take-off and landing included.
    pub fn duration(&self) -> Duration {
        minutes(self.estimate.duration_s / 60.0)
    }

    /// The leg as a mission names it: from, to, waypoints, departure and arrival.
    pub fn to_leg(&self, from: &str, to: &str, depart: Instant) -> Leg {
        Leg {
            from: from.to_owned(),
            to: to.to_owned(),
            waypoints: self.route.waypoints.clone(),
            distance_m: self.estimate.distance_m,
            depart,
            arrive: depart + self.duration(),
            energy_wh: self.estimate.energy_wh,
        }
    }
}

/// Plans one flight leg under the current wind; `None` when no route exists.
pub fn plan_leg(
    world: &World,
    state: &State,
    cache: &mut RouteCache,
    from: LatLon,
    to: LatLon,
    payload_kg: f64,
) -> Option<PlannedLeg> {
    let route = cache.route(world, from, to)?;
    let estimate = if route.length_m < 1.0 {
        LegEstimate {
            distance_m: 0.0,
            duration_s: 0.0,
            energy_wh: 0.0,
            feasible: true,
        }
    } else {
        cache.leg(world, (from, to), &route, payload_kg, state.weather.wind())
    };
    Some(PlannedLeg { route, estimate })
}
