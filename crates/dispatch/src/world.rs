//! The static facts the dispatcher plans over: centres, labs, pads, the airspace,
//! the flight model, the fleet's starting pads and the service-level parameters.
//! Built once (from a scenario and its map) and shared, never mutated by events.

use chrono::Duration;
use labflight_core::scenario::{CourierSpec, DispatchParams, minutes};
use labflight_core::{
    BoxSpec, CourierId, DroneId, DroneSpec, GroupId, Instant, Lab, LabId, LatLon, Pad, PadId,
    Scenario, Station, StationId, TestFamily,
};
use labflight_geo::{Airspace, FlightModel, LocalFrame, SpatialIndex};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};

/// A drone at the start of the day.
#[derive(Clone, Debug)]
pub struct DroneStart {
    /// Its id.
    pub id: DroneId,
    /// The pad it starts on (and is based at).
    pub pad: PadId,
    /// Its battery at the start, percent.
    pub battery_pct: f64,
}

/// A courier van at the start of the day.
#[derive(Clone, Debug)]
pub struct CourierStart {
    /// Its id.
    pub id: CourierId,
    /// The lab the van is based at (its rounds start and end there).
    pub base: LabId,
}

/// The service-level figures the dispatcher works to, as instants of the day.
#[derive(Clone, Debug)]
pub struct ServiceClock {
    /// The first draw of the morning.
    pub first_draw: Instant,
    /// The last draw (the last call to seal).
    pub last_draw: Instant,
    /// When results must be back at the centre.
    pub cutoff: Instant,
    /// From a verified result to its report at the centre.
    pub report: Duration,
}

/// What does not change during a day: the map, the fleet, the specs and the service levels, with the spatial index and airspace built once.
#[derive(Debug)]
pub struct World {
    /// The centres.
    pub stations: BTreeMap<StationId, Station>,
    /// The labs.
    pub labs: BTreeMap<LabId, Lab>,
    /// The drone pads.
    pub pads: BTreeMap<PadId, Pad>,
    /// The local frame flight math is done in.
    pub frame: LocalFrame,
    /// No-fly zones and the routes around them.
    pub airspace: Airspace,
    /// R-trees of the sites.
    pub index: SpatialIndex,
    /// The drone type flown.
    pub drone_spec: DroneSpec,
    /// Its time and energy model.
    pub flight: FlightModel,
    /// The specimen box.
    pub box_spec: BoxSpec,
    /// The courier vans.
    pub courier_spec: CourierSpec,
    /// The dispatcher's tuning (margins, windows, thresholds).
    pub params: DispatchParams,
    /// The day's service-level instants.
    pub service: ServiceClock,
    /// The drones at the start of the day.
    pub drones: Vec<DroneStart>,
    /// The vans at the start of the day.
    pub couriers: Vec<CourierStart>,
    /// Lab for each medical group (its HQ lab), for the courier baseline.
    pub group_labs: BTreeMap<String, LabId>,
    /// Local-time offset, for turning lab hours into instants.
    pub offset: chrono::FixedOffset,
    /// The pads with a charger (labs and depots: few), for the nearest-charger
    /// question: copies, so that asking it looks nothing up by name.
    chargers: Vec<Pad>,
    /// The charger nearest each centre (an index into `chargers`), by the centre's
    /// exact position: asked of every waiting centre on every pass.
    charger_near_station: FxHashMap<[u64; 2], usize>,
    /// Whether some lab runs every family of a set, by the set's bit mask
    /// (`family_mask`): asked of every waiting box on every pass, and the labs'
    /// families never change.
    testable_by_mask: [bool; 1 << TestFamily::ALL.len()],
    /// The partition (medical group) this world is, if it is one
    /// (`World::partition_from_map`); `None`: the whole map, one dispatcher.
    home: Option<GroupId>,
    /// Other groups' labs in a partition's world: referral labs, weighed after
    /// the group's own and flown to only when those cannot keep the promise.
    foreign_labs: BTreeSet<LabId>,
}

/// How many of the nearest other groups' labs a pickup also weighs on a
/// partition's world, after its own group's: where a box goes when no own lab
/// can test it in time.
pub const REFERRAL_LABS: usize = 2;

/// A set of test families as bits, one per `TestFamily::ALL` entry.
pub fn family_mask<'a>(families: impl IntoIterator<Item = &'a TestFamily>) -> usize {
    families
        .into_iter()
        .fold(0, |mask, f| mask | 1 << *f as usize)
}

