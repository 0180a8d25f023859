//! Telemetry the dispatcher hears: a drone's position and battery, a box's
//! temperature, the weather and its forecast. Each updates what the dispatcher believes; a battery
//! falling low in flight or a box out of its band is an alert, and weather beyond
//! the drones' limits grounds the fleet (`recovery::ground_fleet`).

use super::recovery::ground_fleet;
use crate::ctx::Ctx;
use crate::state::{DroneStatus, Weather};
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Severity};
use labflight_core::{BoxId, DroneId, LatLon, TempBand, Tube, WeatherForecast};

/// A drone's position and battery; whether its link was restored (a re-plan).
pub(super) fn drone_telemetry(
    ctx: &mut Ctx<'_>,
    drone: &DroneId,
    position: LatLon,
    battery_pct: f64,
) -> bool {
    let now = ctx.state.now;
    let low = ctx.world.params.low_battery_pct;
    let Some(d) = ctx.state.drones.get_mut(drone) else {
        return false;
    };
    d.position = position;
    let was_low = d.battery_pct < low;
    d.battery_pct = battery_pct.clamp(0.0, 100.0);
    d.last_seen = now;
    let restored = std::mem::replace(&mut d.link_lost, false);
    if !was_low && d.battery_pct < low && matches!(d.status, DroneStatus::OnMission { .. }) {
        let msg = Reason::LowBattery {
            battery_pct: d.battery_pct,
        };
        ctx.alert(
            AlertKind::LowBattery,
            Severity::Warning,
            drone.as_str(),
            msg,
        );
    }
    restored
}

/// A box's temperature: outside the strictest band of its tubes, an alert once.
pub(super) fn box_telemetry(ctx: &mut Ctx<'_>, box_id: &BoxId, temp_c: f64) -> bool {
    let Some(b) = ctx.state.boxes.get_mut(box_id) else {
        return false;
    };
    b.temp_c = Some(temp_c);
    let band = strictest_band(&b.tubes, ctx.world.box_spec.band);
    if !band.contains(temp_c) && !b.excursion_alerted {
        b.excursion_alerted = true;
        let msg = Reason::TemperatureOutOfBand {
            temp_c,
            min_c: band.min_c,
            max_c: band.max_c,
        };
        ctx.alert(
            AlertKind::TemperatureExcursion,
            Severity::Warning,
            box_id.as_str(),
            msg,
        );
    }
    false
}

/// The tightest band that suits every tube in the box (the box's own if none).
fn strictest_band(tubes: &[Tube], fallback: TempBand) -> TempBand {
    tubes
        .iter()
        .fold(None::<TempBand>, |acc, t| {
            Some(match acc {
                None => t.band,
                Some(a) => TempBand {
                    min_c: a.min_c.max(t.band.min_c),
                    max_c: a.max_c.min(t.band.max_c),
                },
            })
        })
        .filter(|b| b.min_c < b.max_c)
        .unwrap_or(fallback)
}

/// The weather now: wind or rain beyond the drone's limits grounds the fleet, back
/// within them releases it. Always a re-plan.
pub(super) fn weather(ctx: &mut Ctx<'_>, weather: Weather) -> bool {
    let rain_mm_h = weather.rain_mm_h;
    ctx.state.weather = weather;
    let spec = &ctx.world.drone_spec;
    let speed = ctx.state.weather.wind().norm();
    let too_rough = speed > spec.max_wind_mps || rain_mm_h > spec.max_rain_mm_h;
    if too_rough != ctx.state.grounded_by_weather {
        ctx.state.grounded_by_weather = too_rough;
        if too_rough {
            ground_fleet(
                ctx,
                Reason::WeatherTooRough {
                    wind_mps: speed,
                    rain_mm_h,
                },
            );
        } else {
            ctx.alert(
                AlertKind::FleetGrounded,
                Severity::Info,
                "fleet",
                Reason::FleetReleasedWeather,
            );
        }
    }
    true
}

/// A weather forecast: kept as the latest (`storm` reads it); a storm the drones
/// cannot fly in, forecast with enough confidence, is told the coordinators once
/// per forecast. A re-plan when it is a storm or replaces one.
pub(super) fn forecast(ctx: &mut Ctx<'_>, forecast: &WeatherForecast) -> bool {
    let was_storm = crate::storm::storm(ctx.world, ctx.state).is_some();
    ctx.state.forecast = Some(forecast.clone());
    let Some(storm) = crate::storm::storm(ctx.world, ctx.state) else {
        return was_storm;
    };
    ctx.alert(
        AlertKind::StormForecast,
        Severity::Warning,
        "fleet",
        Reason::StormForecast {
            from_at: storm.from,
            to_at: storm.to,
            wind_mps: storm.wind_mps,
            rain_mm_h: storm.rain_mm_h,
            confidence_pct: (storm.confidence * 100.0).round(),
        },
    );
    true
}
