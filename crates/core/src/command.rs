//! The commands the dispatcher gives. Edges carry them out: the MQTT edge sends
//! missions to drones, the store records them, the dashboard shows them, and the
//! simulator acts them out.

use crate::reason::Reason;
use crate::{
    BoxId, CourierId, DroneId, Instant, LabId, LatLon, MissionId, PadId, StationId, TubeBarcode,
};
use chrono::FixedOffset;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One flown leg: waypoints around no-fly zones and the planned times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    /// Where the leg starts (a centre, pad or lab id; or a drone's for the first).
    pub from: String,
    /// Where it ends.
    pub to: String,
    /// The path flown, start and end included.
    pub waypoints: Vec<LatLon>,
    /// Its length, metres.
    pub distance_m: f64,
    /// Planned departure.
    pub depart: Instant,
    /// Planned arrival.
    pub arrive: Instant,
    /// Planned energy, watt-hours.
    pub energy_wh: f64,
}

/// One alternative the dispatcher weighed, for the dashboard's "why".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    /// The drone weighed, if a drone.
    pub drone: Option<DroneId>,
    /// The lab weighed, if a lab.
    pub lab: Option<LabId>,
    /// Lower is better; for feasible options, the predicted lab arrival in minutes from now.
    pub score: f64,
    /// Why it was not chosen (or `chosen`), in English: `reason` rendered by
    /// `Reason::english`. Mostly a fixed phrase, and one is written for every lab
    /// and drone weighed in every plan: borrowed when it can be.
    pub verdict: Cow<'static, str>,
    /// The verdict as a code and values, for rendering in any language (absent
    /// in records written before reasons were coded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

impl Alternative {
    /// An option weighed, with its verdict written from `reason`.
    pub fn new(
        drone: Option<DroneId>,
        lab: Option<LabId>,
        score: f64,
        reason: Reason,
        offset: FixedOffset,
    ) -> Alternative {
        Alternative {
            drone,
            lab,
            score,
            verdict: reason.english(offset),
            reason: Some(reason),
        }
    }

    /// Gives the option a new verdict (`chosen`, say), prose and code together.
    pub fn judge(&mut self, reason: Reason, offset: FixedOffset) {
        self.verdict = reason.english(offset);
        self.reason = Some(reason);
    }
}

/// Why the dispatcher decided as it did: a sentence and what it weighed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The decision in one sentence, in English: `reason` rendered by `Reason::english`.
    pub summary: String,
    /// Every drone and lab weighed, with its verdict.
    pub alternatives: Vec<Alternative>,
    /// The decision as a code and values, for rendering in any language (absent
    /// in records written before reasons were coded). Boxed: a mission plan
    /// stays the size of the other commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Box<Reason>>,
}

impl Explanation {
    /// Why, with its sentence written from `reason` on the clock at `offset`.
    pub fn new(reason: Reason, alternatives: Vec<Alternative>, offset: FixedOffset) -> Explanation {
        Explanation {
            summary: reason.english(offset).into_owned(),
            alternatives,
            reason: Some(Box::new(reason)),
        }
    }
}

/// A drone mission: fly to a centre, load its boxes, fly them to a lab; on a
/// round, call at further centres on the way and load theirs too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MissionPlan {
    /// The mission's id.
    pub mission: MissionId,
    /// The drone that flies it.
    pub drone: DroneId,
    /// The first centre.
    pub station: StationId,
    /// Where the first boxes are loaded when that is not `station`'s own pad: the
    /// depot pad a drone in trouble set them down on. `station` is then the centre
    /// they came from, whose staff are not told to expect the drone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_pad: Option<PadId>,
    /// Every box the mission carries, from every centre.
    pub boxes: Vec<BoxId>,
    /// The lab it delivers to.
    pub lab: LabId,
    /// The pad it lands on there.
    pub lab_pad: Option<PadId>,
    /// The payload from the first centre on, kg.
    pub payload_kg: f64,
    /// To the first centre, to each further centre, then to the lab (by way of
    /// the relay pad, when the mission has a `relay`).
    pub legs: Vec<Leg>,
    /// Landing at the first centre.
    pub pickup_at: Instant,
    /// The centres called at after the first, in order (none on a direct flight).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub later_stops: Vec<Stop>,
    /// A battery swap on the way to the lab, for a centre beyond one flight's
    /// reach of every lab that can take its boxes (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<Relay>,
    /// A hub leg: the drone lands at a pad within its reach and sets the boxes
    /// down there for a van to take on to `lab` (absent otherwise). `legs` then
    /// end at the hub, `lab_pad` is none and `arrive_lab_at` is the van's
    /// delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<Box<Hub>>,
    /// Planned arrival at the lab.
    pub arrive_lab_at: Instant,
    /// The earliest deadline among the boxes' tubes.
    pub deadline: Instant,
    /// Planned battery at the lab, percent.
    pub battery_after_pct: f64,
    /// Why this drone, this lab, now.
    pub why: Explanation,
}