/// Everything needed to build a `World`, so tests can build small worlds by hand.
#[derive(Debug)]
pub struct WorldParts {
    /// The centres.
    pub stations: Vec<Station>,
    /// The labs.
    pub labs: Vec<Lab>,
    /// The drone pads.
    pub pads: Vec<Pad>,
    /// The airspace (its frame is the world's).
    pub airspace: Airspace,
    /// The drones at the start of the day.
    pub drones: Vec<DroneStart>,
    /// The vans at the start of the day.
    pub couriers: Vec<CourierStart>,
}

impl World {
    /// The world of `scenario` from its parts.
    pub fn new(scenario: &Scenario, parts: WorldParts) -> World {
        let frame = *parts.airspace.frame();
        let index = SpatialIndex::new(frame, &parts.stations, &parts.labs, &parts.pads);
        let group_labs = parts
            .labs
            .iter()
            .filter_map(|l| l.group.as_ref().map(|g| (g.to_string(), l.id.clone())))
            .collect();
        let chargers: Vec<Pad> = parts.pads.iter().filter(|p| p.charger).cloned().collect();
        let charger_near_station = parts
            .stations
            .iter()
            .filter_map(|s| {
                let nearest = nearest_of(&frame, &chargers, s.position)?;
                Some((position_key(s.position), nearest))
            })
            .collect();
        let mut testable_by_mask = [false; 1 << TestFamily::ALL.len()];
        for (mask, testable) in testable_by_mask.iter_mut().enumerate() {
            *testable = parts.labs.iter().any(|l| {
                TestFamily::ALL
                    .iter()
                    .all(|f| mask & 1 << *f as usize == 0 || l.runs(*f))
            });
        }
        World {
            testable_by_mask,
            stations: parts
                .stations
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect(),
            labs: parts.labs.into_iter().map(|l| (l.id.clone(), l)).collect(),
            chargers,
            charger_near_station,
            pads: parts.pads.into_iter().map(|p| (p.id.clone(), p)).collect(),
            frame,
            airspace: parts.airspace,
            index,
            flight: FlightModel::new(&scenario.drone),
            drone_spec: scenario.drone.clone(),
            box_spec: scenario.specimen_box.clone(),
            courier_spec: scenario.courier.clone(),
            params: scenario.dispatch.clone(),
            service: ServiceClock {
                first_draw: scenario.at(scenario.service.first_draw),
                last_draw: scenario.at(scenario.service.last_draw),
                cutoff: scenario.at(scenario.service.cutoff),
                report: minutes(scenario.service.report_minutes),
            },
            drones: parts.drones,
            couriers: parts.couriers,
            group_labs,
            offset: scenario.offset(),
            home: None,
            foreign_labs: BTreeSet::new(),
        }
    }

    /// This world as partition `home`, with `foreign_labs` its referral labs.
    pub(crate) fn with_home(mut self, home: GroupId, foreign_labs: BTreeSet<LabId>) -> World {
        self.home = Some(home);
        self.foreign_labs = foreign_labs;
        self
    }

    /// The partition (medical group) this world is, if it is one.
    pub fn home(&self) -> Option<&GroupId> {
        self.home.as_ref()
    }

    /// Whether `lab` is this world's own (always, on a world that is not a
    /// partition): a box goes to another group's lab only when no own lab can
    /// keep the promise, and the lab's work is the other partition's.
    pub fn is_own_lab(&self, lab: &LabId) -> bool {
        !self.foreign_labs.contains(lab)
    }

