//! Reading one inbound message by its topic into a dispatcher event: size,
//! encoding and topic first, then the topic's wire type and the checks its fields
//! go through. The topics are one `match`, so every inbound topic and what it may
//! become is read in one place.

use super::checks::Checker;
use super::directory::Directory;
use super::rejection::Rejection;
use super::wire::{
    BoxEvent, BoxEventKind, BoxTelemetry, CourierEvent, DroneEvent, DroneStatus, DroneTelemetry,
    Forecast, LabEvent, LabEventKind, LinkState, Weather,
};
use crate::topics::Topic;
use labflight_core::Event;
use labflight_core::event::{CourierEventKind, DroneEventKind, LabUpdate};

/// Larger payloads are refused before parsing.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

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
        Topic::Forecast => {
            let m: Forecast = check.json(text)?;
            check.time(m.time)?;
            check.range("wind_mps", m.wind_mps, 0.0, 80.0)?;
            check.range("rain_mm_h", m.rain_mm_h, 0.0, 500.0)?;
            check.range("confidence", m.confidence, 0.0, 1.0)?;
            let (issued, from, to) = (m.time.to_utc(), m.from.to_utc(), m.to.to_utc());
            if to <= from || to <= issued || to - from > chrono::Duration::hours(24) {
                return Err(reject(
                    "bad_field",
                    format!(
                        "field `to` = {} must be after `from` = {} and `time`, within 24 h of `from`",
                        m.to.to_rfc3339(),
                        m.from.to_rfc3339()
                    ),
                ));
            }
            if from - issued > chrono::Duration::hours(48) {
                return Err(reject(
                    "out_of_range",
                    format!(
                        "field `from` = {} is more than 48 h after `time`",
                        m.from.to_rfc3339()
                    ),
                ));
            }
            Ok(Event::WeatherForecast {
                forecast: labflight_core::WeatherForecast {
                    issued_at: issued,
                    from,
                    to,
                    wind_mps: m.wind_mps,
                    rain_mm_h: m.rain_mm_h,
                    confidence: m.confidence,
                },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::station_of_box_id;
    use chrono::{Duration, FixedOffset, TimeZone};
    use labflight_core::{
        BoxId, CourierId, DroneId, Instant, LabId, LatLon, StationId, TubeBarcode,
    };

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

    const FORECAST: &str = "labflight/v1/forecast";

    /// A forecast issued now for 09:00–10:30 local (the service clock is 09:00).
    fn forecast(fields: &str) -> String {
        format!(
            r#"{{"time":"{}","from":"2026-06-15T09:30:00+08:00","to":"2026-06-15T11:00:00+08:00",{fields}}}"#,
            t()
        )
    }

    #[test]
    fn a_forecast_becomes_an_event_and_a_bad_one_is_refused_by_field() {
        let good = forecast(r#""wind_mps":16,"rain_mm_h":12,"confidence":0.8"#);
        match decode(FORECAST, good.as_bytes(), &World).unwrap() {
            Event::WeatherForecast { forecast } => {
                assert_eq!(forecast.issued_at, now());
                assert_eq!(forecast.from, now() + Duration::minutes(30));
                assert_eq!(forecast.to, now() + Duration::minutes(120));
                assert_eq!(forecast.confidence, 0.8);
            }
            other => panic!("{other:?}"),
        }
        for (body, reason, mentions) in [
            (
                forecast(r#""wind_mps":16,"rain_mm_h":12,"confidence":1.5"#),
                "out_of_range",
                "confidence",
            ),
            (
                forecast(r#""wind_mps":-2,"rain_mm_h":12,"confidence":0.5"#),
                "out_of_range",
                "wind_mps",
            ),
            (
                forecast(r#""wind_mps":16,"rain_mm_h":900,"confidence":0.5"#),
                "out_of_range",
                "rain_mm_h",
            ),
            (
                forecast(r#""wind_mps":16,"rain_mm_h":12"#),
                "bad_json",
                "confidence",
            ),
            (
                forecast(r#""wind_mps":16,"rain_mm_h":12,"confidence":0.5,"gust":3"#),
                "bad_json",
                "gust",
            ),
            (
                forecast(r#""wind_mps":16,"rain_mm_h":12,"confidence":0.5"#)
                    .replace("11:00:00", "09:00:00"),
                "bad_field",
                "`to`",
            ),
            (
                forecast(r#""wind_mps":16,"rain_mm_h":12,"confidence":0.5"#)
                    .replace("2026-06-15T09:30", "2026-06-19T09:30")
                    .replace("2026-06-15T11:00", "2026-06-19T11:00"),
                "out_of_range",
                "`from`",
            ),
            (
                forecast(r#""wind_mps":16,"rain_mm_h":12,"confidence":0.5"#)
                    .replace(&t(), "2026-06-15T12:00:00+08:00"),
                "bad_time",
                "time",
            ),
        ] {
            let r = decode(FORECAST, body.as_bytes(), &World).expect_err(&body);
            assert_eq!(r.reason, reason, "{r}");
            assert!(
                r.detail.contains(mentions),
                "`{}` should mention `{mentions}`",
                r.detail
            );
            assert_eq!(r.topic, FORECAST);
        }
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
}
