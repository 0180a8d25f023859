//! The service level of issue 4, asserted on whole simulated days: the nominal
//! Longhua day keeps the promise with at most 32 drones; bad days lose nothing and
//! explain every miss; the same seed gives the same day.

use labflight_core::Scenario;
use labflight_dispatch::{PolicyKind, World};
use labflight_geo::MapData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../maps/longhua")
        .join(name)
}

fn day(name: &str, seed: u64, policy: PolicyKind) -> (Scenario, labflight_sim::DayResult) {
    day_with(name, seed, policy, |_| {})
}

/// `day`, with the scenario changed by `change` first.
fn day_with(
    name: &str,
    seed: u64,
    policy: PolicyKind,
    change: impl FnOnce(&mut Scenario),
) -> (Scenario, labflight_sim::DayResult) {
    let path = scenario_path(name);
    let mut scenario = Scenario::load(&path).unwrap();
    change(&mut scenario);
    let map = MapData::load(&scenario.map_dir(&path)).unwrap();
    let world = Arc::new(World::from_map(&scenario, &map));
    let result = labflight_sim::simulate(&scenario, world, policy, seed, &mut |_| {});
    (scenario, result)
}

#[test]
fn nominal_day_keeps_the_promise_with_32_drones() {
    // 59 and 99 each had a tube pass its stability limit at the last-draw wave
    // until pickups due at the same time went by their stability limits.
    for seed in [1, 7, 59, 99, 2026] {
        let (scenario, d) = day("scenario.toml", seed, PolicyKind::Drone);
        let k = &d.kpis;
        assert!(scenario.fleet.drones <= 32);
        assert!(
            k.specimens > 8_000,
            "a realistic load: {} tubes",
            k.specimens
        );
        assert!(
            k.on_time_rate >= 0.995,
            "seed {seed}: on-time {} ({k:?})",
            k.on_time_rate
        );
        assert_eq!(k.stability_violations, 0, "seed {seed}");
        assert_eq!(k.lost_specimens, 0, "seed {seed}");
    }
}

/// The nominal day with `drones` drones on each of `seeds`, the days run two at a
/// time (the machine has two cores).
fn nominal_days_with(drones: u32, seeds: &[u64]) -> Vec<(u64, labflight_sim::DayResult)> {
    let mut days = Vec::new();
    for pair in seeds.chunks(2) {
        std::thread::scope(|scope| {
            let running: Vec<_> = pair
                .iter()
                .map(|&seed| {
                    scope.spawn(move || {
                        let (_, d) = day_with("scenario.toml", seed, PolicyKind::Drone, |s| {
                            s.fleet.drones = drones;
                        });
                        (seed, d)
                    })
                })
                .collect();
            days.extend(running.into_iter().map(|r| r.join().unwrap()));
        });
    }
    days
}

/// The nominal day with 24 drones (issue 25: the same promise with fewer drones)
/// on seeds 1-12: their mean on-time rate no worse than `ON_TIME_24_DRONES_MEAN`
/// and none under `ON_TIME_24_DRONES_WORST` (a little under what they measured
/// when set, 99.59 % and 99.27 %, with the head start of many tubes,
/// `tubes_head_start`; 99.45 % and 99.04 % without it, which fails both
/// bounds; 99.36 % and 98.98 % with a 20-minute batching window;
/// `scripts/fleet-table.sh` gives the whole table). A mean over twelve seeds,
/// because one seed's rate moves by a few tenths with any change of order at the
/// 11:30 wave while the mean over many holds: the nearer-lab rule
/// (`NEARER_LAB_WITHIN_MINUTES`) raised the mean of seeds 1-50 from 99.39 % to
/// 99.45 % but lowered seeds 1-6 from 99.50 % to 99.27 %. A change that costs the
/// small fleet on-time tubes fails here.
const ON_TIME_24_DRONES_MEAN: f64 = 0.995;
const ON_TIME_24_DRONES_WORST: f64 = 0.992;

