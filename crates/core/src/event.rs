//! The events the dispatcher hears. Every edge (MQTT, HTTP, the dashboard, the
//! simulator) turns what it receives into one of these, stamped with its time;
//! the journal is a list of them, and replaying it drives the core again.

use crate::{
    BoxId, CourierId, DroneId, Instant, LabId, LatLon, MissionId, PadId, StationId, Tube,
    TubeBarcode, WeatherForecast,
};
use serde::{Deserialize, Serialize};

/// An event with the instant it happened (the caller's clock, never the core's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stamped {
    /// When it happened (as the edge received it).
    pub at: Instant,
    /// What happened.
    pub event: Event,
}

/// What a drone says it is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DroneState {
    /// On a pad, ready.
    Idle,
    /// Swapping or charging its battery.
    Charging,
    /// In the air.
    Flying,
    /// On the ground, not at its pad.
    Landed,
    /// Out of order.
    Fault,
}

/// What a drone reports happened to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DroneEventKind {
    /// It took off.
    TookOff,
    /// Landed at a pad (or elsewhere when `pad` is none, e.g. after a parachute).
    Landed {
        /// The pad it landed on, if any.
        pad: Option<PadId>,
        /// Where it landed.
        position: LatLon,
    },
    /// A box was loaded on it.
    PayloadLoaded {
        /// The box.
        box_id: BoxId,
    },
    /// It released a box (on landing at the lab, or setting it down).
    PayloadReleased {
        /// The box.
        box_id: BoxId,
    },
    /// The drone finished its mission's last leg.
    MissionComplete {
        /// The mission.
        mission: MissionId,
    },
    /// Its new battery is ready after a swap.
    BatteryReady {
        /// The battery's charge, percent.
        battery_pct: f64,
    },
    /// It failed.
    Fault {
        /// What failed.
        reason: String,
    },
    /// It lost its link to the ground.
    LinkLost,
    /// Its link is back.
    LinkRestored,
}

/// A change at a lab, reported by its LIS or by a coordinator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LabUpdate {
    /// Tubes waiting in reception and on analyzers.
    Queue {
        /// Tubes waiting in its queue.
        tubes: u32,
    },
    /// An analyzer went out of service.
    AnalyzerDown {
        /// The analyzer's id.
        analyzer: String,
    },
    /// An analyzer is back in service.
    AnalyzerUp {
        /// The analyzer's id.
        analyzer: String,
    },
    /// The lab stopped receiving boxes.
    Closed,
    /// The lab receives boxes again.
    Opened,
}

/// What a courier van reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CourierEventKind {
    /// It picked boxes up.
    PickedUp {
        /// The boxes.
        boxes: Vec<BoxId>,
    },
    /// It delivered boxes to a lab.
    Delivered {
        /// The lab.
        lab: LabId,
        /// The boxes.
        boxes: Vec<BoxId>,
    },
    /// It is free, at a position.
    Available {
        /// Where it is.
        position: LatLon,
    },
}

/// A coordinator's instruction from the dashboard, with who gave it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Override {
    /// Ground every drone.
    GroundFleet,
    /// Let the drones fly again.
    ReleaseFleet,
    /// Give this drone no mission until resumed.
    PauseDrone {
        /// The drone.
        drone: DroneId,
    },
    /// Let a paused drone fly missions again.
    ResumeDrone {
        /// The drone.
        drone: DroneId,
    },
    /// Send nothing more to this lab.
    LabUnavailable {
        /// The lab.
        lab: LabId,
    },
    /// The lab may receive boxes again.
    LabAvailable {
        /// The lab.
        lab: LabId,
    },
    /// Pick this centre's boxes up now.
    ForcePickup {
        /// The centre.
        station: StationId,
    },
    /// Send the boxes bound for one lab to another: `from` takes nothing more
    /// until marked available again; its flights on their way turn to `to`, and
    /// boxes not yet loaded are planned again without it.
    DivertLab {
        /// The lab to divert from.
        from: LabId,
        /// The lab to divert to; it must run every test of the boxes diverted.
        to: LabId,
    },
    /// Give a mission not yet loaded to another drone.
    ReassignMission {
        /// The mission.
        mission: MissionId,
        /// The drone to fly it.
        drone: DroneId,
    },
}

