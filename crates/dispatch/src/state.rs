//! What the dispatcher believes about the moving parts right now: drones, boxes,
//! tubes, missions, labs, couriers and the weather. Changed only by events (in
//! `dispatcher.rs`) and by the commands the dispatcher itself issues. Ordered maps
//! only, so every walk over the state is deterministic.

use labflight_core::command::MissionPlan;
use labflight_core::{
    BoxId, CourierId, DroneId, Instant, LabId, LatLon, MissionId, PadId, StationId, TestFamily,
    Tube, TubeBarcode,
};
use nalgebra::Vector2;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What a drone is doing, as the dispatcher believes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DroneStatus {
    /// On a pad, free for a mission.
    Idle,
    /// Swapping or charging its battery at a pad until it reports ready.
    Charging {
        /// The pad it stands on.
        pad: PadId,
        /// When the swap should be done, if the dispatcher ordered it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ready_at: Option<Instant>,
    },
    /// Flying a mission.
    OnMission {
        /// The mission.
        mission: MissionId,
    },
    /// Flying back to a pad with no mission.
    Returning {
        /// The pad it flies to.
        pad: PadId,
    },
    /// Reported a fault; out of service.
    Fault {
        /// What the drone reported.
        reason: String,
    },
    /// No telemetry for longer than the link timeout.
    Lost,
}

impl DroneStatus {
    /// The status's name, as it is serialized (`kind`).
    pub fn name(&self) -> &'static str {
        match self {
            DroneStatus::Idle => "idle",
            DroneStatus::Charging { .. } => "charging",
            DroneStatus::OnMission { .. } => "on_mission",
            DroneStatus::Returning { .. } => "returning",
            DroneStatus::Fault { .. } => "fault",
            DroneStatus::Lost => "lost",
        }
    }
}

/// One drone, as the dispatcher believes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Drone {
    /// Its id.
    pub id: DroneId,
    /// Its last reported position.
    pub position: LatLon,
    /// The pad it stands on, if any.
    pub pad: Option<PadId>,
    /// Its battery, percent.
    pub battery_pct: f64,
    /// What it is doing.
    pub status: DroneStatus,
    /// Paused by a coordinator: given no mission.
    pub paused: bool,
    /// When it was last heard from (or sent flying).
    pub last_seen: Instant,
    /// The pad the drone is based at; depot-based drones return there between missions.
    pub home: Option<PadId>,
    /// Silent past the link timeout, or reported its link lost.
    pub link_lost: bool,
    /// Missions it completed today.
    pub flights: u32,
}

impl Drone {
    /// Whether the drone may be given a mission now: idle, not paused, in contact,
    /// with battery above the reserve.
    pub fn available(&self, reserve_fraction: f64) -> bool {
        self.status == DroneStatus::Idle
            && !self.paused
            && !self.link_lost
            && self.battery_pct > reserve_fraction * 100.0
    }

    /// The mission it flies, if any.
    pub fn mission(&self) -> Option<&MissionId> {
        match &self.status {
            DroneStatus::OnMission { mission } => Some(mission),
            _ => None,
        }
    }
}

/// Where a sealed box is in its journey.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BoxStatus {
    /// Sealed at the centre, waiting for a drone or van.
    Waiting,
    /// Given to a mission not yet loaded.
    Assigned {
        /// The mission.
        mission: MissionId,
    },
    /// Loaded on a drone or van.
    OnBoard {
        /// The mission carrying it.
        mission: MissionId,
    },
    /// On a drone that landed away from a lab (fault, abort); a courier recovers it.
    Stranded {
        /// Where it lies.
        at: LatLon,
    },
    /// Received by a lab.
    Delivered {
        /// The lab.
        lab: LabId,
    },
}

impl BoxStatus {
    /// The status's name, as it is serialized (`kind`).
    pub fn name(&self) -> &'static str {
        match self {
            BoxStatus::Waiting => "waiting",
            BoxStatus::Assigned { .. } => "assigned",
            BoxStatus::OnBoard { .. } => "on_board",
            BoxStatus::Stranded { .. } => "stranded",
            BoxStatus::Delivered { .. } => "delivered",
        }
    }

    /// The mission the box is assigned to or travelling with.
    pub fn mission(&self) -> Option<&MissionId> {
        match self {
            BoxStatus::Assigned { mission } | BoxStatus::OnBoard { mission } => Some(mission),
            _ => None,
        }
    }
}

