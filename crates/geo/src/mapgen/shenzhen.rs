//! The Shenzhen city map: ten districts sized by their official areas in an
//! illustrative outline, their real subdistricts, 17 primary-care groups each led
//! by a district hospital's lab, 72 public hospital labs, about 650 centres spread
//! by population, and Longhua inside it exactly as the Longhua data set has it.
//! Sources and what is illustrative: maps/README.md and `shenzhen_facts`.

use super::longhua::{LONGHUA_SEED, generate_longhua};
use super::shapes::{power_cell, rectangle};
use super::shenzhen_facts::{
    BORDER, BORDER_BAND_M, CITY_CENTRES, DISTRICTS, DistrictFacts, LabKind, OUTLINE, ZONES,
};
use super::sites::{analyzers, floor_areas, hours, hq_analyzers, lab};
use crate::map::{District, MapData, MedicalGroup, Subdistrict};
use crate::{LocalFrame, NoFlyZone};
use geo::{
    Area, BooleanOps, Contains, Coord, Distance, Euclidean, LineString, MapCoords, MultiPolygon,
    Point, Polygon,
};
use labflight_core::lab::Analyzer;
use labflight_core::pad::PadSite;
use labflight_core::{GroupId, LabId, LatLon, Pad, PadId, Station, StationId, TestFamily, Tier};
use nalgebra::Vector2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The seed the committed `maps/shenzhen` files were generated with.
pub const SHENZHEN_SEED: u64 = 2026;

/// Where the city's local plane is centred.
const CITY_CENTRE: LatLon = LatLon::new(22.650, 114.150);

/// How close a centre may come to another centre, and to a no-fly zone, metres.
const CENTRE_SPACING_M: f64 = 300.0;
const ZONE_CLEARANCE_M: f64 = 300.0;

/// A lab's pad: capacity and charger as in Longhua.
const LAB_PAD_CAPACITY: u32 = 8;
const DEPOT_PAD_CAPACITY: u32 = 6;

/// Rounds to the 1e-6 degrees the files keep.
fn rounded(p: LatLon) -> LatLon {
    LatLon::new((p.lat * 1e6).round() / 1e6, (p.lon * 1e6).round() / 1e6)
}

fn point(v: Vector2<f64>) -> Point<f64> {
    Point::new(v.x, v.y)
}

/// Local metres of a (lon, lat) pair.
fn local(frame: &LocalFrame, (lon, lat): (f64, f64)) -> Vector2<f64> {
    frame.to_local(LatLon::new(lat, lon))
}

/// A local-metre polygon of points.
fn polygon_of(pts: &[Vector2<f64>]) -> Polygon<f64> {
    Polygon::new(
        LineString::from(
            pts.iter()
                .map(|v| Coord { x: v.x, y: v.y })
                .collect::<Vec<_>>(),
        ),
        vec![],
    )
}

fn to_degrees(frame: &LocalFrame, m: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    m.map_coords(|c| {
        let p = frame.to_latlon(Vector2::new(c.x, c.y));
        Coord { x: p.lon, y: p.lat }
    })
}

fn to_local(frame: &LocalFrame, m: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    m.map_coords(|c| {
        let p = frame.to_local(LatLon::new(c.y, c.x));
        Coord { x: p.x, y: p.y }
    })
}

/// The bounding box of `m` grown by `margin`, as a ring of four corners.
fn bounds(m: &MultiPolygon<f64>, margin: f64) -> Vec<Vector2<f64>> {
    let (mut lo, mut hi) = (Vector2::repeat(f64::MAX), Vector2::repeat(f64::MIN));
    for c in m.0.iter().flat_map(|p| p.exterior().coords()) {
        lo = lo.inf(&Vector2::new(c.x, c.y));
        hi = hi.sup(&Vector2::new(c.x, c.y));
    }
    lo -= Vector2::repeat(margin);
    hi += Vector2::repeat(margin);
    vec![lo, Vector2::new(hi.x, lo.y), hi, Vector2::new(lo.x, hi.y)]
}

