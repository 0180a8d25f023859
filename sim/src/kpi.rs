//! The day's key figures (fields fixed by contracts.md), computed from the ledger.

use crate::ledger::Ledger;
use labflight_core::Scenario;
use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Tat {
    pub p50: i64,
    pub p90: i64,
    pub p99: i64,
    pub max: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Kpis {
    pub scenario: String,
    pub seed: u64,
    pub policy: String,
    pub specimens: usize,
    pub drawn_by_last_draw: usize,
    pub resulted_by_cutoff: usize,
    pub on_time_rate: f64,
    pub tat_minutes: Tat,
    pub stability_violations: usize,
    pub temperature_excursions: usize,
    pub lost_specimens: usize,
    pub rejected_specimens: usize,
    pub flights: usize,
    pub drone_km: f64,
    pub drone_utilisation: f64,
    pub courier_trips: u32,
    pub drones: u32,
    pub couriers: u32,
}

pub fn compute(scenario: &Scenario, seed: u64, policy: &str, ledger: &Ledger) -> Kpis {
    let last_draw = scenario.at(scenario.service.last_draw);
    let cutoff = scenario.at(scenario.service.cutoff);
    let tubes: Vec<_> = ledger.tubes.values().collect();
    let eligible: Vec<_> = tubes.iter().filter(|c| c.drawn_at <= last_draw).collect();
    let on_time = eligible
        .iter()
        .filter(|c| c.reported_at.is_some_and(|r| r <= cutoff))
        .count();
    let mut tat: Vec<i64> = tubes
        .iter()
        .filter_map(|c| c.reported_at.map(|r| (r - c.drawn_at).num_minutes()))
        .collect();
    tat.sort_unstable();
    let pct = |p: f64| -> i64 {
        if tat.is_empty() {
            return 0;
        }
        let i = ((p * tat.len() as f64).ceil() as usize).clamp(1, tat.len()) - 1;
        tat[i]
    };
    let stability = tubes.iter().filter(|c| c.stability_violated()).count();
    // A tube is lost when its end state is unknown (contracts.md): neither
    // reported, nor rejected at the lab, nor in a lab's hands at the day's end
    // (a tube received late and not yet resulted is late, not lost).
    let lost = tubes
        .iter()
        .filter(|c| c.reported_at.is_none() && !c.stability_violated() && c.received_at.is_none())
        .count();
    let flown: Vec<_> = ledger.flights.iter().filter(|f| !f.aborted).collect();
    let flight_minutes: f64 = flown
        .iter()
        .map(|f| (f.arrive - f.depart).num_seconds() as f64 / 60.0)
        .sum();
    let window = (cutoff - scenario.at(scenario.service.first_draw)).num_minutes() as f64;
    let drones = scenario.fleet.drones;
    Kpis {
        scenario: scenario.name.clone(),
        seed,
        policy: policy.to_owned(),
        specimens: tubes.len(),
        drawn_by_last_draw: eligible.len(),
        resulted_by_cutoff: on_time,
        on_time_rate: round4(if eligible.is_empty() {
            1.0
        } else {
            on_time as f64 / eligible.len() as f64
        }),
        tat_minutes: Tat {
            p50: pct(0.5),
            p90: pct(0.9),
            p99: pct(0.99),
            max: tat.last().copied().unwrap_or(0),
        },
        stability_violations: stability,
        temperature_excursions: tubes.iter().filter(|c| c.temperature_excursion).count(),
        lost_specimens: lost,
        rejected_specimens: stability,
        flights: flown.len(),
        drone_km: round4(flown.iter().map(|f| f.distance_km).sum()),
        drone_utilisation: round4(if drones == 0 {
            0.0
        } else {
            flight_minutes / (window * f64::from(drones))
        }),
        courier_trips: ledger.courier_trips,
        drones,
        couriers: scenario.fleet.couriers,
    }
}

/// Rounds to 4 decimals; `+ 0.0` turns the -0.0 of an empty float sum into 0.0.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0 + 0.0
}
