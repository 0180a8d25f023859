//! The JSON shapes of records the API serves as other crates serialize them —
//! the dispatcher's drones, missions and boxes, a tube's custody, the store's
//! audit, subscription and delivery rows, the map's GeoJSON — for the OpenAPI
//! document only (handlers name them with `#[schema(value_type = …)]` or in
//! their responses). None of these types is ever built: each mirrors the
//! `Serialize` output of the type its doc comment names, and the conformance
//! test (tests/openapi_conformance.rs) checks live answers against them, so a
//! drift fails there.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A point: latitude and longitude in degrees (`labflight_core::LatLon`).
#[derive(Serialize, ToSchema)]
pub(crate) struct LatLon {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
}

/// What a drone is doing (`labflight_dispatch::state::DroneStatus`).
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum DroneStatus {
    /// On a pad, free for a mission.
    Idle,
    /// Swapping or charging its battery at a pad.
    Charging {
        /// The pad it stands on.
        pad: String,
        /// When the swap should be done, if the dispatcher ordered it.
        #[schema(format = DateTime)]
        ready_at: Option<String>,
    },
    /// Flying a mission.
    OnMission {
        /// The mission; null for a lab caller when it is another lab's.
        mission: Option<String>,
    },
    /// Flying back to a pad with no mission.
    Returning {
        /// The pad it flies to.
        pad: String,
    },
    /// Reported a fault; out of service.
    Fault {
        /// What the drone reported.
        reason: String,
    },
    /// No telemetry for longer than the link timeout.
    Lost,
}

/// A drone as the dispatcher sees it (`labflight_dispatch::state::Drone`); a lab
/// caller sees no other lab's mission id in `status`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Drone {
    /// Its id.
    pub id: String,
    /// Its last reported position.
    pub position: LatLon,
    /// The pad it stands on, if any.
    pub pad: Option<String>,
    /// Its battery, percent.
    pub battery_pct: f64,
    /// What it is doing.
    pub status: DroneStatus,
    /// Paused by a coordinator: given no mission.
    pub paused: bool,
    /// When it was last heard from (or sent flying).
    #[schema(format = DateTime)]
    pub last_seen: String,
    /// The pad the drone is based at.
    pub home: Option<String>,
    /// Silent past the link timeout, or reported its link lost.
    pub link_lost: bool,
    /// Missions it completed today.
    pub flights: u32,
}

/// Who carries a mission (`labflight_dispatch::state::Carrier`).
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub(crate) enum Carrier {
    /// A drone, by id.
    Drone(String),
    /// A courier van, by id.
    Courier(String),
}

/// Where a mission is (`labflight_dispatch::state::MissionStatus`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MissionStatus {
    /// Issued, nothing loaded yet.
    Assigned,
    /// A box is on board.
    PickedUp,
    /// Every box reached the lab.
    Delivered,
    /// Called off.
    Aborted,
}

/// One leg of a drone's flight (`labflight_core::command::Leg`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Leg {
    /// Where it starts (a drone, centre, pad or lab id).
    pub from: String,
    /// Where it ends.
    pub to: String,
    /// The waypoints flown.
    pub waypoints: Vec<LatLon>,
    /// Its length, metres.
    pub distance_m: f64,
    /// When it starts.
    #[schema(format = DateTime)]
    pub depart: String,
    /// When it ends.
    #[schema(format = DateTime)]
    pub arrive: String,
    /// The energy it takes, Wh.
    pub energy_wh: f64,
}

/// One option the dispatcher weighed (`labflight_core::command::Alternative`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Alternative {
    /// The drone weighed, if the option was one.
    pub drone: Option<String>,
    /// The lab weighed, if the option was one.
    pub lab: Option<String>,
    /// Its score (lower is better).
    pub score: f64,
    /// Why it was taken or not, in English.
    pub verdict: String,
    /// The verdict as a code and values.
    pub reason: Option<Reason>,
}

/// Why the dispatcher did or said something, as a code and its values
/// (`labflight_core::Reason`): `code` names it (snake_case); the values are
/// further fields named for what they hold (instants end in `_at`, UTC; a
/// nested reason is an object with its own `code`). The dashboard renders it
/// from its message catalogue, key `reason.<code>`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Reason {
    /// What kind of reason.
    pub code: String,
}