/// A sealed box of tubes, as the dispatcher tracks it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpecimenBox {
    /// Its id.
    pub id: BoxId,
    /// The centre that sealed it.
    pub station: StationId,
    /// The tubes in it.
    pub tubes: Vec<Tube>,
    /// When it was sealed.
    pub sealed_at: Instant,
    /// Where it is in its journey.
    pub status: BoxStatus,
    /// Families the tubes need, each once.
    pub families: BTreeSet<TestFamily>,
    /// Its weight with the tubes, kg.
    pub payload_kg: f64,
    /// Latest lab arrival allowed by stability alone.
    pub stability_deadline: Instant,
    /// Whether a coordinator has been told it is at risk (said once).
    pub at_risk_alerted: bool,
    /// Whether a temperature excursion has been reported (said once).
    pub excursion_alerted: bool,
    /// Picked up at a coordinator's request.
    pub forced: bool,
    /// The box's last reported temperature.
    pub temp_c: Option<f64>,
    /// The drone that last reported loading it, so a repeated report of the same
    /// load (an MQTT redelivery) changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_on: Option<DroneId>,
    /// Where the box lies away from its centre: a drone carrying it landed short of
    /// the lab. The next carrier loads it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_down: Option<SetDown>,
    /// A lab that scanned the box in before labflight knew it was on its way there
    /// (a drone declared lost flew it on, its reports still to come): the claim was
    /// disputed then, and is honoured when the drone reports landing on that lab's
    /// pad with the box.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_in_by: Option<ScannedIn>,
    /// What the plan expects of it, as of the policy's last decision about it
    /// (`forecast::tube_outlooks` reads it; no decision does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<labflight_core::forecast::BoxForecast>,
}

/// A lab's scan-in of a box, held until a drone reports landing with it on the
/// lab's pad.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScannedIn {
    /// The lab that scanned the box in.
    pub lab: LabId,
    /// Its pad, where the drone carrying the box lands.
    pub pad: PadId,
}

/// A pad a drone in trouble left a box on, and since when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetDown {
    /// The pad.
    pub pad: PadId,
    /// Since when the box lies there.
    pub since: Instant,
    /// The lab whose pad it is: the box is that lab's to take in
    /// (`lab_claims`), if it can test it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab: Option<LabId>,
}

impl SetDown {
    /// Set down on `pad` at `since`, named with the lab whose pad it is, if any.
    pub fn on(world: &crate::world::World, pad: PadId, since: Instant) -> SetDown {
        let lab = world.lab_at_pad(&pad).cloned();
        SetDown { pad, since, lab }
    }
}

/// Whether `b` is stranded aboard `drone` (`State::stranded_aboard`).
fn is_stranded_aboard(b: &SpecimenBox, drone: &DroneId) -> bool {
    let stranded = matches!(b.status, BoxStatus::Stranded { .. })
        || matches!(b.status, BoxStatus::Assigned { .. }) && b.set_down.is_some();
    stranded && b.loaded_on.as_ref() == Some(drone)
}

/// Where a tube is, from box to reported result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TubeStatus {
    /// In its sealed box.
    InBox,
    /// Received by a lab.
    AtLab,
    /// Its result verified.
    Resulted,
    /// Its result reached the centre.
    Reported,
    /// Refused by the lab; a redraw was asked for.
    Rejected,
}

impl TubeStatus {
    /// The status's name, as it is serialized.
    pub fn name(self) -> &'static str {
        match self {
            TubeStatus::InBox => "in_box",
            TubeStatus::AtLab => "at_lab",
            TubeStatus::Resulted => "resulted",
            TubeStatus::Reported => "reported",
            TubeStatus::Rejected => "rejected",
        }
    }
}

/// One tube, as the dispatcher tracks it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TubeState {
    /// The box it travels in.
    pub box_id: BoxId,
    /// Where it is.
    pub status: TubeStatus,
    /// The lab that received it.
    pub lab: Option<LabId>,
    /// The test families it needs.
    pub families: Vec<TestFamily>,
    /// When a lab received it.
    pub received_at: Option<Instant>,
    /// When it left the lab's queue: resulted or rejected (the lab backlog's
    /// trend is read from these and `received_at`).
    #[serde(default)]
    pub left_queue_at: Option<Instant>,
    /// When the result reached the centre.
    pub reported_at: Option<Instant>,
}

