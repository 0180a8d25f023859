//! The day's key figures (fields fixed by contracts.md), computed from the ledger.

use crate::ledger::Ledger;
use labflight_core::Scenario;
use serde::Serialize;

/// Turnaround from draw to reported result, minutes, over the tubes reported.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Tat {
    /// Median.
    pub p50: i64,
    /// 90th percentile.
    pub p90: i64,
    /// 99th percentile.
    pub p99: i64,
    /// Longest.
    pub max: i64,
}

/// The figures of one simulated day (`kpis.json`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Kpis {
    /// The scenario's name.
    pub scenario: String,
    /// The seed of the day.
    pub seed: u64,
    /// The policy that planned it.
    pub policy: String,
    /// Tubes drawn.
    pub specimens: usize,
    /// Tubes drawn by the last draw time: those the promise is about.
    pub drawn_by_last_draw: usize,
    /// Of those, tubes whose result reached the centre by the cutoff.
    pub resulted_by_cutoff: usize,
    /// `resulted_by_cutoff / drawn_by_last_draw`.
    pub on_time_rate: f64,
    /// Turnaround of the tubes reported.
    pub tat_minutes: Tat,
    /// Tubes that reached a lab after their stability limit.
    pub stability_violations: usize,
    /// Tubes whose box left its temperature band before reception.
    pub temperature_excursions: usize,
    /// Tubes whose end state is unknown at the end of the day.
    pub lost_specimens: usize,
    /// Of `lost_specimens`, the tubes no carrier ever took: still in a sealed box
    /// at their centre when the day ends (the rest are on a van or a drone).
    pub never_collected: usize,
    /// Tubes the lab refuses: those that reached it past their stability limit, or
    /// needing a test it does not run.
    pub rejected_specimens: usize,
    /// Drone missions flown.
    pub flights: usize,
    /// Kilometres flown on missions.
    pub drone_km: f64,
    /// The share of the drones' service hours spent flying missions.
    pub drone_utilisation: f64,
    /// Van trips.
    pub courier_trips: u32,
    /// Drones in the fleet.
    pub drones: u32,
    /// Vans in the fleet.
    pub couriers: u32,
    /// Drones that flew at least one mission.
    pub drones_used: u32,
    /// Vans that made at least one run.
    pub vans_used: u32,
    /// Road km the vans drove for the runs booked (`vehicles::van_km`).
    pub van_km: f64,
    /// Energy of the missions flown, by the flight model (the plan's), kWh.
    pub drone_kwh: f64,
    /// Energy of `van_km` at `courier.kwh_per_km`, kWh.
    pub van_kwh: f64,
    /// The service level of each medical group (the partition a day by groups is
    /// dispatched in), by the tubes' centres, in id order; absent on a map of one group.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_group: Vec<AreaKpis>,
    /// The same for each district, on a map of several (the city's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_district: Vec<AreaKpis>,
}

/// The service level of one group or district (`Kpis::by_group`, `by_district`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AreaKpis {
    /// The group's or district's id.
    pub id: String,
    /// Its centres.
    pub centres: usize,
    /// Tubes drawn there.
    pub specimens: usize,
    /// Tubes drawn there by the last draw time.
    pub drawn_by_last_draw: usize,
    /// Of those, tubes whose result reached the centre by the cutoff.
    pub resulted_by_cutoff: usize,
    /// `resulted_by_cutoff / drawn_by_last_draw`.
    pub on_time_rate: f64,
    /// Tubes that reached a lab after their stability limit.
    pub stability_violations: usize,
    /// Tubes whose end state is unknown at the end of the day.
    pub lost_specimens: usize,
}

impl Kpis {
    /// The figures broken down by the groups and districts of `stations` (where
    /// the map has more than one of either).
    pub fn with_areas<'a>(
        mut self,
        scenario: &Scenario,
        ledger: &Ledger,
        stations: impl IntoIterator<Item = &'a labflight_core::Station>,
    ) -> Kpis {
        let stations: Vec<_> = stations.into_iter().collect();
        let group = |s: &labflight_core::Station| Some(s.group.to_string());
        let district = |s: &labflight_core::Station| s.district.clone();
        self.by_group = areas(scenario, ledger, &stations, group);
        self.by_district = areas(scenario, ledger, &stations, district);
        self
    }
}

