//! The other half of the codec: an event as the device that reports it would send
//! it over MQTT (who sends it, on which topic, how, and the JSON), the mirror of
//! `decode`. The simulated devices publish with it; the round-trip tests below hold
//! the two halves to each other.

use crate::payload::{
    BoxEvent, BoxEventKind, BoxTelemetry, CourierEvent, DroneEvent, DroneStatus, DroneTelemetry,
    Forecast, LabEvent, LabEventKind, LinkState, Weather,
};
use crate::topics::Topic;
use chrono::{DateTime, FixedOffset};
use labflight_core::event::{DroneEventKind, DroneState, LabUpdate};
use labflight_core::{Event, LabId, Stamped};
use rumqttc::QoS;

/// One device message, ready to publish.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceMessage {
    /// The device that sends it (its login and client id).
    pub device: String,
    /// The topic it is published on.
    pub topic: Topic,
    /// The QoS it is published with (0 for telemetry, 1 for events).
    pub qos: QoS,
    /// Whether the broker keeps it for later subscribers (a drone's status).
    pub retain: bool,
    /// The JSON body.
    pub payload: Vec<u8>,
    /// The device's own command topic, which it listens on.
    pub listen: Option<Topic>,
}

/// How devices word their messages.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Encoding {
    /// The offset devices write their times in (the district's local time).
    pub offset: FixedOffset,
    /// The speed a flying drone reports (its cruise airspeed).
    pub cruise_airspeed_mps: f64,
}

