//! The one place a device's MQTT message becomes a dispatcher event. Each topic has
//! a wire type (JSON, units in field names, RFC 3339 times); `decode` checks size,
//! encoding, schema, ranges, the service area, the device and the clock, and names
//! the topic, field and value of whatever it refuses. Commands go the other way in
//! a `CommandEnvelope` whose id lets a device ignore a redelivery.

use crate::topics::Topic;
use chrono::{DateTime, Duration, FixedOffset};
use labflight_core::event::{CourierEventKind, DroneEventKind, DroneState, LabUpdate};
use labflight_core::{
    BoxId, Command, CourierId, DroneId, Event, Instant, LabId, LatLon, StationId, Tube, TubeBarcode,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Larger payloads are refused before parsing.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Most tubes one box manifest may list.
pub const MAX_TUBES_PER_BOX: usize = 200;

/// What the service knows, so a payload can be checked against it.
pub trait Directory {
    /// The service clock.
    fn now(&self) -> Instant;
    /// How far a payload's `time` may be from the service clock.
    fn max_clock_skew(&self) -> Duration;
    fn knows_drone(&self, id: &DroneId) -> bool;
    /// A box already sealed (and so known to the dispatcher).
    fn knows_box(&self, id: &BoxId) -> bool;
    fn knows_station(&self, id: &StationId) -> bool;
    /// The centre a box belongs to: a sealed box's own, else the one its id names
    /// (`station_of_box_id`); `None` for a box of no known centre.
    fn box_station(&self, id: &BoxId) -> Option<StationId>;
    fn knows_lab(&self, id: &LabId) -> bool;
    fn knows_courier(&self, id: &CourierId) -> bool;
    fn knows_tube(&self, barcode: &TubeBarcode) -> bool;
    fn in_service_area(&self, p: LatLon) -> bool;
}

/// The centre a box id names: boxes are numbered per centre, `BX-<centre>-<n>`
/// (e.g. `BX-LH-C017-02` belongs to `LH-C017`). `None` for any other shape.
pub fn station_of_box_id(id: &BoxId) -> Option<StationId> {
    let (station, n) = id.as_str().strip_prefix("BX-")?.rsplit_once('-')?;
    let numbered = !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric());
    (numbered && !station.is_empty()).then(|| StationId::new(station))
}

/// Why a message was refused; published on `labflight/v1/rejected` and counted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub topic: String,
    /// A short stable code, the metrics label.
    pub reason: String,
    /// The field and value at fault, in words.
    pub detail: String,
}

impl Rejection {
    fn new(topic: &str, reason: &str, detail: impl Into<String>) -> Rejection {
        Rejection {
            topic: topic.to_owned(),
            reason: reason.to_owned(),
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.topic, self.detail, self.reason)
    }
}

/// `labflight/v1/drones/{id}/telemetry`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DroneTelemetry {
    pub time: DateTime<FixedOffset>,
    pub lat: f64,
    pub lon: f64,
    pub alt_m: f64,
    #[serde(default)]
    pub speed_mps: f64,
    pub battery_pct: f64,
    pub state: DroneState,
}

/// `labflight/v1/drones/{id}/events`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DroneEvent {
    pub time: DateTime<FixedOffset>,
    #[serde(flatten)]
    pub kind: DroneEventKind,
}

/// `labflight/v1/drones/{id}/status` (retained; the last will says `offline`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DroneStatus {
    pub state: LinkState,
    #[serde(default)]
    pub time: Option<DateTime<FixedOffset>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Online,
    Offline,
}

/// `labflight/v1/boxes/{id}/telemetry`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxTelemetry {
    pub time: DateTime<FixedOffset>,
    pub temp_c: f64,
    #[serde(default)]
    pub lid_open: bool,
}

/// `labflight/v1/boxes/{id}/events`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoxEvent {
    pub time: DateTime<FixedOffset>,
    #[serde(flatten)]
    pub kind: BoxEventKind,
}