/// Where a mission or van run is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissionStatus {
    /// Issued, nothing loaded yet.
    Assigned,
    /// A box is on board.
    PickedUp,
    /// Every box reached the lab.
    Delivered,
    /// Called off (fault, lost drone, grounding, reassignment).
    Aborted,
}

/// Who carries a mission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Carrier {
    /// A drone.
    Drone(DroneId),
    /// A courier van.
    Courier(CourierId),
}

/// A drone mission or a van run: boxes from a centre to a lab.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mission {
    /// Its id (`M-000001`, ...).
    pub id: MissionId,
    /// The drone or van.
    pub carrier: Carrier,
    /// The (first) centre called at.
    pub station: StationId,
    /// Every box it carries, from every centre called at.
    pub boxes: Vec<BoxId>,
    /// The lab it delivers to.
    pub lab: LabId,
    /// Where it is.
    pub status: MissionStatus,
    /// When it should reach the lab.
    pub planned_arrival: Instant,
    /// The plan as issued (drone missions), for the dashboard's "why".
    pub plan: Option<MissionPlan>,
    /// When the van calls at the centre (van runs): staff are asked to seal what
    /// they have then, and it goes with the van, with any box already waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub van_calls_at: Option<Instant>,
    /// Whether staff were asked to seal for the van's call.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub seal_asked: bool,
    /// Labs the mission was redirected away from, latest last: a redirect may
    /// cross the drone's landing, so a scan there of a box it carried is still
    /// that lab's to make (`lab_claims`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirected_from: Vec<LabId>,
    /// Where its drone was told to land when it was aborted: a drone that
    /// reappears with its box, its mission resumed, may have obeyed the abort
    /// first (`drones::obeyed_the_abort`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_pad: Option<PadId>,
}

impl Mission {
    /// Sends the mission on to `lab` (landing on `lab_pad`), arriving at
    /// `arrival`: the lab it was bound for joins those it was redirected away
    /// from, and the plan names where the drone now lands (custody records a
    /// landing there as the lab's), straight to the lab (no hub leg).
    pub fn redirect_to(&mut self, lab: &LabId, lab_pad: Option<PadId>, arrival: Instant) {
        if &self.lab != lab && !self.redirected_from.contains(&self.lab) {
            self.redirected_from.push(self.lab.clone());
        }
        self.lab = lab.clone();
        self.planned_arrival = arrival;
        if let Some(plan) = self.plan.as_mut() {
            plan.lab = lab.clone();
            plan.lab_pad = lab_pad;
            plan.hub = None;
        }
    }
}

/// One lab's state as the dispatcher predicts from it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LabState {
    /// Marked unavailable by a coordinator.
    pub unavailable: bool,
    /// Reported closed by the lab.
    pub closed: bool,
    /// Analyzers reported down, by id.
    pub analyzers_down: BTreeSet<String>,
    /// Tubes received and not yet resulted, per family.
    pub backlog: BTreeMap<TestFamily, u32>,
    /// Tubes on their way (assigned missions), per family.
    pub inbound: BTreeMap<TestFamily, u32>,
    /// When each family's analyzers will have started on every tube received so far,
    /// at their throughput (`planner::lines_take`). A tube received and still in its
    /// run no longer holds the next one up: an analyzer works on many at once.
    #[serde(default)]
    pub lines_free_at: BTreeMap<TestFamily, Instant>,
    /// Last queue length the lab reported.
    pub reported_queue: Option<u32>,
    /// Whether its overload was alerted (said once until it clears).
    pub overload_alerted: bool,
}

/// Every lab's state, by lab. Read freely; changed only through `get_mut`, which
/// makes the caller forget what it remembered of the labs (`Ctx::lab_mut` is the
/// one caller): a prediction from remembered lines can then never outlive the
/// state it was worked out from; what outlives a pass compares `changes`.
/// Serialized as the plain map.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Labs {
    by_id: BTreeMap<LabId, LabState>,
    /// How many times a lab's state was handed out to change since this value
    /// was made (not saved: a restored dispatcher remembers nothing of before).
    #[serde(skip)]
    changes: u64,
}

