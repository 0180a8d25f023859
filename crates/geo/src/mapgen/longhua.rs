//! The Longhua data set: an irregular district outline in the real bounding box, six
//! subdistricts as Voronoi cells of seeds placed where the real ones lie, 125
//! centres spread by area, the three hospital labs near their real addresses, pads,
//! depots and three no-fly zones.

use super::shapes::{rectangle, ring_of, voronoi_cell};
use super::sites::{analyzers, floor_areas, hours, hq_analyzers, lab};
use crate::LocalFrame;
use crate::map::{MapData, Subdistrict};
use geo::{Area, Contains, Coord, LineString, MultiPolygon, Point, Polygon};
use labflight_core::pad::PadSite;
use labflight_core::{GroupId, LatLon, Pad, PadId, Station, StationId, TestFamily, Tier};
use nalgebra::Vector2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The seed the committed `maps/longhua` files were generated with.
pub const LONGHUA_SEED: u64 = 2025;

const CENTROID: LatLon = LatLon::new(22.687, 114.030);

/// (name, 中文, group, seed lon, seed lat)
const SUBDISTRICTS: [(&str, &str, &str, f64, f64); 6] = [
    ("Guanlan", "观澜", "CH", 114.050, 22.742),
    ("Fucheng", "福城", "CH", 113.995, 22.735),
    ("Guanhu", "观湖", "CH", 114.085, 22.705),
    ("Dalang", "大浪", "PH", 113.990, 22.670),
    ("Longhua", "龙华", "PH", 114.045, 22.665),
    ("Minzhi", "民治", "PH", 114.030, 22.615),
];