#[test]
fn nominal_day_with_24_drones_keeps_its_measured_on_time_rate() {
    let days = nominal_days_with(24, &(1..=12).collect::<Vec<_>>());
    for (seed, d) in &days {
        let k = &d.kpis;
        assert_eq!(k.drones, 24, "seed {seed}");
        assert!(
            k.on_time_rate >= ON_TIME_24_DRONES_WORST,
            "seed {seed}: on-time {} with 24 drones ({k:?})",
            k.on_time_rate
        );
        assert_eq!(k.lost_specimens, 0, "seed {seed}");
    }
    let mean = days.iter().map(|(_, d)| d.kpis.on_time_rate).sum::<f64>() / days.len() as f64;
    assert!(
        mean >= ON_TIME_24_DRONES_MEAN,
        "mean on-time {mean} with 24 drones, under {ON_TIME_24_DRONES_MEAN}"
    );
}

/// The nominal day with 28 drones keeps every tube within its stability limit
/// (issue 25), on the seeds that each lost one far centre's serum tube at the
/// 11:30 wave when pickups were ranked by their deadline alone
/// (`dispatch.stability_priority_minutes`).
#[test]
fn nominal_day_with_28_drones_keeps_every_tube_within_its_limit() {
    for (seed, d) in nominal_days_with(28, &[10, 12, 49]) {
        let k = &d.kpis;
        assert_eq!(k.stability_violations, 0, "seed {seed}: {k:?}");
        assert!(k.on_time_rate >= 0.995, "seed {seed}: {k:?}");
        assert_eq!(k.lost_specimens, 0, "seed {seed}");
    }
}

#[test]
fn bad_days_lose_nothing_and_explain_every_miss() {
    for name in ["longhua-storm.toml", "longhua-lab-outage.toml"] {
        let (scenario, d) = day(name, 7, PolicyKind::Drone);
        assert_eq!(d.kpis.lost_specimens, 0, "{name}");
        let cutoff = scenario.at(scenario.service.cutoff);
        let last = scenario.at(scenario.service.last_draw);
        let mut missed = 0;
        for c in d.ledger.tubes.values().filter(|c| c.drawn_at <= last) {
            if let Some(reason) = d.ledger.miss_reason(c, cutoff) {
                missed += 1;
                assert!(
                    !reason.is_empty(),
                    "{name}: {} missed without a reason",
                    c.barcode
                );
            }
        }
        assert_eq!(
            missed,
            d.kpis.drawn_by_last_draw - d.kpis.resulted_by_cutoff,
            "{name}"
        );
        // The report's table of reasons accounts for every one of them.
        let reasons = labflight_sim::misses_by_reason(&d.ledger, &scenario);
        assert_eq!(
            reasons.iter().map(|r| r.tubes).sum::<usize>(),
            missed,
            "{name}: {reasons:?}"
        );
        assert!(reasons.windows(2).all(|w| w[0].tubes >= w[1].tubes));
        // And the table by hour drawn places every one of them, and every tube
        // over its stability limit, in the hour it was drawn.
        let hours = labflight_sim::misses_by_hour_drawn(&d.ledger, &scenario);
        assert_eq!(hours.iter().map(|h| h.missed).sum::<usize>(), missed);
        assert_eq!(
            hours.iter().map(|h| h.drawn).sum::<usize>(),
            d.kpis.drawn_by_last_draw
        );
        let over_limit = d
            .ledger
            .tubes
            .values()
            .filter(|c| c.drawn_at <= scenario.at(scenario.service.last_draw))
            .filter(|c| c.stability_violated())
            .count();
        assert_eq!(
            hours.iter().map(|h| h.over_stability_limit).sum::<usize>(),
            over_limit
        );
        assert!(hours.windows(2).all(|w| w[0].hour < w[1].hour));
        assert!(
            hours.iter().all(|h| (7..=11).contains(&h.hour)),
            "local hours of the draws: {hours:?}"
        );
        for r in &reasons {
            assert_eq!(
                r.median_wait_minutes.is_some(),
                r.reason == "late: waited for pickup",
                "{name}: {r:?}"
            );
        }
        if name == "longhua-storm.toml" {
            assert!(
                reasons
                    .iter()
                    .any(|r| r.reason.starts_with("fleet grounded by weather")),
                "{reasons:?}"
            );
        }
    }
}