/// Everything the dispatcher hears: each edge turns what it receives into one of these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A drone's periodic position and battery.
    DroneTelemetry {
        /// The drone.
        drone: DroneId,
        /// Where it is.
        position: LatLon,
        /// Its altitude, metres.
        alt_m: f64,
        /// Its battery, percent.
        battery_pct: f64,
        /// What it says it is doing.
        state: DroneState,
    },
    /// Something happened to a drone.
    Drone {
        /// The drone.
        drone: DroneId,
        /// What happened.
        #[serde(flatten)]
        kind: DroneEventKind,
    },
    /// Staff sealed a box at a centre; the manifest lists its tubes by barcode.
    BoxSealed {
        /// The box.
        box_id: BoxId,
        /// The centre that sealed it.
        station: StationId,
        /// The tubes in it.
        tubes: Vec<Tube>,
    },
    /// A box's periodic temperature and lid state.
    BoxTelemetry {
        /// The box.
        box_id: BoxId,
        /// Its temperature, °C.
        temp_c: f64,
        /// Whether its lid is open.
        lid_open: bool,
    },
    /// A lab scanned a box in.
    BoxReceived {
        /// The box.
        box_id: BoxId,
        /// The lab.
        lab: LabId,
    },
    /// A lab's state changed.
    Lab {
        /// The lab.
        lab: LabId,
        /// What changed.
        #[serde(flatten)]
        update: LabUpdate,
    },
    /// A tube's result was verified.
    TubeResulted {
        /// The tube.
        barcode: TubeBarcode,
        /// The lab.
        lab: LabId,
    },
    /// The lab spun the tube to separate serum or plasma (tubes not spun at the centre).
    TubeCentrifuged {
        /// The tube.
        barcode: TubeBarcode,
        /// The lab.
        lab: LabId,
    },
    /// The lab refused the tube (haemolysed, stability exceeded, temperature
    /// excursion): no result will come; the centre must redraw.
    TubeRejected {
        /// The tube.
        barcode: TubeBarcode,
        /// The lab.
        lab: LabId,
        /// Why the lab refused it.
        reason: String,
    },
    /// The verified result reached the centre's information system.
    ResultReported {
        /// The tube.
        barcode: TubeBarcode,
    },
    /// The weather now.
    Weather {
        /// Wind towards the east, m/s.
        wind_east_mps: f64,
        /// Wind towards the north, m/s.
        wind_north_mps: f64,
        /// Rain, mm/h.
        rain_mm_h: f64,
    },
    /// A forecast of wind and rain over a window of the day: the latest replaces
    /// any earlier one.
    WeatherForecast {
        /// The forecast.
        #[serde(flatten)]
        forecast: WeatherForecast,
    },
    /// Something happened to a courier van.
    Courier {
        /// The van.
        courier: CourierId,
        /// What happened.
        #[serde(flatten)]
        kind: CourierEventKind,
    },
    /// A coordinator's override from the dashboard.
    Override {
        /// Who gave it (a user name).
        by: String,
        /// What they asked.
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
        /// The lab that made the claim.
        lab: LabId,
        /// The tube it claimed.
        barcode: TubeBarcode,
        /// What the lab claimed: `received`, `rejected`, `resulted`, ...
        claim: String,
        /// The claim itself when it is about one tube and came over MQTT, which
        /// has no answer to say "send it again" (a spin, rejection, result or
        /// report): the dispatcher holds it and hands it back to be applied when
        /// the tube's box reaches that lab (`Dispatcher::take_released_claims`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        held: Option<Box<Event>>,
    },
    /// Tubes another partition (medical group) delivered to one of this
    /// partition's labs, because its own labs could not test them in time: the
    /// lab's lines take them. The sending partition keeps their custody and
    /// reports their results; this one hears of them so its predictions of the
    /// lab's lines hold.
    Referral {
        /// The lab that received them.
        lab: LabId,
        /// The partition that sent them.
        from: String,
        /// The tubes, each with the families ordered on it.
        tubes: Vec<ReferredTube>,
    },
    /// One of this partition's drones, idle, is lent to another medical group
    /// (`to`), whose pickups are short of one: it leaves this fleet until it is
    /// lent back. Journaled on both sides (`DroneBorrowed` on the other).
    DroneLent {
        /// The drone.
        drone: DroneId,
        /// The partition (medical group) it goes to.
        to: String,
    },
    /// A drone lent by another medical group (`from`) joins this fleet, idle
    /// where it stands, until it is lent back (`DroneLent` on the other side).
    DroneBorrowed {
        /// The drone.
        drone: DroneId,
        /// The partition (medical group) that lent it.
        from: String,
        /// Where it stands.
        position: LatLon,
        /// Its battery, percent.
        battery_pct: f64,
    },
}

/// A tube received from another partition (`Event::Referral`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferredTube {
    /// The tube.
    pub barcode: TubeBarcode,
    /// The test families ordered on it.
    pub families: Vec<crate::TestFamily>,
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
            Event::WeatherForecast { .. } => "weather_forecast",
            Event::Courier { .. } => "courier",
            Event::Override { .. } => "override",
            Event::Tick => "tick",
            Event::ServiceResumed => "service_resumed",
            Event::CustodyDisputed { .. } => "custody_disputed",
            Event::Referral { .. } => "referral",
            Event::DroneLent { .. } => "drone_lent",
            Event::DroneBorrowed { .. } => "drone_borrowed",
        }
    }
}