/// The Longhua data set for `seed`.
pub fn generate_longhua(seed: u64) -> MapData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let frame = LocalFrame::new(CENTROID);
    // District outline: a noisy ellipse inside the real bounding box.
    let outline: Vec<Vector2<f64>> = (0..48)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i) / 48.0;
            let noise = 1.0 + rng.random_range(-0.06..0.06);
            Vector2::new(6_600.0 * a.cos() * noise, 9_300.0 * a.sin() * noise)
        })
        .collect();
    let district_poly = Polygon::new(ring_of(&frame, &outline), vec![]);
    let seeds: Vec<Vector2<f64>> = SUBDISTRICTS
        .iter()
        .map(|s| frame.to_local(LatLon::new(s.4, s.3)))
        .collect();
    let cells: Vec<Vec<Vector2<f64>>> = (0..seeds.len())
        .map(|i| voronoi_cell(&outline, &seeds, i))
        .collect();
    let subdistricts: Vec<Subdistrict> = SUBDISTRICTS
        .iter()
        .zip(&cells)
        .map(|(s, cell)| Subdistrict {
            name: s.0.into(),
            name_zh: s.1.into(),
            district: None,
            polygon: MultiPolygon::new(vec![Polygon::new(ring_of(&frame, cell), vec![])]),
        })
        .collect();
    let no_fly = vec![
        rectangle(
            &frame,
            "NFZ-1",
            "Shenzhen North Railway Station",
            LatLon::new(22.609, 114.029),
            900.0,
            600.0,
        ),
        rectangle(
            &frame,
            "NFZ-2",
            "Guanhu 220 kV substation",
            LatLon::new(22.700, 114.075),
            500.0,
            500.0,
        ),
        rectangle(
            &frame,
            "NFZ-3",
            "Guanlan reservoir",
            LatLon::new(22.748, 114.025),
            1400.0,
            900.0,
        ),
    ];
    let labs = vec![
        lab(
            "LAB-PH",
            (
                "Longhua District People's Hospital lab",
                "龙华区人民医院检验科",
            ),
            Some("PH"),
            22.6519,
            114.0297,
            hq_analyzers(),
        ),
        lab(
            "LAB-CH",
            (
                "Longhua District Central Hospital lab",
                "龙华区中心医院检验科",
            ),
            Some("CH"),
            22.6930,
            114.0425,
            hq_analyzers(),
        ),
        lab(
            "LAB-MCH",
            (
                "Longhua District Maternal and Child Health Hospital lab",
                "龙华区妇幼保健院检验科",
            ),
            None,
            22.6377,
            114.0436,
            analyzers(&[
                ("hema", TestFamily::Hematology, 1, 150.0, 30.0),
                ("chem", TestFamily::Chemistry, 1, 150.0, 60.0),
                ("immuno", TestFamily::Immunoassay, 1, 150.0, 90.0),
                ("coag", TestFamily::Coagulation, 1, 150.0, 45.0),
            ]),
        ),
    ];
    // Centres per subdistrict in proportion to area (largest remainder), 125 in all.
    let total = 125usize;
    let areas: Vec<f64> = subdistricts
        .iter()
        .map(|s| s.polygon.unsigned_area())
        .collect();
    let sum: f64 = areas.iter().sum();
    let mut counts: Vec<usize> = areas
        .iter()
        .map(|a| (a / sum * total as f64).floor() as usize)
        .collect();
    let mut order: Vec<usize> = (0..areas.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = areas[a] / sum * total as f64 - counts[a] as f64;
        let rb = areas[b] / sum * total as f64 - counts[b] as f64;
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let short = total - counts.iter().sum::<usize>();
    for &i in order.iter().take(short) {
        counts[i] += 1;
    }
    let mut floor = floor_areas(&mut rng, total);
    floor.sort_by(|a, b| b.total_cmp(a)); // largest first: the six largest become regional centres
    let keep_out = |p: Vector2<f64>, placed: &[Vector2<f64>]| {
        let ll = frame.to_latlon(p);
        let near_zone = no_fly.iter().any(|z| {
            let c = frame.to_local(LatLon::new(
                z.polygon.exterior().0.iter().map(|c| c.y).sum::<f64>()
                    / z.polygon.exterior().0.len() as f64,
                z.polygon.exterior().0.iter().map(|c| c.x).sum::<f64>()
                    / z.polygon.exterior().0.len() as f64,
            ));
            (p - c).norm() < 1_100.0
        });
        near_zone
            || placed.iter().any(|q| (p - q).norm() < 300.0)
            || !district_poly.contains(&Point::new(ll.lon, ll.lat))
    };
    let mut placed: Vec<Vector2<f64>> = Vec::new();
    let mut stations = Vec::new();
    let mut pads = Vec::new();
    let mut big = floor
        .iter()
        .take(SUBDISTRICTS.len())
        .copied()
        .collect::<Vec<_>>()
        .into_iter();
    let mut rest = floor
        .iter()
        .skip(SUBDISTRICTS.len())
        .copied()
        .collect::<Vec<_>>();
    // Shuffle the others so sizes are not ordered by subdistrict.
    for i in (1..rest.len()).rev() {
        rest.swap(i, rng.random_range(0..=i));
    }
    let mut rest = rest.into_iter();
    let mut n = 0;
    for (k, (s, cell)) in SUBDISTRICTS.iter().zip(&cells).enumerate() {
        let cell_poly = Polygon::new(
            LineString::from(
                cell.iter()
                    .map(|v| Coord { x: v.x, y: v.y })
                    .collect::<Vec<_>>(),
            ),
            vec![],
        );
        let (minx, maxx) = cell
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v.x), b.max(v.x)));
        let (miny, maxy) = cell
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v.y), b.max(v.y)));
        for j in 0..counts[k] {
            let mut p = seeds[k];
            for _ in 0..10_000 {
                let c = Vector2::new(rng.random_range(minx..maxx), rng.random_range(miny..maxy));
                // Regional centres sit near the subdistrict's seed (its town centre).
                let c = if j == 0 {
                    seeds[k] + (c - seeds[k]) * 0.15
                } else {
                    c
                };
                if cell_poly.contains(&Point::new(c.x, c.y)) && !keep_out(c, &placed) {
                    p = c;
                    break;
                }
            }
            placed.push(p);
            n += 1;
            let id = StationId::new(format!("LH-C{n:03}"));
            let regional = j == 0;
            let area = if regional { big.next() } else { rest.next() }.unwrap_or(1260.0);
            let position = frame.to_latlon(p);
            let position = LatLon::new(
                (position.lat * 1e6).round() / 1e6,
                (position.lon * 1e6).round() / 1e6,
            );
            let has_pad = n % 10 != 0;
            if has_pad {
                pads.push(Pad {
                    id: PadId::new(format!("PAD-{id}")),
                    position,
                    site: PadSite::Station(id.clone()),
                    capacity: 1,
                    charger: false,
                });
            }
            stations.push(Station {
                name: if regional {
                    format!("{} Regional Centre", s.0)
                } else {
                    format!("{} Centre {:02}", s.0, j)
                },
                name_zh: Some(if regional {
                    format!("{}区域社康中心", s.1)
                } else {
                    format!("{}社康中心{:02}", s.1, j)
                }),
                id: id.clone(),
                subdistrict: s.0.into(),
                district: None,
                group: GroupId::from(s.2),
                tier: if regional {
                    Tier::Regional
                } else {
                    Tier::Community
                },
                position,
                floor_area_m2: area,
                pad: has_pad.then(|| PadId::new(format!("PAD-{id}"))),
                centrifuge: regional || area >= 2000.0,
                hours: hours("08:00-12:00,14:00-17:30"),
            });
            if regional {
                let depot = frame.to_latlon(p + Vector2::new(120.0, 0.0));
                let depot = LatLon::new(
                    (depot.lat * 1e6).round() / 1e6,
                    (depot.lon * 1e6).round() / 1e6,
                );
                pads.push(Pad {
                    id: PadId::new(format!("PAD-DEPOT-{}", s.0.to_uppercase())),
                    position: depot,
                    site: PadSite::Depot,
                    capacity: 6,
                    charger: true,
                });
            }
        }
    }
    for l in &labs {
        pads.push(Pad {
            id: PadId::new(format!("PAD-{}", l.id)),
            position: l.position,
            site: PadSite::Lab(l.id.clone()),
            capacity: 8,
            charger: true,
        });
    }
    pads.sort_by(|a, b| a.id.cmp(&b.id));
    MapData {
        name: "Longhua District".into(),
        name_zh: "龙华区".into(),
        districts: Vec::new(),
        groups: Vec::new(),
        district: MultiPolygon::new(vec![district_poly]),
        subdistricts,
        stations,
        labs,
        pads,
        no_fly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longhua_has_125_centres_6_regional_and_the_floor_area_distribution() {
        let m = generate_longhua(LONGHUA_SEED);
        assert_eq!(m.stations.len(), 125);
        assert_eq!(
            m.stations
                .iter()
                .filter(|s| s.tier == Tier::Regional)
                .count(),
            6
        );
        let areas: Vec<f64> = m.stations.iter().map(|s| s.floor_area_m2).collect();
        assert_eq!(areas.iter().filter(|a| **a >= 1400.0).count(), 48);
        assert_eq!(areas.iter().filter(|a| **a >= 3000.0).count(), 5);
        let mean = areas.iter().sum::<f64>() / 125.0;
        assert!((mean - 1260.0).abs() < 15.0, "mean {mean}");
        let space = m.airspace(50.0);
        for s in &m.stations {
            assert!(space.in_district(s.position), "{} outside", s.id);
            assert!(space.in_no_fly(s.position).is_none(), "{} in a zone", s.id);
        }
        for sub in &m.subdistricts {
            assert!(
                m.stations
                    .iter()
                    .any(|s| s.subdistrict == sub.name && s.tier == Tier::Regional),
                "{}",
                sub.name
            );
        }
    }
}
