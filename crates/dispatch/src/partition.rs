//! Partitions: a medical group's own world — its centres, the drones based on its
//! pads, the vans based at its labs, its labs — so that each group is dispatched by
//! its own dispatcher on its own journal. Other groups' labs stay in view as
//! referral labs (flown to only when the group's own labs cannot keep the
//! promise); nothing else of another group is shared.

use crate::from_map::{AIRSPACE_BUFFER_M, basing_order, fleet_of};
use crate::world::{DroneStart, World, WorldParts};
use labflight_core::pad::PadSite;
use labflight_core::{
    DroneId, GroupId, Lab, LabId, LatLon, Pad, PadId, Scenario, Station, StationId,
};
use labflight_geo::{LocalFrame, MapData};
use std::collections::{BTreeMap, BTreeSet};

/// The seed partition `group`'s dispatcher and world run on, for a day of `seed`
/// (FNV-1a of the group's id mixed into it): each partition's faults and lab
/// times are its own, and a replay of one partition derives the same.
pub fn partition_seed(seed: u64, group: &GroupId) -> u64 {
    let fnv = group
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    seed ^ fnv
}

/// The partitions of a map: its centres' medical groups, in id order.
pub fn partitions_of(map: &MapData) -> Vec<GroupId> {
    let groups: BTreeSet<&GroupId> = map.stations.iter().map(|s| &s.group).collect();
    groups.into_iter().cloned().collect()
}

/// The partition a lab belongs to: its medical group if that group has centres,
/// else (a map that does not say, or a group of labs only) the group of the
/// centre nearest to it.
pub fn lab_partition(frame: &LocalFrame, stations: &[Station], lab: &Lab) -> Option<GroupId> {
    lab.medical_group()
        .filter(|g| stations.iter().any(|s| &s.group == *g))
        .cloned()
        .or_else(|| nearest_group(frame, stations, lab.position))
}

/// The group of the centre nearest to `p` (ties by the centre's id).
fn nearest_group(frame: &LocalFrame, stations: &[Station], p: LatLon) -> Option<GroupId> {
    stations
        .iter()
        .map(|s| (frame.distance_m(s.position, p), s))
        .min_by(|(da, a), (db, b)| da.total_cmp(db).then_with(|| a.id.cmp(&b.id)))
        .map(|(_, s)| s.group.clone())
}

/// The partition each pad of the map belongs to: its centre's or lab's, a
/// depot's by the nearest centre. Worked out once per world built.
fn pad_partitions(frame: &LocalFrame, map: &MapData) -> BTreeMap<PadId, GroupId> {
    let station_group: BTreeMap<&StationId, &GroupId> =
        map.stations.iter().map(|s| (&s.id, &s.group)).collect();
    let lab_group: BTreeMap<&LabId, GroupId> = (map.labs.iter())
        .filter_map(|l| Some((&l.id, lab_partition(frame, &map.stations, l)?)))
        .collect();
    (map.pads.iter())
        .filter_map(|pad| {
            let group = match &pad.site {
                PadSite::Station(id) => station_group.get(id).map(|g| (*g).clone()),
                PadSite::Lab(id) => lab_group.get(id).cloned(),
                PadSite::Depot => nearest_group(frame, &map.stations, pad.position),
            };
            Some((pad.id.clone(), group?))
        })
        .collect()
}

/// The minutes of drone time one flight from `station` takes: out to it and on
/// to the nearest lab that runs every test family (a centre's boxes mostly need
/// them all) at cruise speed, two take-offs and landings, and a battery swap. A
/// group of far-flung centres needs more drones for the same draws.
/// `full_service` are the positions of the labs that run every family
/// (`full_service_labs`).
fn flight_minutes(
    scenario: &Scenario,
    frame: &LocalFrame,
    full_service: &[LatLon],
    station: &Station,
) -> f64 {
    let spec = &scenario.drone;
    let to_lab_m = (full_service.iter())
        .map(|&lab| frame.distance_m(lab, station.position))
        .fold(f64::INFINITY, f64::min);
    let to_lab_m = if to_lab_m.is_finite() { to_lab_m } else { 0.0 };
    (2.0 * to_lab_m / spec.cruise_airspeed_mps + 2.0 * spec.takeoff_landing_s) / 60.0
        + spec.battery_swap_minutes
}

/// Where the map's labs that run every test family any of its labs runs are.
fn full_service_labs(map: &MapData) -> Vec<LatLon> {
    let every_family: BTreeSet<_> = map.labs.iter().flat_map(|l| l.families()).collect();
    (map.labs.iter())
        .filter(|l| l.lacks(&every_family).is_none())
        .map(|l| l.position)
        .collect()
}