    /// Whether some lab of the world runs every one of `families`: a box needing
    /// them can be tested somewhere (whether that lab is up is the plan's question).
    pub fn some_lab_runs<'a>(&self, families: impl IntoIterator<Item = &'a TestFamily>) -> bool {
        self.some_lab_runs_mask(family_mask(families))
    }

    /// `some_lab_runs` of a set given as bits (`family_mask`).
    pub fn some_lab_runs_mask(&self, mask: usize) -> bool {
        self.testable_by_mask[mask]
    }

    /// Whether `lab` runs every one of `families`: the one test before any box
    /// is put on a carrier bound there.
    pub fn lab_runs_all<'a>(
        &self,
        lab: &LabId,
        families: impl IntoIterator<Item = &'a TestFamily>,
    ) -> bool {
        self.labs
            .get(lab)
            .is_some_and(|l| l.lacks(families).is_none())
    }

    /// The labs nearest to `p`, nearest first, at most `n`.
    /// On a partition's world, the `n` nearest own labs are followed by the
    /// `REFERRAL_LABS` nearest other groups' labs.
    pub fn nearest_labs(&self, p: LatLon, n: usize) -> impl Iterator<Item = &Lab> {
        let kind = labflight_geo::SiteKind::Lab;
        let sites = if self.foreign_labs.is_empty() {
            self.index.nearest(p, kind, n)
        } else {
            let foreign =
                |site: &labflight_geo::Site| self.foreign_labs.contains(&LabId::new(&site.id));
            let mut sites = self.index.nearest_of(p, kind, |s| !foreign(s), n);
            sites.extend(self.index.nearest_of(p, kind, foreign, REFERRAL_LABS));
            sites
        };
        sites
            .into_iter()
            .filter_map(|(site, _)| self.labs.get(&LabId::new(&site.id)))
    }

    /// The pad with a charger nearest to `p` (ties by id).
    pub fn nearest_charger(&self, p: LatLon) -> Option<&Pad> {
        let i = match self.charger_near_station.get(&position_key(p)) {
            Some(i) => *i,
            None => nearest_of(&self.frame, &self.chargers, p)?,
        };
        self.chargers.get(i)
    }

    /// The pads with a charger, nearest to `p` first (ties by id), at most `n`.
    pub fn chargers_near(&self, p: LatLon, n: usize) -> Vec<&Pad> {
        nearest_pads(&self.frame, self.chargers.iter(), p, n)
    }

    /// The pads a van can meet a drone at, nearest to `p` first (ties by id), at
    /// most `n`: depots' (a centre's pad is its staff's, and a box set down on a
    /// lab's pad is the lab's to take in).
    pub fn hubs_near(&self, p: LatLon, n: usize) -> Vec<&Pad> {
        let hubs = (self.pads.values())
            .filter(|pad| matches!(pad.site, labflight_core::pad::PadSite::Depot));
        nearest_pads(&self.frame, hubs, p, n)
    }

    /// The lab's own pad, where drones land its boxes (the first by id if several).
    pub fn lab_pad(&self, lab: &LabId) -> Option<&PadId> {
        self.pads
            .values()
            .find(|p| matches!(&p.site, labflight_core::pad::PadSite::Lab(l) if l == lab))
            .map(|p| &p.id)
    }

    /// The lab whose pad `pad` is, if it is a lab's.
    pub fn lab_at_pad(&self, pad: &PadId) -> Option<&LabId> {
        match &self.pads.get(pad)?.site {
            labflight_core::pad::PadSite::Lab(lab) => Some(lab),
            _ => None,
        }
    }

    /// Where a pad is.
    pub fn pad_position(&self, pad: &PadId) -> Option<LatLon> {
        self.pads.get(pad).map(|p| p.position)
    }

    /// `at` as a wall-clock time in the day's zone (Shenzhen), `HH:MM`: the one way
    /// an explanation, alert or notice says a time (the zone is stated once, by
    /// whoever shows them).
    pub fn clock(&self, at: Instant) -> String {
        at.with_timezone(&self.offset).format("%H:%M").to_string()
    }

    /// Whether the lab is open at `at` by its opening hours.
    pub fn lab_open_at(&self, lab: &Lab, at: Instant) -> bool {
        lab.hours.is_open(at.with_timezone(&self.offset).time())
    }

    /// Ground travel time for a courier between two points.
    pub fn road_time(&self, a: LatLon, b: LatLon) -> Duration {
        let km = self.frame.distance_m(a, b) / 1000.0 * self.courier_spec.road_factor;
        minutes(km / self.courier_spec.speed_kmh * 60.0)
    }
}

/// The index of the pad in `pads` nearest to `p` (ties by id).
fn nearest_of(frame: &LocalFrame, pads: &[Pad], p: LatLon) -> Option<usize> {
    pads.iter()
        .enumerate()
        .map(|(i, pad)| (frame.distance_m(pad.position, p), i, pad))
        .min_by(|(da, _, a), (db, _, b)| da.total_cmp(db).then_with(|| a.id.cmp(&b.id)))
        .map(|(_, i, _)| i)
}

/// A position as a map key: its exact bits.
fn position_key(p: LatLon) -> [u64; 2] {
    [p.lat.to_bits(), p.lon.to_bits()]
}

/// Of `pads`, the `n` nearest to `p`, nearest first (ties by id).
fn nearest_pads<'a>(
    frame: &labflight_geo::LocalFrame,
    pads: impl Iterator<Item = &'a Pad>,
    p: LatLon,
    n: usize,
) -> Vec<&'a Pad> {
    let mut by_distance: Vec<(f64, &Pad)> = pads
        .map(|pad| (frame.distance_m(pad.position, p), pad))
        .collect();
    by_distance.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    by_distance
        .into_iter()
        .take(n)
        .map(|(_, pad)| pad)
        .collect()
}