/// Why the dispatcher chose a plan (`labflight_core::command::Explanation`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Explanation {
    /// The choice, in a sentence, in English.
    pub summary: String,
    /// The options weighed.
    pub alternatives: Vec<Alternative>,
    /// The choice as a code and values.
    pub reason: Option<Reason>,
}

/// A later call of a drone's round (`labflight_core::command::Stop`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Stop {
    /// The centre.
    pub station: String,
    /// The boxes fetched there.
    pub boxes: Vec<String>,
    /// When.
    #[schema(format = DateTime)]
    pub pickup_at: String,
}

/// A battery swap on a mission's way to the lab
/// (`labflight_core::command::Relay`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Relay {
    /// The charger pad.
    pub pad: String,
    /// Landing there.
    #[schema(format = DateTime)]
    pub land_at: String,
    /// Take-off, the battery swapped.
    #[schema(format = DateTime)]
    pub depart_at: String,
}

/// A hub leg's hand-over to a van (`labflight_core::command::Hub`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Hub {
    /// The pad the boxes are set down on.
    pub pad: String,
    /// The drone's landing there.
    #[schema(format = DateTime)]
    pub land_at: String,
    /// The van run that takes them on.
    pub van_run: String,
    /// Its van.
    pub courier: String,
}

/// A drone mission's plan as issued (`labflight_core::command::MissionPlan`).
#[derive(Serialize, ToSchema)]
pub(crate) struct MissionPlan {
    /// The mission.
    pub mission: String,
    /// The drone.
    pub drone: String,
    /// The (first) centre.
    pub station: String,
    /// The pad the first boxes are fetched from when not the centre's.
    pub pickup_pad: Option<String>,
    /// The boxes.
    pub boxes: Vec<String>,
    /// The lab.
    pub lab: String,
    /// The lab's pad.
    pub lab_pad: Option<String>,
    /// Payload, kg.
    pub payload_kg: f64,
    /// The legs flown.
    pub legs: Vec<Leg>,
    /// When the first boxes are picked up.
    #[schema(format = DateTime)]
    pub pickup_at: String,
    /// Later calls of the round, in order (absent when none).
    pub later_stops: Option<Vec<Stop>>,
    /// A battery swap on the way to the lab (absent when none).
    pub relay: Option<Relay>,
    /// A hand-over at a hub pad to a van that takes the boxes on (absent when
    /// none): the legs then end at the hub.
    pub hub: Option<Hub>,
    /// When it reaches the lab.
    #[schema(format = DateTime)]
    pub arrive_lab_at: String,
    /// The latest lab arrival its tubes allow.
    #[schema(format = DateTime)]
    pub deadline: String,
    /// Battery left on arrival, percent.
    pub battery_after_pct: f64,
    /// Why this plan.
    pub why: Explanation,
}

/// A drone mission or van run (`labflight_dispatch::state::Mission`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Mission {
    /// Its id (`M-000001`, …).
    pub id: String,
    /// The drone or van.
    pub carrier: Carrier,
    /// The (first) centre called at.
    pub station: String,
    /// Every box it carries.
    pub boxes: Vec<String>,
    /// The lab it delivers to.
    pub lab: String,
    /// Where it is.
    pub status: MissionStatus,
    /// When it should reach the lab.
    #[schema(format = DateTime)]
    pub planned_arrival: String,
    /// The plan as issued (drone missions).
    pub plan: Option<MissionPlan>,
    /// When the van calls at the centre (van runs).
    #[schema(format = DateTime)]
    pub van_calls_at: Option<String>,
    /// Whether staff were asked to seal for the van's call (absent: no).
    pub seal_asked: Option<bool>,
}

/// Where a sealed box is (`labflight_dispatch::state::BoxStatus`).
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum BoxStatus {
    /// Sealed at the centre, waiting.
    Waiting,
    /// Given to a mission not yet loaded.
    Assigned {
        /// The mission.
        mission: String,
    },
    /// Loaded on a drone or van.
    OnBoard {
        /// The mission carrying it.
        mission: String,
    },
    /// On a drone that landed away from a lab.
    Stranded {
        /// Where it lies.
        at: LatLon,
    },
    /// Received by a lab.
    Delivered {
        /// The lab.
        lab: String,
    },
}