/// No field beyond these: a box cannot slip in an `origin` or a `destination`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BoxEventKind {
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
pub struct CourierEvent {
    pub time: DateTime<FixedOffset>,
    #[serde(flatten)]
    pub kind: CourierEventKind,
}

/// `labflight/v1/labs/{id}/events`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabEvent {
    pub time: DateTime<FixedOffset>,
    #[serde(flatten)]
    pub kind: LabEventKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LabEventKind {
    /// The lab's reception scanned a box in.
    BoxReceived {
        box_id: BoxId,
    },
    Queue {
        tubes: u32,
    },
    AnalyzerDown {
        analyzer: String,
    },
    AnalyzerUp {
        analyzer: String,
    },
    Closed,
    Opened,
    TubeResulted {
        barcode: TubeBarcode,
    },
    TubeRejected {
        barcode: TubeBarcode,
        reason: String,
    },
    TubeCentrifuged {
        barcode: TubeBarcode,
    },
    ResultReported {
        barcode: TubeBarcode,
    },
}

/// `labflight/v1/weather`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weather {
    pub time: DateTime<FixedOffset>,
    pub wind_east_mps: f64,
    pub wind_north_mps: f64,
    pub rain_mm_h: f64,
}

/// A command on its way to a device. `command_id` is stable across redeliveries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandEnvelope {
    pub command_id: String,
    pub time: DateTime<FixedOffset>,
    pub command: Command,
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
            Command::NotifyStation { station, .. } => Topic::StationCmd(station.clone()),
            Command::Alert(_) => Topic::Alerts,
        }
    }
}