/// The message a device publishes to report `stamped`; `None` for what no device
/// reports (overrides, ticks, the service's own events). A `result_reported` is the
/// lab's that resulted the tube: `result_lab` names it (`None`: nothing is sent).
pub fn encode(
    stamped: &Stamped,
    encoding: &Encoding,
    result_lab: Option<&LabId>,
) -> Option<DeviceMessage> {
    let time = stamped.at.with_timezone(&encoding.offset);
    Some(match &stamped.event {
        Event::DroneTelemetry {
            drone,
            position,
            alt_m,
            battery_pct,
            state,
        } => {
            let m = DroneTelemetry {
                time,
                lat: position.lat,
                lon: position.lon,
                alt_m: *alt_m,
                speed_mps: if *state == DroneState::Flying {
                    encoding.cruise_airspeed_mps
                } else {
                    0.0
                },
                battery_pct: *battery_pct,
                state: *state,
            };
            message(
                drone.to_string(),
                Topic::DroneTelemetry(drone.clone()),
                QoS::AtMostOnce,
                false,
                &m,
                Some(Topic::DroneCmd(drone.clone())),
            )?
        }
        Event::Drone { drone, kind } => {
            let listen = Some(Topic::DroneCmd(drone.clone()));
            match kind {
                // A link loss is what the broker reports (the last will), not the drone.
                DroneEventKind::LinkLost | DroneEventKind::LinkRestored => {
                    let state = if *kind == DroneEventKind::LinkLost {
                        LinkState::Offline
                    } else {
                        LinkState::Online
                    };
                    let m = DroneStatus {
                        state,
                        time: Some(time),
                    };
                    message(
                        drone.to_string(),
                        Topic::DroneStatus(drone.clone()),
                        QoS::AtLeastOnce,
                        true,
                        &m,
                        listen,
                    )?
                }
                _ => {
                    let m = DroneEvent {
                        time,
                        kind: kind.clone(),
                    };
                    message(
                        drone.to_string(),
                        Topic::DroneEvents(drone.clone()),
                        QoS::AtLeastOnce,
                        false,
                        &m,
                        listen,
                    )?
                }
            }
        }
        Event::BoxSealed {
            box_id,
            station,
            tubes,
        } => {
            let m = BoxEvent {
                time,
                kind: BoxEventKind::Sealed {
                    station: station.clone(),
                    tubes: tubes.clone(),
                },
            };
            message(
                box_id.to_string(),
                Topic::BoxEvents(box_id.clone()),
                QoS::AtLeastOnce,
                false,
                &m,
                None,
            )?
        }
        Event::BoxTelemetry {
            box_id,
            temp_c,
            lid_open,
        } => {
            let m = BoxTelemetry {
                time,
                temp_c: *temp_c,
                lid_open: *lid_open,
            };
            message(
                box_id.to_string(),
                Topic::BoxTelemetry(box_id.clone()),
                QoS::AtMostOnce,
                false,
                &m,
                None,
            )?
        }
        // The lab's reception scans the box in (a box never says where it is).
        Event::BoxReceived { box_id, lab } => lab_message(
            lab,
            time,
            LabEventKind::BoxReceived {
                box_id: box_id.clone(),
            },
        )?,
        Event::Lab { lab, update } => {
            let kind = match update {
                LabUpdate::Queue { tubes } => LabEventKind::Queue { tubes: *tubes },
                LabUpdate::AnalyzerDown { analyzer } => LabEventKind::AnalyzerDown {
                    analyzer: analyzer.clone(),
                },
                LabUpdate::AnalyzerUp { analyzer } => LabEventKind::AnalyzerUp {
                    analyzer: analyzer.clone(),
                },
                LabUpdate::Closed => LabEventKind::Closed,
                LabUpdate::Opened => LabEventKind::Opened,
            };
            lab_message(lab, time, kind)?
        }
        Event::TubeResulted { barcode, lab } => lab_message(
            lab,
            time,
            LabEventKind::TubeResulted {
                barcode: barcode.clone(),
            },
        )?,
        Event::TubeCentrifuged { barcode, lab } => lab_message(
            lab,
            time,
            LabEventKind::TubeCentrifuged {
                barcode: barcode.clone(),
            },
        )?,
        Event::TubeRejected {
            barcode,
            lab,
            reason,
        } => lab_message(
            lab,
            time,
            LabEventKind::TubeRejected {
                barcode: barcode.clone(),
                reason: reason.clone(),
            },
        )?,
        Event::ResultReported { barcode } => lab_message(
            result_lab?,
            time,
            LabEventKind::ResultReported {
                barcode: barcode.clone(),
            },
        )?,
        Event::Weather {
            wind_east_mps,
            wind_north_mps,
            rain_mm_h,
        } => {
            let m = Weather {
                time,
                wind_east_mps: *wind_east_mps,
                wind_north_mps: *wind_north_mps,
                rain_mm_h: *rain_mm_h,
            };
            message(
                "weather-station".into(),
                Topic::Weather,
                QoS::AtLeastOnce,
                false,
                &m,
                None,
            )?
        }
        Event::WeatherForecast { forecast } => {
            let at = |i: labflight_core::Instant| i.with_timezone(&encoding.offset);
            let m = Forecast {
                time: at(forecast.issued_at),
                from: at(forecast.from),
                to: at(forecast.to),
                wind_mps: forecast.wind_mps,
                rain_mm_h: forecast.rain_mm_h,
                confidence: forecast.confidence,
            };
            message(
                "weather-station".into(),
                Topic::Forecast,
                QoS::AtLeastOnce,
                false,
                &m,
                None,
            )?
        }
        Event::Courier { courier, kind } => {
            let m = CourierEvent {
                time,
                kind: kind.clone(),
            };
            message(
                courier.to_string(),
                Topic::CourierEvents(courier.clone()),
                QoS::AtLeastOnce,
                false,
                &m,
                Some(Topic::CourierCmd(courier.clone())),
            )?
        }
        Event::Override { .. }
        | Event::Tick
        | Event::ServiceResumed
        | Event::CustodyDisputed { .. }
        | Event::Referral { .. }
        | Event::DroneLent { .. }
        | Event::DroneBorrowed { .. } => return None,
    })
}

/// One device message with its JSON body.
fn message<T: serde::Serialize>(
    device: String,
    topic: Topic,
    qos: QoS,
    retain: bool,
    payload: &T,
    listen: Option<Topic>,
) -> Option<DeviceMessage> {
    let payload = serde_json::to_vec(payload).ok()?;
    Some(DeviceMessage {
        device,
        topic,
        qos,
        retain,
        payload,
        listen,
    })
}

/// A message of a lab's integration, which logs in as the lab
/// (deploy/mosquitto/acl: labs/%u/events).
fn lab_message(
    lab: &LabId,
    time: DateTime<FixedOffset>,
    kind: LabEventKind,
) -> Option<DeviceMessage> {
    let m = LabEvent { time, kind };
    message(
        lab.to_string(),
        Topic::LabEvents(lab.clone()),
        QoS::AtLeastOnce,
        false,
        &m,
        None,
    )
}
