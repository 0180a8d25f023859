//! Nearest-centre queries and path planning at district scale (the Longhua map:
//! 125 centres, 3 no-fly zones) and city scale (2,000 centres, 50 zones).

use criterion::{Criterion, criterion_group, criterion_main};
use labflight_core::LatLon;
use labflight_geo::SiteKind;
use labflight_geo::{MapData, SpatialIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::path::Path;

fn worlds() -> Vec<(&'static str, MapData)> {
    let longhua =
        MapData::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua")).unwrap();
    vec![
        ("district", longhua),
        ("city", labflight_geo::generate_city(2025, 2_000, 50)),
    ]
}

fn benches(c: &mut Criterion) {
    for (scale, map) in worlds() {
        let frame = map.frame();
        let index = SpatialIndex::new(frame, &map.stations, &map.labs, &map.pads);
        let space = map.airspace(50.0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let probes: Vec<LatLon> = (0..256)
            .map(|_| {
                let s = &map.stations[rng.random_range(0..map.stations.len())];
                LatLon::new(
                    s.position.lat + rng.random_range(-0.01..0.01),
                    s.position.lon + rng.random_range(-0.01..0.01),
                )
            })
            .collect();
        let pairs: Vec<(LatLon, LatLon)> = (0..256)
            .map(|_| {
                let a = map.stations[rng.random_range(0..map.stations.len())].position;
                let b = map.labs[rng.random_range(0..map.labs.len())].position;
                (a, b)
            })
            .collect();
        let mut i = 0;
        c.bench_function(&format!("spatial/{scale}/nearest_5_centres"), |b| {
            b.iter(|| {
                i = (i + 1) % probes.len();
                black_box(index.nearest(probes[i], SiteKind::Station, 5).len())
            })
        });
        c.bench_function(&format!("spatial/{scale}/nearest_pad_with_charger"), |b| {
            b.iter(|| {
                i = (i + 1) % probes.len();
                black_box(
                    index
                        .nearest_pad_with_capacity(probes[i], |id| {
                            !id.starts_with("PAD-LH-C") && !id.starts_with("PAD-SZ-C")
                        })
                        .is_some(),
                )
            })
        });
        c.bench_function(&format!("spatial/{scale}/route_centre_to_lab"), |b| {
            b.iter(|| {
                i = (i + 1) % pairs.len();
                black_box(
                    space
                        .route(pairs[i].0, pairs[i].1)
                        .map(|r| r.length_m)
                        .unwrap_or(0.0),
                )
            })
        });
        c.bench_function(&format!("spatial/{scale}/build_airspace"), |b| {
            b.iter(|| black_box(map.airspace(50.0)))
        });
    }
}

criterion_group! {
    name = spatial;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(spatial);
