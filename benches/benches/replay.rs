//! What a replay costs, in journal events per second, taken apart: the
//! dispatcher re-deciding a recorded `longhua` day (seed 7), and reading the
//! journal's JSON lines. The whole `labflight replay` (with the ledger and the
//! outputs) is timed with the command in benches/README.md; the target
//! (1 M events/s) is for the whole, and these say where the time goes.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labflight_core::{Scenario, Stamped};
use labflight_dispatch::{Dispatcher, PolicyKind, World};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

/// The nominal day of seed 7, simulated once: its world, journal and commands.
fn recorded_day() -> (Arc<World>, Vec<Stamped>, usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/scenario.toml");
    let scenario = Scenario::load(&path).expect("the Longhua scenario loads");
    let map = labflight_geo::MapData::load(&scenario.map_dir(&path)).expect("its map loads");
    let world = Arc::new(World::from_map(&scenario, &map));
    let day = labflight_sim::simulate(
        &scenario,
        Arc::clone(&world),
        PolicyKind::Drone,
        7,
        &mut |_| {},
    );
    (world, day.run.journal, day.run.commands.len())
}

/// Every event through a fresh dispatcher, as `replay` does; the number of commands.
fn redecide(world: &Arc<World>, journal: &[Stamped]) -> usize {
    let start = journal.first().expect("a journal has events").at;
    let mut dispatcher = Dispatcher::new(Arc::clone(world), PolicyKind::Drone, 7, start);
    journal.iter().map(|e| dispatcher.handle(e).len()).sum()
}

fn benches(c: &mut Criterion) {
    let (world, journal, recorded_commands) = recorded_day();
    // A replay that decided differently would be timing something else.
    assert_eq!(
        redecide(&world, &journal),
        recorded_commands,
        "the replay gives the day's commands"
    );
    let mut group = c.benchmark_group("replay/longhua_day");
    group.throughput(Throughput::Elements(journal.len() as u64));
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(8));
    group.bench_function("dispatcher", |b| {
        b.iter(|| black_box(redecide(&world, &journal)))
    });
    let lines: Vec<String> = journal
        .iter()
        .map(|e| serde_json::to_string(e).expect("an event serializes"))
        .collect();
    group.bench_function("parse_json_lines", |b| {
        b.iter(|| {
            let events: Vec<Stamped> = lines
                .iter()
                .map(|l| serde_json::from_str(l).expect("a journal line parses"))
                .collect();
            black_box(events)
        })
    });
    group.finish();
}

criterion_group!(replay, benches);
criterion_main!(replay);
