//! The codec's two halves agree: every event a device sends, encoded as that device
//! would send it and decoded as the service reads it, is the same event again; and
//! each message goes out under the login its topic names (what the broker's ACL
//! lets through).

use chrono::{Duration, FixedOffset, TimeZone, Utc};
use labflight_core::event::{CourierEventKind, DroneEventKind, DroneState, LabUpdate};
use labflight_core::{
    BoxId, CourierId, DroneId, Event, Instant, LabId, LatLon, LoincCode, MissionId, PadId, Stamped,
    StationId, TempBand, TestFamily, Tube, TubeBarcode, TubeType,
};
use labflight_mqtt::{Directory, Encoding, Topic, decode, encode, station_of_box_id};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::BTreeSet;

/// The service clock of every case, and how far a message's time may stray from it.
const SKEW_S: i64 = 120;

fn now() -> Instant {
    Utc.with_ymd_and_hms(2026, 6, 15, 1, 0, 0).unwrap()
}

/// What the service knows in one case: the generated ids, the sealed boxes and
/// their tubes, and a service area around Longhua.
#[derive(Clone, Debug)]
struct Known {
    drones: Vec<DroneId>,
    stations: Vec<StationId>,
    /// Sealed boxes, each `BX-<one of the stations>-<n>`.
    boxes: Vec<BoxId>,
    labs: Vec<LabId>,
    couriers: Vec<CourierId>,
    tubes: Vec<TubeBarcode>,
}

impl Directory for Known {
    fn now(&self) -> Instant {
        now()
    }
    fn max_clock_skew(&self) -> Duration {
        Duration::seconds(SKEW_S)
    }
    fn knows_drone(&self, id: &DroneId) -> bool {
        self.drones.contains(id)
    }
    fn knows_box(&self, id: &BoxId) -> bool {
        self.boxes.contains(id)
    }
    fn knows_station(&self, id: &StationId) -> bool {
        self.stations.contains(id)
    }
    fn box_station(&self, id: &BoxId) -> Option<StationId> {
        station_of_box_id(id).filter(|s| self.knows_station(s))
    }
    fn knows_lab(&self, id: &LabId) -> bool {
        self.labs.contains(id)
    }
    fn knows_courier(&self, id: &CourierId) -> bool {
        self.couriers.contains(id)
    }
    fn knows_tube(&self, barcode: &TubeBarcode) -> bool {
        self.tubes.contains(barcode)
    }
    fn in_service_area(&self, p: LatLon) -> bool {
        (22.5..=22.8).contains(&p.lat) && (113.9..=114.2).contains(&p.lon)
    }
}

fn ids<T: Ord + std::fmt::Debug>(
    pattern: &'static str,
    make: fn(String) -> T,
) -> impl Strategy<Value = Vec<T>> + Clone {
    prop::collection::btree_set(pattern, 1..4)
        .prop_map(move |set| set.into_iter().map(make).collect())
}

fn known() -> impl Strategy<Value = Known> {
    (
        ids("D-[0-9]{3}", DroneId::new),
        ids("[A-Z]{2}-C[0-9]{3}", StationId::new),
        ids("LAB-[A-Z]{2}", LabId::new),
        ids("V-[0-9]{2}", CourierId::new),
        ids("T[0-9]{8}", TubeBarcode::new),
        prop::collection::vec((any::<Index>(), "[0-9]{1,3}"), 1..4),
    )
        .prop_map(|(drones, stations, labs, couriers, tubes, boxes)| {
            let boxes: BTreeSet<BoxId> = boxes
                .into_iter()
                .map(|(i, n)| BoxId::new(format!("BX-{}-{n}", i.get(&stations))))
                .collect();
            Known {
                drones,
                stations,
                boxes: boxes.into_iter().collect(),
                labs,
                couriers,
                tubes,
            }
        })
}

fn position() -> impl Strategy<Value = LatLon> {
    (22.5f64..=22.8, 113.9f64..=114.2).prop_map(|(lat, lon)| LatLon::new(lat, lon))
}

fn one<T: Clone + std::fmt::Debug + 'static>(items: &[T]) -> prop::sample::Select<T> {
    prop::sample::select(items.to_vec())
}

fn drone_state() -> impl Strategy<Value = DroneState> {
    prop_oneof![
        Just(DroneState::Idle),
        Just(DroneState::Charging),
        Just(DroneState::Flying),
        Just(DroneState::Landed),
        Just(DroneState::Fault),
    ]
}