/// A further centre on a drone's round and the boxes it loads there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// The centre.
    pub station: StationId,
    /// The boxes loaded there.
    pub boxes: Vec<BoxId>,
    /// Planned pickup.
    pub pickup_at: Instant,
}

/// A relay: the loaded drone lands on a charger pad between its last centre and
/// the lab, has its battery swapped, and flies on with the boxes aboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relay {
    /// The charger pad.
    pub pad: PadId,
    /// Planned landing there.
    pub land_at: Instant,
    /// Planned take-off, the battery swapped.
    pub depart_at: Instant,
}

/// A hub leg's hand-over: the drone sets the boxes down on `pad`, and the van
/// run `van_run` (booked with the mission, a `request_courier` naming the pad)
/// takes them on to the lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hub {
    /// The depot pad the boxes are set down on.
    pub pad: PadId,
    /// Planned landing there.
    pub land_at: Instant,
    /// The van run that takes them on.
    pub van_run: MissionId,
    /// Its van.
    pub courier: CourierId,
}

impl MissionPlan {
    /// When the drone lands at `station` to load, if the mission calls there (not
    /// at the centre a mission loading at a depot's `pickup_pad` names).
    pub fn pickup_at_station(&self, station: &StationId) -> Option<Instant> {
        if *station == self.station {
            return self.pickup_pad.is_none().then_some(self.pickup_at);
        }
        self.later_stops
            .iter()
            .find(|s| s.station == *station)
            .map(|s| s.pickup_at)
    }

    /// Every centre the mission calls at, in order.
    pub fn stations(&self) -> impl Iterator<Item = &StationId> {
        std::iter::once(&self.station)
            .filter(|_| self.pickup_pad.is_none())
            .chain(self.later_stops.iter().map(|s| &s.station))
    }
}

/// What a drone does when its mission is aborted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recovery {
    /// Not yet loaded: fly back to a pad.
    ReturnToPad {
        /// The pad.
        pad: PadId,
    },
    /// Carrying boxes: land at the nearest pad (a van recovers them).
    LandAtNearestPad {
        /// The pad.
        pad: PadId,
    },
}

/// A ground courier run, for the courier baseline and the weather fallback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourierRequest {
    /// The run's id (a mission id).
    pub mission: MissionId,
    /// The van, if one is named (the live service may leave it to dispatch).
    pub courier: Option<CourierId>,
    /// The centre the boxes come from.
    pub station: StationId,
    /// The boxes.
    pub boxes: Vec<BoxId>,
    /// The lab to deliver to.
    pub lab: LabId,
    /// Where to collect the boxes when they are not at the centre: the pad a drone
    /// in trouble set them down on (a lab's or a depot's; a centre's is `station`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad: Option<PadId>,
    /// Planned arrival at the centre (or the pad) and at the lab.
    pub pickup_at: Instant,
    /// Planned delivery at the lab.
    pub deliver_at: Instant,
    /// The earliest deadline among the boxes' tubes.
    pub deadline: Instant,
    /// Why a van.
    pub reason: String,
}

