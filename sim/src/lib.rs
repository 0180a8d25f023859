//! labflight's simulator: a whole day of Longhua (or any scenario) on a virtual
//! clock — demand, drones, boxes, labs, couriers, weather — driving the same
//! dispatcher core as the live service, and the KPIs analysts compare.
//!
//! Layout: `engine` is the simulated world and its virtual clock (what happens
//! when; `engine/acting.rs` acts out the dispatcher's commands), with `demand`
//! (the morning's draws), `labs` (the lab floor), `flight` (a drone's position
//! and battery along its flight) and `thermal` (box temperatures) under it;
//! every event it makes goes to the dispatcher and into the journal (`DayRun`).
//! `ledger` rebuilds each tube's custody from the journal (and `vehicles` the vans' road km), the custody steps
//! the dispatcher derives and its commands; `kpi` computes the figures from the
//! ledger; `report` (with its `charts`) and `output` write the run folder.
//! `simulate` ties them together. Modules are private; what the binary and the
//! benches use is re-exported below.

#![deny(missing_docs)]

mod charts;
mod demand;
/// The simulated world (public: the live service's simulated devices run an
/// `engine::Engine` detached from the dispatcher).
pub mod engine;
mod flight;
mod kpi;
mod labs;
mod ledger;
mod output;
mod partitions;
mod report;
mod thermal;
mod vehicles;

pub use engine::{DayRun, Engine};
pub use kpi::{AreaKpis, Kpis, Tat, compute as compute_kpis};
pub use ledger::{Custody, FlightRecord, Ledger};
pub use output::{
    COMMANDS, JOURNAL, JournalChunk, JournalHeader, JournalReader, PARTITIONS, REPORT,
    read_journal, write_commands, write_decisions, write_journal, write_outcome, write_run,
};
pub use partitions::{PartitionRun, PartitionedDay, simulate_partitioned};
pub use report::{HourOfDraws, MissReason, misses_by_hour_drawn, misses_by_reason};

use labflight_core::Scenario;
use labflight_dispatch::{PolicyKind, World};
use std::sync::Arc;

/// Everything one simulated day produced.
#[derive(Debug)]
pub struct DayResult {
    /// The journal, custody steps and commands of the day.
    pub run: engine::DayRun,
    /// Every tube's custody and every flight.
    pub ledger: ledger::Ledger,
    /// The day's figures.
    pub kpis: kpi::Kpis,
}

/// Simulates one day and computes its KPIs.
pub fn simulate(
    scenario: &Scenario,
    world: Arc<World>,
    policy: PolicyKind,
    seed: u64,
    progress: &mut dyn FnMut(f64),
) -> DayResult {
    let run = engine::Engine::new(scenario, Arc::clone(&world), policy, seed).run(progress);
    let ledger = ledger_of(scenario, &world, &run);
    let kpis = kpi::compute(scenario, seed, policy.name(), &ledger).with_areas(
        scenario,
        &ledger,
        world.stations.values(),
    );
    DayResult { run, ledger, kpis }
}

/// Rebuilds the ledger from a run's journal, the custody steps each event meant
/// and the commands each event produced; the vans' road km on `world`'s map.
pub fn ledger_of(scenario: &Scenario, world: &World, run: &engine::DayRun) -> ledger::Ledger {
    let mut ledger = ledger::Ledger::default();
    let mut commands = run.commands.iter().peekable();
    let mut custody = run.custody.iter().peekable();
    for (i, stamped) in run.journal.iter().enumerate() {
        ledger.apply_event(stamped, scenario.specimen_box.band);
        while let Some((_, step)) = custody.next_if(|(index, _)| *index == i) {
            ledger.apply_custody(step);
        }
        while let Some((_, c)) = commands.next_if(|(index, _)| *index == i) {
            ledger.apply_command(stamped.at, c);
        }
    }
    ledger.measure_vans(world);
    ledger
}
