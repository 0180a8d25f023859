//! The MQTT edge: the topic table, the payload codec (`decode` turns a device's
//! message into a dispatcher event or a reasoned rejection; `encode` turns an event
//! into the message its device sends), the envelope commands travel in, connection
//! settings from a URL, and the embedded broker used when no external one is
//! configured. No dispatcher logic lives here.

pub mod broker;
pub mod connect;
pub mod encode;
pub mod payload;
pub mod topics;

pub use connect::MqttUrl;
pub use encode::{DeviceMessage, Encoding, encode};
pub use payload::{CommandEnvelope, Directory, Rejection, decode};
pub use topics::Topic;
