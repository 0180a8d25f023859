//! What flows into the core actor (device messages, requests from the HTTP edge,
//! deliveries, the timer, the broker connection coming up) and what flows out of
//! it to the MQTT client (publishes, and the acknowledgements of what it handled).

use crate::delivery::Delivered;
use labflight_core::Instant;
use labflight_server::Control;
use rumqttc::Publish;

/// One thing for the core actor to handle.
pub(crate) enum Inbound {
    /// A message from a device, with the service time it arrived at: its own
    /// time is judged against that, not against when the core gets to it (the
    /// core may have been waiting for its database).
    Mqtt {
        /// The message as the broker delivered it.
        publish: Publish,
        /// Service time when the poll task received it.
        arrived: Instant,
    },
    /// From the HTTP edge: answered once its effects are committed.
    Control(Control),
    /// The delivery worker delivered an outbox item.
    Delivered(Delivered),
    Tick,
    /// The broker connection is up: re-announce the clock; after the first
    /// connection (a reconnect) the devices were unheard for a while.
    Connected {
        reconnect: bool,
    },
}

/// What the core actor hands to the MQTT client, in order.
pub(crate) enum Outbound {
    Publish {
        topic: String,
        payload: Vec<u8>,
        retain: bool,
        /// The command this publish carries: marked published at its PUBACK.
        command_id: Option<String>,
    },
    Ack(Publish),
}
