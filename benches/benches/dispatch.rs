//! Dispatcher handling time per event kind at city scale: 2,000 centres, 1,000
//! drones, 10,000 open tubes on one dispatcher (issue 3), and the largest
//! partition of the Shenzhen city day on its own (issue 26). Prints median and
//! p99 per kind (timed here, one event at a time) and the memory the state
//! takes, then lets criterion measure telemetry and a full re-plan.

use criterion::{Criterion, criterion_group, criterion_main};
use labflight_core::event::{DroneState, LabUpdate};
use labflight_core::{
    BoxId, Event, LabId, Scenario, Stamped, StationId, Tube, TubeBarcode, TubeType,
};
use labflight_dispatch::{Dispatcher, PolicyKind, World};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant as Clock;

const CENTRES: usize = 2_000;
const DRONES: u32 = 1_000;
const TUBES_PER_BOX: usize = 5;

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.to_owned())
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A city-scale dispatcher with 2,000 boxes of 5 tubes waiting (10,000 open tubes).
fn city() -> (Dispatcher, Scenario, Vec<StationId>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/scenario.toml");
    let scenario =
        Scenario::load_with_overrides(&path, &[("fleet.drones".into(), DRONES.to_string())])
            .unwrap();
    let map = labflight_geo::generate_city(2025, CENTRES, 50);
    let world = Arc::new(World::from_map(&scenario, &map));
    loaded(world, scenario)
}

/// The largest partition (medical group) of the Shenzhen city day, as its own
/// dispatcher plans it, with a box of 5 tubes waiting at each of its centres.
fn city_partition() -> (Dispatcher, Scenario, Vec<StationId>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/shenzhen/scenario.toml");
    let scenario = Scenario::load(&path).unwrap();
    let map = labflight_geo::MapData::load(&scenario.map_dir(&path)).unwrap();
    let largest = labflight_dispatch::partitions_of(&map)
        .into_iter()
        .max_by_key(|g| map.stations.iter().filter(|s| &s.group == g).count())
        .unwrap();
    let world = Arc::new(World::partition_from_map(&scenario, &map, &largest));
    loaded(world, scenario)
}

/// A dispatcher on `world` with a box of 5 tubes waiting at every centre.
fn loaded(world: Arc<World>, scenario: Scenario) -> (Dispatcher, Scenario, Vec<StationId>) {
    let stations: Vec<StationId> = world.stations.keys().cloned().collect();
    let start = scenario.at(scenario.service.first_draw);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, start);
    let spec = scenario.tube_type("edta").unwrap().clone();
    for (i, s) in stations.iter().enumerate() {
        let tubes = (0..TUBES_PER_BOX)
            .map(|j| Tube {
                barcode: TubeBarcode::new(format!("{s}-{j}")),
                tube_type: TubeType("edta".into()),
                tests: vec![labflight_core::LoincCode("58410-2".into())],
                families: vec![labflight_core::TestFamily::Hematology],
                drawn_at: start,
                stability_minutes: spec.unspun_stability_minutes,
                band: spec.band_unspun,
                spun: false,
            })
            .collect();
        let at = start + chrono::Duration::milliseconds(i as i64);
        d.handle(&Stamped {
            at,
            event: Event::BoxSealed {
                box_id: BoxId::new(format!("BX-{s}")),
                station: s.clone(),
                tubes,
            },
        });
    }
    (d, scenario, stations)
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((p * v.len() as f64) as usize).min(v.len() - 1)]
}

fn time_kind(d: &mut Dispatcher, name: &str, events: Vec<Event>) {
    let mut at = d.state().now;
    let mut samples = Vec::with_capacity(events.len());
    for event in events {
        at += chrono::Duration::milliseconds(10);
        let stamped = Stamped { at, event };
        let t = Clock::now();
        std::hint::black_box(d.handle(&stamped));
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!(
        "{name:<16} n={:<5} median {:>10.1} µs   p99 {:>10.1} µs",
        samples.len(),
        percentile(samples.clone(), 0.5),
        percentile(samples, 0.99)
    );
}

fn per_kind_report() {
    let before = rss_mb();
    let (d, _, stations) = city();
    println!(
        "\ncity scale: {CENTRES} centres, {DRONES} drones, {} open tubes",
        d.state().tubes.len()
    );
    println!(
        "state memory (RSS growth while building it): {:.0} MB",
        rss_mb() - before
    );
    time_kinds(d, &stations);
    let (d, _, stations) = city_partition();
    println!(
        "\nthe largest partition of the Shenzhen city day: {} centres, {} drones, {} open tubes",
        stations.len(),
        d.world().drones.len(),
        d.state().tubes.len()
    );
    time_kinds(d, &stations);
}

/// Times each event kind on `d`, whose centres are `stations`.
fn time_kinds(mut d: Dispatcher, stations: &[StationId]) {
    let drones: Vec<_> = d.state().drones.keys().cloned().collect();
    let telemetry = (0..5_000)
        .map(|i| {
            let drone = drones[i % drones.len()].clone();
            let position = d.state().drones[&drone].position;
            Event::DroneTelemetry {
                drone,
                position,
                alt_m: 120.0,
                battery_pct: 90.0,
                state: DroneState::Idle,
            }
        })
        .collect();
    time_kind(&mut d, "telemetry", telemetry);
    let box_telemetry = (0..2_000)
        .map(|i| Event::BoxTelemetry {
            box_id: BoxId::new(format!("BX-{}", stations[i % stations.len()])),
            temp_c: 20.0,
            lid_open: false,
        })
        .collect();
    time_kind(&mut d, "box_telemetry", box_telemetry);
    let lab = d
        .world()
        .labs
        .keys()
        .next()
        .cloned()
        .unwrap_or(LabId::from("none"));
    time_kind(
        &mut d,
        "lab_queue",
        (0..1_000)
            .map(|i| Event::Lab {
                lab: lab.clone(),
                update: LabUpdate::Queue { tubes: i },
            })
            .collect(),
    );
    time_kind(
        &mut d,
        "tick (re-plan)",
        (0..50).map(|_| Event::Tick).collect(),
    );
    let seals = (0..200)
        .map(|i| Event::BoxSealed {
            box_id: BoxId::new(format!("BX-extra-{i}")),
            station: stations[i * 7 % stations.len()].clone(),
            tubes: Vec::new(),
        })
        .collect();
    time_kind(&mut d, "box_sealed", seals);
}

fn benches(c: &mut Criterion) {
    per_kind_report();
    let (mut d, _, _) = city();
    let drone = d.state().drones.keys().next().cloned().unwrap();
    let position = d.state().drones[&drone].position;
    let mut at = d.state().now;
    c.bench_function("dispatch/city/telemetry", |b| {
        b.iter(|| {
            at += chrono::Duration::milliseconds(1);
            d.handle(&Stamped {
                at,
                event: Event::DroneTelemetry {
                    drone: drone.clone(),
                    position,
                    alt_m: 120.0,
                    battery_pct: 90.0,
                    state: DroneState::Idle,
                },
            })
        })
    });
    // A fresh city: the telemetry above advanced its clock by hours, past every
    // deadline, and a tick there would fly everything at once and leave nothing
    // for the next ticks to plan.
    let (mut d, _, _) = city();
    let mut at = d.state().now;
    c.bench_function("dispatch/city/tick_full_replan", |b| {
        b.iter(|| {
            at += chrono::Duration::milliseconds(1);
            d.handle(&Stamped {
                at,
                event: Event::Tick,
            })
        })
    });
}

criterion_group! {
    name = dispatch;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(dispatch);
