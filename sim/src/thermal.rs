//! The box's temperature: the cooling element holds the band's middle while it
//! lasts; after that the box drifts towards ambient with the insulation's time
//! constant. Shenzhen's morning ambient rises linearly to its noon figure.

use chrono::Duration;
use labflight_core::{BoxSpec, Instant, Scenario};

/// Ambient temperature at `at`: `morning_c` at the first draw, `noon_c` at 12:00.
pub fn ambient_c(scenario: &Scenario, at: Instant) -> f64 {
    let first = scenario.at(scenario.service.first_draw);
    let noon = scenario.at(chrono::NaiveTime::from_hms_opt(12, 0, 0).expect("noon"));
    let span = (noon - first).num_seconds().max(1) as f64;
    let share = ((at - first).num_seconds() as f64 / span).clamp(0.0, 1.0);
    scenario.ambient.morning_c + (scenario.ambient.noon_c - scenario.ambient.morning_c) * share
}

/// Box temperature `since_seal` after sealing, in `ambient_c`.
pub fn box_temp_c(spec: &BoxSpec, ambient_c: f64, since_seal: Duration) -> f64 {
    let held = (spec.band.min_c + spec.band.max_c) / 2.0;
    let minutes = since_seal.num_seconds() as f64 / 60.0 - spec.cooling_element_minutes;
    if minutes <= 0.0 {
        return held;
    }
    ambient_c + (held - ambient_c) * (-minutes / spec.insulation_minutes).exp()
}
