//! The one topic table (prefix `labflight/v1`): which topics exist, who publishes on
//! them, and how a topic string is parsed back into the device it names.

use labflight_core::{BoxId, CourierId, DroneId, LabId, StationId};
use std::fmt;

/// The prefix of every labflight topic (version 1 of the contract).
pub(crate) const PREFIX: &str = "labflight/v1";

/// Every topic labflight publishes or listens to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Topic {
    /// A drone's position, battery and state (QoS 0).
    DroneTelemetry(DroneId),
    /// What a drone reports happened: take-off, landing, payload, faults.
    DroneEvents(DroneId),
    /// Retained `online` / `offline` (the drone's last will).
    DroneStatus(DroneId),
    /// Commands for a drone.
    DroneCmd(DroneId),
    /// A box's temperature and lid.
    BoxTelemetry(BoxId),
    /// A box sealed at its centre, with its manifest.
    BoxEvents(BoxId),
    /// Notices for a centre (seal now, pickup ETA, redraw).
    StationCmd(StationId),
    /// What a courier van reports: picked up, delivered, available.
    CourierEvents(CourierId),
    /// Calls for a courier van.
    CourierCmd(CourierId),
    /// A lab's LIS: queue length, analyzers, results (until the HTTP results path).
    LabEvents(LabId),
    /// The weather station: wind and rain.
    Weather,
    /// The weather service's forecast: wind and rain over a window, with a confidence.
    Forecast,
    /// Alerts for the coordinators (and courier calls that name no van).
    Alerts,
    /// Every refused inbound message, with its reason.
    Rejected,
    /// The service's retained status and clock; `offline` is its last will.
    ServiceStatus,
}

/// The QoS the service subscribes to `filter` with: 0 for telemetry (published at
/// QoS 0), 1 for the rest. MQTT 3.1.1 delivers at the lower of the publish's and
/// the subscription's QoS, but rumqttd 0.19 (the embedded broker) delivers at the
/// subscription's: subscribed at 1, every telemetry sample arrived as QoS 1, was
/// acknowledged, escaped the batch's conflation and left its digest in the
/// service's duplicate set for good (about 140 bytes a sample; issue 28).
pub fn subscription_qos(filter: &str) -> u8 {
    u8::from(!filter.ends_with("/telemetry"))
}

/// The filters the service subscribes to.
pub const SERVICE_SUBSCRIPTIONS: [&str; 9] = [
    "labflight/v1/drones/+/telemetry",
    "labflight/v1/drones/+/events",
    "labflight/v1/drones/+/status",
    "labflight/v1/boxes/+/telemetry",
    "labflight/v1/boxes/+/events",
    "labflight/v1/couriers/+/events",
    "labflight/v1/labs/+/events",
    "labflight/v1/weather",
    "labflight/v1/forecast",
];

impl Topic {
    /// Parses a topic string; `None` for anything outside the table.
    pub fn parse(topic: &str) -> Option<Topic> {
        let rest = topic.strip_prefix(PREFIX)?.strip_prefix('/')?;
        let parts: Vec<&str> = rest.split('/').collect();
        let id_ok = |s: &str| !s.is_empty() && s.len() <= 64 && !s.contains(['+', '#']);
        Some(match parts.as_slice() {
            ["weather"] => Topic::Weather,
            ["forecast"] => Topic::Forecast,
            ["alerts"] => Topic::Alerts,
            ["rejected"] => Topic::Rejected,
            ["service", "status"] => Topic::ServiceStatus,
            [kind, id, leaf] if id_ok(id) => {
                let id = (*id).to_owned();
                match (*kind, *leaf) {
                    ("drones", "telemetry") => Topic::DroneTelemetry(DroneId::new(id)),
                    ("drones", "events") => Topic::DroneEvents(DroneId::new(id)),
                    ("drones", "status") => Topic::DroneStatus(DroneId::new(id)),
                    ("drones", "cmd") => Topic::DroneCmd(DroneId::new(id)),
                    ("boxes", "telemetry") => Topic::BoxTelemetry(BoxId::new(id)),
                    ("boxes", "events") => Topic::BoxEvents(BoxId::new(id)),
                    ("stations", "cmd") => Topic::StationCmd(StationId::new(id)),
                    ("couriers", "events") => Topic::CourierEvents(CourierId::new(id)),
                    ("couriers", "cmd") => Topic::CourierCmd(CourierId::new(id)),
                    ("labs", "events") => Topic::LabEvents(LabId::new(id)),
                    _ => return None,
                }
            }
            _ => return None,
        })
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::DroneTelemetry(id) => write!(f, "{PREFIX}/drones/{id}/telemetry"),
            Topic::DroneEvents(id) => write!(f, "{PREFIX}/drones/{id}/events"),
            Topic::DroneStatus(id) => write!(f, "{PREFIX}/drones/{id}/status"),
            Topic::DroneCmd(id) => write!(f, "{PREFIX}/drones/{id}/cmd"),
            Topic::BoxTelemetry(id) => write!(f, "{PREFIX}/boxes/{id}/telemetry"),
            Topic::BoxEvents(id) => write!(f, "{PREFIX}/boxes/{id}/events"),
            Topic::StationCmd(id) => write!(f, "{PREFIX}/stations/{id}/cmd"),
            Topic::CourierEvents(id) => write!(f, "{PREFIX}/couriers/{id}/events"),
            Topic::CourierCmd(id) => write!(f, "{PREFIX}/couriers/{id}/cmd"),
            Topic::LabEvents(id) => write!(f, "{PREFIX}/labs/{id}/events"),
            Topic::Weather => write!(f, "{PREFIX}/weather"),
            Topic::Forecast => write!(f, "{PREFIX}/forecast"),
            Topic::Alerts => write!(f, "{PREFIX}/alerts"),
            Topic::Rejected => write!(f, "{PREFIX}/rejected"),
            Topic::ServiceStatus => write!(f, "{PREFIX}/service/status"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip() {
        let all = [
            Topic::DroneTelemetry("D-01".into()),
            Topic::DroneEvents("D-01".into()),
            Topic::DroneStatus("D-01".into()),
            Topic::DroneCmd("D-01".into()),
            Topic::BoxTelemetry("BX-1".into()),
            Topic::BoxEvents("BX-1".into()),
            Topic::StationCmd("LH-C001".into()),
            Topic::CourierEvents("V-1".into()),
            Topic::CourierCmd("V-1".into()),
            Topic::LabEvents("LAB-PH".into()),
            Topic::Weather,
            Topic::Forecast,
            Topic::Alerts,
            Topic::Rejected,
            Topic::ServiceStatus,
        ];
        for t in all {
            assert_eq!(Topic::parse(&t.to_string()), Some(t.clone()), "{t}");
        }
    }

    #[test]
    fn foreign_topics_are_not_ours() {
        for t in [
            "labflight/v2/weather",
            "labflight/v1/drones/D-01",
            "labflight/v1/drones//telemetry",
            "labflight/v1/drones/D-01/telemetry/x",
            "labflight/v1/planes/P1/telemetry",
            "other",
        ] {
            assert_eq!(Topic::parse(t), None, "{t}");
        }
    }
}
