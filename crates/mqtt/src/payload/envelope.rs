//! The way out: a command on its way to a device, in an envelope whose id lets the
//! device ignore a redelivery and whose fence lets it ignore a deposed owner, and
//! the topic it is published on.

use crate::topics::Topic;
use chrono::{DateTime, FixedOffset};
use labflight_core::Command;
use serde::{Deserialize, Serialize};

/// A command on its way to a device. `command_id` is stable across redeliveries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandEnvelope {
    /// The command's id: the same on every (re)delivery, so a device can drop a repeat.
    pub command_id: String,
    /// When the dispatcher gave it, in the district's local offset.
    pub time: DateTime<FixedOffset>,
    /// The command itself.
    pub command: Command,
    /// Which partition owner sent it, under which epoch, for which journaled event:
    /// a device drops a command whose epoch is older than one it has already
    /// obeyed from that partition (a fenced owner's late send). Absent from
    /// services before partitions; devices then act as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<CommandFence>,
}

/// `(partition, epoch, seq)` of a command: see [`CommandEnvelope::fence`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandFence {
    /// The partition whose owner sent it.
    pub partition: String,
    /// The owner's epoch when it was sent (re-stamped when a new owner re-sends it).
    pub epoch: i64,
    /// The journal seq of the event that caused it.
    pub seq: i64,
}

impl CommandEnvelope {
    /// Where this command goes: the drone, courier or centre it is for, or `alerts`.
    pub fn topic(&self) -> Topic {
        match &self.command {
            Command::AssignMission(p) => Topic::DroneCmd(p.drone.clone()),
            Command::AbortMission { drone, .. }
            | Command::ReturnToPad { drone, .. }
            | Command::SwapBattery { drone, .. }
            | Command::AddToMission { drone, .. }
            | Command::Redirect { drone, .. } => Topic::DroneCmd(drone.clone()),
            Command::RequestCourier(r) => match &r.courier {
                Some(c) => Topic::CourierCmd(c.clone()),
                None => Topic::Alerts,
            },
            Command::CancelCourier { courier, .. } => Topic::CourierCmd(courier.clone()),
            Command::NotifyStation { station, .. } => Topic::StationCmd(station.clone()),
            Command::Alert(_) => Topic::Alerts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn commands_go_to_the_device_they_name() {
        let env = CommandEnvelope {
            command_id: "R1-1-0".into(),
            time: Utc
                .with_ymd_and_hms(2026, 6, 15, 1, 0, 0)
                .unwrap()
                .fixed_offset(),
            command: Command::SwapBattery {
                drone: "D-001".into(),
                pad: "PAD-1".into(),
            },
            fence: Some(CommandFence {
                partition: "longhua".into(),
                epoch: 2,
                seq: 41,
            }),
        };
        assert_eq!(env.topic().to_string(), "labflight/v1/drones/D-001/cmd");
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(
            json["fence"],
            serde_json::json!({"partition": "longhua", "epoch": 2, "seq": 41})
        );
        let back: CommandEnvelope =
            serde_json::from_str(&serde_json::to_string(&env).unwrap()).unwrap();
        assert_eq!(back, env);
    }
}
