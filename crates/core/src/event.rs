//! The events the dispatcher hears. Every edge (MQTT, HTTP, the dashboard, the
//! simulator) turns what it receives into one of these, stamped with its time;
//! the journal is a list of them, and replaying it drives the core again.

use crate::{
    BoxId, CourierId, DroneId, Instant, LabId, LatLon, MissionId, PadId, StationId, Tube,
    TubeBarcode,
};
use serde::{Deserialize, Serialize};

/// An event with the instant it happened (the caller's clock, never the core's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stamped {
    pub at: Instant,
    pub event: Event,
}

/// What a drone says it is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DroneState {
    Idle,
    Charging,
    Flying,
    Landed,
    Fault,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DroneEventKind {
    TookOff,
    /// Landed at a pad (or elsewhere when `pad` is none, e.g. after a parachute).
    Landed {
        pad: Option<PadId>,
        position: LatLon,
    },
    PayloadLoaded {
        box_id: BoxId,
    },
    PayloadReleased {
        box_id: BoxId,
    },
    /// The drone finished its mission's last leg.
    MissionComplete {
        mission: MissionId,
    },
    BatteryReady {
        battery_pct: f64,
    },
    Fault {
        reason: String,
    },
    LinkLost,
    LinkRestored,
}

/// A change at a lab, reported by its LIS or by a coordinator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LabUpdate {
    /// Tubes waiting in reception and on analyzers.
    Queue {
        tubes: u32,
    },
    AnalyzerDown {
        analyzer: String,
    },
    AnalyzerUp {
        analyzer: String,
    },
    Closed,
    Opened,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CourierEventKind {
    PickedUp { boxes: Vec<BoxId> },
    Delivered { lab: LabId, boxes: Vec<BoxId> },
    Available { position: LatLon },
}

/// A coordinator's instruction from the dashboard, with who gave it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Override {
    GroundFleet,
    ReleaseFleet,
    PauseDrone { drone: DroneId },
    ResumeDrone { drone: DroneId },
    LabUnavailable { lab: LabId },
    LabAvailable { lab: LabId },
    ForcePickup { station: StationId },
    ReassignMission { mission: MissionId, drone: DroneId },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    DroneTelemetry {
        drone: DroneId,
        position: LatLon,
        alt_m: f64,
        battery_pct: f64,
        state: DroneState,
    },
    Drone {
        drone: DroneId,
        #[serde(flatten)]
        kind: DroneEventKind,
    },
    /// Staff sealed a box at a centre; the manifest lists its tubes by barcode.
    BoxSealed {
        box_id: BoxId,
        station: StationId,
        tubes: Vec<Tube>,
    },
    BoxTelemetry {
        box_id: BoxId,
        temp_c: f64,
        lid_open: bool,
    },
    BoxReceived {
        box_id: BoxId,
        lab: LabId,
    },
    Lab {
        lab: LabId,
        #[serde(flatten)]
        update: LabUpdate,
    },
    TubeResulted {
        barcode: TubeBarcode,
        lab: LabId,
    },
    /// The lab spun the tube to separate serum or plasma (tubes not spun at the centre).
    TubeCentrifuged {
        barcode: TubeBarcode,
        lab: LabId,
    },
    /// The lab refused the tube (haemolysed, stability exceeded, temperature
    /// excursion): no result will come; the centre must redraw.
    TubeRejected {
        barcode: TubeBarcode,
        lab: LabId,
        reason: String,
    },
    /// The verified result reached the centre's information system.
    ResultReported {
        barcode: TubeBarcode,
    },
    Weather {
        wind_east_mps: f64,
        wind_north_mps: f64,
        rain_mm_h: f64,
    },
    Courier {
        courier: CourierId,
        #[serde(flatten)]
        kind: CourierEventKind,
    },
    Override {
        by: String,
        #[serde(flatten)]
        action: Override,
    },
    /// A timer tick: lets the core re-check deadlines with no other event.
    Tick,
    /// The service was away from its devices (restarted, or its broker was):
    /// silence until now says nothing about the drones' links.
    ServiceResumed,
    /// A lab claimed a tube that labflight does not see in its hands or on its way
    /// to it (a received, rejected or resulted scan for a box still at its centre,
    /// bound for another lab, or delivered elsewhere). The claim was refused at the
    /// edge; journaled so coordinators are alerted and a replay alerts them too.
    CustodyDisputed {
        lab: LabId,
        barcode: TubeBarcode,
        /// What the lab claimed: `received`, `rejected`, `resulted`, ...
        claim: String,
    },
}

impl Event {
    /// A short stable name of the event's kind, for metrics and benches.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Event::DroneTelemetry { .. } => "drone_telemetry",
            Event::Drone { .. } => "drone_event",
            Event::BoxSealed { .. } => "box_sealed",
            Event::BoxTelemetry { .. } => "box_telemetry",
            Event::BoxReceived { .. } => "box_received",
            Event::Lab { .. } => "lab",
            Event::TubeResulted { .. } => "tube_resulted",
            Event::TubeRejected { .. } => "tube_rejected",
            Event::TubeCentrifuged { .. } => "tube_centrifuged",
            Event::ResultReported { .. } => "result_reported",
            Event::Weather { .. } => "weather",
            Event::Courier { .. } => "courier",
            Event::Override { .. } => "override",
            Event::Tick => "tick",
            Event::ServiceResumed => "service_resumed",
            Event::CustodyDisputed { .. } => "custody_disputed",
        }
    }
}
