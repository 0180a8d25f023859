//! Who gets blood drawn where and when: per centre, a morning of draws scaled by
//! floor area, peaking in the fasting hours, each patient with a test mix mapped
//! to tubes (one per tube type), spun on site where the centre has a centrifuge.
//! Seeded per centre, so a centre's morning does not change when another's does.

use chrono::Duration;
use labflight_core::{
    Instant, LoincCode, Scenario, Station, TestFamily, Tube, TubeBarcode, TubeType,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};
use std::collections::BTreeMap;

/// A tube drawn at a centre.
#[derive(Clone, Debug)]
pub struct Draw {
    pub station: labflight_core::StationId,
    pub tube: Tube,
}

/// Every tube drawn in the morning, in draw order (then barcode).
pub fn morning_draws(scenario: &Scenario, stations: &[Station], seed: u64) -> Vec<Draw> {
    let mut out = Vec::new();
    for (i, station) in stations.iter().enumerate() {
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64 + 1));
        out.extend(station_draws(scenario, station, &mut rng));
    }
    out.sort_by(|a, b| {
        a.tube
            .drawn_at
            .cmp(&b.tube.drawn_at)
            .then_with(|| a.tube.barcode.cmp(&b.tube.barcode))
    });
    out
}

fn station_draws(scenario: &Scenario, station: &Station, rng: &mut ChaCha8Rng) -> Vec<Draw> {
    let d = &scenario.demand;
    let mean = d.patients_per_reference_centre * station.floor_area_m2 / d.reference_floor_area_m2;
    let patients = Poisson::new(mean.max(0.1))
        .map(|p| p.sample(rng) as usize)
        .unwrap_or(0);
    let mut times: Vec<Instant> = (0..patients).map(|_| draw_time(scenario, rng)).collect();
    times.sort();
    let mut out = Vec::new();
    let mut seq = 0u32;
    for drawn_at in times {
        let mut by_type: BTreeMap<&str, Vec<&labflight_core::scenario::TestSpec>> = BTreeMap::new();
        for test in &scenario.tests {
            if rng.random_bool(test.share) {
                by_type
                    .entry(test.tube_type.as_str())
                    .or_default()
                    .push(test);
            }
        }
        if by_type.is_empty() {
            // Everyone drawn has at least one test: the most common one.
            let test = scenario
                .tests
                .iter()
                .max_by(|a, b| a.share.total_cmp(&b.share))
                .expect("validated: at least one test");
            by_type.insert(test.tube_type.as_str(), vec![test]);
        }
        for (kind, tests) in by_type {
            let spec = scenario.tube_type(kind).expect("validated tube type");
            let spun =
                station.centrifuge && spec.spun_stability_minutes > spec.unspun_stability_minutes;
            let mut families: Vec<TestFamily> = tests.iter().map(|t| t.family).collect();
            families.sort();
            families.dedup();
            seq += 1;
            out.push(Draw {
                station: station.id.clone(),
                tube: Tube {
                    barcode: TubeBarcode::new(format!("{}-{seq:04}", station.id)),
                    tube_type: TubeType(kind.to_owned()),
                    tests: tests.iter().map(|t| LoincCode(t.loinc.clone())).collect(),
                    families,
                    drawn_at,
                    stability_minutes: if spun {
                        spec.spun_stability_minutes
                    } else {
                        spec.unspun_stability_minutes
                    },
                    band: if spun {
                        spec.band_spun
                    } else {
                        spec.band_unspun
                    },
                    spun,
                },
            });
        }
    }
    out
}

/// A draw time in the morning window, weighted: `peak_weight` in the peak,
/// `late_weight` after it, 1 before it. Whole seconds.
fn draw_time(scenario: &Scenario, rng: &mut ChaCha8Rng) -> Instant {
    let d = &scenario.demand;
    let s = &scenario.service;
    let first = scenario.at(s.first_draw);
    let last = scenario.at(s.last_draw);
    let peak_start = scenario.at(d.peak_start).clamp(first, last);
    let peak_end = scenario.at(d.peak_end).clamp(peak_start, last);
    let segments = [
        (first, peak_start, 1.0),
        (peak_start, peak_end, d.peak_weight),
        (peak_end, last, d.late_weight),
    ];
    let mass = |(a, b, w): &(Instant, Instant, f64)| (*b - *a).num_seconds() as f64 * w;
    let total: f64 = segments.iter().map(mass).sum();
    let mut pick = rng.random_range(0.0..total.max(1.0));
    for seg in &segments {
        let m = mass(seg);
        if pick < m || std::ptr::eq(seg, &segments[2]) {
            let span = (seg.1 - seg.0).num_seconds().max(1);
            return seg.0 + Duration::seconds(rng.random_range(0..span));
        }
        pick -= m;
    }
    last
}
