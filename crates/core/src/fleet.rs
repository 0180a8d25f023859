//! What a drone and a specimen box can do: the figures flight planning and the
//! thermal model need. Values come from the scenario file, never from code.

use crate::TempBand;
use serde::{Deserialize, Serialize};

/// A drone model. Defaults in the shipped scenario follow the Meituan 4th-generation
/// figures in domain.md (2.5 kg payload, 9.5 kg MTOW, 10 km full-load range).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DroneSpec {
    /// Airframe mass without battery or payload (Dorling's W).
    pub frame_mass_kg: f64,
    /// Battery mass.
    pub battery_mass_kg: f64,
    /// Usable battery energy at 100 %.
    pub battery_wh: f64,
    /// The heaviest payload it may carry.
    pub max_payload_kg: f64,
    /// Air speed in cruise.
    pub cruise_airspeed_mps: f64,
    /// Highest wind the drone may fly in (force 6: 13.8 m/s).
    pub max_wind_mps: f64,
    /// Heaviest rain it may fly in, mm/h.
    pub max_rain_mm_h: f64,
    /// Cruise altitude above ground.
    pub cruise_alt_m: f64,
    /// Take-off plus landing, with hover, per leg.
    pub takeoff_landing_s: f64,
    /// Documented straight-line range at full payload in still air (out and back).
    pub full_load_range_km: f64,
    /// Fraction of the battery kept in reserve on every plan (0.2 = 20 %).
    pub reserve_fraction: f64,
    /// Minutes to swap a battery at a pad with a charger.
    pub battery_swap_minutes: f64,
    /// Rotor count and total disc area, for the Dorling power model.
    pub rotors: u32,
    /// Total rotor disc area.
    pub rotor_disc_area_m2: f64,
}

/// A smart specimen box with a cooling element and a lid sensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxSpec {
    /// Mass of the empty box with its cooling element.
    pub empty_mass_kg: f64,
    /// Mass of one filled tube.
    pub tube_mass_kg: f64,
    /// The most tubes a box holds.
    pub max_tubes: u32,
    /// The band the box holds when handled well.
    pub band: TempBand,
    /// Thermal time constant towards ambient with the lid closed, minutes.
    pub insulation_minutes: f64,
    /// How long the cooling element holds the band, minutes.
    pub cooling_element_minutes: f64,
}

impl BoxSpec {
    /// The box's weight with `tubes` tubes, kg.
    pub fn payload_kg(&self, tubes: usize) -> f64 {
        self.empty_mass_kg + self.tube_mass_kg * tubes as f64
    }
}