/// Turns one inbound message into an event, or says exactly why not.
pub fn decode(topic: &str, payload: &[u8], dir: &dyn Directory) -> Result<Event, Rejection> {
    let reject = |reason: &str, detail: String| Rejection::new(topic, reason, detail);
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(reject(
            "too_large",
            format!(
                "payload is {} bytes, the limit is {MAX_PAYLOAD_BYTES}",
                payload.len()
            ),
        ));
    }
    let Some(parsed) = Topic::parse(topic) else {
        return Err(reject(
            "unknown_topic",
            format!("topic `{topic}` is not in labflight/v1"),
        ));
    };
    let text = std::str::from_utf8(payload)
        .map_err(|e| reject("not_utf8", format!("payload is not UTF-8: {e}")))?;
    let check = Checker { topic, dir };
    match parsed {
        Topic::DroneTelemetry(drone) => {
            check.drone(&drone)?;
            let m: DroneTelemetry = check.json(text)?;
            check.time(m.time)?;
            let position = check.position(m.lat, m.lon)?;
            check.range("alt_m", m.alt_m, -100.0, 1_000.0)?;
            check.range("speed_mps", m.speed_mps, 0.0, 60.0)?;
            check.range("battery_pct", m.battery_pct, 0.0, 100.0)?;
            Ok(Event::DroneTelemetry {
                drone,
                position,
                alt_m: m.alt_m,
                battery_pct: m.battery_pct,
                state: m.state,
            })
        }
        Topic::DroneEvents(drone) => {
            check.drone(&drone)?;
            let m: DroneEvent = check.json(text)?;
            check.time(m.time)?;
            match &m.kind {
                DroneEventKind::Landed { position, .. } => {
                    check.position(position.lat, position.lon)?;
                }
                DroneEventKind::PayloadLoaded { box_id }
                | DroneEventKind::PayloadReleased { box_id } => check.known_box(box_id)?,
                DroneEventKind::BatteryReady { battery_pct } => {
                    check.range("battery_pct", *battery_pct, 0.0, 100.0)?;
                }
                DroneEventKind::Fault { reason } if reason.len() > 500 => {
                    return Err(reject(
                        "out_of_range",
                        format!("field `reason` is {} characters, at most 500", reason.len()),
                    ));
                }
                _ => {}
            }
            Ok(Event::Drone {
                drone,
                kind: m.kind,
            })
        }
        Topic::DroneStatus(drone) => {
            check.drone(&drone)?;
            let m: DroneStatus = check.json(text)?;
            if let Some(t) = m.time {
                check.time(t)?;
            }
            let kind = match m.state {
                LinkState::Online => DroneEventKind::LinkRestored,
                LinkState::Offline => DroneEventKind::LinkLost,
            };
            Ok(Event::Drone { drone, kind })
        }
        Topic::BoxTelemetry(box_id) => {
            check.known_box(&box_id)?;
            let m: BoxTelemetry = check.json(text)?;
            check.time(m.time)?;
            check.range("temp_c", m.temp_c, -40.0, 80.0)?;
            Ok(Event::BoxTelemetry {
                box_id,
                temp_c: m.temp_c,
                lid_open: m.lid_open,
            })
        }
        Topic::BoxEvents(box_id) => {
            let m: BoxEvent = check.json(text)?;
            check.time(m.time)?;
            match m.kind {
                BoxEventKind::Sealed { station, tubes } => {
                    check.box_id_shape(&box_id)?;
                    if dir.knows_box(&box_id) {
                        return Err(reject(
                            "duplicate",
                            format!("box `{box_id}` is already sealed"),
                        ));
                    }
                    check.station(&station)?;
                    check.own_station(&box_id, &station)?;
                    check.manifest(&tubes, m.time)?;
                    Ok(Event::BoxSealed {
                        box_id,
                        station,
                        tubes,
                    })
                }
                BoxEventKind::Received { lab } => Err(reject(
                    "box_names_lab",
                    format!(
                        "field `lab` = `{lab}`: box `{box_id}` may not declare where it arrived; \
                         the lab's reception reports it (box_received on labs/{{lab}}/events)"
                    ),
                )),
            }
        }
        Topic::CourierEvents(courier) => {
            if !dir.knows_courier(&courier) {
                return Err(reject(
                    "unknown_device",
                    format!("courier `{courier}` is not in the fleet"),
                ));
            }
            let m: CourierEvent = check.json(text)?;
            check.time(m.time)?;
            match &m.kind {
                CourierEventKind::PickedUp { boxes } => {
                    boxes.iter().try_for_each(|b| check.known_box(b))?;
                }
                CourierEventKind::Delivered { lab, boxes } => {
                    check.lab(lab)?;
                    boxes.iter().try_for_each(|b| check.known_box(b))?;
                }
                CourierEventKind::Available { position } => {
                    check.position(position.lat, position.lon)?;
                }
            }
            Ok(Event::Courier {
                courier,
                kind: m.kind,
            })
        }
        Topic::LabEvents(lab) => {
            check.lab(&lab)?;
            let m: LabEvent = check.json(text)?;
            check.time(m.time)?;
            let update = |update| {
                Ok(Event::Lab {
                    lab: lab.clone(),
                    update,
                })
            };
            match m.kind {
                LabEventKind::BoxReceived { box_id } => {
                    check.known_box(&box_id)?;
                    Ok(Event::BoxReceived {
                        box_id,
                        lab: lab.clone(),
                    })
                }
                LabEventKind::Queue { tubes } => update(LabUpdate::Queue { tubes }),
                LabEventKind::AnalyzerDown { analyzer } => {
                    update(LabUpdate::AnalyzerDown { analyzer })
                }
                LabEventKind::AnalyzerUp { analyzer } => update(LabUpdate::AnalyzerUp { analyzer }),
                LabEventKind::Closed => update(LabUpdate::Closed),
                LabEventKind::Opened => update(LabUpdate::Opened),
                LabEventKind::TubeResulted { barcode } => {
                    check.tube(&barcode)?;
                    Ok(Event::TubeResulted {
                        barcode,
                        lab: lab.clone(),
                    })
                }
                LabEventKind::TubeCentrifuged { barcode } => {
                    check.tube(&barcode)?;
                    Ok(Event::TubeCentrifuged {
                        barcode,
                        lab: lab.clone(),
                    })
                }
                LabEventKind::TubeRejected { barcode, reason } => {
                    check.tube(&barcode)?;
                    if reason.is_empty() || reason.len() > 500 {
                        return Err(reject(
                            "bad_field",
                            format!(
                                "field `reason` must hold 1..=500 characters, got {}",
                                reason.len()
                            ),
                        ));
                    }
                    Ok(Event::TubeRejected {
                        barcode,
                        lab: lab.clone(),
                        reason,
                    })
                }
                LabEventKind::ResultReported { barcode } => {
                    check.tube(&barcode)?;
                    Ok(Event::ResultReported { barcode })
                }
            }
        }
        Topic::Weather => {
            let m: Weather = check.json(text)?;
            check.time(m.time)?;
            check.range("wind_east_mps", m.wind_east_mps, -60.0, 60.0)?;
            check.range("wind_north_mps", m.wind_north_mps, -60.0, 60.0)?;
            check.range("rain_mm_h", m.rain_mm_h, 0.0, 500.0)?;
            Ok(Event::Weather {
                wind_east_mps: m.wind_east_mps,
                wind_north_mps: m.wind_north_mps,
                rain_mm_h: m.rain_mm_h,
            })
        }
        Topic::DroneCmd(_)
        | Topic::StationCmd(_)
        | Topic::CourierCmd(_)
        | Topic::Alerts
        | Topic::Rejected
        | Topic::ServiceStatus => Err(reject(
            "not_inbound",
            format!("topic `{topic}` carries the service's own messages"),
        )),
    }
}

