//! A seeded generator for the Longhua data set (and a city-scale one). Real
//! coordinates of the centres are not public, so positions are illustrative:
//! an irregular district outline in the real bounding box, six subdistricts as
//! Voronoi cells of seeds placed where the real ones lie, 125 centres spread by
//! area with the floor-area distribution of the Health Bureau's briefing, the
//! three hospital labs near their real addresses, pads and three no-fly zones.

use crate::map::{MapData, Subdistrict};
use crate::{LocalFrame, NoFlyZone};
use geo::{Area, Contains, Coord, LineString, MultiPolygon, Point, Polygon};
use labflight_core::lab::Analyzer;
use labflight_core::pad::PadSite;
use labflight_core::{
    GroupId, Lab, LabId, LatLon, OpeningHours, Pad, PadId, Station, StationId, TestFamily, Tier,
};
use nalgebra::Vector2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

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

fn hours(text: &str) -> OpeningHours {
    OpeningHours::parse(text).expect("generator hours are valid")
}

fn analyzers(lines: &[(&str, TestFamily, u32, f64, f64)]) -> Vec<Analyzer> {
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

fn hq_analyzers() -> Vec<Analyzer> {
    analyzers(&[
        ("hema", TestFamily::Hematology, 2, 300.0, 30.0),
        ("chem", TestFamily::Chemistry, 2, 400.0, 60.0),
        ("immuno", TestFamily::Immunoassay, 1, 250.0, 90.0),
        ("hba1c", TestFamily::Hba1c, 1, 150.0, 60.0),
        ("coag", TestFamily::Coagulation, 1, 150.0, 45.0),
    ])
}

fn lab(
    id: &str,
    name: &str,
    group: Option<&str>,
    lat: f64,
    lon: f64,
    analyzers: Vec<Analyzer>,
) -> Lab {
    Lab {
        id: LabId::from(id),
        name: name.into(),
        group: group.map(GroupId::from),
        position: LatLon::new(lat, lon),
        analyzers,
        reception_minutes: 15.0,
        verification_minutes: 15.0,
        hours: hours("07:00-20:00"),
    }
}

fn ring_of(frame: &LocalFrame, pts: &[Vector2<f64>]) -> LineString<f64> {
    let mut coords: Vec<Coord<f64>> = pts
        .iter()
        .map(|v| {
            let p = frame.to_latlon(*v);
            Coord { x: p.lon, y: p.lat }
        })
        .collect();
    coords.push(coords[0]);
    LineString::from(coords)
}

/// Keeps the part of `poly` (local metres) on `site`'s side of the bisector with `other`.
fn clip_half_plane(
    poly: &[Vector2<f64>],
    site: Vector2<f64>,
    other: Vector2<f64>,
) -> Vec<Vector2<f64>> {
    let mid = (site + other) / 2.0;
    let n = other - site;
    let inside = |p: &Vector2<f64>| (p - mid).dot(&n) <= 0.0;
    let mut out = Vec::new();
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        let (ia, ib) = (inside(&a), inside(&b));
        if ia {
            out.push(a);
        }
        if ia != ib {
            let t = (mid - a).dot(&n) / (b - a).dot(&n);
            out.push(a + (b - a) * t);
        }
    }
    out
}

/// The part of `outline` (local metres) nearer `sites[i]` than any
/// other site: its Voronoi cell.
fn voronoi_cell(outline: &[Vector2<f64>], sites: &[Vector2<f64>], i: usize) -> Vec<Vector2<f64>> {
    (0..sites.len())
        .filter(|&j| j != i)
        .fold(outline.to_vec(), |poly, j| {
            clip_half_plane(&poly, sites[i], sites[j])
        })
}

fn rectangle(
    frame: &LocalFrame,
    id: &str,
    name: &str,
    centre: LatLon,
    w_m: f64,
    h_m: f64,
) -> NoFlyZone {
    let c = frame.to_local(centre);
    let pts = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
        .map(|(x, y)| c + Vector2::new(x * w_m / 2.0, y * h_m / 2.0));
    NoFlyZone {
        id: id.into(),
        name: name.into(),
        polygon: Polygon::new(ring_of(frame, &pts), vec![]),
    }
}

/// Floor areas for `n` centres: mean ≈ 1,260 m², 48 at or above 1,400 m², 5 at or above 3,000 m².
fn floor_areas(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    let big = 5.min(n);
    let large = 48usize.min(n).saturating_sub(big);
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
            "Longhua District People's Hospital lab",
            Some("PH"),
            22.6519,
            114.0297,
            hq_analyzers(),
        ),
        lab(
            "LAB-CH",
            "Longhua District Central Hospital lab",
            Some("CH"),
            22.6930,
            114.0425,
            hq_analyzers(),
        ),
        lab(
            "LAB-MCH",
            "Longhua District Maternal and Child Health Hospital lab",
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
                id: id.clone(),
                subdistrict: s.0.into(),
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
        district: MultiPolygon::new(vec![district_poly]),
        subdistricts,
        stations,
        labs,
        pads,
        no_fly,
    }
}

