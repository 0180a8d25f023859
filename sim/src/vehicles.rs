//! Vehicles used, vehicle-km and energy of a day, drones beside vans: what the
//! report compares across policies (an analyst asks what the drones replace).
//! Van-km are rebuilt from the van runs the dispatcher booked (the same commands
//! a replay re-derives): each van drives from its base lab, or the lab of its last
//! trip, to each call of a trip in turn and on to the trip's lab, by road (the
//! straight line times `courier.road_factor`, as the dispatcher times vans). A
//! call a fixed round makes with nothing to take books no run and is not counted.

use labflight_core::{Instant, LabId, LatLon, PadId, StationId};
use labflight_dispatch::World;
use std::collections::BTreeMap;

/// One van run as booked: the van, where it collects, the lab and when.
#[derive(Clone, Debug)]
pub(crate) struct VanRun {
    pub(crate) van: String,
    pub(crate) station: StationId,
    pub(crate) pad: Option<PadId>,
    pub(crate) lab: LabId,
    pub(crate) pickup_at: Instant,
    pub(crate) deliver_at: Instant,
}

/// The road km the vans drove for `runs` (in the order booked), by van.
pub(crate) fn van_km(world: &World, runs: &[VanRun]) -> BTreeMap<String, f64> {
    let mut by_van: BTreeMap<&str, Vec<&VanRun>> = BTreeMap::new();
    for r in runs {
        by_van.entry(&r.van).or_default().push(r);
    }
    let road_km = |a: LatLon, b: LatLon| {
        world.frame.distance_m(a, b) / 1000.0 * world.courier_spec.road_factor
    };
    let mut out = BTreeMap::new();
    for (van, mut runs) in by_van {
        // A trip: the runs delivered together at one lab at one time, called at in
        // pickup order.
        runs.sort_by(|a, b| {
            (a.deliver_at, &a.lab, a.pickup_at).cmp(&(b.deliver_at, &b.lab, b.pickup_at))
        });
        let base = world
            .couriers
            .iter()
            .find(|c| c.id.as_str() == van)
            .and_then(|c| world.labs.get(&c.base))
            .map(|l| l.position);
        let mut at: Option<LatLon> = base;
        let mut km = 0.0;
        let mut i = 0;
        while i < runs.len() {
            let trip_end = runs[i..]
                .iter()
                .position(|r| (r.deliver_at, &r.lab) != (runs[i].deliver_at, &runs[i].lab))
                .map_or(runs.len(), |n| i + n);
            for r in &runs[i..trip_end] {
                let Some(call) = place(world, r) else {
                    continue;
                };
                km += at.map_or(0.0, |from| road_km(from, call));
                at = Some(call);
            }
            if let Some(lab) = world.labs.get(&runs[i].lab) {
                km += at.map_or(0.0, |from| road_km(from, lab.position));
                at = Some(lab.position);
            }
            i = trip_end;
        }
        out.insert(van.to_owned(), km);
    }
    out
}

/// Where a run collects: the pad away from the centre, else the centre.
fn place(world: &World, r: &VanRun) -> Option<LatLon> {
    match &r.pad {
        Some(pad) => world.pads.get(pad).map(|p| p.position),
        None => world.stations.get(&r.station).map(|s| s.position),
    }
}

#[cfg(test)]
mod tests {
    use super::{VanRun, van_km};
    use labflight_core::Scenario;
    use labflight_dispatch::World;
    use labflight_geo::MapData;

    fn longhua() -> World {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/scenario.toml");
        let scenario = Scenario::load(&path).unwrap();
        let map = MapData::load(&scenario.map_dir(&path)).unwrap();
        World::from_map(&scenario, &map)
    }

    #[test]
    fn a_trip_is_driven_from_the_base_through_its_calls_to_its_lab_and_on_from_there() {
        let world = longhua();
        let van = &world.couriers[0];
        let base = world.labs[&van.base].position;
        let mut stations = world.stations.values();
        let (a, b) = (stations.next().unwrap(), stations.nth(10).unwrap());
        let lab = world.labs.values().last().unwrap();
        let t = |m: i64| world.service.first_draw + chrono::Duration::minutes(m);
        let run = |s: &labflight_core::Station, pickup: i64, deliver: i64| VanRun {
            van: van.id.to_string(),
            station: s.id.clone(),
            pad: None,
            lab: lab.id.clone(),
            pickup_at: t(pickup),
            deliver_at: t(deliver),
        };
        let road = |p: labflight_core::LatLon, q: labflight_core::LatLon| {
            world.frame.distance_m(p, q) / 1000.0 * world.courier_spec.road_factor
        };
        // One round calling at b then a (booked in the other order), then a trip
        // for b alone from the lab.
        let runs = [run(a, 20, 60), run(b, 10, 60), run(b, 90, 120)];
        let km = van_km(&world, &runs)[van.id.as_str()];
        let expected = road(base, b.position)
            + road(b.position, a.position)
            + road(a.position, lab.position)
            + 2.0 * road(lab.position, b.position);
        assert!((km - expected).abs() < 1e-9, "{km} vs {expected}");
        assert!(km > 0.0);
    }
}