fn drone_event_kind(k: &Known) -> impl Strategy<Value = DroneEventKind> + use<> {
    prop_oneof![
        Just(DroneEventKind::TookOff),
        (
            prop::option::of("PAD-[A-Z0-9]{1,6}".prop_map(PadId::new)),
            position()
        )
            .prop_map(|(pad, position)| DroneEventKind::Landed { pad, position }),
        one(&k.boxes).prop_map(|box_id| DroneEventKind::PayloadLoaded { box_id }),
        one(&k.boxes).prop_map(|box_id| DroneEventKind::PayloadReleased { box_id }),
        "M-[0-9]{1,5}".prop_map(|m| DroneEventKind::MissionComplete {
            mission: MissionId::new(m)
        }),
        (0.0f64..=100.0).prop_map(|battery_pct| DroneEventKind::BatteryReady { battery_pct }),
        "\\PC{0,60}".prop_map(|reason| DroneEventKind::Fault { reason }),
        Just(DroneEventKind::LinkLost),
        Just(DroneEventKind::LinkRestored),
    ]
}

/// A fresh box of a known centre and its manifest: tubes drawn up to 24 h before
/// the seal, barcodes not yet known.
fn sealed(k: &Known, at: Instant) -> impl Strategy<Value = Event> + use<> {
    let tube = (
        "[a-z]{3,8}",
        prop::collection::vec("[0-9]{1,5}-[0-9]", 0..4),
        prop::collection::vec(prop::sample::select(TestFamily::ALL.to_vec()), 0..3),
        0i64..=24 * 3600 * 1000,
        1.0f64..=7.0 * 24.0 * 60.0,
        (-40.0f64..=10.0, 10.0f64..=40.0),
        any::<bool>(),
    );
    (
        one(&k.stations),
        "N[0-9]{1,3}",
        prop::collection::btree_set("S[0-9]{8}", 1..30),
        prop::collection::vec(tube, 30),
    )
        .prop_map(move |(station, n, barcodes, tubes)| Event::BoxSealed {
            box_id: BoxId::new(format!("BX-{station}-{n}")),
            station,
            tubes: barcodes
                .into_iter()
                .zip(tubes)
                .map(
                    |(barcode, (tube_type, tests, families, before_ms, stability, band, spun))| {
                        Tube {
                            barcode: TubeBarcode::new(barcode),
                            tube_type: TubeType(tube_type),
                            tests: tests.into_iter().map(LoincCode).collect(),
                            families,
                            drawn_at: at - Duration::milliseconds(before_ms),
                            stability_minutes: stability,
                            band: TempBand {
                                min_c: band.0,
                                max_c: band.1,
                            },
                            spun,
                        }
                    },
                )
                .collect(),
        })
}

fn drone_or_box_event(k: &Known, at: Instant) -> impl Strategy<Value = Event> + use<> {
    prop_oneof![
        (
            one(&k.drones),
            position(),
            -100.0f64..=1_000.0,
            0.0f64..=100.0,
            drone_state()
        )
            .prop_map(|(drone, position, alt_m, battery_pct, state)| {
                Event::DroneTelemetry {
                    drone,
                    position,
                    alt_m,
                    battery_pct,
                    state,
                }
            }),
        (one(&k.drones), drone_event_kind(k))
            .prop_map(|(drone, kind)| Event::Drone { drone, kind }),
        (one(&k.boxes), -40.0f64..=80.0, any::<bool>()).prop_map(|(box_id, temp_c, lid_open)| {
            Event::BoxTelemetry {
                box_id,
                temp_c,
                lid_open,
            }
        }),
        sealed(k, at),
    ]
}

fn courier_event(k: &Known) -> impl Strategy<Value = Event> + use<> {
    let boxes = prop::collection::vec(one(&k.boxes), 0..4);
    let kind = prop_oneof![
        prop::collection::vec(one(&k.boxes), 0..4)
            .prop_map(|boxes| CourierEventKind::PickedUp { boxes }),
        (one(&k.labs), boxes).prop_map(|(lab, boxes)| CourierEventKind::Delivered { lab, boxes }),
        position().prop_map(|position| CourierEventKind::Available { position }),
    ];
    (one(&k.couriers), kind).prop_map(|(courier, kind)| Event::Courier { courier, kind })
}

fn lab_event(k: &Known) -> impl Strategy<Value = Event> + use<> {
    let update = prop_oneof![
        any::<u32>().prop_map(|tubes| LabUpdate::Queue { tubes }),
        "\\PC{0,30}".prop_map(|analyzer| LabUpdate::AnalyzerDown { analyzer }),
        "\\PC{0,30}".prop_map(|analyzer| LabUpdate::AnalyzerUp { analyzer }),
        Just(LabUpdate::Closed),
        Just(LabUpdate::Opened),
    ];
    let (labs, tubes) = (one(&k.labs), one(&k.tubes));
    prop_oneof![
        (labs.clone(), update).prop_map(|(lab, update)| Event::Lab { lab, update }),
        (labs.clone(), one(&k.boxes)).prop_map(|(lab, box_id)| Event::BoxReceived { box_id, lab }),
        (labs.clone(), tubes.clone())
            .prop_map(|(lab, barcode)| Event::TubeResulted { barcode, lab }),
        (labs.clone(), tubes.clone())
            .prop_map(|(lab, barcode)| Event::TubeCentrifuged { barcode, lab }),
        (labs, tubes.clone(), "\\PC{1,60}").prop_map(|(lab, barcode, reason)| {
            Event::TubeRejected {
                barcode,
                lab,
                reason,
            }
        }),
        tubes.prop_map(|barcode| Event::ResultReported { barcode }),
    ]
}