/// Square kilometres of district per depot in Longhua: 192 km², 6 depots.
const LONGHUA_KM2_PER_DEPOT: f64 = 32.0;

/// Depots (chargers) for a city map of `area_km2`, as dense as Longhua's, each next
/// to the centre then farthest from every charger: without them the only chargers
/// are the labs', and a centre 8 km from its lab is beyond a drone's round trip.
/// A drone's reach, not the number of centres, sets how many: seed 7 of the
/// 700-centre city gave 91.2 / 94.5 / 95.0 / 95.6 / 95.2 % on time with 17 / 34 /
/// 50 / 63 / 69 depots, and took 37 / 29 / 25 / 23 / 25 s to simulate (the time
/// goes on weighing pickups no drone nearby can reach). 120 m from the centre, away
/// from the nearest no-fly zone.
fn city_depots(
    area_km2: f64,
    frame: &LocalFrame,
    stations: &[Station],
    lab_local: &[Vector2<f64>],
    zone_centres: &[Vector2<f64>],
) -> Vec<Pad> {
    let count = (area_km2 / LONGHUA_KM2_PER_DEPOT).round() as usize;
    let local: Vec<Vector2<f64>> = stations
        .iter()
        .map(|s| frame.to_local(s.position))
        .collect();
    let mut chargers: Vec<Vector2<f64>> = lab_local.to_vec();
    let mut depots = Vec::new();
    for n in 0..count {
        let farthest = local
            .iter()
            .map(|p| {
                let nearest = chargers
                    .iter()
                    .map(|c| (c - p).norm())
                    .fold(f64::INFINITY, f64::min);
                (p, nearest)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((&p, _)) = farthest else {
            break;
        };
        let away = zone_centres
            .iter()
            .min_by(|a, b| (*a - p).norm().total_cmp(&(*b - p).norm()))
            .map(|z| p - z)
            .filter(|v| v.norm() > 1e-6)
            .map_or(Vector2::new(1.0, 0.0), |v| v.normalize());
        let at = frame.to_latlon(p + away * 120.0);
        depots.push(Pad {
            id: PadId::new(format!("PAD-DEPOT-{:02}", n + 1)),
            position: LatLon::new((at.lat * 1e6).round() / 1e6, (at.lon * 1e6).round() / 1e6),
            site: PadSite::Depot,
            capacity: 6,
            charger: true,
        });
        chargers.push(p);
    }
    depots
}

/// A city-scale world (Shenzhen-like): `centres` centres in a 50 × 40 km box, 17
/// group HQ labs whose Voronoi cells are the groups' areas (each with its largest
/// centre as regional centre), `zones` small no-fly zones, and depots as dense as
/// Longhua's (`city_depots`).
pub fn generate_city(seed: u64, centres: usize, zones: usize) -> MapData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let origin = LatLon::new(22.600, 114.060);
    let frame = LocalFrame::new(origin);
    let (w, h) = (25_000.0, 20_000.0);
    let outline = [
        Vector2::new(-w, -h),
        Vector2::new(w, -h),
        Vector2::new(w, h),
        Vector2::new(-w, h),
    ];
    let district = Polygon::new(ring_of(&frame, &outline), vec![]);
    let labs: Vec<Lab> = (0..17)
        .map(|i| {
            let p = frame.to_latlon(Vector2::new(
                rng.random_range(-0.8 * w..0.8 * w),
                rng.random_range(-0.8 * h..0.8 * h),
            ));
            lab(
                &format!("LAB-G{:02}", i + 1),
                &format!("Group {:02} HQ hospital lab", i + 1),
                Some(&format!("G{:02}", i + 1)),
                p.lat,
                p.lon,
                hq_analyzers(),
            )
        })
        .collect();
    let lab_local: Vec<Vector2<f64>> = labs.iter().map(|l| frame.to_local(l.position)).collect();
    let mut zone_centres: Vec<Vector2<f64>> = Vec::new();
    for _ in 0..zones * 50 {
        if zone_centres.len() == zones {
            break;
        }
        let c = Vector2::new(rng.random_range(-w..w), rng.random_range(-h..h));
        if lab_local.iter().all(|l| (l - c).norm() > 1_500.0)
            && zone_centres.iter().all(|z| (z - c).norm() > 2_000.0)
        {
            zone_centres.push(c);
        }
    }
    let no_fly: Vec<NoFlyZone> = zone_centres
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rectangle(
                &frame,
                &format!("NFZ-{}", i + 1),
                &format!("Zone {}", i + 1),
                frame.to_latlon(*c),
                600.0,
                400.0,
            )
        })
        .collect();
    let mut stations = Vec::new();
    let mut pads = Vec::new();
    let areas = floor_areas(&mut rng, centres);
    for (i, area) in areas.into_iter().enumerate() {
        let mut p = Vector2::zeros();
        for _ in 0..1_000 {
            p = Vector2::new(rng.random_range(-w..w), rng.random_range(-h..h));
            if zone_centres.iter().all(|z| (z - p).norm() > 800.0) {
                break;
            }
        }
        let nearest = lab_local
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - p).norm().total_cmp(&(b.1 - p).norm()))
            .map(|x| x.0)
            .unwrap_or(0);
        let id = StationId::new(format!("SZ-C{:04}", i + 1));
        let position = frame.to_latlon(p);
        pads.push(Pad {
            id: PadId::new(format!("PAD-{id}")),
            position,
            site: PadSite::Station(id.clone()),
            capacity: 1,
            charger: false,
        });
        stations.push(Station {
            id: id.clone(),
            name: format!("City Centre {:04}", i + 1),
            subdistrict: format!("G{:02}", nearest + 1),
            group: GroupId::new(format!("G{:02}", nearest + 1)),
            tier: Tier::Community,
            position,
            floor_area_m2: area,
            pad: Some(PadId::new(format!("PAD-{id}"))),
            centrifuge: area >= 2000.0,
            hours: hours("08:00-12:00,14:00-17:30"),
        });
    }
    for l in &labs {
        pads.push(Pad {
            id: PadId::new(format!("PAD-{}", l.id)),
            position: l.position,
            site: PadSite::Lab(l.id.clone()),
            capacity: 40,
            charger: true,
        });
    }
    let area_km2 = (2.0 * w / 1000.0) * (2.0 * h / 1000.0);
    pads.extend(city_depots(
        area_km2,
        &frame,
        &stations,
        &lab_local,
        &zone_centres,
    ));
    make_largest_regional(&mut stations);
    // Each group's area is its lab's Voronoi cell in the outline, the cell every
    // centre nearest that lab already lies in.
    let subdistricts: Vec<Subdistrict> = (0..lab_local.len())
        .map(|i| {
            let cell = voronoi_cell(&outline, &lab_local, i);
            Subdistrict {
                name: format!("G{:02}", i + 1),
                name_zh: format!("第{:02}片区", i + 1),
                polygon: MultiPolygon::new(vec![Polygon::new(ring_of(&frame, &cell), vec![])]),
            }
        })
        .collect();
    MapData {
        district: MultiPolygon::new(vec![district]),
        subdistricts,
        stations,
        labs,
        pads,
        no_fly,
    }
}