/// What is remembered of the labs' state and must be forgotten when it changes
/// (`planner::LabTimes`).
pub trait RememberedOfLabs {
    /// Forgets everything remembered: a lab's state is about to change.
    fn forget(&mut self);
}

impl Labs {
    /// A lab's state, if it has any.
    pub fn get(&self, lab: &LabId) -> Option<&LabState> {
        self.by_id.get(lab)
    }

    /// Every lab's state, by lab id.
    pub fn iter(&self) -> impl Iterator<Item = (&LabId, &LabState)> {
        self.by_id.iter()
    }

    /// A lab's state, to change (a default one if it had none); `remembered` is
    /// forgotten first.
    pub fn get_mut(
        &mut self,
        lab: &LabId,
        remembered: &mut impl RememberedOfLabs,
    ) -> &mut LabState {
        remembered.forget();
        self.changes += 1;
        self.by_id.entry(lab.clone()).or_default()
    }

    /// A count that moves whenever a lab's state may have changed: what is kept
    /// across passes from the labs' state holds while it stays the same.
    pub fn changes(&self) -> u64 {
        self.changes
    }
}

impl FromIterator<(LabId, LabState)> for Labs {
    fn from_iter<I: IntoIterator<Item = (LabId, LabState)>>(iter: I) -> Self {
        Labs {
            by_id: iter.into_iter().collect(),
            changes: 0,
        }
    }
}

/// A courier van, as the dispatcher books it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Courier {
    /// Its id.
    pub id: CourierId,
    /// Its last reported position.
    pub position: LatLon,
    /// The lab it is based at.
    pub base: LabId,
    /// When the van is predicted free, after its last accepted request.
    pub free_at: Instant,
    /// Where it will be when free (the lab of its last booked run).
    pub free_position: LatLon,
    /// Trips booked today.
    pub trips: u32,
}

/// The weather the drones fly in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Weather {
    /// Wind towards the east, m/s.
    pub wind_east_mps: f64,
    /// Wind towards the north, m/s.
    pub wind_north_mps: f64,
    /// Rain, mm/h.
    pub rain_mm_h: f64,
}

impl Weather {
    /// The wind as a vector (east, north), m/s.
    pub fn wind(&self) -> Vector2<f64> {
        Vector2::new(self.wind_east_mps, self.wind_north_mps)
    }
}

/// The whole changing state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    /// The dispatcher's clock: the latest event time seen.
    pub now: Instant,
    /// Every drone.
    pub drones: BTreeMap<DroneId, Drone>,
    /// Every box sealed today.
    pub boxes: BTreeMap<BoxId, SpecimenBox>,
    /// Every tube in those boxes.
    pub tubes: BTreeMap<TubeBarcode, TubeState>,
    /// Every mission and van run issued today.
    pub missions: BTreeMap<MissionId, Mission>,
    /// Changed only through `Ctx::lab_mut` (see `Labs`).
    pub labs: Labs,
    /// Every courier van.
    pub couriers: BTreeMap<CourierId, Courier>,
    /// The current weather.
    pub weather: Weather,
    /// The latest weather forecast heard (`storm` reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<labflight_core::WeatherForecast>,
    /// Grounded by a coordinator.
    pub grounded_by_coordinator: bool,
    /// Grounded because wind or rain exceed the drone's limits.
    pub grounded_by_weather: bool,
    /// Stations a coordinator asked to be picked up now.
    pub forced_pickups: BTreeSet<StationId>,
    /// The number of the last mission issued.
    pub next_mission: u64,
    /// Whether every centre has been asked to seal at the last draw time.
    #[serde(default)]
    pub last_call_made: bool,
    /// The most tubes each centre has been asked to seal in one box
    /// (`StationNotice::BoxLimit`); centres without a limit are absent.
    #[serde(default)]
    pub box_limits: BTreeMap<StationId, u32>,
    /// The wind (east and north, as bits) the limits were worked out for.
    #[serde(default)]
    pub box_limits_wind: Option<[u64; 2]>,
    /// What a partition's mission ids start with after `M-` (its group and a
    /// dash: `M-LH-PH-000001`), so they are unique across the city; empty on a
    /// world that is not a partition (`M-000001`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mission_prefix: String,
    /// When each centre was last asked to seal for a flight ahead of a storm
    /// (`policy/drone/storm.rs`, `seal_for_last_flights`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storm_seal_asked: BTreeMap<StationId, Instant>,
    /// Tubes other partitions delivered to this partition's labs and not yet
    /// resulted (`Event::Referral`), with the lab and their families: they hold
    /// the lab's lines like its own tubes do.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub referred: BTreeMap<TubeBarcode, (LabId, Vec<TestFamily>)>,
    /// The boxes not yet delivered to a lab, beside `boxes`: a pass looks at the
    /// few dozen boxes still in play, not at every box sealed since the morning
    /// (a city day seals thousands). Kept by `open_box` and `close_box`; not
    /// saved, rebuilt from `boxes` on restore (`reindex`).
    #[serde(skip)]
    pub open_boxes: BTreeSet<BoxId>,
    /// A lab's claims about single tubes, refused when they came because
    /// labflight did not yet see the tube's box bound for that lab (a drone
    /// flying on unheard, the lab's MQTT ahead of the drone's): by tube, each with
    /// the lab that made it. Released when the box reaches that lab.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub held_claims: BTreeMap<TubeBarcode, Vec<(LabId, labflight_core::Event)>>,
    /// The held claims the last event released, for the edge to apply as events
    /// of their own (`Dispatcher::take_released_claims`); emptied by every event.
    #[serde(skip)]
    pub released_claims: Vec<labflight_core::Event>,
}