/// A transport temperature band, °C (`labflight_core::TempBand`).
#[derive(Serialize, ToSchema)]
pub(crate) struct TempBand {
    /// Lowest allowed, °C.
    pub min_c: f64,
    /// Highest allowed, °C.
    pub max_c: f64,
}

/// One tube in a box (`labflight_core::Tube`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Tube {
    /// Its barcode.
    pub barcode: String,
    /// Its tube type (by additive).
    pub tube_type: String,
    /// The tests ordered (LOINC).
    pub tests: Vec<String>,
    /// The lab disciplines those tests need.
    pub families: Vec<String>,
    /// When it was drawn.
    #[schema(format = DateTime)]
    pub drawn_at: String,
    /// Minutes from draw until it must be at a lab.
    pub stability_minutes: f64,
    /// The temperature band it must stay in.
    pub band: TempBand,
    /// Spun at the centre before sealing.
    pub spun: bool,
}

/// Where a box lies away from its centre (`labflight_dispatch::state::SetDown`).
#[derive(Serialize, ToSchema)]
pub(crate) struct SetDown {
    /// The pad.
    pub pad: String,
    /// Since when.
    #[schema(format = DateTime)]
    pub since: String,
}

/// A sealed box of tubes (`labflight_dispatch::state::SpecimenBox`).
#[derive(Serialize, ToSchema)]
pub(crate) struct SpecimenBox {
    /// Its id.
    pub id: String,
    /// The centre that sealed it.
    pub station: String,
    /// The tubes in it.
    pub tubes: Vec<Tube>,
    /// When it was sealed.
    #[schema(format = DateTime)]
    pub sealed_at: String,
    /// Where it is.
    pub status: BoxStatus,
    /// Families the tubes need, each once.
    pub families: Vec<String>,
    /// Its weight with the tubes, kg.
    pub payload_kg: f64,
    /// Latest lab arrival allowed by stability alone.
    #[schema(format = DateTime)]
    pub stability_deadline: String,
    /// A coordinator was told it is at risk.
    pub at_risk_alerted: bool,
    /// A temperature excursion was reported.
    pub excursion_alerted: bool,
    /// Picked up at a coordinator's request.
    pub forced: bool,
    /// Its last reported temperature, °C.
    pub temp_c: Option<f64>,
    /// The drone that last reported loading it.
    pub loaded_on: Option<String>,
    /// Where it lies away from its centre.
    pub set_down: Option<SetDown>,
}

/// Where a tube is (`labflight_dispatch::state::TubeStatus`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TubeStatus {
    /// In its sealed box.
    InBox,
    /// Received by a lab.
    AtLab,
    /// Its result verified.
    Resulted,
    /// Its result reached the centre.
    Reported,
    /// Refused by the lab.
    Rejected,
}

/// A tube as the dispatcher tracks it (`labflight_dispatch::state::TubeState`).
#[derive(Serialize, ToSchema)]
pub(crate) struct TubeState {
    /// The box it travels in.
    pub box_id: String,
    /// Where it is.
    pub status: TubeStatus,
    /// The lab that received it.
    pub lab: Option<String>,
    /// The test families it needs.
    pub families: Vec<String>,
    /// When a lab received it.
    #[schema(format = DateTime)]
    pub received_at: Option<String>,
    /// When the result reached the centre.
    #[schema(format = DateTime)]
    pub reported_at: Option<String>,
}

/// A step of a tube's custody (`labflight_core::custody::CustodyStepKind`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CustodyStepKind {
    /// Drawn at the centre.
    Drawn,
    /// Sealed in its box.
    SealedInBox,
    /// Loaded on a drone or van.
    Loaded,
    /// In the air.
    InFlight,
    /// In a van.
    InVan,
    /// Landed.
    Landed,
    /// Stranded away from a lab.
    Stranded,
    /// Received by a lab.
    ReceivedAtLab,
    /// Centrifuged at the lab.
    Centrifuged,
    /// Result verified.
    Resulted,
    /// Result reached the centre.
    Reported,
    /// Refused by the lab.
    RejectedAtLab,
}

