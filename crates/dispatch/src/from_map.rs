//! Building the world of a scenario on a loaded map.

use crate::world::*;
use labflight_core::{CourierId, DroneId, Lab, Pad, PadId, Scenario};

impl World {
    /// The world of a scenario on its map: drones spread over the pads that have
    /// chargers (labs first, then depots), vans based at the group HQ labs.
    pub fn from_map(scenario: &Scenario, map: &labflight_geo::MapData) -> World {
        let (drones, couriers) = fleet_of(scenario, map);
        World::new(
            scenario,
            WorldParts {
                stations: map.stations.clone(),
                labs: map.labs.clone(),
                pads: map.pads.clone(),
                airspace: map.airspace(AIRSPACE_BUFFER_M),
                drones,
                couriers,
            },
        )
    }
}

/// How far outside a no-fly zone's edge paths keep, metres.
pub const AIRSPACE_BUFFER_M: f64 = 50.0;

/// The day's drones and vans on a map: drones spread over the pads that have
/// chargers (labs first, then depots), vans based at the group HQ labs. Ids are
/// the map's whole fleet's, so a partition's drones keep theirs.
pub(crate) fn fleet_of(
    scenario: &Scenario,
    map: &labflight_geo::MapData,
) -> (Vec<DroneStart>, Vec<CourierStart>) {
    let charger_pads: Vec<&Pad> = map.pads.iter().filter(|p| p.charger).collect();
    let mut order: Vec<PadId> = deal_order(charger_pads)
        .into_iter()
        .map(|p| p.id.clone())
        .collect();
    if order.is_empty() {
        order = map.pads.iter().map(|p| p.id.clone()).collect();
    }
    let drones = (0..scenario.fleet.drones as usize)
        .filter(|_| !order.is_empty())
        .map(|i| DroneStart {
            id: DroneId::new(format!("D-{:03}", i + 1)),
            pad: order[i % order.len()].clone(),
            battery_pct: 100.0,
        })
        .collect();
    let hq: Vec<&Lab> = map.labs.iter().filter(|l| l.group.is_some()).collect();
    let bases: Vec<&Lab> = if hq.is_empty() {
        map.labs.iter().collect()
    } else {
        hq
    };
    let couriers = (0..scenario.fleet.couriers as usize)
        .filter(|_| !bases.is_empty())
        .map(|i| CourierStart {
            id: CourierId::new(format!("V-{:02}", i + 1)),
            base: bases[i % bases.len()].id.clone(),
        })
        .collect();
    (drones, couriers)
}

/// The pads in the order drones are dealt to them: labs first, then by id, round
/// by round up to each pad's capacity, so every pad gets its share before any fills.
pub(crate) fn deal_order(mut pads: Vec<&Pad>) -> Vec<&Pad> {
    pads.sort_by_key(|p| {
        (
            !matches!(p.site, labflight_core::pad::PadSite::Lab(_)),
            p.id.clone(),
        )
    });
    let rounds = pads.iter().map(|p| p.capacity).max().unwrap_or(0);
    (0..rounds)
        .flat_map(|round| pads.iter().filter(move |p| round < p.capacity).copied())
        .collect()
}
