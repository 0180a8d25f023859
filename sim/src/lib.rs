//! labflight's simulator: a whole day of Longhua (or any scenario) on a virtual
//! clock — demand, drones, boxes, labs, couriers, weather — driving the same
//! dispatcher core as the live service, and the KPIs analysts compare.

pub mod demand;
pub mod engine;
pub mod kpi;
pub mod labs;
pub mod ledger;
pub mod output;
pub mod report;
pub mod thermal;

use labflight_core::Scenario;
use labflight_dispatch::{PolicyKind, World};
use std::sync::Arc;

/// Everything one simulated day produced.
#[derive(Debug)]
pub struct DayResult {
    pub run: engine::DayRun,
    pub ledger: ledger::Ledger,
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
    let run = engine::Engine::new(scenario, world, policy, seed).run(progress);
    let ledger = ledger_of(scenario, &run);
    let kpis = kpi::compute(scenario, seed, policy.name(), &ledger);
    DayResult { run, ledger, kpis }
}

/// Rebuilds the ledger from a run's journal and the commands each event produced.
pub fn ledger_of(scenario: &Scenario, run: &engine::DayRun) -> ledger::Ledger {
    let mut ledger = ledger::Ledger::default();
    let mut commands = run.commands.iter().peekable();
    for (i, stamped) in run.journal.iter().enumerate() {
        ledger.apply_event(stamped, scenario.specimen_box.band);
        while let Some((_, c)) = commands.next_if(|(index, _)| *index == i) {
            ledger.apply_command(stamped.at, c);
        }
    }
    ledger
}
