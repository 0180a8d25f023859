//! Moving a sealed box into a lab's custody the way the real world does, for tests
//! that then act as that lab: a coordinator forces the centre's pickup, the
//! dispatcher assigns a mission, and its drone (or van) reports loading the box.
//! Only then may the mission's lab mark the box's tubes received.

use rumqttc::{AsyncClient, QoS};
use serde_json::{Value, json};
use std::time::Duration;

async fn get(http: &str, token: &str, path: &str) -> Value {
    let r = reqwest::Client::new()
        .get(format!("{http}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    r.json().await.unwrap_or(Value::Null)
}

fn box_status(boxes: &Value, box_id: &str) -> Option<Value> {
    boxes
        .as_array()
        .into_iter()
        .flatten()
        .find(|b| b["id"] == box_id)
        .map(|b| b["status"].clone())
}

/// What a smart box publishes when sealed at `station` at service time `now`
/// (RFC 3339): glucose tubes drawn ten minutes before, stable for a day.
pub fn sealed_box(now: &str, station: &str, barcodes: &[&str]) -> Value {
    let drawn = (chrono::DateTime::parse_from_rfc3339(now).expect("an RFC 3339 time")
        - chrono::Duration::minutes(10))
    .to_rfc3339();
    let tubes: Vec<Value> = barcodes
        .iter()
        .map(|b| {
            json!({"barcode": b, "tube_type": "fluoride", "tests": ["2345-7"], "families": ["chemistry"],
                   "drawn_at": drawn, "stability_minutes": 1440.0, "band": {"min_c": 15.0, "max_c": 25.0}, "spun": true})
        })
        .collect();
    json!({"time": now, "kind": "sealed", "station": station, "tubes": tubes})
}

/// A coordinator's control call (`POST` with an empty JSON body); asserts it is
/// accepted, naming `what` otherwise.
async fn control(http: &str, token: &str, path: &str, what: &str) {
    let r = reqwest::Client::new()
        .post(format!("{http}{path}"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{what}: {}", r.status());
}

/// The Longhua labs (`maps/longhua/labs.geojson`).
pub const LONGHUA_LABS: [&str; 3] = ["LAB-PH", "LAB-CH", "LAB-MCH"];

/// Marks every Longhua lab but `lab` unavailable (a coordinator's override), so
/// the dispatcher sends every box to `lab`: tests then know which lab acts.
pub async fn only_lab_open(http: &str, token: &str, lab: &str) {
    for other in LONGHUA_LABS.iter().filter(|l| **l != lab) {
        let path = format!("/api/v1/control/labs/{other}/unavailable");
        control(http, token, &path, &format!("{other} unavailable")).await;
    }
}

/// Forces the pickup at `station`, waits (bounded) for `box_id`'s mission, reports
/// its carrier loading the box over `mqtt`, and waits until the service has it on
/// board. Returns the lab the box is on its way to. `token` is a coordinator's
/// (the admin token).
pub async fn put_on_its_way(
    http: &str,
    token: &str,
    mqtt: &AsyncClient,
    station: &str,
    box_id: &str,
) -> String {
    let path = format!("/api/v1/control/stations/{station}/force-pickup");
    control(http, token, &path, &format!("force pickup at {station}")).await;
    let mut mission = None;
    for _ in 0..300 {
        let boxes = get(http, token, "/api/v1/boxes").await;
        if let Some(status) = box_status(&boxes, box_id)
            && status["kind"] == "assigned"
        {
            mission = status["mission"].as_str().map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mission = mission.unwrap_or_else(|| panic!("box {box_id} was never assigned a mission"));
    let missions = get(http, token, "/api/v1/missions").await;
    let m = missions
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["id"] == mission.as_str())
        .unwrap_or_else(|| panic!("mission {mission} not listed"))
        .clone();
    let (kind, carrier) = (
        m["carrier"]["kind"].as_str().unwrap_or_default(),
        m["carrier"]["id"].as_str().unwrap_or_default(),
    );
    let status = get(http, token, "/api/v1/status").await;
    let now = status["now"].as_str().unwrap_or_default().to_owned();
    let (topic, body) = if kind == "drone" {
        (
            format!("labflight/v1/drones/{carrier}/events"),
            json!({"time": now, "kind": "payload_loaded", "box_id": box_id}),
        )
    } else {
        (
            format!("labflight/v1/couriers/{carrier}/events"),
            json!({"time": now, "kind": "picked_up", "boxes": [box_id]}),
        )
    };
    mqtt.publish(topic, QoS::AtLeastOnce, false, body.to_string())
        .await
        .unwrap();
    for _ in 0..300 {
        let boxes = get(http, token, "/api/v1/boxes").await;
        if box_status(&boxes, box_id).is_some_and(|s| s["kind"] == "on_board") {
            return m["lab"].as_str().unwrap_or_default().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("box {box_id} never went on board its mission {mission}");
}