#[test]
fn the_storm_grounds_the_fleet_and_sends_vans() {
    let (_, d) = day("longhua-storm.toml", 7, PolicyKind::Drone);
    assert!(
        d.ledger.grounded.iter().any(|g| g.1.is_some()),
        "grounded, then released"
    );
    assert!(
        d.kpis.courier_trips > 0,
        "vans took boxes while the fleet was grounded"
    );
}

#[test]
fn the_same_seed_gives_the_same_day_and_another_seed_another() {
    let (_, a) = day("scenario.toml", 11, PolicyKind::Drone);
    let (_, b) = day("scenario.toml", 11, PolicyKind::Drone);
    assert_eq!(a.kpis, b.kpis);
    assert_eq!(a.run.journal, b.run.journal);
    let (_, c) = day("scenario.toml", 12, PolicyKind::Drone);
    assert_ne!(
        a.kpis.specimens, c.kpis.specimens,
        "demand depends on the seed"
    );
}

#[test]
fn baselines_run_the_same_demand() {
    let (_, drone) = day("scenario.toml", 7, PolicyKind::Drone);
    let (_, courier) = day("scenario.toml", 7, PolicyKind::Courier);
    let (_, greedy) = day("scenario.toml", 7, PolicyKind::Greedy);
    assert_eq!(drone.kpis.specimens, courier.kpis.specimens);
    assert_eq!(drone.kpis.specimens, greedy.kpis.specimens);
    assert!(courier.kpis.courier_trips > 0 && courier.kpis.flights == 0);
    assert!(
        drone.kpis.on_time_rate > courier.kpis.on_time_rate,
        "drones beat the old vans"
    );
}

#[test]
fn staff_keep_each_box_within_the_limit_the_dispatcher_gives_their_centre() {
    use labflight_core::command::StationNotice;
    use labflight_core::{Command, Event};
    use std::collections::BTreeMap;
    let (_, d) = day("scenario.toml", 7, PolicyKind::Drone);
    let mut limits: BTreeMap<String, u32> = BTreeMap::new();
    let mut commands = d.run.commands.iter().peekable();
    let mut sealed_at_a_limit = 0;
    for (i, stamped) in d.run.journal.iter().enumerate() {
        // Commands answer the event they follow: in force from the next one.
        while let Some((_, c)) = commands.next_if(|(at, _)| *at < i) {
            if let Command::NotifyStation {
                station,
                notice: StationNotice::BoxLimit { max_tubes, .. },
            } = c
            {
                limits.insert(station.to_string(), *max_tubes);
            }
        }
        if let Event::BoxSealed {
            station,
            tubes,
            box_id,
        } = &stamped.event
            && let Some(limit) = limits.get(station.as_str())
        {
            assert!(
                tubes.len() <= *limit as usize,
                "{box_id}: {} tubes at {station}, limit {limit}",
                tubes.len()
            );
            sealed_at_a_limit += usize::from(tubes.len() == *limit as usize);
        }
    }
    assert!(
        limits.contains_key("LH-C022"),
        "the far north is given a limit: {limits:?}"
    );
    assert!(sealed_at_a_limit > 0, "some box was sealed at its limit");
}

