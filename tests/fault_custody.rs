//! Forged custody, through the real binary: a lab may mark received, reject or
//! result only a tube whose box is delivered to it or on its way to it. A lab's
//! account that claims a box still waiting at its centre, or bound for another
//! lab, is refused with an OperationOutcome naming the tube and where it really
//! is; custody does not move; the coordinators get a `custody_conflict` alert. The
//! same holds for a lab's claims over MQTT. Report ids are unique per lab.

mod support;

use rumqttc::{AsyncClient, QoS};
use serde_json::{Value, json};
use std::time::Duration;
use support::*;

const PH: &str = "tok-lab-ph-0123456789abcdef";
const CH: &str = "tok-lab-ch-0123456789abcdef";
const ADMIN: &str = "tok-admin-0123456789abcdef";

fn config(dir: &Scratch, mqtt_port: u16, http_port: u16, speed: f64) -> std::path::PathBuf {
    let path = dir.path("labflight.toml");
    std::fs::write(
        &path,
        format!(
            r#"scenario = "{}"
speed = {speed:?}
mqtt_port = {mqtt_port}
http = "127.0.0.1:{http_port}"
database_url = "sqlite://{}"
admin_token = "{ADMIN}"

[labs]
LAB-PH = "{PH}"
LAB-CH = "{CH}"
"#,
            short_scenario().display(),
            dir.path("svc.db").display()
        ),
    )
    .unwrap();
    path
}

struct Service {
    _proc: Proc,
    http: String,
    mqtt: AsyncClient,
}

async fn start(dir: &Scratch) -> Service {
    start_at(dir, 60.0).await
}

