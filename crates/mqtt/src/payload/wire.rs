//! The JSON each inbound topic carries, one type per topic (units in field names,
//! RFC 3339 times): what `decode` parses and `encode` writes. Checks of ranges and
//! cross-references are not here but in `checks`.

use chrono::{DateTime, FixedOffset};
use labflight_core::event::{CourierEventKind, DroneEventKind, DroneState};
use labflight_core::{BoxId, LabId, StationId, Tube, TubeBarcode};
use serde::{Deserialize, Serialize};

/// `labflight/v1/drones/{id}/telemetry`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DroneTelemetry {
    /// When the drone measured it.
    pub time: DateTime<FixedOffset>,
    /// Latitude, WGS 84 degrees.
    pub lat: f64,
    /// Longitude, WGS 84 degrees.
    pub lon: f64,
    /// Altitude above the ground.
    pub alt_m: f64,
    /// Ground speed (0 when absent).
    #[serde(default)]
    pub speed_mps: f64,
    /// Battery charge left.
    pub battery_pct: f64,
    /// What the drone is doing.
    pub state: DroneState,
}

/// `labflight/v1/drones/{id}/events`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct DroneEvent {
    /// When it happened.
    pub time: DateTime<FixedOffset>,
    /// What happened, with its own fields beside `kind`.
    #[serde(flatten)]
    pub kind: DroneEventKind,
}

/// `labflight/v1/drones/{id}/status` (retained; the last will says `offline`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DroneStatus {
    /// Whether the drone's link is up.
    pub state: LinkState,
    /// When it was said (the last will carries none).
    #[serde(default)]
    pub time: Option<DateTime<FixedOffset>>,
}

/// A drone's link, as its retained status says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LinkState {
    /// Connected.
    Online,
    /// Gone (the last will).
    Offline,
}

/// `labflight/v1/boxes/{id}/telemetry`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoxTelemetry {
    /// When the box measured it.
    pub time: DateTime<FixedOffset>,
    /// Temperature inside the box.
    pub temp_c: f64,
    /// The lid is open (false when absent).
    #[serde(default)]
    pub lid_open: bool,
}

/// `labflight/v1/boxes/{id}/events`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct BoxEvent {
    /// When it happened.
    pub time: DateTime<FixedOffset>,
    /// What happened, with its own fields beside `kind`.
    #[serde(flatten)]
    pub kind: BoxEventKind,
}

/// No field beyond these: a box cannot slip in an `origin` or a `destination`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum BoxEventKind {
    /// Staff sealed the box; the manifest lists its tubes by barcode.
    Sealed {
        station: StationId,
        tubes: Vec<Tube>,
    },
    /// Refused from a box: where a box arrived is the lab's to say (its
    /// `box_received` on `labs/{lab}/events`, or the results API), never the box's.
    Received { lab: LabId },
}

/// `labflight/v1/couriers/{id}/events`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct CourierEvent {
    /// When it happened.
    pub time: DateTime<FixedOffset>,
    /// What happened, with its own fields beside `kind`.
    #[serde(flatten)]
    pub kind: CourierEventKind,
}

/// `labflight/v1/labs/{id}/events`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct LabEvent {
    /// When it happened.
    pub time: DateTime<FixedOffset>,
    /// What happened, with its own fields beside `kind`.
    #[serde(flatten)]
    pub kind: LabEventKind,
}

/// What a lab's LIS reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum LabEventKind {
    /// The lab's reception scanned a box in.
    BoxReceived { box_id: BoxId },
    /// Tubes waiting to be analysed.
    Queue { tubes: u32 },
    /// An analyzer stopped.
    AnalyzerDown { analyzer: String },
    /// An analyzer is back.
    AnalyzerUp { analyzer: String },
    /// The lab closed.
    Closed,
    /// The lab opened.
    Opened,
    /// A tube's result is verified.
    TubeResulted { barcode: TubeBarcode },
    /// The lab will not test a tube, and why.
    TubeRejected {
        barcode: TubeBarcode,
        reason: String,
    },
    /// A tube was spun at the lab.
    TubeCentrifuged { barcode: TubeBarcode },
    /// A tube's result reached its centre.
    ResultReported { barcode: TubeBarcode },
}

/// `labflight/v1/weather`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Weather {
    /// When it was measured.
    pub time: DateTime<FixedOffset>,
    /// Wind towards the east (negative: towards the west).
    pub wind_east_mps: f64,
    /// Wind towards the north (negative: towards the south).
    pub wind_north_mps: f64,
    /// Rain.
    pub rain_mm_h: f64,
}

/// `labflight/v1/forecast`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Forecast {
    /// When it was issued.
    pub time: DateTime<FixedOffset>,
    /// The start of the window.
    pub from: DateTime<FixedOffset>,
    /// The end of the window.
    pub to: DateTime<FixedOffset>,
    /// The strongest wind expected.
    pub wind_mps: f64,
    /// The heaviest rain expected.
    pub rain_mm_h: f64,
    /// How sure the forecaster is, 0 to 1.
    pub confidence: f64,
}
