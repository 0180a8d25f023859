//! The weather forecast in the dispatcher. The latest forecast heard is kept in
//! the state (`State::forecast`); a window whose wind or rain exceed the drone's
//! limits, forecast with at least `forecast_min_confidence`, is a *storm*. Ahead
//! of it, flights that would still be in the air when it begins are not launched
//! (`caught_out`); once its start has passed, the observed weather rules (it
//! grounds the fleet if the storm came, and does not if it did not), and the
//! window's end is when the dispatcher expects to fly again (`expected_clear`).
//! The `drone` policy's storm rules (`policy/drone/storm.rs`) read these; with no
//! forecast every answer here is "no storm" and nothing is decided differently.

use crate::state::State;
use crate::world::World;
use labflight_core::scenario::minutes;
use labflight_core::{Instant, WeatherForecast};

/// A flight must be down this long before a storm window opens, minutes. The
/// window is the forecaster's own edge; 5 min more held back the flights of
/// 08:50-08:55 on the storm day (20 seeds: 86.74 % on time against 89.12 %).
pub const CAUGHT_MARGIN_MINUTES: f64 = 0.0;

/// The latest forecast when it is a storm for the drones, forecast with enough
/// confidence, and its window has not ended.
pub fn storm(world: &World, state: &State) -> Option<WeatherForecast> {
    let f = state.forecast.as_ref()?;
    let spec = &world.drone_spec;
    (f.confidence >= world.params.forecast_min_confidence
        && f.exceeds(spec.max_wind_mps, spec.max_rain_mm_h)
        && state.now < f.to)
        .then(|| f.clone())
}

/// The storm, while its window has not yet begun.
pub fn storm_ahead(world: &World, state: &State) -> Option<WeatherForecast> {
    storm(world, state).filter(|f| state.now < f.from)
}

/// The storm ahead a flight landing at `arrive` would be caught by: still in the
/// air at the window's start (less `CAUGHT_MARGIN_MINUTES`).
pub fn caught_out(world: &World, state: &State, arrive: Instant) -> Option<WeatherForecast> {
    storm_ahead(world, state).filter(|f| arrive + minutes(CAUGHT_MARGIN_MINUTES) > f.from)
}

/// When the dispatcher expects the drones to fly again, while grounded under a
/// storm it was told of: the window's end (`None`: no storm forecast, the
/// grounding's end is unknown).
pub fn expected_clear(world: &World, state: &State) -> Option<Instant> {
    storm(world, state).map(|f| f.to.max(state.now))
}