struct Checker<'a> {
    topic: &'a str,
    dir: &'a dyn Directory,
}

impl Checker<'_> {
    fn reject(&self, reason: &str, detail: String) -> Rejection {
        Rejection::new(self.topic, reason, detail)
    }

    fn json<T: DeserializeOwned>(&self, text: &str) -> Result<T, Rejection> {
        serde_json::from_str(text).map_err(|e| {
            self.reject(
                "bad_json",
                format!("payload does not match the schema: {e}"),
            )
        })
    }

    fn time(&self, t: DateTime<FixedOffset>) -> Result<(), Rejection> {
        let now = self.dir.now();
        let skew = (t.to_utc() - now).abs();
        if skew > self.dir.max_clock_skew() {
            return Err(self.reject(
                "bad_time",
                format!(
                    "field `time` = {} is {} s from the service clock {}, more than the {} s allowed",
                    t.to_rfc3339(),
                    skew.num_seconds(),
                    now.to_rfc3339(),
                    self.dir.max_clock_skew().num_seconds()
                ),
            ));
        }
        Ok(())
    }

    fn range(&self, field: &str, v: f64, lo: f64, hi: f64) -> Result<(), Rejection> {
        if !v.is_finite() || v < lo || v > hi {
            return Err(self.reject(
                "out_of_range",
                format!("field `{field}` = {v} is outside {lo}..={hi}"),
            ));
        }
        Ok(())
    }

    fn position(&self, lat: f64, lon: f64) -> Result<LatLon, Rejection> {
        let p = LatLon::new(lat, lon);
        if let Some(why) = p.invalid_reason() {
            return Err(self.reject("out_of_range", format!("fields `lat`,`lon`: {why}")));
        }
        if !self.dir.in_service_area(p) {
            return Err(self.reject(
                "outside_area",
                format!("position ({lat}, {lon}) is outside the service area"),
            ));
        }
        Ok(p)
    }

    fn drone(&self, id: &DroneId) -> Result<(), Rejection> {
        if self.dir.knows_drone(id) {
            Ok(())
        } else {
            Err(self.reject(
                "unknown_device",
                format!("drone `{id}` is not in the fleet"),
            ))
        }
    }

    fn known_box(&self, id: &BoxId) -> Result<(), Rejection> {
        if self.dir.knows_box(id) {
            Ok(())
        } else {
            Err(self.reject("unknown_device", format!("box `{id}` has not been sealed")))
        }
    }

    fn box_id_shape(&self, id: &BoxId) -> Result<(), Rejection> {
        let ok = id
            .as_str()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(())
        } else {
            Err(self.reject(
                "bad_field",
                format!("box id `{id}` may hold only A-Z, 0-9, - and _"),
            ))
        }
    }

    fn station(&self, id: &StationId) -> Result<(), Rejection> {
        if self.dir.knows_station(id) {
            Ok(())
        } else {
            Err(self.reject(
                "unknown_device",
                format!("field `station` = `{id}` is not a known centre"),
            ))
        }
    }

    /// A box speaks only for its own centre.
    fn own_station(&self, box_id: &BoxId, station: &StationId) -> Result<(), Rejection> {
        match self.dir.box_station(box_id) {
            Some(own) if &own == station => Ok(()),
            Some(own) => Err(self.reject(
                "foreign_station",
                format!(
                    "field `station` = `{station}` is not the centre of box `{box_id}` (`{own}`)"
                ),
            )),
            None => Err(self.reject(
                "unknown_device",
                format!("box `{box_id}` belongs to no known centre (box ids are BX-<centre>-<n>)"),
            )),
        }
    }

    fn lab(&self, id: &LabId) -> Result<(), Rejection> {
        if self.dir.knows_lab(id) {
            Ok(())
        } else {
            Err(self.reject("unknown_device", format!("lab `{id}` is not a known lab")))
        }
    }

    fn tube(&self, barcode: &TubeBarcode) -> Result<(), Rejection> {
        if self.dir.knows_tube(barcode) {
            Ok(())
        } else {
            Err(self.reject(
                "unknown_tube",
                format!("field `barcode` = `{barcode}` is not a known tube"),
            ))
        }
    }

    fn manifest(&self, tubes: &[Tube], sealed: DateTime<FixedOffset>) -> Result<(), Rejection> {
        if tubes.is_empty() || tubes.len() > MAX_TUBES_PER_BOX {
            return Err(self.reject(
                "out_of_range",
                format!(
                    "field `tubes` lists {} tubes, expected 1..={MAX_TUBES_PER_BOX}",
                    tubes.len()
                ),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, t) in tubes.iter().enumerate() {
            if t.barcode.as_str().is_empty()
                || !seen.insert(&t.barcode)
                || self.dir.knows_tube(&t.barcode)
            {
                return Err(self.reject(
                    "bad_field",
                    format!(
                        "field `tubes[{i}].barcode` = `{}` is empty or already used",
                        t.barcode
                    ),
                ));
            }
            if t.drawn_at > sealed.to_utc() || sealed.to_utc() - t.drawn_at > Duration::hours(24) {
                return Err(self.reject(
                    "bad_time",
                    format!(
                        "field `tubes[{i}].drawn_at` = {} is after the seal or more than 24 h before it",
                        t.drawn_at.to_rfc3339()
                    ),
                ));
            }
            self.range(
                &format!("tubes[{i}].stability_minutes"),
                t.stability_minutes,
                1.0,
                7.0 * 24.0 * 60.0,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A small fixed world: drone D-001, box BX-1 sealed, centre C1, lab L1,
    /// courier V-1, tube T-1; the service area is a square around (22.6, 114.0).
    struct World;

    fn now() -> Instant {
        chrono::Utc.with_ymd_and_hms(2026, 6, 15, 1, 0, 0).unwrap()
    }

    impl Directory for World {
        fn now(&self) -> Instant {
            now()
        }
        fn max_clock_skew(&self) -> Duration {
            Duration::minutes(2)
        }
        fn knows_drone(&self, id: &DroneId) -> bool {
            id.as_str() == "D-001"
        }
        fn knows_box(&self, id: &BoxId) -> bool {
            id.as_str() == "BX-1"
        }
        fn knows_station(&self, id: &StationId) -> bool {
            ["C1", "C2"].contains(&id.as_str())
        }
        fn box_station(&self, id: &BoxId) -> Option<StationId> {
            if id.as_str() == "BX-1" {
                return Some("C1".into());
            }
            station_of_box_id(id).filter(|s| self.knows_station(s))
        }
        fn knows_lab(&self, id: &LabId) -> bool {
            id.as_str() == "L1"
        }
        fn knows_courier(&self, id: &CourierId) -> bool {
            id.as_str() == "V-1"
        }
        fn knows_tube(&self, barcode: &TubeBarcode) -> bool {
            barcode.as_str() == "T-1"
        }
        fn in_service_area(&self, p: LatLon) -> bool {
            (p.lat - 22.6).abs() < 0.2 && (p.lon - 114.0).abs() < 0.2
        }
    }

    fn t() -> String {
        now()
            .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
            .to_rfc3339()
    }

    fn telemetry(battery: &str, lat: f64) -> String {
        format!(
            r#"{{"time":"{}","lat":{lat},"lon":114.0,"alt_m":120,"battery_pct":{battery},"state":"flying"}}"#,
            t()
        )
    }

    const TELEMETRY: &str = "labflight/v1/drones/D-001/telemetry";

    #[test]
    fn good_telemetry_becomes_an_event() {
        let e = decode(TELEMETRY, telemetry("55.5", 22.61).as_bytes(), &World).unwrap();
        match e {
            Event::DroneTelemetry {
                drone, battery_pct, ..
            } => {
                assert_eq!(drone.as_str(), "D-001");
                assert_eq!(battery_pct, 55.5);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_bad_payload_is_refused_with_its_reason_and_field() {
        let cases: Vec<(&str, String, &str, &str)> = vec![
            (TELEMETRY, "{oops".into(), "bad_json", "schema"),
            (TELEMETRY, telemetry("NaN", 22.61), "bad_json", ""),
            (
                TELEMETRY,
                telemetry("101", 22.61),
                "out_of_range",
                "battery_pct",
            ),
            (
                TELEMETRY,
                telemetry("-1", 22.61),
                "out_of_range",
                "battery_pct",
            ),
            (TELEMETRY, telemetry("50", 48.85), "outside_area", "48.85"),
            (TELEMETRY, telemetry("50", 91.0), "out_of_range", "lat"),
            (
                "labflight/v1/drones/D-999/telemetry",
                telemetry("50", 22.61),
                "unknown_device",
                "D-999",
            ),
            (
                TELEMETRY,
                telemetry("50", 22.61).replace(&t(), "2026-06-15T12:00:00+08:00"),
                "bad_time",
                "time",
            ),
            (
                TELEMETRY,
                telemetry("50", 22.61).replace('}', r#","extra":1}"#),
                "bad_json",
                "extra",
            ),
            (
                TELEMETRY,
                "x".repeat(MAX_PAYLOAD_BYTES + 1),
                "too_large",
                "limit",
            ),
            (
                "labflight/v1/drones/D-001/cmd",
                "{}".into(),
                "not_inbound",
                "cmd",
            ),
            (
                "labflight/v1/unknown",
                "{}".into(),
                "unknown_topic",
                "unknown",
            ),
            (
                "labflight/v1/boxes/BX-2/telemetry",
                format!(r#"{{"time":"{}","temp_c":20}}"#, t()),
                "unknown_device",
                "BX-2",
            ),
            (
                "labflight/v1/boxes/BX-1/events",
                format!(r#"{{"time":"{}","kind":"received","lab":"L9"}}"#, t()),
                "box_names_lab",
                "`lab` = `L9`",
            ),
            (
                "labflight/v1/boxes/BX-1/events",
                format!(r#"{{"time":"{}","kind":"received","lab":"L1"}}"#, t()),
                "box_names_lab",
                "`lab` = `L1`",
            ),
            (
                "labflight/v1/labs/L1/events",
                format!(
                    r#"{{"time":"{}","kind":"box_received","box_id":"BX-9"}}"#,
                    t()
                ),
                "unknown_device",
                "BX-9",
            ),
            (
                "labflight/v1/labs/L1/events",
                format!(
                    r#"{{"time":"{}","kind":"tube_resulted","barcode":"T-9"}}"#,
                    t()
                ),
                "unknown_tube",
                "T-9",
            ),
        ];
        for (topic, body, reason, mentions) in cases {
            let r = decode(topic, body.as_bytes(), &World).expect_err(&body[..body.len().min(80)]);
            assert_eq!(r.reason, reason, "{topic}: {r}");
            assert!(
                r.detail.contains(mentions),
                "{topic}: `{}` should mention `{mentions}`",
                r.detail
            );
            assert_eq!(r.topic, topic);
        }
        let r = decode(TELEMETRY, &[0xff, 0xfe], &World).unwrap_err();
        assert_eq!(r.reason, "not_utf8");
    }

    #[test]
    fn a_sealed_box_manifest_is_checked_tube_by_tube() {
        let tube = |barcode: &str, drawn: &str| {
            format!(
                r#"{{"barcode":"{barcode}","tube_type":"edta","tests":["58410-2"],"families":["hematology"],"drawn_at":"{drawn}","stability_minutes":1440,"band":{{"min_c":15,"max_c":25}},"spun":false}}"#
            )
        };
        let sealed = |tubes: Vec<String>| {
            format!(
                r#"{{"time":"{}","kind":"sealed","station":"C1","tubes":[{}]}}"#,
                t(),
                tubes.join(",")
            )
        };
        let topic = "labflight/v1/boxes/BX-C1-07/events";
        let ok = decode(
            topic,
            sealed(vec![tube("T-7", "2026-06-15T08:30:00+08:00")]).as_bytes(),
            &World,
        );
        assert!(matches!(ok, Ok(Event::BoxSealed { .. })), "{ok:?}");
        let dup = decode(
            topic,
            sealed(vec![
                tube("T-7", "2026-06-15T08:30:00+08:00"),
                tube("T-7", "2026-06-15T08:31:00+08:00"),
            ])
            .as_bytes(),
            &World,
        )
        .unwrap_err();
        assert_eq!(dup.reason, "bad_field");
        assert!(dup.detail.contains("tubes[1].barcode"), "{}", dup.detail);
        let future = decode(
            topic,
            sealed(vec![tube("T-8", "2026-06-15T10:00:00+08:00")]).as_bytes(),
            &World,
        )
        .unwrap_err();
        assert_eq!(future.reason, "bad_time");
        let empty = decode(topic, sealed(vec![]).as_bytes(), &World).unwrap_err();
        assert_eq!(empty.reason, "out_of_range");
        let again = decode(
            "labflight/v1/boxes/BX-1/events",
            sealed(vec![tube("T-9", "2026-06-15T08:30:00+08:00")]).as_bytes(),
            &World,
        )
        .unwrap_err();
        assert_eq!(again.reason, "duplicate");
        // A box seals only at its own centre: C2 is known, but not BX-C1-07's.
        let elsewhere = sealed(vec![tube("T-7", "2026-06-15T08:30:00+08:00")])
            .replace(r#""station":"C1""#, r#""station":"C2""#);
        let r = decode(topic, elsewhere.as_bytes(), &World).unwrap_err();
        assert_eq!(r.reason, "foreign_station", "{r}");
        assert!(
            r.detail.contains("`station` = `C2`") && r.detail.contains("`C1`"),
            "{}",
            r.detail
        );
        // Nor can it add an origin or a destination of its own.
        for extra in [
            r#","origin":"C2""#,
            r#","destination":"L1""#,
            r#","lab":"L1""#,
        ] {
            let body = sealed(vec![tube("T-7", "2026-06-15T08:30:00+08:00")]).replacen(
                r#","station""#,
                &format!("{extra},\"station\""),
                1,
            );
            let r = decode(topic, body.as_bytes(), &World).unwrap_err();
            assert_eq!(r.reason, "bad_json", "{extra}: {r}");
            let field = extra.split('"').nth(1).unwrap();
            assert!(r.detail.contains(&format!("`{field}`")), "{}", r.detail);
        }
        // A box id that names no known centre cannot seal at all.
        for id in ["BX-7", "BX-C9-01", "C1-01"] {
            let r = decode(
                &format!("labflight/v1/boxes/{id}/events"),
                sealed(vec![tube("T-7", "2026-06-15T08:30:00+08:00")]).as_bytes(),
                &World,
            )
            .unwrap_err();
            assert_eq!(r.reason, "unknown_device", "{id}: {r}");
            assert!(r.detail.contains(id), "{}", r.detail);
        }
    }

    #[test]
    fn box_ids_name_their_centre() {
        let s = |id: &str| station_of_box_id(&BoxId::new(id)).map(|s| s.to_string());
        assert_eq!(s("BX-LH-C017-02").as_deref(), Some("LH-C017"));
        assert_eq!(s("BX-C1-T1").as_deref(), Some("C1"));
        assert_eq!(s("BX-7"), None);
        assert_eq!(s("BX--02"), None);
        assert_eq!(s("BX-C1-"), None);
        assert_eq!(s("LH-C017-02"), None);
    }

    #[test]
    fn a_lab_reports_a_box_it_received() {
        let e = decode(
            "labflight/v1/labs/L1/events",
            format!(
                r#"{{"time":"{}","kind":"box_received","box_id":"BX-1"}}"#,
                t()
            )
            .as_bytes(),
            &World,
        )
        .unwrap();
        assert_eq!(
            e,
            Event::BoxReceived {
                box_id: "BX-1".into(),
                lab: "L1".into()
            }
        );
    }

    /// Hostile payloads of every shape are refused with a reason, never a panic.
    #[test]
    fn poison_payloads_are_refused() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (TELEMETRY, vec![0xc3, 0x28, 0xff], "not_utf8"),
            (TELEMETRY, deep.clone().into_bytes(), "too_large"),
            (TELEMETRY, "[".repeat(5_000).into_bytes(), "bad_json"),
            (TELEMETRY, br#"{"a":[1,2,3]}"#.to_vec(), "bad_json"),
            (TELEMETRY, b"[]".to_vec(), "bad_json"),
            (TELEMETRY, b"null".to_vec(), "bad_json"),
            (
                TELEMETRY,
                telemetry("1e400", 22.61).into_bytes(),
                "bad_json",
            ),
            (
                TELEMETRY,
                telemetry("\"NaN\"", 22.61).into_bytes(),
                "bad_json",
            ),
            (
                TELEMETRY,
                telemetry("1e300", 22.61).into_bytes(),
                "out_of_range",
            ),
            (
                "labflight/v1/drones/NOPE/telemetry",
                telemetry("50", 22.61).into_bytes(),
                "unknown_device",
            ),
        ];
        for (topic, body, reason) in cases {
            let r = decode(topic, &body, &World).unwrap_err();
            assert_eq!(r.reason, reason, "{r}");
        }
    }

    #[test]
    fn commands_go_to_the_device_they_name() {
        let env = CommandEnvelope {
            command_id: "R1-1-0".into(),
            time: now().fixed_offset(),
            command: Command::SwapBattery {
                drone: "D-001".into(),
                pad: "PAD-1".into(),
            },
        };
        assert_eq!(env.topic().to_string(), "labflight/v1/drones/D-001/cmd");
        let back: CommandEnvelope =
            serde_json::from_str(&serde_json::to_string(&env).unwrap()).unwrap();
        assert_eq!(back, env);
    }
}