fn weather() -> impl Strategy<Value = Event> {
    (-60.0f64..=60.0, -60.0f64..=60.0, 0.0f64..=500.0).prop_map(
        |(wind_east_mps, wind_north_mps, rain_mm_h)| Event::Weather {
            wind_east_mps,
            wind_north_mps,
            rain_mm_h,
        },
    )
}

/// A forecast issued at `at` (the message's `time`) for a window ahead or under
/// way, within the ranges the edge accepts.
fn forecast(at: labflight_core::Instant) -> impl Strategy<Value = Event> {
    (
        -120i64..=2_880,
        1i64..=1_440,
        0.0f64..=80.0,
        0.0f64..=500.0,
        0.0f64..=1.0,
    )
        .prop_filter("the window ends after it is issued", |(ahead, len, ..)| {
            ahead + len > 0
        })
        .prop_map(move |(ahead, len, wind_mps, rain_mm_h, confidence)| {
            let from = at + Duration::minutes(ahead);
            Event::WeatherForecast {
                forecast: labflight_core::WeatherForecast {
                    issued_at: at,
                    from,
                    to: from + Duration::minutes(len),
                    wind_mps,
                    rain_mm_h,
                    confidence,
                },
            }
        })
}

/// One case: what the service knows, how devices word their messages, and an
/// event stamped within the allowed skew of the service clock.
fn case() -> impl Strategy<Value = (Known, Encoding, Stamped)> {
    (
        known(),
        -12i32..=14,
        0.0f64..=60.0,
        -SKEW_S * 1000..=SKEW_S * 1000,
    )
        .prop_flat_map(|(k, offset_h, cruise, skew_ms)| {
            let at = now() + Duration::milliseconds(skew_ms);
            let encoding = Encoding {
                offset: FixedOffset::east_opt(offset_h * 3600).unwrap(),
                cruise_airspeed_mps: cruise,
            };
            let event = prop_oneof![
                4 => drone_or_box_event(&k, at),
                1 => courier_event(&k),
                3 => lab_event(&k),
                1 => weather(),
                1 => forecast(at),
            ];
            (Just(k), Just(encoding), event)
                .prop_map(move |(k, e, event)| (k, e, Stamped { at, event }))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn what_a_device_sends_decodes_to_the_same_event((known, encoding, stamped) in case()) {
        // A `result_reported` is sent by the lab that resulted the tube.
        let result_lab = known.labs[0].clone();
        let m = encode(&stamped, &encoding, Some(&result_lab))
            .expect("every device event has a message");
        let topic = m.topic.to_string();
        let back = decode(&topic, &m.payload, &known);
        prop_assert_eq!(back, Ok(stamped.event.clone()), "{} {}", topic, String::from_utf8_lossy(&m.payload));
        // The sender is the device the topic names (the ACL's `%u`).
        let named = match &m.topic {
            Topic::DroneTelemetry(d) | Topic::DroneEvents(d) | Topic::DroneStatus(d) => Some(d.to_string()),
            Topic::BoxTelemetry(b) | Topic::BoxEvents(b) => Some(b.to_string()),
            Topic::CourierEvents(c) => Some(c.to_string()),
            Topic::LabEvents(l) => Some(l.to_string()),
            Topic::Weather | Topic::Forecast => None,
            other => return Err(TestCaseError::fail(format!("not a device topic: {other}"))),
        };
        prop_assert_eq!(named.unwrap_or_else(|| "weather-station".into()), m.device);
        // The time written is the event's, in the devices' offset.
        let json: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
        let time = chrono::DateTime::parse_from_rfc3339(json["time"].as_str().unwrap()).unwrap();
        prop_assert_eq!(time, stamped.at.with_timezone(&encoding.offset));
    }
}

#[test]
fn what_no_device_sends_has_no_message() {
    let encoding = Encoding {
        offset: FixedOffset::east_opt(8 * 3600).unwrap(),
        cruise_airspeed_mps: 15.0,
    };
    let stamped = |event| Stamped { at: now(), event };
    for event in [
        Event::Tick,
        Event::ServiceResumed,
        Event::Override {
            by: "coordinator".into(),
            action: labflight_core::event::Override::GroundFleet,
        },
        Event::CustodyDisputed {
            lab: "LAB-PH".into(),
            barcode: "T1".into(),
            claim: "received".into(),
            held: None,
        },
        // A result no lab is known to have produced.
        Event::ResultReported {
            barcode: "T1".into(),
        },
    ] {
        assert_eq!(
            encode(&stamped(event.clone()), &encoding, None),
            None,
            "{event:?}"
        );
    }
}