#[test]
fn a_box_a_failed_drone_set_down_on_a_centres_pad_flies_on_with_another_drone() {
    use labflight_core::event::DroneEventKind;
    use labflight_core::{Command, Event};
    // Drones failing on one flight in twenty: some fail with a box on board and
    // land on another centre's pad.
    let (_, d) = day_with("scenario.toml", 7, PolicyKind::Drone, |s| {
        s.faults.drone_failure_per_flight = 0.05;
    });
    assert_eq!(d.kpis.lost_specimens, 0);
    // A fetch can itself be aborted (its drone failing too); another then takes
    // the box, and that one is checked.
    let aborted: Vec<_> = d
        .run
        .commands
        .iter()
        .filter_map(|(_, c)| match c {
            Command::AbortMission { mission, .. } => Some(mission),
            _ => None,
        })
        .collect();
    let fetches: Vec<_> = d
        .run
        .commands
        .iter()
        .filter_map(|(_, c)| match c {
            Command::AssignMission(p) if p.why.summary.contains("stranded on") => Some(p),
            _ => None,
        })
        .filter(|p| !aborted.contains(&&p.mission))
        .collect();
    assert!(!fetches.is_empty(), "a stranded box is fetched by a drone");
    for p in fetches {
        for b in &p.boxes {
            let loads: Vec<_> = d
                .run
                .journal
                .iter()
                .filter_map(|s| match &s.event {
                    Event::Drone {
                        drone,
                        kind: DroneEventKind::PayloadLoaded { box_id },
                    } if box_id == b => Some(drone),
                    _ => None,
                })
                .collect();
            assert_eq!(
                loads.last(),
                Some(&&p.drone),
                "{b} is loaded again from the pad by {}: {loads:?}",
                p.drone
            );
            assert!(loads.len() >= 2, "{b}: {loads:?}");
            for c in d.ledger.tubes.values().filter(|c| c.box_id == *b) {
                // specimens.csv names every carrier the box had, in order.
                let chain: Vec<_> = c.carrier.as_deref().unwrap_or("").split(';').collect();
                assert_eq!(chain.first(), loads.first().map(|d| d.as_str()).as_ref());
                assert_eq!(chain.last(), Some(&p.drone.as_str()), "{}", c.barcode);
                assert!(chain.len() >= 2, "{}: {chain:?}", c.barcode);
                let received = c.received_at.expect("received at a lab");
                assert!(
                    received <= c.stability_deadline,
                    "{}: received {received}, stable until {}",
                    c.barcode,
                    c.stability_deadline
                );
            }
        }
    }
}

#[test]
fn no_tube_is_resulted_at_a_lab_that_does_not_run_every_test_it_needs() {
    use labflight_core::Event;
    use std::collections::BTreeMap;
    // Before the fix, seeds 7, 12 and 20 had 2, 7 and 10 tubes counted on time
    // at LAB-MCH, which runs no HbA1c.
    for seed in [7, 12, 20] {
        let path = scenario_path("scenario.toml");
        let scenario = Scenario::load(&path).unwrap();
        let map = MapData::load(&scenario.map_dir(&path)).unwrap();
        let world = Arc::new(World::from_map(&scenario, &map));
        let d = labflight_sim::simulate(
            &scenario,
            Arc::clone(&world),
            PolicyKind::Drone,
            seed,
            &mut |_| {},
        );
        let mut families = BTreeMap::new();
        for stamped in &d.run.journal {
            if let Event::BoxSealed { tubes, .. } = &stamped.event {
                for t in tubes {
                    families.insert(t.barcode.clone(), t.families.clone());
                }
            }
        }
        let mut at_a_lab_lacking = 0;
        let mut needing_hba1c = 0;
        for c in d.ledger.tubes.values() {
            let needs = &families[&c.barcode];
            needing_hba1c += usize::from(needs.contains(&labflight_core::TestFamily::Hba1c));
            let Some(lab) = &c.lab else { continue };
            if let Some(missing) = world.labs[lab].lacks(needs) {
                at_a_lab_lacking += 1;
                assert!(
                    c.resulted_at.is_none() && c.reported_at.is_none(),
                    "seed {seed}: {} resulted at {lab}, which does not run {missing:?}",
                    c.barcode
                );
            }
        }
        assert!(
            needing_hba1c > 100,
            "seed {seed}: the day orders HbA1c ({needing_hba1c})"
        );
        assert_eq!(
            at_a_lab_lacking, 0,
            "seed {seed}: no plan sends a tube to a lab lacking its test"
        );
    }
}