/// A random point of `area` (local metres) that `ok` accepts, within 20,000 tries.
fn sample_in(
    rng: &mut ChaCha8Rng,
    area: &MultiPolygon<f64>,
    ok: impl Fn(Vector2<f64>) -> bool,
) -> Option<Vector2<f64>> {
    let b = bounds(area, 0.0);
    (0..20_000).find_map(|_| {
        let p = Vector2::new(
            rng.random_range(b[0].x..b[2].x),
            rng.random_range(b[0].y..b[2].y),
        );
        (area.contains(&point(p)) && ok(p)).then_some(p)
    })
}

/// `n` well-spread points of `area`: each the best of 12 candidates by its distance
/// to those already placed (Mitchell's best candidate), so the first ones spread widest.
fn spread_points(
    rng: &mut ChaCha8Rng,
    area: &MultiPolygon<f64>,
    n: usize,
    ok: impl Fn(Vector2<f64>) -> bool,
) -> Vec<Vector2<f64>> {
    let mut placed: Vec<Vector2<f64>> = Vec::new();
    for _ in 0..n {
        let best = (0..12)
            .filter_map(|_| sample_in(rng, area, &ok))
            .max_by(|a, b| {
                let d = |p: &Vector2<f64>| {
                    placed
                        .iter()
                        .map(|q| (q - p).norm())
                        .fold(f64::INFINITY, f64::min)
                };
                d(a).total_cmp(&d(b))
            });
        placed.extend(best);
    }
    placed
}

/// Counts in proportion to `weights` summing to `total`, none below its `floor`
/// (largest remainder: the quotas rounded down or raised to the floor, then one
/// more to those furthest below their quota).
fn apportion(weights: &[f64], floor: &[usize], total: usize) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    let quota: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut counts: Vec<usize> = quota
        .iter()
        .zip(floor)
        .map(|(q, f)| (q.floor() as usize).max(*f))
        .collect();
    while counts.iter().sum::<usize>() < total {
        let Some(i) = (0..counts.len()).max_by(|&a, &b| {
            (quota[a] - counts[a] as f64).total_cmp(&(quota[b] - counts[b] as f64))
        }) else {
            break;
        };
        counts[i] += 1;
    }
    counts
}

/// The nine districts other than Longhua as power-diagram cells of their sites in
/// the outline less Longhua, the weights tuned until each cell's area is its share
/// of the official areas.
fn district_cells(
    outline: &MultiPolygon<f64>,
    longhua: &MultiPolygon<f64>,
    others: &[&DistrictFacts],
    frame: &LocalFrame,
) -> Vec<MultiPolygon<f64>> {
    let land = outline.difference(longhua);
    let sites: Vec<Vector2<f64>> = others.iter().map(|d| local(frame, d.site)).collect();
    let official: f64 = others.iter().map(|d| d.area_km2).sum();
    let target: Vec<f64> = others
        .iter()
        .map(|d| d.area_km2 / official * land.unsigned_area())
        .collect();
    let bbox = bounds(outline, 10_000.0);
    let mut weights = vec![0.0; sites.len()];
    let cells = |w: &[f64]| -> Vec<MultiPolygon<f64>> {
        (0..sites.len())
            .map(|i| {
                let cell = MultiPolygon::new(vec![polygon_of(&power_cell(&bbox, &sites, w, i))]);
                land.intersection(&cell)
            })
            .collect()
    };
    for _ in 0..200 {
        let now = cells(&weights);
        for (i, c) in now.iter().enumerate() {
            weights[i] += 0.7 * (target[i] - c.unsigned_area());
        }
    }
    cells(&weights)
}

