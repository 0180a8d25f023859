//! The MQTT edge: the topic table, the payload codec (`decode` turns a device's
//! message into a dispatcher event or a reasoned rejection; `encode` turns an event
//! into the message its device sends), the envelope commands travel in, connection
//! settings from a URL, and the embedded broker used when no external one is
//! configured. No dispatcher logic lives here.
//!
//! Layout: `topics` is the topic table ([`Topic`]), `layout` where a
//! deployment puts it (the district topics or one subtree per partition,
//! [`TopicLayout`]); `payload` the inbound half of
//! the codec ([`decode`], checked against a [`Directory`] of what the service
//! knows, refusing with a [`Rejection`]) and the [`CommandEnvelope`] going out;
//! `encode` the other half ([`encode`]), which the simulated devices publish with;
//! `connect` broker URLs and client options ([`MqttUrl`], [`MAX_PACKET_BYTES`]);
//! `broker` the embedded rumqttd ([`start_embedded`], [`BrokerLogins`]). Modules
//! are private; what other crates use is re-exported here.

#![deny(missing_docs)]

mod broker;
mod connect;
mod encode;
mod layout;
mod payload;
mod topics;

pub use broker::{BrokerLogins, SERVICE_USER, device_password_from_key, start_embedded};
pub use connect::{MAX_PACKET_BYTES, MqttUrl, NodeRotation, subscription_refused};
pub use encode::{DeviceMessage, Encoding, encode};
pub use layout::TopicLayout;
pub use payload::{
    CommandEnvelope, CommandFence, Directory, MAX_PAYLOAD_BYTES, Rejection, decode,
    station_of_box_id,
};
pub use topics::{SERVICE_SUBSCRIPTIONS, Topic, subscription_qos};
