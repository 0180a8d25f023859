//! The commands the dispatcher gives. Edges carry them out: the MQTT edge sends
//! missions to drones, the store records them, the dashboard shows them, and the
//! simulator acts them out.

use crate::{
    BoxId, CourierId, DroneId, Instant, LabId, LatLon, MissionId, PadId, StationId, TubeBarcode,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One flown leg: waypoints around no-fly zones and the planned times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    pub from: String,
    pub to: String,
    pub waypoints: Vec<LatLon>,
    pub distance_m: f64,
    pub depart: Instant,
    pub arrive: Instant,
    pub energy_wh: f64,
}

/// One alternative the dispatcher weighed, for the dashboard's "why".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    pub drone: Option<DroneId>,
    pub lab: Option<LabId>,
    /// Lower is better; for feasible options, the predicted lab arrival in minutes from now.
    pub score: f64,
    /// Why it was not chosen (or `chosen`). Mostly a fixed phrase, and one is
    /// written for every lab and drone weighed in every plan: borrowed when it can be.
    pub verdict: Cow<'static, str>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub summary: String,
    pub alternatives: Vec<Alternative>,
}

/// A drone mission: fly to a centre, load its boxes, fly them to a lab; on a
/// round, call at further centres on the way and load theirs too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MissionPlan {
    pub mission: MissionId,
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
    pub lab: LabId,
    pub lab_pad: Option<PadId>,
    pub payload_kg: f64,
    /// To the first centre, to each further centre, then to the lab.
    pub legs: Vec<Leg>,
    /// Landing at the first centre.
    pub pickup_at: Instant,
    /// The centres called at after the first, in order (none on a direct flight).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub later_stops: Vec<Stop>,
    pub arrive_lab_at: Instant,
    /// The earliest deadline among the boxes' tubes.
    pub deadline: Instant,
    pub battery_after_pct: f64,
    pub why: Explanation,
}

/// A further centre on a drone's round and the boxes it loads there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    pub station: StationId,
    pub boxes: Vec<BoxId>,
    pub pickup_at: Instant,
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
    ReturnToPad { pad: PadId },
    LandAtNearestPad { pad: PadId },
}

/// A ground courier run, for the courier baseline and the weather fallback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourierRequest {
    pub mission: MissionId,
    pub courier: Option<CourierId>,
    pub station: StationId,
    pub boxes: Vec<BoxId>,
    pub lab: LabId,
    /// Where to collect the boxes when they are not at the centre: the pad a drone
    /// in trouble set them down on (a lab's or a depot's; a centre's is `station`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad: Option<PadId>,
    /// Planned arrival at the centre (or the pad) and at the lab.
    pub pickup_at: Instant,
    pub deliver_at: Instant,
    /// The earliest deadline among the boxes' tubes.
    pub deadline: Instant,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StationNotice {
    PickupEta {
        mission: MissionId,
        boxes: Vec<BoxId>,
        eta: Instant,
        by: String,
    },
    RedrawNeeded {
        barcode: TubeBarcode,
        reason: String,
    },
    /// Seal the open box now: a flight is coming.
    SealNow { reason: String },
    /// Seal each box by this many tubes at the latest (sooner by the usual rules):
    /// a heavier one is beyond every drone's reach from the charger nearest the
    /// centre. `max_tubes` at the box's capacity lifts an earlier limit.
    BoxLimit { max_tubes: u32, reason: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    TubeAtRisk,
    TemperatureExcursion,
    LowBattery,
    DroneLost,
    DroneFault,
    LabOverloaded,
    LabUnavailable,
    FleetGrounded,
    NoFeasibleDrone,
    StabilityExceeded,
    /// A device reported custody the plan did not expect: a box loaded on a drone
    /// not sent for it, or one already delivered or aboard another mission.
    CustodyConflict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub severity: Severity,
    /// The id of what it is about: a tube, drone, box or lab.
    pub subject: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    AssignMission(MissionPlan),
    AbortMission {
        mission: MissionId,
        drone: DroneId,
        recovery: Recovery,
        reason: String,
    },
    ReturnToPad {
        drone: DroneId,
        pad: PadId,
        reason: String,
    },
    SwapBattery {
        drone: DroneId,
        pad: PadId,
    },
    /// A box sealed after the drone was sent rides along on the same flight.
    AddToMission {
        mission: MissionId,
        drone: DroneId,
        boxes: Vec<BoxId>,
        payload_kg: f64,
    },
    /// Send a drone already carrying boxes to another lab (its lab went down).
    Redirect {
        mission: MissionId,
        drone: DroneId,
        lab: LabId,
        leg: Leg,
        reason: String,
    },
    RequestCourier(CourierRequest),
    NotifyStation {
        station: StationId,
        #[serde(flatten)]
        notice: StationNotice,
    },
    Alert(Alert),
}

impl Command {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Command::AssignMission(_) => "assign_mission",
            Command::AbortMission { .. } => "abort_mission",
            Command::ReturnToPad { .. } => "return_to_pad",
            Command::SwapBattery { .. } => "swap_battery",
            Command::Redirect { .. } => "redirect",
            Command::AddToMission { .. } => "add_to_mission",
            Command::RequestCourier(_) => "request_courier",
            Command::NotifyStation { .. } => "notify_station",
            Command::Alert(_) => "alert",
        }
    }
}
