//! The labflight domain in plain types: who and what the dispatcher talks about
//! (stations, labs, pads, drones, boxes, tubes), the events it hears and the
//! commands it gives, and the scenario file that describes a day. No IO here
//! beyond reading a scenario file; every other crate builds on these names.
//!
//! Layout: `ids` (typed ids), `position`, `station`, `lab`, `pad`, `specimen` and
//! `fleet` are the things; `hours` the opening hours they keep; `event` what the
//! dispatcher hears and `command` what it gives (the contracts every edge
//! translates from and to); `custody` a tube's chain of custody; `forecast` what the plan expects of a box and why a tube is at risk; `reason` why the dispatcher did or said something, as codes and values; `weather` a forecast of wind and rain over a window; `scenario` the
//! day's file and its validation, with `error` its one error type. The most used
//! names are re-exported here. The modules stay public: the other crates of the
//! workspace name `command::...` and `event::...` (and the rest) by module, and
//! the contracts read best that way.

#![deny(missing_docs)]

pub mod command;
pub mod custody;
pub mod error;
pub mod event;
pub mod fleet;
pub mod forecast;
pub mod hours;
pub mod ids;
pub mod lab;
pub mod pad;
pub mod position;
pub mod reason;
pub mod scenario;
pub mod specimen;
pub mod station;
pub mod weather;

pub use command::Command;
pub use custody::{CustodyStep, CustodyStepKind};
pub use error::ConfigError;
pub use event::{Event, Stamped};
pub use fleet::{BoxSpec, DroneSpec};
pub use hours::OpeningHours;
pub use ids::{
    BoxId, CourierId, DroneId, GroupId, LabId, MissionId, PadId, StationId, TubeBarcode,
};
pub use lab::{Analyzer, Lab, TestFamily};
pub use pad::Pad;
pub use position::LatLon;
pub use reason::Reason;
pub use scenario::Scenario;
pub use specimen::{LoincCode, TempBand, Tube, TubeType};
pub use station::{Station, Tier};
pub use weather::WeatherForecast;

/// Instants inside labflight are UTC; they are shown in the scenario's local offset.
pub type Instant = chrono::DateTime<chrono::Utc>;
