//! Flight time and energy for a drone leg under wind and payload: the Dorling et
//! al. (2017) hover-power model, P(m) = (W + m)^{3/2} · sqrt(g³ / (2ρA)) / η, with
//! cruise power taken equal to hover power (Dorling's approximation) and the
//! efficiency η calibrated so the drone's documented full-load range holds with
//! its reserve. Ground velocity = air velocity + wind; the drone holds its track.

use crate::{LocalFrame, Route};
use labflight_core::DroneSpec;
use nalgebra::Vector2;

const G: f64 = 9.81;
const AIR_DENSITY: f64 = 1.204;
/// Below this ground speed a leg is not flyable.
const MIN_GROUND_SPEED_MPS: f64 = 0.5;

/// Time and energy of one leg.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LegEstimate {
    /// Length of the route flown, metres.
    pub distance_m: f64,
    /// Flying time, take-off and landing included, seconds.
    pub duration_s: f64,
    /// Battery energy spent, watt-hours.
    pub energy_wh: f64,
    /// False when the wind is too strong to make headway along the track.
    pub feasible: bool,
}

/// The wind- and payload-aware time and energy model of one drone type.
#[derive(Clone, Debug)]
pub struct FlightModel {
    spec: DroneSpec,
    /// Calibrated efficiency η.
    efficiency: f64,
}

impl FlightModel {
    /// Calibrates η so that `full_load_range_km` at `max_payload_kg`, in still air,
    /// with one take-off and landing, uses exactly the energy above the reserve.
    pub fn new(spec: &DroneSpec) -> FlightModel {
        let mut model = FlightModel {
            spec: spec.clone(),
            efficiency: 1.0,
        };
        let seconds =
            spec.full_load_range_km * 1000.0 / spec.cruise_airspeed_mps + spec.takeoff_landing_s;
        let ideal_wh = model.hover_power_w(spec.max_payload_kg) * seconds / 3600.0;
        model.efficiency = ideal_wh / model.usable_wh();
        model
    }

    /// The drone type it models.
    pub fn spec(&self) -> &DroneSpec {
        &self.spec
    }

    /// Electrical power to hover (and, in this model, to cruise) with `payload_kg`.
    pub fn hover_power_w(&self, payload_kg: f64) -> f64 {
        let s = &self.spec;
        let mass = s.frame_mass_kg + s.battery_mass_kg + payload_kg.max(0.0);
        mass.powf(1.5) * (G.powi(3) / (2.0 * AIR_DENSITY * s.rotor_disc_area_m2)).sqrt()
            / self.efficiency
    }

    /// Battery energy above the reserve at 100 %.
    pub fn usable_wh(&self) -> f64 {
        self.spec.battery_wh * (1.0 - self.spec.reserve_fraction)
    }

    /// The share of the battery, in percent, that `energy_wh` is.
    pub fn battery_pct_for(&self, energy_wh: f64) -> f64 {
        100.0 * energy_wh / self.spec.battery_wh
    }

    /// Still-air range with `payload_kg`, one take-off and landing, within the usable energy.
    pub fn range_m(&self, payload_kg: f64) -> f64 {
        let seconds = self.usable_wh() * 3600.0 / self.hover_power_w(payload_kg)
            - self.spec.takeoff_landing_s;
        (seconds * self.spec.cruise_airspeed_mps).max(0.0)
    }

    /// A leg along `waypoints_local` (metres) with `payload_kg` in `wind` (m/s, the
    /// direction the air moves to).
    pub fn leg(
        &self,
        waypoints_local: &[Vector2<f64>],
        payload_kg: f64,
        wind: Vector2<f64>,
    ) -> LegEstimate {
        let airspeed = self.spec.cruise_airspeed_mps;
        let mut distance_m = 0.0;
        let mut cruise_s = 0.0;
        let mut feasible = true;
        for w in waypoints_local.windows(2) {
            let d = w[1] - w[0];
            let len = d.norm();
            if len < 1e-9 {
                continue;
            }
            let track = d / len;
            let along = wind.dot(&track);
            let across = wind.perp(&track);
            // Air velocity a with |a| = airspeed such that a + wind points along the track.
            let ground = if across.abs() >= airspeed {
                f64::NAN
            } else {
                (airspeed * airspeed - across * across).sqrt() + along
            };
            if ground.is_nan() || ground <= MIN_GROUND_SPEED_MPS {
                feasible = false;
                cruise_s += len / MIN_GROUND_SPEED_MPS;
            } else {
                cruise_s += len / ground;
            }
            distance_m += len;
        }
        let duration_s = cruise_s + self.spec.takeoff_landing_s;
        LegEstimate {
            distance_m,
            duration_s,
            energy_wh: self.hover_power_w(payload_kg) * duration_s / 3600.0,
            feasible,
        }
    }