/// One link of a tube's chain of custody (`labflight_core::custody::CustodyStep`).
#[derive(Serialize, ToSchema)]
pub(crate) struct CustodyStep {
    /// The tube.
    pub barcode: String,
    /// What happened.
    pub step: CustodyStepKind,
    /// When.
    #[schema(format = DateTime)]
    pub at: String,
    /// A centre, pad or lab id, or `lat,lon`.
    pub place: Option<String>,
    /// The box, drone, courier or user that held or handled the tube.
    pub by: Option<String>,
}

/// One line of the audit log (`labflight_store::AuditEntry`).
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditEntry {
    /// When (wall clock).
    #[schema(format = DateTime)]
    pub at: String,
    /// Who.
    pub user: String,
    /// In which role.
    pub role: String,
    /// What they did.
    pub action: String,
    /// What to, if anything.
    pub target: Option<String>,
    /// `ok`, or why it was refused.
    pub outcome: String,
    /// Anything more worth keeping.
    pub detail: Option<String>,
}

/// A result-sharing subscription (`labflight_store::Subscription`); its secret
/// is never shown.
#[derive(Serialize, ToSchema)]
pub(crate) struct Subscription {
    /// The subscription's id.
    pub id: String,
    /// `all`, `station:<id>` or `group:<id>`.
    pub scope: String,
    /// Where deliveries are sent.
    pub url: String,
    /// Deliveries are made (false once disabled).
    pub active: bool,
    /// Why it was disabled, if it was.
    pub disabled_reason: Option<String>,
}

/// One delivery of a result or status to a subscription (`labflight_store::OutboxItem`).
#[derive(Serialize, ToSchema)]
pub(crate) struct OutboxItem {
    /// The delivery's id (sent with it as `webhook-id`).
    pub webhook_id: String,
    /// The journal seq of the event that owed it.
    pub seq: i64,
    /// Its index among that event's deliveries.
    pub idx: i64,
    /// The subscription it goes to.
    pub subscription: String,
    /// The tube it is about.
    pub barcode: String,
    /// `result`, `received`, `rejected`, `redraw`.
    pub kind: String,
    /// `pending`, `delivered`, `dead` or `disabled`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When it may be tried next.
    #[schema(format = DateTime)]
    pub next_attempt_at: String,
    /// When it was owed (service time).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it was delivered.
    #[schema(format = DateTime)]
    pub delivered_at: Option<String>,
    /// How the last attempt failed.
    pub last_error: Option<String>,
    /// The HTTP status of the last attempt.
    pub last_status: Option<i32>,
}

/// One delivery attempt (`labflight_store::Attempt`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Attempt {
    /// The delivery it was for.
    pub webhook_id: String,
    /// Which attempt (from 1).
    pub attempt: i32,
    /// When.
    #[schema(format = DateTime)]
    pub at: String,
    /// The HTTP status that came back, if one did.
    pub status: Option<i32>,
    /// How it failed, if it did.
    pub error: Option<String>,
}

/// A GeoJSON FeatureCollection (RFC 7946).
#[derive(Serialize, ToSchema)]
pub(crate) struct FeatureCollection {
    /// Always `FeatureCollection`.
    #[schema(pattern = "^FeatureCollection$")]
    pub r#type: String,
    /// The features, each a GeoJSON Feature.
    pub features: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// The map layers (`GET /api/v1/map`), each a GeoJSON FeatureCollection.
#[derive(Serialize, ToSchema)]
pub(crate) struct MapLayers {
    /// The district's boundary.
    pub district: FeatureCollection,
    /// Its subdistricts.
    pub subdistricts: FeatureCollection,
    /// No-fly zones.
    pub nofly: FeatureCollection,
    /// Collection centres.
    pub stations: FeatureCollection,
    /// Labs.
    pub labs: FeatureCollection,
    /// Landing pads.
    pub pads: FeatureCollection,
}