/// A lab's analyzers by its kind: not every family everywhere.
fn lab_analyzers(kind: LabKind) -> Vec<Analyzer> {
    match kind {
        LabKind::Lead | LabKind::Large => hq_analyzers(),
        LabKind::General => analyzers(&[
            ("hema", TestFamily::Hematology, 1, 300.0, 30.0),
            ("chem", TestFamily::Chemistry, 1, 400.0, 60.0),
            ("immuno", TestFamily::Immunoassay, 1, 250.0, 90.0),
            ("hba1c", TestFamily::Hba1c, 1, 150.0, 60.0),
            ("coag", TestFamily::Coagulation, 1, 150.0, 45.0),
        ]),
        LabKind::Maternal => analyzers(&[
            ("hema", TestFamily::Hematology, 1, 150.0, 30.0),
            ("chem", TestFamily::Chemistry, 1, 150.0, 60.0),
            ("immuno", TestFamily::Immunoassay, 1, 150.0, 90.0),
            ("coag", TestFamily::Coagulation, 1, 150.0, 45.0),
        ]),
        LabKind::Tcm => analyzers(&[
            ("hema", TestFamily::Hematology, 1, 200.0, 30.0),
            ("chem", TestFamily::Chemistry, 1, 300.0, 60.0),
            ("immuno", TestFamily::Immunoassay, 1, 150.0, 90.0),
            ("hba1c", TestFamily::Hba1c, 1, 150.0, 60.0),
            ("coag", TestFamily::Coagulation, 1, 150.0, 45.0),
        ]),
        LabKind::Specialty => analyzers(&[
            ("hema", TestFamily::Hematology, 1, 150.0, 30.0),
            ("chem", TestFamily::Chemistry, 1, 150.0, 60.0),
            ("coag", TestFamily::Coagulation, 1, 150.0, 45.0),
        ]),
    }
}

/// The band along the Hong Kong border: the outline's border stretch and the same
/// line `BORDER_BAND_M` inland (north).
fn border_band(frame: &LocalFrame) -> NoFlyZone {
    let line: Vec<Vector2<f64>> = OUTLINE[BORDER.0..=BORDER.1]
        .iter()
        .map(|p| local(frame, *p))
        .collect();
    let inland: Vec<Vector2<f64>> = line
        .iter()
        .rev()
        .map(|p| p + Vector2::new(0.0, BORDER_BAND_M))
        .collect();
    let ring: Vec<Vector2<f64>> = line.into_iter().chain(inland).collect();
    NoFlyZone {
        id: "NFZ-BORDER".into(),
        name: "Shenzhen River and Hong Kong border".into(),
        polygon: to_degrees(frame, &MultiPolygon::new(vec![polygon_of(&ring)])).0[0].clone(),
    }
}

/// One district's subdistricts and groups as built: local cells, names, group of each.
struct Parts {
    cells: Vec<MultiPolygon<f64>>,
    seeds: Vec<Vector2<f64>>,
    group_of: Vec<usize>,
}

