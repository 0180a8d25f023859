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

/// A drone calling at a centre ahead of a storm has staff seal what they have
/// drawn this long before its pickup, minutes (the ticks come every minute).
pub const SEAL_LEAD_MINUTES: f64 = 2.0;

/// Ahead of a storm, every centre a drone is about to call at is asked to seal
/// what it has drawn so far, so that it goes with the drone (the ride-along rule
/// puts the box on board) instead of waiting the storm out in an open box, where
/// a serum tube passes its two hours. Asked once per call, from the tick.
pub fn seal_as_drones_call(ctx: &mut crate::ctx::Ctx<'_>) {
    let Some(storm) = storm_ahead(ctx.world, ctx.state) else {
        return;
    };
    let now = ctx.state.now;
    let lead = minutes(SEAL_LEAD_MINUTES);
    let mut calls: Vec<(labflight_core::StationId, labflight_core::MissionId)> = Vec::new();
    let drone_missions = ctx.state.missions.values().filter(|m| {
        m.status == crate::state::MissionStatus::Assigned
            && matches!(m.carrier, crate::state::Carrier::Drone(_))
    });
    for m in drone_missions {
        let Some(plan) = &m.plan else { continue };
        let stops = std::iter::once((&plan.station, plan.pickup_at))
            .chain(plan.later_stops.iter().map(|s| (&s.station, s.pickup_at)));
        for (station, at) in stops {
            let asked = ctx.state.storm_seal_asked.get(station);
            if at >= now && at - now <= lead && asked.is_none_or(|t| *t < at - lead) {
                calls.push((station.clone(), m.id.clone()));
            }
        }
    }
    for (station, mission) in calls {
        ask_to_seal(ctx, station, &storm, &format!("{mission} takes"));
    }
}

/// Asks `station` to seal what it has drawn ahead of `storm`, because `who`
/// takes it now, and remembers when (`State::storm_seal_asked`).
pub fn ask_to_seal(
    ctx: &mut crate::ctx::Ctx<'_>,
    station: labflight_core::StationId,
    storm: &WeatherForecast,
    who: &str,
) {
    ctx.state
        .storm_seal_asked
        .insert(station.clone(), ctx.state.now);
    let reason = format!(
        "storm forecast from {}: {who} what is drawn now",
        ctx.world.clock(storm.from)
    );
    ctx.out.push(labflight_core::Command::NotifyStation {
        station,
        notice: labflight_core::command::StationNotice::SealNow { reason },
    });
}
