//! Where the dispatcher's time goes on a recorded day: each event of the
//! nominal Longhua day (seed 7, or `--seed N`) through a fresh dispatcher,
//! timed and grouped by event kind, with the commands each kind gave. The
//! criterion bench `replay` gives the total; this says which events cost it.
//!
//! `cargo run --release -p labflight-benches --example replay_where [-- SEED [SCENARIO [ROUNDS]]]`
//! (CI smoke-runs it on the short day, one round: scripts/test.sh).

use labflight_core::Scenario;
use labflight_dispatch::{Dispatcher, PolicyKind, World};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args
        .next()
        .map_or(7, |s| s.parse().expect("SEED is a number"));
    let path = args.next().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/scenario.toml"),
        PathBuf::from,
    );
    let rounds: usize = args
        .next()
        .map_or(3, |r| r.parse().expect("ROUNDS is a number"));
    let scenario = Scenario::load(&path).expect("the scenario loads");
    let map = labflight_geo::MapData::load(&scenario.map_dir(&path)).expect("its map loads");
    let world = Arc::new(World::from_map(&scenario, &map));
    let day = labflight_sim::simulate(
        &scenario,
        Arc::clone(&world),
        PolicyKind::Drone,
        seed,
        &mut |_| {},
    );
    let journal = day.run.journal;
    let start = journal.first().expect("a journal has events").at;
    // The fastest of `rounds` is kept per kind (the machine's speed drifts).
    let mut best: BTreeMap<String, (usize, usize, f64)> = BTreeMap::new();
    for _ in 0..rounds.max(1) {
        let mut dispatcher = Dispatcher::new(Arc::clone(&world), PolicyKind::Drone, seed, start);
        let mut round: BTreeMap<String, (usize, usize, f64)> = BTreeMap::new();
        for e in &journal {
            let t = Instant::now();
            let commands = dispatcher.handle(e).len();
            let micros = t.elapsed().as_secs_f64() * 1e6;
            let entry = round.entry(kind_of(&e.event)).or_default();
            entry.0 += 1;
            entry.1 += commands;
            entry.2 += micros;
        }
        for (kind, r) in round {
            let b = best.entry(kind).or_insert(r);
            if r.2 < b.2 {
                *b = r;
            }
        }
    }
    let total: f64 = best.values().map(|b| b.2).sum();
    println!(
        "{:<22} {:>8} {:>9} {:>10} {:>8} {:>6}",
        "event", "count", "commands", "total ms", "µs each", "share"
    );
    let mut rows: Vec<_> = best.into_iter().collect();
    rows.sort_by(|a, b| b.1.2.total_cmp(&a.1.2));
    for (kind, (count, commands, micros)) in rows {
        println!(
            "{kind:<22} {count:>8} {commands:>9} {:>10.1} {:>8.1} {:>5.1}%",
            micros / 1e3,
            micros / count as f64,
            100.0 * micros / total
        );
    }
    println!(
        "{} events, {:.1} ms, {:.0} k events/s",
        journal.len(),
        total / 1e3,
        journal.len() as f64 / total * 1e3
    );
}

/// The event's kind; a drone event's own kind beside it (they cost differently).
fn kind_of(event: &labflight_core::Event) -> String {
    match event {
        labflight_core::Event::Drone { kind, .. } => {
            let debug = format!("{kind:?}");
            let name = debug
                .split([' ', '(', '{'])
                .next()
                .unwrap_or_default()
                .to_owned();
            format!("drone/{name}")
        }
        other => other.kind_name().to_owned(),
    }
}