/// What a centre's staff are told.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StationNotice {
    /// A carrier is coming for these boxes.
    PickupEta {
        /// The mission or van run.
        mission: MissionId,
        /// The boxes it takes.
        boxes: Vec<BoxId>,
        /// When it arrives.
        eta: Instant,
        /// The drone or van.
        by: String,
    },
    /// Draw this tube again.
    RedrawNeeded {
        /// The tube.
        barcode: TubeBarcode,
        /// Why.
        reason: String,
    },
    /// Seal the open box now: a flight is coming.
    SealNow {
        /// Why (which carrier, when).
        reason: String,
    },
    /// Seal each box by this many tubes at the latest (sooner by the usual rules):
    /// a heavier one is beyond every drone's reach from the charger nearest the
    /// centre. `max_tubes` at the box's capacity lifts an earlier limit.
    BoxLimit {
        /// The most tubes a box may hold.
        max_tubes: u32,
        /// Why.
        reason: String,
    },
}

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A tube may miss its deadline or stability limit.
    TubeAtRisk,
    /// A box left its temperature band.
    TemperatureExcursion,
    /// A drone's battery fell low in flight.
    LowBattery,
    /// A drone went silent or reported its link lost.
    DroneLost,
    /// A drone reported a fault.
    DroneFault,
    /// A lab's queue is above an hour of its capacity.
    LabOverloaded,
    /// A lab can no longer take what is bound for it.
    LabUnavailable,
    /// The fleet was grounded or released.
    FleetGrounded,
    /// No drone can fly a pickup.
    NoFeasibleDrone,
    /// A tube was sealed after its stability limit.
    StabilityExceeded,
    /// A device reported custody the plan did not expect: a box loaded on a drone
    /// not sent for it, or one already delivered or aboard another mission.
    CustodyConflict,
    /// A storm the drones cannot fly in is forecast: boxes fly early, flights it
    /// would catch are not launched, vans are kept for it.
    StormForecast,
}

/// How urgent an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

/// An alert for the coordinators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// How urgent.
    pub severity: Severity,
    /// The id of what it is about: a tube, drone, box or lab.
    pub subject: String,
    /// What happened, in English: `reason` rendered by `Reason::english`.
    pub message: String,
    /// What happened as a code and values, for rendering in any language
    /// (absent in records written before reasons were coded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

/// Everything the dispatcher decides; the edges carry each to drones, vans, centres or coordinators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Fly a mission.
    AssignMission(MissionPlan),
    /// Call a mission off.
    AbortMission {
        /// The mission.
        mission: MissionId,
        /// Its drone.
        drone: DroneId,
        /// Where the drone goes.
        recovery: Recovery,
        /// Why.
        reason: String,
    },
    /// Fly to a pad without a mission.
    ReturnToPad {
        /// The drone.
        drone: DroneId,
        /// The pad.
        pad: PadId,
        /// Why.
        reason: String,
    },
    /// Swap the battery of a drone standing at a charger.
    SwapBattery {
        /// The drone.
        drone: DroneId,
        /// The pad it stands on.
        pad: PadId,
    },
    /// A box sealed after the drone was sent rides along on the same flight.
    AddToMission {
        /// The mission.
        mission: MissionId,
        /// Its drone.
        drone: DroneId,
        /// The boxes added.
        boxes: Vec<BoxId>,
        /// The mission's whole payload now, kg.
        payload_kg: f64,
    },
    /// Send a drone already carrying boxes to another lab (its lab went down).
    Redirect {
        /// The mission.
        mission: MissionId,
        /// Its drone.
        drone: DroneId,
        /// The new lab.
        lab: LabId,
        /// The leg from where the drone is to that lab.
        leg: Leg,
        /// Why.
        reason: String,
    },
    /// Book a van run.
    RequestCourier(CourierRequest),
    /// Call a booked van run off: it has nothing left to collect (its boxes went
    /// with another carrier). The van does not call; it is told, so it cannot
    /// collect a box that is already somewhere else.
    CancelCourier {
        /// The run (a mission id).
        mission: MissionId,
        /// Its van.
        courier: CourierId,
        /// Why.
        reason: String,
    },
    /// Tell a centre's staff something.
    NotifyStation {
        /// The centre.
        station: StationId,
        /// What they are told.
        #[serde(flatten)]
        notice: StationNotice,
    },
    /// Alert the coordinators.
    Alert(Alert),
}

impl Command {
    /// The command's name, as it is serialized.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Command::AssignMission(_) => "assign_mission",
            Command::AbortMission { .. } => "abort_mission",
            Command::ReturnToPad { .. } => "return_to_pad",
            Command::SwapBattery { .. } => "swap_battery",
            Command::Redirect { .. } => "redirect",
            Command::AddToMission { .. } => "add_to_mission",
            Command::RequestCourier(_) => "request_courier",
            Command::CancelCourier { .. } => "cancel_courier",
            Command::NotifyStation { .. } => "notify_station",
            Command::Alert(_) => "alert",
        }
    }
}
