//! Storms seen coming (issue 25): the storm day with its forecast, and the two
//! days the forecast is wrong — the storm an hour early, or never — lose nothing
//! and explain every miss; the forecast is planned around (fewer tubes over their
//! stability limit than the same day without it).

use labflight_core::Scenario;
use labflight_dispatch::{PolicyKind, World};
use labflight_geo::MapData;
use std::path::Path;
use std::sync::Arc;

fn day(
    name: &str,
    seed: u64,
    change: impl FnOnce(&mut Scenario),
) -> (Scenario, labflight_sim::DayResult) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../maps/longhua")
        .join(name);
    let mut scenario = Scenario::load(&path).unwrap();
    change(&mut scenario);
    let map = MapData::load(&scenario.map_dir(&path)).unwrap();
    let world = Arc::new(World::from_map(&scenario, &map));
    let result = labflight_sim::simulate(&scenario, world, PolicyKind::Drone, seed, &mut |_| {});
    (scenario, result)
}

/// The reasons a miss may be given on a storm day: the stability limit passed
/// (with what the box waited for), what the weather did, what its forecast did,
/// or a wait for a drone (after the storm, behind its backlog).
const EXPLANATIONS: [&str; 4] = [
    "rejected: stability limit exceeded",
    "fleet grounded by weather while the box waited",
    "held for a storm forecast while the box waited",
    "late: waited ",
];

/// Every tube drawn by the last draw that missed has one of the `EXPLANATIONS`;
/// how many missed for each, in that order.
fn every_miss_explained(
    name: &str,
    scenario: &Scenario,
    d: &labflight_sim::DayResult,
) -> [usize; 4] {
    let cutoff = scenario.at(scenario.service.cutoff);
    let last = scenario.at(scenario.service.last_draw);
    let mut by = [0; 4];
    for c in d.ledger.tubes.values().filter(|c| c.drawn_at <= last) {
        let Some(reason) = d.ledger.miss_reason(c, cutoff) else {
            continue;
        };
        let Some(i) = EXPLANATIONS.iter().position(|e| reason.starts_with(e)) else {
            panic!("{name}: {} missed: {reason}", c.barcode);
        };
        by[i] += 1;
    }
    assert_eq!(
        by.iter().sum::<usize>(),
        d.kpis.drawn_by_last_draw - d.kpis.resulted_by_cutoff,
        "{name}"
    );
    by
}

#[test]
fn the_storm_day_with_its_forecast_loses_nothing_and_spoils_fewer_tubes() {
    for seed in [3, 11] {
        let (_, with) = day("longhua-storm.toml", seed, |_| {});
        let (_, without) = day("longhua-storm.toml", seed, |s| s.forecast.clear());
        let (w, wo) = (&with.kpis, &without.kpis);
        eprintln!(
            "seed {seed}: with the forecast {:.4} on time, {} over the limit; without {:.4}, {}",
            w.on_time_rate, w.stability_violations, wo.on_time_rate, wo.stability_violations
        );
        assert_eq!(w.lost_specimens, 0, "seed {seed}");
        // 20 seeds measured 87.6 % at worst (benches/README.md): no flight is
        // launched that the storm would catch, and 6 vans cannot carry the
        // morning peak through 90 minutes of it.
        assert!(w.on_time_rate >= 0.86, "seed {seed}: {w:?}");
        assert!(
            w.stability_violations < wo.stability_violations,
            "seed {seed}: {} tubes over the limit with the forecast, {} without",
            w.stability_violations,
            wo.stability_violations
        );
        assert!(
            with.ledger.alerts.contains_key("StormForecast"),
            "{:?}",
            with.ledger.alerts
        );
        assert!(!without.ledger.alerts.contains_key("StormForecast"));
    }
}

