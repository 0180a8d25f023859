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
