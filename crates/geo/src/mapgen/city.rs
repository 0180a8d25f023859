//! A city-scale world (Shenzhen-like) for load: centres at random in a 50 × 40 km
//! box, group HQ labs whose Voronoi cells are the groups' areas, small no-fly zones
//! and depots as dense as Longhua's.

use super::shapes::{rectangle, ring_of, voronoi_cell};
use super::sites::{floor_areas, hours, hq_analyzers, lab};
use crate::map::{MapData, Subdistrict};
use crate::{LocalFrame, NoFlyZone};
use geo::{MultiPolygon, Polygon};
use labflight_core::pad::PadSite;
use labflight_core::{GroupId, Lab, LatLon, Pad, PadId, Station, StationId, Tier};
use nalgebra::Vector2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

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

/// The labs (and groups) of a synthetic city of `centres` centres in Shenzhen's
/// proportion: 17 groups for 700 centres, at least two.
pub fn labs_in_proportion(centres: usize) -> usize {
    ((centres as f64 * 17.0 / 700.0).round() as usize).max(2)
}

/// A city-scale world (Shenzhen-like): `centres` centres in a 50 × 40 km box, 17
/// group HQ labs whose Voronoi cells are the groups' areas (each with its largest
/// centre as regional centre), `zones` small no-fly zones, and depots as dense as
/// Longhua's (`city_depots`).
pub fn generate_city(seed: u64, centres: usize, zones: usize) -> MapData {
    generate_city_with_labs(seed, centres, zones, 17)
}

/// `generate_city` with `labs` groups, each led by its HQ lab (a scaling run keeps
/// labs in proportion to centres: `labs_in_proportion`).
pub fn generate_city_with_labs(seed: u64, centres: usize, zones: usize, labs: usize) -> MapData {
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
    let labs: Vec<Lab> = (0..labs.max(1))
        .map(|i| {
            let p = frame.to_latlon(Vector2::new(
                rng.random_range(-0.8 * w..0.8 * w),
                rng.random_range(-0.8 * h..0.8 * h),
            ));
            lab(
                &format!("LAB-G{:02}", i + 1),
                (
                    &format!("Group {:02} HQ hospital lab", i + 1),
                    &format!("第{:02}医疗集团总院检验科", i + 1),
                ),
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
            name_zh: Some(format!("社康中心{:04}", i + 1)),
            subdistrict: format!("G{:02}", nearest + 1),
            district: None,
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
                district: None,
                polygon: MultiPolygon::new(vec![Polygon::new(ring_of(&frame, &cell), vec![])]),
            }
        })
        .collect();
    MapData {
        name: "Generated city".into(),
        name_zh: "生成城市".into(),
        districts: Vec::new(),
        groups: Vec::new(),
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
        s.name_zh = Some(format!(
            "第{}医疗集团区域社康中心",
            area.trim_start_matches('G')
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