#[test]
fn a_storm_earlier_than_forecast_loses_nothing_and_explains_every_miss() {
    let (scenario, d) = day("longhua-storm-early.toml", 7, |_| {});
    assert_eq!(d.kpis.lost_specimens, 0);
    let [spoilt, grounded, held, late] = every_miss_explained("early", &scenario, &d);
    eprintln!("early: {spoilt} over the limit, {grounded} grounded, {held} held, {late} late");
    // Most misses are the storm's, and said to be.
    assert!(grounded + held + spoilt > 2 * late, "{:?}", d.kpis);
    // The storm grounded the fleet an hour before its forecast window.
    let forecast_from = scenario.at(scenario.forecast[0].from);
    assert!(
        d.ledger
            .grounded
            .iter()
            .any(|(from, _)| *from < forecast_from),
        "{:?}",
        d.ledger.grounded
    );
}

#[test]
fn a_storm_that_never_comes_loses_nothing_and_explains_every_miss() {
    let (scenario, d) = day("longhua-storm-none.toml", 7, |_| {});
    assert_eq!(d.kpis.lost_specimens, 0);
    assert!(d.ledger.grounded.is_empty(), "no storm came");
    let [spoilt, grounded, _, _] = every_miss_explained("none", &scenario, &d);
    assert_eq!((spoilt, grounded), (0, 0));
    // Holding flights that would have landed in the window costs little: once
    // it begins calm, the drones fly.
    assert!(d.kpis.on_time_rate >= 0.99, "{:?}", d.kpis);
    assert_eq!(d.kpis.stability_violations, 0, "{:?}", d.kpis);
}

/// No drone flies on through wind over its limit (the simulator is honest about
/// it): on the storm day without its forecast, the drones in the air when the
/// wind rises land at the nearest pad, carrying boxes or not; none reports flying
/// a quarter of an hour into the storm or takes off before it ends; and what they
/// set down on the pads still reaches a lab (nothing lost).
#[test]
fn drones_in_the_air_when_the_wind_rises_come_down_at_the_nearest_pad() {
    use labflight_core::command::Recovery;
    use labflight_core::event::DroneEventKind;
    use labflight_core::{Command, Event};
    let (scenario, d) = day("longhua-storm.toml", 7, |s| s.forecast.clear());
    let (from, to) = (
        scenario.at(scenario.weather[0].from),
        scenario.at(scenario.weather[0].to),
    );
    let landed_with_boxes = d
        .run
        .commands
        .iter()
        .filter(|(i, c)| {
            d.run.journal[*i].at == from
                && matches!(
                    c,
                    Command::AbortMission {
                        recovery: Recovery::LandAtNearestPad { .. },
                        ..
                    }
                )
        })
        .count();
    assert!(
        landed_with_boxes > 0,
        "drones carrying boxes were in the air at the storm's start"
    );
    let settled = from + chrono::Duration::minutes(15);
    for s in &d.run.journal {
        let flying_in_storm = match &s.event {
            Event::DroneTelemetry { .. } => s.at > settled && s.at < to,
            Event::Drone {
                kind: DroneEventKind::TookOff,
                ..
            } => s.at >= from && s.at < to,
            _ => false,
        };
        assert!(!flying_in_storm, "{s:?}");
    }
    assert_eq!(d.kpis.lost_specimens, 0, "{:?}", d.kpis);
    every_miss_explained("storm, no forecast", &scenario, &d);
}