/// The Shenzhen city map for `seed` (`SHENZHEN_SEED` is the committed one).
pub fn generate_shenzhen(seed: u64) -> MapData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let frame = LocalFrame::new(CITY_CENTRE);
    let longhua = generate_longhua(LONGHUA_SEED);
    let outline_pts: Vec<Vector2<f64>> = OUTLINE.iter().map(|p| local(&frame, *p)).collect();
    let outline = MultiPolygon::new(vec![polygon_of(&outline_pts)]);
    let longhua_local = to_local(&frame, &longhua.district);

    // No-fly zones: Longhua's three, the border band, the rectangles.
    let mut no_fly: Vec<NoFlyZone> = longhua.no_fly.clone();
    no_fly.push(border_band(&frame));
    for (name, lon, lat, w, h) in ZONES {
        no_fly.push(rectangle(&frame, "", name, LatLon::new(lat, lon), w, h));
    }
    for (i, z) in no_fly.iter_mut().enumerate() {
        z.id = format!("NFZ-{:02}", i + 1);
    }
    let zones_local: Vec<MultiPolygon<f64>> = no_fly
        .iter()
        .map(|z| to_local(&frame, &MultiPolygon::new(vec![z.polygon.clone()])))
        .collect();
    let clear_of_zones = |p: Vector2<f64>, m: f64| {
        zones_local
            .iter()
            .all(|z| Euclidean.distance(&point(p), z) > m)
    };

    let others: Vec<&DistrictFacts> = DISTRICTS.iter().filter(|d| d.code != "LH").collect();
    let mut other_cells = district_cells(&outline, &longhua_local, &others, &frame).into_iter();
    let district_local: Vec<MultiPolygon<f64>> = DISTRICTS
        .iter()
        .map(|d| {
            if d.code == "LH" {
                longhua_local.clone()
            } else {
                other_cells
                    .next()
                    .unwrap_or_else(|| MultiPolygon::new(vec![]))
            }
        })
        .collect();

    // Centres per district: Longhua's and Luohu's from the seed facts, the rest by population.
    let fixed: usize = DISTRICTS.iter().filter_map(|d| d.centres).sum();
    let free: Vec<usize> = (0..DISTRICTS.len())
        .filter(|&i| DISTRICTS[i].centres.is_none())
        .collect();
    let by_population = apportion(
        &free
            .iter()
            .map(|&i| DISTRICTS[i].population as f64)
            .collect::<Vec<_>>(),
        &free
            .iter()
            .map(|&i| DISTRICTS[i].subdistricts.len())
            .collect::<Vec<_>>(),
        CITY_CENTRES - fixed,
    );
    let centre_count = |i: usize| {
        DISTRICTS[i].centres.unwrap_or_else(|| {
            free.iter()
                .position(|&f| f == i)
                .map_or(0, |k| by_population[k])
        })
    };

    let mut map = MapData {
        name: "Shenzhen".into(),
        name_zh: "深圳市".into(),
        district: to_degrees(&frame, &outline),
        districts: Vec::new(),
        groups: Vec::new(),
        subdistricts: Vec::new(),
        stations: Vec::new(),
        labs: Vec::new(),
        pads: Vec::new(),
        no_fly: no_fly.clone(),
    };
    for (k, d) in DISTRICTS.iter().enumerate() {
        let area = &district_local[k];
        let leads: Vec<_> = d
            .hospitals
            .iter()
            .filter(|h| h.3 == LabKind::Lead)
            .collect();
        let group_id =
            |h: &(&str, &str, &str, LabKind)| GroupId::new(format!("{}-{}", d.code, h.0));
        let lab_id =
            |h: &(&str, &str, &str, LabKind)| LabId::new(format!("LAB-{}-{}", d.code, h.0));
        map.districts.push(District {
            name: d.name.into(),
            name_zh: d.name_zh.into(),
            population: d.population,
            area_km2: d.area_km2,
            polygon: if d.code == "LH" {
                longhua.district.clone()
            } else {
                to_degrees(&frame, area)
            },
        });
        let parts = if d.code == "LH" {
            let cells = longhua
                .subdistricts
                .iter()
                .map(|s| to_local(&frame, &s.polygon))
                .collect();
            let group_of = longhua
                .subdistricts
                .iter()
                .map(|s| {
                    let g = longhua
                        .stations
                        .iter()
                        .find(|c| c.subdistrict == s.name)
                        .map(|c| format!("LH-{}", c.group))
                        .unwrap_or_default();
                    leads
                        .iter()
                        .position(|h| group_id(h).as_str() == g)
                        .unwrap_or(0)
                })
                .collect();
            Parts {
                cells,
                seeds: Vec::new(),
                group_of,
            }
        } else {
            let seeds = spread_points(&mut rng, area, d.subdistricts.len(), |p| {
                clear_of_zones(p, ZONE_CLEARANCE_M)
            });
            let bbox = bounds(area, 1_000.0);
            let zeros = vec![0.0; seeds.len()];
            let cells = (0..seeds.len())
                .map(|i| {
                    area.intersection(&MultiPolygon::new(vec![polygon_of(&power_cell(
                        &bbox, &seeds, &zeros, i,
                    ))]))
                })
                .collect();
            // The first seeds are the most spread: they anchor the groups, and each
            // subdistrict joins the group whose anchor is nearest.
            let group_of = seeds
                .iter()
                .map(|s| {
                    (0..leads.len())
                        .min_by(|&a, &b| (seeds[a] - s).norm().total_cmp(&(seeds[b] - s).norm()))
                        .unwrap_or(0)
                })
                .collect();
            Parts {
                cells,
                seeds,
                group_of,
            }
        };
        for (i, (name, name_zh)) in d.subdistricts.iter().enumerate() {
            let polygon = if d.code == "LH" {
                longhua.subdistricts[i].polygon.clone()
            } else {
                to_degrees(&frame, &parts.cells[i])
            };
            map.subdistricts.push(Subdistrict {
                name: (*name).into(),
                name_zh: (*name_zh).into(),
                district: Some(d.name.into()),
                polygon,
            });
        }
        for (g, h) in leads.iter().enumerate() {
            let members: Vec<usize> = (0..d.subdistricts.len())
                .filter(|&i| parts.group_of[i] == g)
                .collect();
            let polygon = members
                .iter()
                .fold(MultiPolygon::new(vec![]), |u, &i| u.union(&parts.cells[i]));
            map.groups.push(MedicalGroup {
                id: group_id(h),
                name: format!("{} group", h.1),
                name_zh: format!("{}基层医疗集团", h.2),
                district: d.name.into(),
                lead_lab: lab_id(h),
                subdistricts: members
                    .iter()
                    .map(|&i| d.subdistricts[i].0.to_string())
                    .collect(),
                polygon: to_degrees(&frame, &polygon),
            });
        }
        let group_at = |p: Vector2<f64>| {
            (0..parts.cells.len())
                .find(|&i| parts.cells[i].contains(&point(p)))
                .map(|i| parts.group_of[i])
                .unwrap_or(0)
        };

        // Labs: Longhua's three where the Longhua data set has them; each other
        // lead lab near its group's anchor, the rest spread over the district.
        let mut lab_at: Vec<Vector2<f64>> = Vec::new();
        for (j, h) in d.hospitals.iter().enumerate() {
            let known = (d.code == "LH")
                .then(|| {
                    longhua
                        .labs
                        .iter()
                        .find(|l| l.id.as_str() == format!("LAB-{}", h.0))
                })
                .flatten();
            let at = match known {
                Some(l) => frame.to_local(l.position),
                None => {
                    let near = if h.3 == LabKind::Lead && !parts.seeds.is_empty() {
                        Some(parts.seeds[j])
                    } else {
                        None
                    };
                    let taken = lab_at.clone();
                    let ok = |p: Vector2<f64>| {
                        clear_of_zones(p, 100.0)
                            && taken.iter().all(|q| (q - p).norm() > 1_000.0)
                            && near.is_none_or(|s| (s - p).norm() < 1_500.0)
                    };
                    sample_in(&mut rng, area, ok).unwrap_or_else(|| {
                        near.or_else(|| sample_in(&mut rng, area, |p| clear_of_zones(p, 100.0)))
                            .unwrap_or_default()
                    })
                }
            };
            lab_at.push(at);
            let position = rounded(frame.to_latlon(at));
            let lead = h.3 == LabKind::Lead;
            let mut l = lab(
                lab_id(h).as_str(),
                (h.1, h.2),
                lead.then(|| group_id(h)).as_ref().map(|g| g.as_str()),
                position.lat,
                position.lon,
                lab_analyzers(h.3),
            );
            l.district = Some(d.name.into());
            if !lead {
                l.member_of = Some(group_id(leads[group_at(at)]));
            }
            map.pads.push(Pad {
                id: PadId::new(format!("PAD-{}", l.id)),
                position: l.position,
                site: PadSite::Lab(l.id.clone()),
                capacity: LAB_PAD_CAPACITY,
                charger: true,
            });
            map.labs.push(l);
        }

        // Centres: Longhua's as the Longhua data set has them; elsewhere per
        // subdistrict in proportion to its area, the largest one its regional centre
        // near its seed, each with a depot beside it.
        if d.code == "LH" {
            for s in &longhua.stations {
                let mut s = s.clone();
                s.group = GroupId::new(format!("LH-{}", s.group));
                s.district = Some(d.name.into());
                map.stations.push(s);
            }
            map.pads.extend(
                longhua
                    .pads
                    .iter()
                    .filter(|p| !matches!(p.site, PadSite::Lab(_)))
                    .cloned(),
            );
            continue;
        }
        let n_sub = d.subdistricts.len();
        let counts = apportion(
            &parts
                .cells
                .iter()
                .map(Area::unsigned_area)
                .collect::<Vec<_>>(),
            &vec![1; n_sub],
            centre_count(k),
        );
        let mut floor = floor_areas(&mut rng, centre_count(k));
        floor.sort_by(|a, b| b.total_cmp(a));
        let (big, rest) = floor.split_at(n_sub.min(floor.len()));
        let mut rest = rest.to_vec();
        for i in (1..rest.len()).rev() {
            rest.swap(i, rng.random_range(0..=i));
        }
        let mut big = big.iter().copied();
        let mut rest = rest.into_iter();
        let mut placed: Vec<Vector2<f64>> = Vec::new();
        let mut n = 0;
        for (i, (sub, sub_zh)) in d.subdistricts.iter().enumerate() {
            for j in 0..counts[i] {
                let seed_at = parts.seeds[i];
                let taken = placed.clone();
                let ok = |p: Vector2<f64>| {
                    clear_of_zones(p, ZONE_CLEARANCE_M)
                        && taken.iter().all(|q| (q - p).norm() > CENTRE_SPACING_M)
                        && (j > 0 || (p - seed_at).norm() < 1_000.0)
                };
                let p = sample_in(&mut rng, &parts.cells[i], ok)
                    .or_else(|| {
                        sample_in(&mut rng, &parts.cells[i], |p| {
                            clear_of_zones(p, ZONE_CLEARANCE_M)
                        })
                    })
                    .unwrap_or(seed_at);
                placed.push(p);
                n += 1;
                let id = StationId::new(format!("{}-C{n:03}", d.code));
                let regional = j == 0;
                let area_m2 = if regional { big.next() } else { rest.next() }.unwrap_or(1260.0);
                let position = rounded(frame.to_latlon(p));
                let has_pad = n % 10 != 0;
                if has_pad {
                    map.pads.push(Pad {
                        id: PadId::new(format!("PAD-{id}")),
                        position,
                        site: PadSite::Station(id.clone()),
                        capacity: 1,
                        charger: false,
                    });
                }
                map.stations.push(Station {
                    name: if regional {
                        format!("{sub} Regional Centre")
                    } else {
                        format!("{sub} Centre {j:02}")
                    },
                    name_zh: Some(if regional {
                        format!("{sub_zh}区域社康中心")
                    } else {
                        format!("{sub_zh}社康中心{j:02}")
                    }),
                    id: id.clone(),
                    subdistrict: (*sub).into(),
                    district: Some(d.name.into()),
                    group: group_id(leads[parts.group_of[i]]),
                    tier: if regional {
                        Tier::Regional
                    } else {
                        Tier::Community
                    },
                    position,
                    floor_area_m2: area_m2,
                    pad: has_pad.then(|| PadId::new(format!("PAD-{id}"))),
                    centrifuge: regional || area_m2 >= 2000.0,
                    hours: hours("08:00-12:00,14:00-17:30"),
                });
                if regional {
                    // 120 m from the regional centre, the first of eight directions clear of the zones.
                    let depot = (0..8)
                        .map(|a| {
                            let t = std::f64::consts::FRAC_PI_4 * f64::from(a);
                            p + Vector2::new(t.cos(), t.sin()) * 120.0
                        })
                        .find(|q| clear_of_zones(*q, 50.0))
                        .unwrap_or(p);
                    map.pads.push(Pad {
                        id: PadId::new(format!(
                            "PAD-DEPOT-{}",
                            sub.to_uppercase().replace('\'', "")
                        )),
                        position: rounded(frame.to_latlon(depot)),
                        site: PadSite::Depot,
                        capacity: DEPOT_PAD_CAPACITY,
                        charger: true,
                    });
                }
            }
        }
    }
    map.pads.sort_by(|a, b| a.id.cmp(&b.id));
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check;
    use std::collections::BTreeSet;

    /// The committed city, generated once for these tests.
    fn city() -> &'static MapData {
        static CITY: std::sync::OnceLock<MapData> = std::sync::OnceLock::new();
        CITY.get_or_init(|| generate_shenzhen(SHENZHEN_SEED))
    }

    #[test]
    fn the_city_has_ten_districts_17_groups_72_labs_and_longhua_as_it_is() {
        let m = city();
        assert_eq!(m.districts.len(), 10);
        assert_eq!(m.groups.len(), 17);
        assert_eq!(m.labs.len(), 72);
        assert_eq!(m.stations.len(), CITY_CENTRES);
        assert_eq!(m.subdistricts.len(), 74);
        let longhua = generate_longhua(LONGHUA_SEED);
        let in_longhua: Vec<_> = m
            .stations
            .iter()
            .filter(|s| s.district.as_deref() == Some("Longhua"))
            .collect();
        assert_eq!(in_longhua.len(), 125);
        for (a, b) in in_longhua.iter().zip(&longhua.stations) {
            assert_eq!((&a.id, a.position), (&b.id, b.position));
        }
        // Every district has a group, every group a lead lab in its district and
        // centres; every centre and lab carries a district and a group that exist.
        let groups: BTreeSet<&str> = m.groups.iter().map(|g| g.id.as_str()).collect();
        for d in &m.districts {
            assert!(m.groups.iter().any(|g| g.district == d.name), "{}", d.name);
        }
        for g in &m.groups {
            let lead = m.labs.iter().find(|l| l.id == g.lead_lab).unwrap();
            assert_eq!(lead.group.as_ref(), Some(&g.id));
            assert_eq!(lead.district.as_deref(), Some(g.district.as_str()));
            assert!(m.stations.iter().any(|s| s.group == g.id), "{}", g.id);
        }
        for s in &m.stations {
            assert!(
                s.district.is_some() && groups.contains(s.group.as_str()),
                "{}",
                s.id
            );
        }
        for l in &m.labs {
            assert!(l.district.is_some(), "{}", l.id);
            assert!(
                groups.contains(l.medical_group().unwrap().as_str()),
                "{}",
                l.id
            );
        }
        // Not every lab runs every family.
        assert!(m.labs.iter().any(|l| !l.runs(TestFamily::Hba1c)));
        assert!(m.labs.iter().any(|l| !l.runs(TestFamily::Immunoassay)));
    }

    #[test]
    fn districts_are_sized_by_their_official_areas_and_centres_by_population() {
        let m = city();
        let frame = LocalFrame::new(CITY_CENTRE);
        for d in &m.districts {
            let km2 = to_local(&frame, &d.polygon).unsigned_area() / 1e6;
            assert!(
                (km2 / d.area_km2 - 1.0).abs() < 0.25,
                "{}: {km2:.1} km² against {}",
                d.name,
                d.area_km2
            );
        }
        let per_100k = |name: &str| {
            let d = m.districts.iter().find(|d| d.name == name).unwrap();
            let n = m
                .stations
                .iter()
                .filter(|s| s.district.as_deref() == Some(name))
                .count();
            n as f64 / d.population as f64 * 1e5
        };
        // Bao'an and Futian: the same centres per resident within 5 %.
        assert!((per_100k("Bao'an") / per_100k("Futian") - 1.0).abs() < 0.05);
    }

    #[test]
    fn the_city_passes_the_map_check() {
        let m = city();
        let spec = labflight_core::Scenario::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../maps/longhua/scenario.toml"
        )))
        .unwrap()
        .drone;
        let r = check(m, &spec);
        assert_eq!((r.regional, r.errors.len()), (74, 0), "{r}");
    }
}