/// The service at `speed` times real time (a tick every `60 / speed` s).
async fn start_at(dir: &Scratch, speed: f64) -> Service {
    let (mqtt_port, http_port) = (free_port(), free_port());
    let cfg = config(dir, mqtt_port, http_port, speed);
    let mut proc = Proc::spawn(&["serve", "--config", cfg.to_str().unwrap()], &[]);
    proc.wait_line("dashboard:", Duration::from_secs(60));
    let key = printed_device_key(&proc).expect("serve prints its broker's device key");
    let (mqtt, mut ev) = AsyncClient::new(device_login(mqtt_port, "test-custody", &key), 100);
    tokio::spawn(async move {
        for _ in 0..1_000_000 {
            if let Err(e) = ev.poll().await {
                eprintln!("test MQTT client: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    Service {
        _proc: proc,
        http: format!("http://127.0.0.1:{http_port}"),
        mqtt,
    }
}

async fn get(svc: &Service, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", svc.http))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

async fn post(svc: &Service, path: &str, token: &str, body: String) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", svc.http))
        .header("content-type", "application/json")
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

async fn publish(svc: &Service, topic: &str, body: Value) {
    svc.mqtt
        .publish(topic, QoS::AtLeastOnce, false, body.to_string())
        .await
        .unwrap();
}

async fn now(svc: &Service) -> String {
    let (_, status) = get(svc, "/api/v1/status").await;
    status["now"].as_str().unwrap().to_owned()
}

/// Seals a box of `barcodes` at LH-C001, as its smart box would.
async fn seal(svc: &Service, box_id: &str, barcodes: &[&str]) {
    let now = now(svc).await;
    let body = carry::sealed_box(&now, "LH-C001", barcodes);
    publish(svc, &format!("labflight/v1/boxes/{box_id}/events"), body).await;
    for _ in 0..150 {
        let (code, _) = get(svc, &format!("/api/v1/tubes/{}", barcodes[0])).await;
        if code == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service never saw box {box_id}");
}

fn custody_steps(tube: &Value) -> Vec<String> {
    tube["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap().to_owned())
        .collect()
}

fn report(lab: &str, report_id: &str, barcode: &str) -> String {
    json!({
        "resourceType": "DiagnosticReport",
        "identifier": [{"system": format!("urn:lab:{lab}"), "value": report_id}],
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
        "contained": [
            {"resourceType": "Specimen", "id": "s", "identifier": [{"system": "urn:labflight:tube", "value": barcode}]},
            {"resourceType": "Observation", "id": "o", "status": "final",
             "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
             "valueQuantity": {"value": 5.2, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}}
        ],
        "specimen": [{"reference": "#s"}],
        "result": [{"reference": "#o"}]
    })
    .to_string()
}

/// The lab a box is booked to go to, once the dispatcher gave it a mission.
async fn destination(svc: &Service, box_id: &str) -> Option<String> {
    let (_, boxes) = get(svc, "/api/v1/boxes").await;
    let mission = boxes.as_array()?.iter().find(|b| b["id"] == box_id)?["status"]["mission"]
        .as_str()?
        .to_owned();
    let (_, missions) = get(svc, "/api/v1/missions").await;
    missions
        .as_array()?
        .iter()
        .find(|m| m["id"] == mission.as_str())?["lab"]
        .as_str()
        .map(str::to_owned)
}

fn diagnostics(v: &Value) -> String {
    assert_eq!(v["resourceType"], "OperationOutcome", "{v}");
    v["issue"][0]["diagnostics"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Custody-conflict alerts once `count` name a subject starting with `prefix`
/// (bounded wait): all of them, by subject.
async fn conflict_alerts_about(svc: &Service, prefix: &str, count: usize) -> Vec<String> {
    let mut alerts = Vec::new();
    for _ in 0..50 {
        alerts = conflict_alerts(svc).await;
        if alerts.iter().filter(|s| s.starts_with(prefix)).count() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    alerts
}

/// Custody-conflict alerts stored so far, by subject.
async fn conflict_alerts(svc: &Service) -> Vec<String> {
    let (_, dash) = get(svc, "/api/v1/dashboard").await;
    let mut out = Vec::new();
    for a in dash["alerts"].as_array().into_iter().flatten() {
        let alert = if a["alert"].is_object() {
            &a["alert"]
        } else {
            a
        };
        if alert["kind"] == "custody_conflict" {
            out.push(alert["subject"].as_str().unwrap_or_default().to_owned());
        }
    }
    out
}

#[test]
fn a_lab_cannot_claim_a_tube_that_is_not_in_its_hands_or_on_its_way_to_it() {
    let dir = Scratch::new("custody");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let svc = start(&dir).await;
        // Every box goes to LAB-PH: LAB-CH's account plays the pretender.
        carry::only_lab_open(&svc.http, ADMIN, "LAB-PH").await;
        seal(&svc, "BX-LH-C001-F1", &["F-0001", "F-0002"]).await;

        // The reproduction: the box is still at its centre (waiting, or booked on
        // a mission to LAB-PH); another lab says it has it.
        let pretender = CH;
        let bound_for = destination(&svc, "BX-LH-C001-F1").await.unwrap_or_default();
        let (_, before) = get(&svc, "/api/v1/tubes/F-0001").await;
        let (code, v) = post(
            &svc,
            "/api/v1/lab/tubes/F-0001/received",
            pretender,
            String::new(),
        )
        .await;
        assert_eq!(code, 409, "{v}");
        let d = diagnostics(&v);
        assert!(d.contains("F-0001"), "{d}");
        assert!(d.contains("at its centre LH-C001"), "{d}");
        assert!(
            d.contains(&bound_for),
            "names where it is booked to go: {d}"
        );
        // Then a made-up result, and a rejection that would ask for a redraw.
        let (code, v) = post(
            &svc,
            "/api/v1/lab/results",
            pretender,
            report("LAB-X", "R-F1", "F-0001"),
        )
        .await;
        assert_eq!(code, 409, "{v}");
        assert!(diagnostics(&v).contains("F-0001"), "{v}");
        let (code, v) = post(
            &svc,
            "/api/v1/lab/tubes/F-0002/rejected",
            pretender,
            json!({"reason": "haemolysed"}).to_string(),
        )
        .await;
        assert_eq!(code, 409, "{v}");
        let (_, after) = get(&svc, "/api/v1/tubes/F-0001").await;
        assert_eq!(custody_steps(&before), custody_steps(&after), "{after}");

        // Coordinators are told, once per refused claim, about the tube.
        let alerts = conflict_alerts_about(&svc, "F-000", 3).await;
        assert_eq!(
            alerts.iter().filter(|s| s.starts_with("F-000")).count(),
            3,
            "{alerts:?}"
        );

        // The box leaves on a mission to one lab: the other lab still may not.
        let lab =
            carry::put_on_its_way(&svc.http, ADMIN, &svc.mqtt, "LH-C001", "BX-LH-C001-F1").await;
        assert_eq!(lab, "LAB-PH");
        let (ours, theirs, other_lab) = (PH, CH, "LAB-CH");
        let (code, v) = post(
            &svc,
            "/api/v1/lab/tubes/F-0001/received",
            theirs,
            String::new(),
        )
        .await;
        assert_eq!(code, 409, "{v}");
        assert!(
            diagnostics(&v).contains(&lab),
            "names where it is going: {v}"
        );
        // Over MQTT, the other lab's LIS claiming a result is refused the same way.
        publish(
            &svc,
            &format!("labflight/v1/labs/{other_lab}/events"),
            json!({"time": now(&svc).await, "kind": "tube_resulted", "barcode": "F-0002"}),
        )
        .await;
        // The lab it is flying to receives it, and results it.
        let (code, v) = post(
            &svc,
            "/api/v1/lab/tubes/F-0001/received",
            ours,
            String::new(),
        )
        .await;
        assert_eq!(code, 204, "{v}");
        let (code, v) = post(
            &svc,
            "/api/v1/lab/results",
            ours,
            report(&lab, "R-1", "F-0001"),
        )
        .await;
        assert_eq!(code, 201, "{v}");
        // Report ids are the lab's own: another lab's R-1 is another report.
        let (code, v) = post(
            &svc,
            "/api/v1/lab/results",
            theirs,
            report(other_lab, "R-1", "F-0002"),
        )
        .await;
        assert_eq!(code, 409, "not theirs, but not a duplicate either: {v}");
        assert!(!diagnostics(&v).contains("already accepted"), "{v}");
        let (code, v) = post(
            &svc,
            "/api/v1/lab/results",
            ours,
            report(&lab, "R-2", "F-0002"),
        )
        .await;
        assert_eq!(code, 201, "{v}");

        let (_, tube) = get(&svc, "/api/v1/tubes/F-0002").await;
        let steps = custody_steps(&tube);
        assert_eq!(
            steps.iter().filter(|s| *s == "resulted").count(),
            1,
            "only the receiving lab's result counts: {steps:?}"
        );
        let mut rejected = 0.0;
        for _ in 0..50 {
            let r = reqwest::get(format!("{}/metrics", svc.http))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            rejected = r
                .lines()
                .find(|l| l.contains("reason=\"custody_conflict\""))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|n| n.parse::<f64>().ok())
                .unwrap_or(0.0);
            if rejected >= 6.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            rejected, 6.0,
            "3 forged at the centre, 2 while bound elsewhere, 1 over MQTT"
        );
    });
}

/// The drone carrying `box_id` on its mission, once it has one.
async fn carrier_of(svc: &Service, box_id: &str) -> String {
    let (_, boxes) = get(svc, "/api/v1/boxes").await;
    let mission = boxes
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == box_id)
        .unwrap()["status"]["mission"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, missions) = get(svc, "/api/v1/missions").await;
    let m = missions
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == mission.as_str())
        .unwrap()
        .clone();
    assert_eq!(m["carrier"]["kind"], "drone", "{m}");
    m["carrier"]["id"].as_str().unwrap().to_owned()
}

/// `barcode`'s custody steps once `step` is among them (bounded wait).
async fn steps_once(svc: &Service, barcode: &str, step: &str) -> Vec<String> {
    let mut steps = Vec::new();
    for _ in 0..100 {
        let (_, tube) = get(svc, &format!("/api/v1/tubes/{barcode}")).await;
        steps = custody_steps(&tube);
        if steps.iter().any(|s| s == step) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    steps
}

#[test]
fn a_labs_mqtt_claims_refused_before_the_drone_lands_there_are_applied_when_it_does() {
    let dir = Scratch::new("custody-held");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let svc = start(&dir).await;
        carry::only_lab_open(&svc.http, ADMIN, "LAB-PH").await;
        seal(&svc, "BX-LH-C001-H1", &["H-0001", "H-0002"]).await;
        let lab =
            carry::put_on_its_way(&svc.http, ADMIN, &svc.mqtt, "LH-C001", "BX-LH-C001-H1").await;
        assert_eq!(lab, "LAB-PH");
        let drone = carrier_of(&svc, "BX-LH-C001-H1").await;
        // The drone flies on to LAB-CH instead, its reports not yet come. LAB-CH's
        // LIS, over MQTT, scans the box in, results one tube and refuses the other:
        // none of it is LAB-CH's as far as labflight knows, so all three are
        // refused (and alerted) but held.
        let lab_events = "labflight/v1/labs/LAB-CH/events";
        let at = now(&svc).await;
        publish(&svc, lab_events, json!({"time": at, "kind": "box_received", "box_id": "BX-LH-C001-H1"})).await;
        publish(&svc, lab_events, json!({"time": at, "kind": "tube_resulted", "barcode": "H-0001"})).await;
        publish(&svc, lab_events, json!({"time": at, "kind": "tube_rejected", "barcode": "H-0002", "reason": "haemolysed"})).await;
        let alerts = conflict_alerts_about(&svc, "H-000", 3).await;
        assert_eq!(alerts.iter().filter(|s| s.starts_with("H-000")).count(), 3, "{alerts:?}");
        let (_, before) = get(&svc, "/api/v1/tubes/H-0002").await;
        assert_eq!(before["state"]["status"], "in_box", "{before}");
        // Then the drone's link comes back: it landed on LAB-CH's pad with the box.
        publish(
            &svc,
            &format!("labflight/v1/drones/{drone}/events"),
            json!({"time": now(&svc).await, "kind": "landed", "pad": "PAD-LAB-CH",
                   "position": {"lat": 22.693, "lon": 114.0425}}),
        )
        .await;
        // The held scan hands the box to LAB-CH, and LAB-CH's held claims are
        // applied, each once.
        let rejected = steps_once(&svc, "H-0002", "rejected_at_lab").await;
        assert_eq!(
            rejected.iter().filter(|s| *s == "rejected_at_lab").count(),
            1,
            "{rejected:?}"
        );
        assert!(rejected.contains(&"received_at_lab".to_owned()), "{rejected:?}");
        let resulted = steps_once(&svc, "H-0001", "resulted").await;
        assert_eq!(resulted.iter().filter(|s| *s == "resulted").count(), 1, "{resulted:?}");
        // The tube's state is the dispatcher's as last published to the edge.
        let mut tube = Value::Null;
        for _ in 0..100 {
            tube = get(&svc, "/api/v1/tubes/H-0002").await.1;
            if tube["state"]["status"] == "rejected" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(tube["state"]["status"], "rejected", "{tube}");
        assert_eq!(tube["state"]["lab"], "LAB-CH", "{tube}");
    });
}

/// The tube's state once the API shows one, polled up to `polls` times 10 ms
/// apart (its custody may not be there yet at first); null if it never does.
async fn state_once_shown(svc: &Service, barcode: &str, polls: usize) -> Value {
    for _ in 0..polls {
        let (code, tube) = get(svc, &format!("/api/v1/tubes/{barcode}")).await;
        if code == 200 && !tube["state"].is_null() {
            return tube["state"].clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Value::Null
}

/// The API's tube `state` is the dashboard's snapshot, published at most every
/// 250 ms under load. The last events of a burst must still show within that
/// interval, not at the next event: at real speed the next tick is a minute away
/// and no device is talking. Box B is sealed just after the snapshot that shows
/// box A, so its batch falls inside the interval. (Before the trailing publish
/// even box A, the first event after start-up, never showed a state.)
#[test]
fn the_last_event_of_a_burst_shows_in_the_tube_state_without_waiting_for_another() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = Scratch::new("custody-snapshot");
        let svc = start_at(&dir, 1.0).await;
        seal(&svc, "BX-LH-C001-S1", &["S-0001"]).await;
        assert!(
            !state_once_shown(&svc, "S-0001", 300).await.is_null(),
            "box A's tube never showed a state"
        );
        let now = now(&svc).await;
        let body = carry::sealed_box(&now, "LH-C001", &["S-0002"]);
        publish(&svc, "labflight/v1/boxes/BX-LH-C001-S2/events", body).await;
        let sent = std::time::Instant::now();
        assert!(
            !state_once_shown(&svc, "S-0002", 500).await.is_null(),
            "box B's tube showed no state {:?} after it was sealed (the next tick is a minute away)",
            sent.elapsed()
        );
    });
}