/// Each area's figures, the area of a centre told by `area_of`; none unless
/// there are two areas or more.
fn areas(
    scenario: &Scenario,
    ledger: &Ledger,
    stations: &[&labflight_core::Station],
    area_of: impl Fn(&labflight_core::Station) -> Option<String>,
) -> Vec<AreaKpis> {
    use std::collections::BTreeMap;
    let mut area_at = BTreeMap::new();
    let mut by_area: BTreeMap<String, AreaKpis> = BTreeMap::new();
    for s in stations {
        let Some(area) = area_of(s) else { continue };
        let entry = by_area.entry(area.clone()).or_insert_with(|| AreaKpis {
            id: area.clone(),
            centres: 0,
            specimens: 0,
            drawn_by_last_draw: 0,
            resulted_by_cutoff: 0,
            on_time_rate: 1.0,
            stability_violations: 0,
            lost_specimens: 0,
        });
        entry.centres += 1;
        area_at.insert(&s.id, area);
    }
    if by_area.len() < 2 {
        return Vec::new();
    }
    let last_draw = scenario.at(scenario.service.last_draw);
    let cutoff = scenario.at(scenario.service.cutoff);
    for c in ledger.tubes.values() {
        let Some(a) = area_at.get(&c.station).and_then(|a| by_area.get_mut(a)) else {
            continue;
        };
        a.specimens += 1;
        if c.drawn_at <= last_draw {
            a.drawn_by_last_draw += 1;
            if c.reported_at.is_some_and(|r| r <= cutoff) {
                a.resulted_by_cutoff += 1;
            }
        }
        a.stability_violations += usize::from(c.stability_violated());
        a.lost_specimens += usize::from(is_lost(c));
    }
    by_area
        .into_values()
        .map(|mut a| {
            if a.drawn_by_last_draw > 0 {
                a.on_time_rate = round4(a.resulted_by_cutoff as f64 / a.drawn_by_last_draw as f64);
            }
            a
        })
        .collect()
}

/// A tube is lost when its end state is unknown (contracts.md): neither
/// reported, nor rejected at the lab, nor in a lab's hands at the day's end
/// (a tube received late and not yet resulted is late, not lost).
fn is_lost(c: &crate::ledger::Custody) -> bool {
    c.reported_at.is_none() && !c.stability_violated() && c.received_at.is_none()
}

/// The day's figures from its ledger.
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
    let lost: Vec<_> = tubes.iter().filter(|c| is_lost(c)).collect();
    let flown: Vec<_> = ledger.flights.iter().filter(|f| !f.aborted).collect();
    let flight_minutes: f64 = flown
        .iter()
        .map(|f| (f.arrive - f.depart).num_seconds() as f64 / 60.0)
        .sum();
    let window = (cutoff - scenario.at(scenario.service.first_draw)).num_minutes() as f64;
    let drones = scenario.fleet.drones;
    let van_km: f64 = ledger.van_km.values().sum();
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
        lost_specimens: lost.len(),
        never_collected: lost.iter().filter(|c| c.loaded_at.is_none()).count(),
        rejected_specimens: tubes
            .iter()
            .filter(|c| c.stability_violated() || ledger.lab_rejections.contains_key(&c.barcode))
            .count(),
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
        drones_used: flown
            .iter()
            .map(|f| f.drone.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u32,
        vans_used: ledger.van_km.len() as u32,
        van_km: round4(van_km),
        drone_kwh: round4(flown.iter().map(|f| f.energy_wh).sum::<f64>() / 1000.0),
        van_kwh: round4(van_km * scenario.courier.kwh_per_km),
        by_group: Vec::new(),
        by_district: Vec::new(),
    }
}

/// Rounds to 4 decimals; `+ 0.0` turns the -0.0 of an empty float sum into 0.0.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0 + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Custody;
    use chrono::{Duration, TimeZone, Utc};
    use labflight_core::{BoxId, StationId, TubeBarcode};

    /// A tube drawn at 08:00 local, in custody as far as `loaded` and `received`.
    fn tube(n: u32, loaded: bool, received: bool) -> Custody {
        let drawn = Utc.with_ymd_and_hms(2026, 6, 15, 0, 0, 0).unwrap();
        let later = |m| Some(drawn + Duration::minutes(m));
        Custody {
            barcode: TubeBarcode::new(format!("T-{n}")),
            station: StationId::from("C1"),
            tube_type: "edta".into(),
            tests: "58410-2".into(),
            spun: false,
            box_id: BoxId::from("B1"),
            drawn_at: drawn,
            stability_deadline: drawn + Duration::hours(24),
            sealed_at: drawn + Duration::minutes(30),
            loaded_at: if loaded { later(40) } else { None },
            carrier: loaded.then(|| "V-01".to_owned()),
            mission: loaded.then(|| "M-000001".to_owned()),
            received_at: if received { later(80) } else { None },
            lab: None,
            resulted_at: None,
            reported_at: None,
            temperature_excursion: false,
        }
    }

    #[test]
    fn a_tube_never_collected_is_lost_and_counted_apart_from_one_still_on_a_van() {
        let scenario = Scenario::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/scenario.toml"),
        )
        .unwrap();
        let mut ledger = Ledger::default();
        for (n, loaded, received) in [(1, false, false), (2, true, false), (3, true, true)] {
            let t = tube(n, loaded, received);
            ledger.tubes.insert(t.barcode.clone(), t);
        }
        let k = compute(&scenario, 7, "drone", &ledger);
        assert_eq!(k.lost_specimens, 2, "at the centre and on the van");
        assert_eq!(k.never_collected, 1, "only the one at its centre");
    }
}