/// The largest centre of each area becomes its regional centre (one per area, as
/// in Longhua). Whether it centrifuges stays the city's rule, by floor area.
fn make_largest_regional(stations: &mut [Station]) {
    let mut largest: BTreeMap<String, usize> = BTreeMap::new();
    for (i, s) in stations.iter().enumerate() {
        let best = largest.entry(s.subdistrict.clone()).or_insert(i);
        if s.floor_area_m2 > stations[*best].floor_area_m2 {
            *best = i;
        }
    }
    for (area, i) in largest {
        let s = &mut stations[i];
        s.tier = Tier::Regional;
        s.name = format!("Group {} Regional Centre", area.trim_start_matches('G'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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

    #[test]
    fn committed_map_files_are_what_the_generator_makes() {
        let longhua = committed_files_are("longhua", generate_longhua(LONGHUA_SEED));
        assert_eq!(longhua.stations.len(), 125);
        // `labflight maps generate --city 700 --zones 20 --out maps/shenzhen`
        let city = committed_files_are("shenzhen", generate_city(LONGHUA_SEED, 700, 20));
        assert_eq!(city.stations.len(), 700);
    }

    /// Asserts the files in `maps/<name>` are those `fresh` writes; the committed map.
    fn committed_files_are(name: &str, fresh: MapData) -> MapData {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../maps")
            .join(name);
        let committed = MapData::load(&dir).unwrap();
        let tmp =
            std::env::temp_dir().join(format!("labflight-mapgen-{name}-{}", std::process::id()));
        fresh.write(&tmp).unwrap();
        for f in [
            "district.geojson",
            "subdistricts.geojson",
            "stations.geojson",
            "labs.geojson",
            "pads.geojson",
            "nofly.geojson",
        ] {
            assert_eq!(
                std::fs::read_to_string(dir.join(f)).unwrap(),
                std::fs::read_to_string(tmp.join(f)).unwrap(),
                "{name}: {f} drifted from the generator"
            );
        }
        let _ = std::fs::remove_dir_all(tmp);
        committed
    }

    #[test]
    fn the_same_seed_gives_the_same_city() {
        let a = generate_city(3, 300, 10);
        let b = generate_city(3, 300, 10);
        assert_eq!(a, b);
        assert_eq!(a.stations.len(), 300);
        assert_eq!(a.no_fly.len(), 10);
        // Depots as dense as Longhua's (one per 32 km² of the 2,000), none in a
        // no-fly zone.
        let depots: Vec<_> = a.pads.iter().filter(|p| p.site == PadSite::Depot).collect();
        assert_eq!(depots.len(), 63);
        let space = a.airspace(50.0);
        for d in depots {
            assert!(d.charger);
            assert!(space.in_no_fly(d.position).is_none(), "{} in a zone", d.id);
        }
    }
}