impl State {
    /// Whether drones may not fly (a coordinator or the weather).
    pub fn fleet_grounded(&self) -> bool {
        self.grounded_by_coordinator || self.grounded_by_weather
    }

    /// Boxes `drone` loaded and has not landed with since, with no mission of its
    /// own to carry them: loaded with none, or aboard a mission aborted in flight
    /// (stranded, perhaps already planned to be fetched from where it was told to
    /// land). They are set down wherever it lands next.
    pub fn stranded_aboard(&self, drone: &DroneId) -> impl Iterator<Item = &SpecimenBox> {
        self.open_boxes()
            .filter(move |b| is_stranded_aboard(b, drone))
    }

    /// The boxes aboard `drone` (on a mission it flies, or stranded aboard) that
    /// the lab owning `pad` already scanned in (`SpecimenBox::scanned_in_by`):
    /// landing there with them, the drone hands them to that lab.
    pub fn scanned_in_aboard(&self, drone: &DroneId, pad: &PadId) -> Vec<(BoxId, LabId)> {
        let carrier = Carrier::Drone(drone.clone());
        let on_its_mission = |b: &SpecimenBox| {
            matches!(&b.status, BoxStatus::OnBoard { mission }
                if self.missions.get(mission).is_some_and(|m| m.carrier == carrier))
        };
        self.open_boxes()
            .filter_map(|b| Some((b, b.scanned_in_by.as_ref().filter(|s| &s.pad == pad)?)))
            .filter(|(b, _)| on_its_mission(b) || is_stranded_aboard(b, drone))
            .map(|(b, s)| (b.id.clone(), s.lab.clone()))
            .collect()
    }

    /// The run of `courier`'s that `box_id` waits for (assigned to it, not
    /// called off, not yet collected), if there is one: a van takes custody of
    /// nothing else.
    pub fn van_run_awaiting(&self, box_id: &BoxId, courier: &CourierId) -> Option<MissionId> {
        let mission = match &self.boxes.get(box_id)?.status {
            BoxStatus::Assigned { mission } => mission,
            // Still aboard a hub leg's drone as far as we know: its van may report
            // the pickup at the hub before the drone reports its mission complete
            // (two devices, two links).
            BoxStatus::OnBoard { mission } => {
                let hub = self.missions.get(mission)?.plan.as_ref()?.hub.as_ref()?;
                if hub.courier != *courier {
                    return None;
                }
                &hub.van_run
            }
            _ => return None,
        };
        let m = self.missions.get(mission)?;
        let theirs = matches!(&m.carrier, Carrier::Courier(c) if c == courier);
        let live = matches!(m.status, MissionStatus::Assigned | MissionStatus::PickedUp);
        (theirs && live).then(|| mission.clone())
    }

