//! The one place a device's MQTT message becomes a dispatcher event. Each topic has
//! a wire type (JSON, units in field names, RFC 3339 times); `decode` checks size,
//! encoding, schema, ranges, the service area, the device and the clock, and names
//! the topic, field and value of whatever it refuses. Commands go the other way in
//! a `CommandEnvelope` whose id lets a device ignore a redelivery.
//!
//! Layout: `wire` holds the JSON types of the inbound topics; `decode` reads a
//! message by its topic; `checks` are the field checks it applies, against the
//! service's `Directory` (`directory`); `rejection` is the reasoned refusal;
//! `envelope` the command on its way out.

mod checks;
mod decode;
mod directory;
mod envelope;
mod rejection;
mod wire;

pub use decode::{MAX_PAYLOAD_BYTES, decode};
pub use directory::{Directory, station_of_box_id};
pub use envelope::{CommandEnvelope, CommandFence};
pub use rejection::Rejection;
pub(crate) use wire::{
    BoxEvent, BoxEventKind, BoxTelemetry, CourierEvent, DroneEvent, DroneStatus, DroneTelemetry,
    Forecast, LabEvent, LabEventKind, LinkState, Weather,
};