/// The day's drones when each group flies its own: shared out over the groups
/// in proportion to their centres' floor area (what the morning's draws scale
/// with) times the drone time a flight from each takes (`flight_minutes`;
/// largest remainders, at least one each while there are enough), then
/// over each group's charger pads as `fleet_of` deals them (`fleet.basing`). Ids run
/// over the groups in order, so they are the same in every partition's world.
fn partition_drones(
    scenario: &Scenario,
    frame: &LocalFrame,
    map: &MapData,
    pad_group: &BTreeMap<PadId, GroupId>,
) -> Vec<DroneStart> {
    let groups = partitions_of(map);
    let total = scenario.fleet.drones as usize;
    let full_service = full_service_labs(map);
    let area = |g: &GroupId| -> f64 {
        (map.stations.iter())
            .filter(|s| &s.group == g)
            .map(|s| s.floor_area_m2 * flight_minutes(scenario, frame, &full_service, s))
            .sum()
    };
    let areas: Vec<f64> = groups.iter().map(area).collect();
    let all_area: f64 = areas.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let floor = usize::from(total >= groups.len());
    let spare = total.saturating_sub(floor * groups.len());
    let shares: Vec<f64> = areas.iter().map(|a| a / all_area * spare as f64).collect();
    let mut quota: Vec<usize> = shares.iter().map(|s| floor + *s as usize).collect();
    let mut by_remainder: Vec<usize> = (0..groups.len()).collect();
    by_remainder.sort_by(|a, b| {
        let rest = |i: usize| shares[i] - shares[i].floor();
        rest(*b).total_cmp(&rest(*a)).then(a.cmp(b))
    });
    let short = total.saturating_sub(quota.iter().sum());
    for i in by_remainder.into_iter().take(short) {
        quota[i] += 1;
    }
    let mut drones = Vec::with_capacity(total);
    for (group, n) in groups.iter().zip(quota) {
        let mut pads: Vec<&Pad> = (map.pads.iter())
            .filter(|p| pad_group.get(&p.id) == Some(group))
            .collect();
        if pads.iter().any(|p| p.charger) {
            pads.retain(|p| p.charger);
        }
        let stations: Vec<&Station> = map.stations.iter().filter(|s| &s.group == group).collect();
        let order = basing_order(scenario.fleet.basing, pads, &stations, n);
        // A group with no pad at all has nowhere to base a drone (maps check says so).
        let n = if order.is_empty() { 0 } else { n };
        for i in 0..n {
            drones.push(DroneStart {
                id: DroneId::new(format!("D-{:03}", drones.len() + 1)),
                pad: order[i % order.len()].clone(),
                battery_pct: 100.0,
            });
        }
    }
    drones
}

impl World {
    /// The world of partition `group` of a scenario on its map: the group's
    /// centres, pads, drones (`partition_drones`), vans (by their base lab)
    /// and labs, with every other group's lab as a referral lab. Another group's
    /// lab pad is kept so a drone can land its boxes there and swap its battery
    /// before it flies home (a pad at a lab has no owner but the operator). The
    /// fleet's ids are the whole map's.
    pub fn partition_from_map(scenario: &Scenario, map: &MapData, group: &GroupId) -> World {
        World::partition_with(scenario, map, group, Referrals::ToOtherGroups)
    }

    /// The world of partition `group` without referral labs: the group's own
    /// labs only. A live partition runs on this one: a referral is a message
    /// between partitions (the referred lab's results come from its own
    /// partition), which the simulator carries and the live service does not yet.
    pub fn partition_from_map_alone(scenario: &Scenario, map: &MapData, group: &GroupId) -> World {
        World::partition_with(scenario, map, group, Referrals::None)
    }

    fn partition_with(
        scenario: &Scenario,
        map: &MapData,
        group: &GroupId,
        referrals: Referrals,
    ) -> World {
        let frame = map.frame();
        let pad_group = pad_partitions(&frame, map);
        let (_, couriers) = fleet_of(scenario, map);
        let drones = partition_drones(scenario, &frame, map, &pad_group);
        let own_lab = |l: &Lab| lab_partition(&frame, &map.stations, l).as_ref() == Some(group);
        let foreign: BTreeSet<LabId> = map
            .labs
            .iter()
            .filter(|l| !own_lab(l))
            .map(|l| l.id.clone())
            .collect();
        let pads: Vec<Pad> = map
            .pads
            .iter()
            .filter(|p| match &p.site {
                PadSite::Lab(l) if foreign.contains(l) => true,
                _ => pad_group.get(&p.id) == Some(group),
            })
            .cloned()
            .collect();
        let own_pads: BTreeSet<_> = pads
            .iter()
            .filter(|p| !matches!(&p.site, PadSite::Lab(l) if foreign.contains(l)))
            .map(|p| p.id.clone())
            .collect();
        World::new(
            scenario,
            WorldParts {
                stations: map
                    .stations
                    .iter()
                    .filter(|s| &s.group == group)
                    .cloned()
                    .collect(),
                labs: match referrals {
                    Referrals::ToOtherGroups => map.labs.clone(),
                    Referrals::None => (map.labs.iter())
                        .filter(|l| !foreign.contains(&l.id))
                        .cloned()
                        .collect(),
                },
                pads: match referrals {
                    Referrals::ToOtherGroups => pads,
                    Referrals::None => (pads.into_iter())
                        .filter(|p| own_pads.contains(&p.id))
                        .collect(),
                },
                airspace: map.airspace(AIRSPACE_BUFFER_M),
                drones: drones
                    .into_iter()
                    .filter(|d| own_pads.contains(&d.pad))
                    .collect(),
                couriers: couriers
                    .into_iter()
                    .filter(|c| !foreign.contains(&c.base))
                    .collect(),
            },
        )
        .with_home(
            group.clone(),
            match referrals {
                Referrals::ToOtherGroups => foreign,
                Referrals::None => BTreeSet::new(),
            },
        )
    }
}

/// Whether a partition's world flies to other groups' labs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Referrals {
    /// Their nearest labs are its referral labs (simulation).
    ToOtherGroups,
    /// Its own labs only (live).
    None,
}
