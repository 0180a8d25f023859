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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DroneStatus {
    Idle,
    /// Swapping or charging its battery at a pad until it reports ready.
    Charging {
        pad: PadId,
        /// When the swap should be done, if the dispatcher ordered it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ready_at: Option<Instant>,
    },
    OnMission {
        mission: MissionId,
    },
    /// Flying back to a pad with no mission.
    Returning {
        pad: PadId,
    },
    Fault {
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

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Drone {
    pub id: DroneId,
    pub position: LatLon,
    pub pad: Option<PadId>,
    pub battery_pct: f64,
    pub status: DroneStatus,
    pub paused: bool,
    pub last_seen: Instant,
    /// The pad the drone is based at; depot-based drones return there between missions.
    pub home: Option<PadId>,
    pub link_lost: bool,
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

    pub fn mission(&self) -> Option<&MissionId> {
        match &self.status {
            DroneStatus::OnMission { mission } => Some(mission),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BoxStatus {
    /// Sealed at the centre, waiting for a drone or van.
    Waiting,
    Assigned {
        mission: MissionId,
    },
    OnBoard {
        mission: MissionId,
    },
    /// On a drone that landed away from a lab (fault, abort); a courier recovers it.
    Stranded {
        at: LatLon,
    },
    Delivered {
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

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpecimenBox {
    pub id: BoxId,
    pub station: StationId,
    pub tubes: Vec<Tube>,
    pub sealed_at: Instant,
    pub status: BoxStatus,
    /// Families the tubes need, each once.
    pub families: BTreeSet<TestFamily>,
    pub payload_kg: f64,
    /// Latest lab arrival allowed by stability alone.
    pub stability_deadline: Instant,
    pub at_risk_alerted: bool,
    pub excursion_alerted: bool,
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
}

/// A pad a drone in trouble left a box on, and since when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetDown {
    pub pad: PadId,
    pub since: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TubeStatus {
    InBox,
    AtLab,
    Resulted,
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

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TubeState {
    pub box_id: BoxId,
    pub status: TubeStatus,
    pub lab: Option<LabId>,
    pub families: Vec<TestFamily>,
    /// When a lab received it.
    pub received_at: Option<Instant>,
    /// When the result reached the centre.
    pub reported_at: Option<Instant>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissionStatus {
    Assigned,
    PickedUp,
    Delivered,
    Aborted,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Carrier {
    Drone(DroneId),
    Courier(CourierId),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mission {
    pub id: MissionId,
    pub carrier: Carrier,
    pub station: StationId,
    pub boxes: Vec<BoxId>,
    pub lab: LabId,
    pub status: MissionStatus,
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
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LabState {
    /// Marked unavailable by a coordinator.
    pub unavailable: bool,
    /// Reported closed by the lab.
    pub closed: bool,
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
    pub overload_alerted: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Courier {
    pub id: CourierId,
    pub position: LatLon,
    pub base: LabId,
    /// When the van is predicted free, after its last accepted request.
    pub free_at: Instant,
    pub free_position: LatLon,
    pub trips: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Weather {
    pub wind_east_mps: f64,
    pub wind_north_mps: f64,
    pub rain_mm_h: f64,
}

impl Weather {
    pub fn wind(&self) -> Vector2<f64> {
        Vector2::new(self.wind_east_mps, self.wind_north_mps)
    }
}

/// The whole changing state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    pub now: Instant,
    pub drones: BTreeMap<DroneId, Drone>,
    pub boxes: BTreeMap<BoxId, SpecimenBox>,
    pub tubes: BTreeMap<TubeBarcode, TubeState>,
    pub missions: BTreeMap<MissionId, Mission>,
    pub labs: BTreeMap<LabId, LabState>,
    pub couriers: BTreeMap<CourierId, Courier>,
    pub weather: Weather,
    /// Grounded by a coordinator.
    pub grounded_by_coordinator: bool,
    /// Grounded because wind or rain exceed the drone's limits.
    pub grounded_by_weather: bool,
    /// Stations a coordinator asked to be picked up now.
    pub forced_pickups: BTreeSet<StationId>,
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
}

impl State {
    pub fn fleet_grounded(&self) -> bool {
        self.grounded_by_coordinator || self.grounded_by_weather
    }

    pub fn new_mission_id(&mut self) -> MissionId {
        self.next_mission += 1;
        MissionId::new(format!("M-{:06}", self.next_mission))
    }

    /// Boxes waiting at a centre, oldest seal first.
    pub fn waiting_boxes(&self) -> BTreeMap<StationId, Vec<BoxId>> {
        let mut by_station: BTreeMap<&StationId, Vec<&SpecimenBox>> = BTreeMap::new();
        for b in self
            .boxes
            .values()
            .filter(|b| b.status == BoxStatus::Waiting)
        {
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
