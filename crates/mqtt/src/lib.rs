//! The MQTT edge: the topic table, the payload codecs that turn a device's message
//! into a dispatcher event (or a reasoned rejection), the envelope commands travel
//! in, connection settings from a URL, and the embedded broker used when no external
//! one is configured. No dispatcher logic lives here.

pub mod broker;
pub mod connect;
pub mod payload;
pub mod topics;

pub use connect::MqttUrl;
pub use payload::{CommandEnvelope, Directory, Rejection, decode};
pub use topics::Topic;