    /// Time and energy of flying `route` with `payload_kg` in `wind` (east, north; m/s), leg by leg of its waypoints.
    pub fn leg_route(
        &self,
        frame: &LocalFrame,
        route: &Route,
        payload_kg: f64,
        wind: Vector2<f64>,
    ) -> LegEstimate {
        let local: Vec<_> = route.waypoints.iter().map(|p| frame.to_local(*p)).collect();
        self.leg(&local, payload_kg, wind)
    }
}

/// The wind vector (where the air goes, east/north m/s) for a wind of `speed_mps`
/// blowing from `from_deg` (clockwise from north, meteorological convention).
pub fn wind_from(speed_mps: f64, from_deg: f64) -> Vector2<f64> {
    let to = (from_deg + 180.0).to_radians();
    Vector2::new(speed_mps * to.sin(), speed_mps * to.cos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec() -> DroneSpec {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../maps/longhua/scenario.toml");
        labflight_core::Scenario::load(&path).unwrap().drone
    }

    fn straight(m: f64) -> Vec<Vector2<f64>> {
        vec![Vector2::new(0.0, 0.0), Vector2::new(0.0, m)]
    }

    #[test]
    fn calibration_holds_the_documented_full_load_range() {
        let s = spec();
        let model = FlightModel::new(&s);
        let range = model.range_m(s.max_payload_kg);
        assert!(
            (range - s.full_load_range_km * 1000.0).abs() < 1.0,
            "{range}"
        );
        assert!(model.range_m(0.0) > range, "lighter flies farther");
        // The full-load leg uses exactly the energy above the reserve.
        let leg = model.leg(
            &straight(s.full_load_range_km * 1000.0),
            s.max_payload_kg,
            Vector2::zeros(),
        );
        assert!((leg.energy_wh - model.usable_wh()).abs() < 0.01);
    }

    #[test]
    fn wind_from_the_north_blows_south() {
        let w = wind_from(10.0, 0.0);
        assert!(w.x.abs() < 1e-9 && (w.y + 10.0).abs() < 1e-9);
    }

    #[test]
    fn a_crosswind_at_airspeed_is_infeasible() {
        let model = FlightModel::new(&spec());
        let leg = model.leg(&straight(1000.0), 1.0, Vector2::new(16.0, 0.0));
        assert!(!leg.feasible);
    }

    proptest! {
        #[test]
        fn energy_grows_with_payload_and_distance(m in 100.0..8000.0f64, extra in 10.0..2000.0f64, p in 0.0..2.4f64, dp in 0.01..1.0f64) {
            let model = FlightModel::new(&spec());
            let base = model.leg(&straight(m), p, Vector2::zeros());
            prop_assert!(model.leg(&straight(m), p + dp, Vector2::zeros()).energy_wh > base.energy_wh);
            prop_assert!(model.leg(&straight(m + extra), p, Vector2::zeros()).energy_wh > base.energy_wh);
        }

        #[test]
        fn a_headwind_lengthens_and_a_tailwind_shortens_the_flight(m in 200.0..8000.0f64, w in 0.5..13.0f64) {
            let model = FlightModel::new(&spec());
            let calm = model.leg(&straight(m), 1.0, Vector2::zeros());
            // The leg flies north: wind towards the south is a headwind.
            let head = model.leg(&straight(m), 1.0, Vector2::new(0.0, -w));
            let tail = model.leg(&straight(m), 1.0, Vector2::new(0.0, w));
            prop_assert!(head.duration_s > calm.duration_s);
            prop_assert!(tail.duration_s < calm.duration_s);
        }
    }
}