    /// The next mission id.
    pub fn new_mission_id(&mut self) -> MissionId {
        self.next_mission += 1;
        MissionId::new(format!("M-{}{:06}", self.mission_prefix, self.next_mission))
    }

    /// A box sealed: it is in play until it reaches a lab.
    pub fn open_box(&mut self, b: SpecimenBox) {
        self.open_boxes.insert(b.id.clone());
        self.boxes.insert(b.id.clone(), b);
    }

    /// A box reached a lab: it is out of play for good.
    pub fn close_box(&mut self, id: &BoxId) {
        self.open_boxes.remove(id);
    }

    /// Rebuilds what is kept beside the state's maps (`open_boxes`), after a
    /// restore from a snapshot.
    pub fn reindex(&mut self) {
        self.open_boxes = self
            .boxes
            .values()
            .filter(|b| !matches!(b.status, BoxStatus::Delivered { .. }))
            .map(|b| b.id.clone())
            .collect();
    }

    /// The boxes still in play (not yet delivered), in id order, as `boxes`
    /// orders them. Debug builds check the index against every box.
    pub fn open_boxes(&self) -> impl Iterator<Item = &SpecimenBox> {
        debug_assert!(
            self.open_boxes.len()
                == self
                    .boxes
                    .values()
                    .filter(|b| !matches!(b.status, BoxStatus::Delivered { .. }))
                    .count(),
            "the open-box index lost track of a box"
        );
        // Looking a box up costs about what stepping over a few delivered ones
        // does: the index pays only once most of the day's boxes are delivered.
        let by_index = self.open_boxes.len() * 8 < self.boxes.len();
        let indexed = by_index.then(|| self.open_boxes.iter().filter_map(|id| self.boxes.get(id)));
        let scanned = (!by_index).then(|| {
            self.boxes
                .values()
                .filter(|b| !matches!(b.status, BoxStatus::Delivered { .. }))
        });
        indexed
            .into_iter()
            .flatten()
            .chain(scanned.into_iter().flatten())
    }

    /// Boxes waiting at a centre, oldest seal first.
    pub fn waiting_boxes(&self) -> BTreeMap<StationId, Vec<BoxId>> {
        let mut by_station: BTreeMap<&StationId, Vec<&SpecimenBox>> = BTreeMap::new();
        for b in self.open_boxes().filter(|b| b.status == BoxStatus::Waiting) {
            by_station.entry(&b.station).or_default().push(b);
        }
        by_station
            .into_iter()
            .map(|(s, mut v)| {
                v.sort_by(|a, b| a.sealed_at.cmp(&b.sealed_at).then_with(|| a.id.cmp(&b.id)));
                (s.clone(), v.into_iter().map(|b| b.id.clone()).collect())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the store and the dashboard show are the serialized ones.
    #[test]
    fn status_names_match_their_serialized_form() {
        let kind = |v: serde_json::Value| v["kind"].as_str().unwrap().to_owned();
        let m = MissionId::new("M-1");
        let pad = PadId::new("P");
        for d in [
            DroneStatus::Idle,
            DroneStatus::Charging {
                pad: pad.clone(),
                ready_at: None,
            },
            DroneStatus::OnMission { mission: m.clone() },
            DroneStatus::Returning { pad },
            DroneStatus::Fault { reason: "x".into() },
            DroneStatus::Lost,
        ] {
            assert_eq!(kind(serde_json::to_value(&d).unwrap()), d.name());
        }
        for b in [
            BoxStatus::Waiting,
            BoxStatus::Assigned { mission: m.clone() },
            BoxStatus::OnBoard { mission: m },
            BoxStatus::Stranded {
                at: LatLon { lat: 0.0, lon: 0.0 },
            },
            BoxStatus::Delivered {
                lab: LabId::new("L"),
            },
        ] {
            assert_eq!(kind(serde_json::to_value(&b).unwrap()), b.name());
        }
        for t in [
            TubeStatus::InBox,
            TubeStatus::AtLab,
            TubeStatus::Resulted,
            TubeStatus::Reported,
            TubeStatus::Rejected,
        ] {
            assert_eq!(serde_json::to_value(t).unwrap(), t.name());
        }
    }
}
