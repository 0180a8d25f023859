//! What both generators place and how: hospital labs with their analyzers, opening
//! hours, and the centres' floor areas (the Health Bureau's distribution).

use labflight_core::lab::Analyzer;
use labflight_core::{GroupId, Lab, LabId, LatLon, OpeningHours, TestFamily};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Opening hours the generators write (always valid).
pub(super) fn hours(text: &str) -> OpeningHours {
    OpeningHours::parse(text).expect("generator hours are valid")
}

/// Analyzers from `(id prefix, family, how many, tubes per hour, run minutes)` lines.
pub(super) fn analyzers(lines: &[(&str, TestFamily, u32, f64, f64)]) -> Vec<Analyzer> {
    lines
        .iter()
        .flat_map(|(prefix, family, n, per_hour, run)| {
            (1..=*n).map(move |i| Analyzer {
                id: format!("{prefix}-{i}"),
                family: *family,
                tubes_per_hour: *per_hour,
                run_minutes: *run,
            })
        })
        .collect()
}

/// A group HQ hospital lab's analyzers.
pub(super) fn hq_analyzers() -> Vec<Analyzer> {
    analyzers(&[
        ("hema", TestFamily::Hematology, 2, 300.0, 30.0),
        ("chem", TestFamily::Chemistry, 2, 400.0, 60.0),
        ("immuno", TestFamily::Immunoassay, 1, 250.0, 90.0),
        ("hba1c", TestFamily::Hba1c, 1, 150.0, 60.0),
        ("coag", TestFamily::Coagulation, 1, 150.0, 45.0),
    ])
}

/// A lab open 07:00-20:00 with 15 minutes of reception and of verification.
pub(super) fn lab(
    id: &str,
    (name, name_zh): (&str, &str),
    group: Option<&str>,
    lat: f64,
    lon: f64,
    analyzers: Vec<Analyzer>,
) -> Lab {
    Lab {
        id: LabId::from(id),
        name: name.into(),
        name_zh: Some(name_zh.into()),
        group: group.map(GroupId::from),
        member_of: None,
        district: None,
        position: LatLon::new(lat, lon),
        analyzers,
        reception_minutes: 15.0,
        verification_minutes: 15.0,
        hours: hours("07:00-20:00"),
    }
}

/// Floor areas for `n` centres in Longhua's proportions: mean ≈ 1,260 m², 48 in
/// 125 at or above 1,400 m², 5 in 125 at or above 3,000 m².
pub(super) fn floor_areas(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    let share = |of_125: usize| (of_125 * n + 62) / 125;
    let big = share(5).min(n);
    let large = share(48).min(n).saturating_sub(big);
    let small = n - big - large;
    let mut areas: Vec<f64> = (0..big)
        .map(|_| rng.random_range(3000.0..3600.0f64).round())
        .collect();
    areas.extend((0..large).map(|_| rng.random_range(1400.0..2200.0f64).round()));
    // The small ones are scaled so the mean lands on 1,260 m².
    let target_small = 1260.0 * n as f64 - areas.iter().sum::<f64>();
    let raw: Vec<f64> = (0..small)
        .map(|_| rng.random_range(400.0..1390.0f64))
        .collect();
    let scale = if small == 0 {
        1.0
    } else {
        target_small / raw.iter().sum::<f64>()
    };
    areas.extend(raw.iter().map(|a| (a * scale).clamp(300.0, 1399.0).round()));
    areas
}