/// A drone the dispatcher does not call down lands by itself. Here the
/// dispatcher hears of the wind a minute after it rose (its weather feed lags),
/// after the drones' own wait for an order: those in the air at the storm's start
/// land at the nearest pad on their own and report it, and custody stays known —
/// the dispatcher takes what they carry as stranded on that pad, no custody
/// conflict is raised, and every box still reaches a lab.
#[test]
fn drones_not_called_down_land_by_themselves_and_custody_stays_known() {
    use chrono::Duration;
    use labflight_core::event::DroneEventKind;
    use labflight_core::{Event, Stamped};
    use labflight_dispatch::Dispatcher;
    use labflight_sim::{DayRun, Engine};

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/longhua-storm.toml");
    let mut scenario = Scenario::load(&path).unwrap();
    scenario.forecast.clear();
    let map = MapData::load(&scenario.map_dir(&path)).unwrap();
    let world = Arc::new(World::from_map(&scenario, &map));
    let (from, to) = (
        scenario.at(scenario.weather[0].from),
        scenario.at(scenario.weather[0].to),
    );
    let spec = world.drone_spec.clone();
    let rough = |e: &Event| match e {
        Event::Weather {
            wind_east_mps,
            wind_north_mps,
            rain_mm_h,
        } => {
            wind_east_mps.hypot(*wind_north_mps) > spec.max_wind_mps
                || *rain_mm_h > spec.max_rain_mm_h
        }
        _ => false,
    };
    let lag = Duration::minutes(1);
    let mut engine = Engine::detached(&scenario, Arc::clone(&world), 7);
    let mut dispatcher = Dispatcher::new(Arc::clone(&world), PolicyKind::Drone, 7, engine.now());
    let mut run = DayRun::default();
    let mut deliver = |engine: &mut Engine<'_>, run: &mut DayRun, stamped: Stamped| {
        let at = stamped.at;
        let (index, commands) = run.decide(&mut dispatcher, stamped);
        for c in commands {
            engine.command(at, &c);
            run.commands.push((index, c));
        }
    };
    // Weather reports too rough to fly, held back for the lag.
    let mut held: Vec<Stamped> = Vec::new();
    let mut next_tick = engine.now();
    while let Some(at) = engine.next_at() {
        let late_weather = held.first().map(|s| s.at + lag);
        if late_weather.is_some_and(|w| w <= at && w <= next_tick) {
            let s = held.remove(0);
            let stamped = Stamped {
                at: s.at + lag,
                event: s.event,
            };
            deliver(&mut engine, &mut run, stamped);
        } else if next_tick <= at {
            let tick = Stamped {
                at: next_tick,
                event: Event::Tick,
            };
            deliver(&mut engine, &mut run, tick);
            next_tick += Duration::minutes(1);
        } else {
            engine.advance_to(at);
            for s in engine.take_outbox() {
                if rough(&s.event) {
                    held.push(s);
                } else {
                    deliver(&mut engine, &mut run, s);
                }
            }
        }
    }
    // Drones carrying boxes that came down on a pad in the storm's first minutes.
    let mut carrying = std::collections::BTreeSet::new();
    let mut came_down = 0;
    for s in &run.journal {
        let Event::Drone { drone, kind } = &s.event else {
            continue;
        };
        match kind {
            DroneEventKind::PayloadLoaded { .. } => {
                carrying.insert(drone.clone());
            }
            DroneEventKind::Landed { pad, .. } => {
                let on_a_lab = pad
                    .as_ref()
                    .is_some_and(|p| world.labs.keys().any(|l| world.lab_pad(l) == Some(p)));
                if carrying.remove(drone)
                    && s.at > from
                    && s.at < from + Duration::minutes(10)
                    && !on_a_lab
                {
                    came_down += 1;
                }
            }
            _ => {}
        }
    }
    assert!(came_down > 0, "drones carrying boxes landed by themselves");
    let settled = from + Duration::minutes(15);
    assert!(
        !run.journal
            .iter()
            .any(|s| matches!(s.event, Event::DroneTelemetry { .. })
                && s.at > settled
                && s.at < to),
        "no drone flies in the storm"
    );
    let ledger = labflight_sim::ledger_of(&scenario, &world, &run);
    let kpis = labflight_sim::compute_kpis(&scenario, 7, "drone", &ledger);
    assert_eq!(kpis.lost_specimens, 0, "{kpis:?}");
    assert!(
        !ledger.alerts.contains_key("CustodyConflict"),
        "{:?}",
        ledger.alerts
    );
}
