//! Results in and reports out, through the real binary: the results API refuses
//! what it must with a FHIR OperationOutcome and accepts a report once; the hooks
//! deliver every report exactly once and in order to a receiver that was down for
//! two simulated hours — across a `kill -9` of the service between committing a
//! result and sending it; the reference receiver refuses tampered or missigned posts.

mod support;

use rumqttc::{AsyncClient, MqttOptions, QoS};
use serde_json::{Value, json};
use std::time::Duration;
use support::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PH: &str = "tok-lab-ph-0000001";
const CH: &str = "tok-lab-ch-0000002";
const ADMIN: &str = "tok-admin-00000003";

fn config(
    dir: &Scratch,
    speed: f64,
    mqtt_port: u16,
    http_port: u16,
    sink_port: u16,
) -> std::path::PathBuf {
    config_with(dir, speed, mqtt_port, http_port, sink_port, "")
}

/// The service's config with `extra` TOML appended (more hooks).
fn config_with(
    dir: &Scratch,
    speed: f64,
    mqtt_port: u16,
    http_port: u16,
    sink_port: u16,
    extra: &str,
) -> std::path::PathBuf {
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

[[hooks]]
id = "sink"
scope = "all"
url = "http://127.0.0.1:{sink_port}/fhir"
secret = "{SECRET}"
{extra}
"#,
            short_scenario().display(),
            dir.path("svc.db").display()
        ),
    )
    .unwrap();
    path
}

struct Service {
    proc: Proc,
    http: String,
    mqtt_port: u16,
    /// The embedded broker's device key (`mqtt device key:`).
    device_key: String,
}

fn start(config: &std::path::Path, http_port: u16, mqtt_port: u16) -> Service {
    let mut proc = Proc::spawn(&["serve", "--config", config.to_str().unwrap()], &[]);
    let device_key = proc.wait_line("mqtt device key:", Duration::from_secs(60));
    proc.wait_line("dashboard:", Duration::from_secs(60));
    Service {
        proc,
        http: format!("http://127.0.0.1:{http_port}"),
        mqtt_port,
        device_key,
    }
}

/// Seals a box of `barcodes` at LH-C001 over MQTT, as its smart box would.
async fn seal(svc: &Service, box_id: &str, barcodes: &[&str]) {
    let (_, status) = get(&svc.http, "/api/v1/status").await;
    let now = status["now"].as_str().unwrap().to_owned();
    let body = carry::sealed_box(&now, "LH-C001", barcodes);
    // The box logs in as itself (the embedded broker wants client id = username).
    let mut o = MqttOptions::new(box_id, "127.0.0.1", svc.mqtt_port);
    o.set_credentials(
        box_id,
        labflight_mqtt::device_password_from_key(&svc.device_key, box_id).unwrap(),
    );
    o.set_keep_alive(Duration::from_secs(10));
    let (c, mut ev) = AsyncClient::new(o, 10);
    tokio::spawn(async move {
        loop {
            if let Err(e) = ev.poll().await {
                eprintln!("test MQTT client: {e}");
                return;
            }
        }
    });
    c.publish(
        format!("labflight/v1/boxes/{box_id}/events"),
        QoS::AtLeastOnce,
        false,
        body.to_string(),
    )
    .await
    .unwrap();
    // Bounded wait until the service knows every tube.
    for _ in 0..100 {
        let mut all = true;
        for b in barcodes {
            let (code, _) = get(&svc.http, &format!("/api/v1/tubes/{b}")).await;
            all &= code == 200;
        }
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service never saw box {box_id}");
}

/// Puts the box on its way to LAB-PH (the other labs closed by a coordinator, a
/// forced pickup, its carrier loading it) and returns the tokens of (LAB-PH, LAB-CH).
async fn carry_box(svc: &Service, box_id: &str) -> (&'static str, &'static str) {
    let o = device_login(
        svc.mqtt_port,
        &format!("test-carry-{box_id}"),
        &svc.device_key,
    );
    let (c, mut ev) = AsyncClient::new(o, 10);
    let poll = tokio::spawn(async move {
        loop {
            if let Err(e) = ev.poll().await {
                eprintln!("test MQTT client: {e}");
                return;
            }
        }
    });
    carry::only_lab_open(&svc.http, ADMIN, "LAB-PH").await;
    let lab = carry::put_on_its_way(&svc.http, ADMIN, &c, "LH-C001", box_id).await;
    poll.abort();
    assert_eq!(lab, "LAB-PH");
    (PH, CH)
}

async fn get(base: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

async fn post(base: &str, path: &str, token: Option<&str>, body: String) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/fhir+json")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

fn report(report_id: &str, barcode: &str, glucose: Value) -> String {
    json!({
        "resourceType": "DiagnosticReport",
        "identifier": [{"system": "urn:lab:LAB-PH", "value": report_id}],
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
        "contained": [
            {"resourceType": "Specimen", "id": "s", "identifier": [{"system": "urn:labflight:tube", "value": barcode}]},
            {"resourceType": "Observation", "id": "o", "status": "final",
             "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
             "valueQuantity": {"value": glucose, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
             "referenceRange": [{"low": {"value": 3.9, "unit": "mmol/L"}, "high": {"value": 6.1, "unit": "mmol/L"}}]}
        ],
        "specimen": [{"reference": "#s"}],
        "result": [{"reference": "#o"}]
    })
    .to_string()
}

fn outcome_code(v: &Value) -> &str {
    assert_eq!(v["resourceType"], "OperationOutcome", "{v}");
    v["issue"][0]["code"].as_str().unwrap_or_default()
}

#[test]
fn results_api_refuses_with_operation_outcomes_and_accepts_a_report_once() {
    let dir = Scratch::new("results");
    let (mqtt_port, http_port, sink_port) = (free_port(), free_port(), free_port());
    let cfg = config(&dir, 60.0, mqtt_port, http_port, sink_port);
    let svc = start(&cfg, http_port, mqtt_port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        seal(&svc, "BX-LH-C001-T1", &["T-0001"]).await;
        let base = svc.http.as_str();
        let good = report("R-1", "T-0001", json!(5.4));
        // Before the lab has the tube: refused.
        let (code, v) = post(base, "/api/v1/lab/results", Some(PH), good.clone()).await;
        assert_eq!(code, 409, "{v}");
        assert_eq!(outcome_code(&v), "business-rule");
        let (ours, theirs) = carry_box(&svc, "BX-LH-C001-T1").await;
        let (code, _) = post(
            base,
            "/api/v1/lab/tubes/T-0001/received",
            Some(ours),
            String::new(),
        )
        .await;
        assert_eq!(code, 204);
        let cases: Vec<(Option<&str>, String, u16, &str)> = vec![
            (None, good.clone(), 401, "login"),
            (Some("nope"), good.clone(), 403, "forbidden"),
            (Some(ours), "{not json".into(), 400, "structure"),
            (
                Some(ours),
                good.replace(
                    r#""identifier":[{"system":"urn:lab:LAB-PH","value":"R-1"}],"#,
                    "",
                ),
                400,
                "invalid",
            ),
            (
                Some(ours),
                report("R-2", "T-0001", json!("abc")),
                400,
                "invalid",
            ),
            (
                Some(ours),
                report("R-3", "T-0001", json!(500.0)),
                422,
                "business-rule",
            ),
            (
                Some(ours),
                report("R-4", "T-9999", json!(5.0)),
                404,
                "not-found",
            ),
            (
                Some(theirs),
                report("R-5", "T-0001", json!(5.0)),
                409,
                "business-rule",
            ),
        ];
        for (token, body, want, code_want) in cases {
            let (code, v) = post(base, "/api/v1/lab/results", token, body.clone()).await;
            assert_eq!(code, want, "{} → {v}", &body[..body.len().min(120)]);
            assert_eq!(outcome_code(&v), code_want, "{v}");
            assert!(
                !v["issue"][0]["diagnostics"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty(),
                "{v}"
            );
        }
        // Nothing half-stored: the tube still waits for its result.
        let (_, tube) = get(base, "/api/v1/tubes/T-0001").await;
        let steps: Vec<&str> = tube["custody"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["step"].as_str().unwrap())
            .collect();
        assert_eq!(steps.last(), Some(&"received_at_lab"), "{tube}");
        let (code, v) = post(base, "/api/v1/lab/results", Some(ours), good.clone()).await;
        assert_eq!(code, 201, "{v}");
        let (code, v) = post(base, "/api/v1/lab/results", Some(ours), good.clone()).await;
        assert_eq!(code, 200, "posting the same report again is harmless: {v}");
        let (_, tube) = get(base, "/api/v1/tubes/T-0001").await;
        let resulted = tube["custody"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["step"] == "resulted")
            .count();
        assert_eq!(resulted, 1, "{tube}");
        // The same report id for another tube is a conflict.
        let (code, v) = post(
            base,
            "/api/v1/lab/results",
            Some(ours),
            report("R-1", "T-0002", json!(5.0)),
        )
        .await;
        assert_eq!((code, outcome_code(&v)), (409, "conflict"), "{v}");
        // Rejections need a reason; hooks need the admin token.
        let (code, v) = post(
            base,
            "/api/v1/lab/tubes/T-0001/rejected",
            Some(ours),
            "{}".into(),
        )
        .await;
        assert_eq!(code, 400, "{v}");
        let (code, _) = post(
            base,
            "/api/v1/hooks/deliveries/x/resend",
            Some(ours),
            String::new(),
        )
        .await;
        assert_eq!(code, 403);
    });
}

/// The deliveries the sink holds, as (webhook id, resource type).
async fn sink_received(port: u16) -> Vec<(String, String)> {
    let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/received")).await else {
        return Vec::new();
    };
    let v: Value = r.json().await.unwrap_or(Value::Null);
    v.as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["webhook_id"].as_str().unwrap_or_default().to_owned(),
                d["resource_type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn receiver_down_two_simulated_hours_and_a_kill_9_then_every_report_once_in_order() {
    let dir = Scratch::new("hooks");
    let (mqtt_port, http_port, sink_port) = (free_port(), free_port(), free_port());
    // 600×: two simulated hours are twelve seconds.
    let cfg = config(&dir, 600.0, mqtt_port, http_port, sink_port);
    let mut svc = start(&cfg, http_port, mqtt_port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let barcodes = ["T-0101", "T-0102", "T-0103"];
    rt.block_on(async {
        seal(&svc, "BX-LH-C001-T2", &barcodes).await;
        let (ours, _) = carry_box(&svc, "BX-LH-C001-T2").await;
        for b in barcodes {
            let (code, _) = post(
                &svc.http,
                &format!("/api/v1/lab/tubes/{b}/received"),
                Some(ours),
                String::new(),
            )
            .await;
            assert_eq!(code, 204);
            let (code, v) = post(
                &svc.http,
                "/api/v1/lab/results",
                Some(ours),
                report(&format!("R-{b}"), b, json!(5.0)),
            )
            .await;
            assert_eq!(code, 201, "{v}");
        }
    });
    // Committed, not yet delivered (the receiver is down): kill -9, restart.
    std::thread::sleep(Duration::from_secs(2));
    svc.proc.kill9();
    let svc = start(&cfg, http_port, mqtt_port);
    std::thread::sleep(Duration::from_secs(10));
    let mut sink = Proc::spawn(
        &[
            "station-sink",
            "--port",
            &sink_port.to_string(),
            "--secret",
            SECRET,
        ],
        &[],
    );
    sink.wait_line("station sink:", Duration::from_secs(30));
    rt.block_on(async {
        // One "received" status and one result per tube.
        let want = 2 * barcodes.len();
        let mut got = Vec::new();
        for _ in 0..600 {
            got = sink_received(sink_port).await;
            if got.len() >= want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(got.len(), want, "{got:?}");
        let mut ids: Vec<&String> = got.iter().map(|g| &g.0).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), want, "each delivery exactly once: {got:?}");
        // In order: the deliveries' places (journal seq, index within the event) rise.
        let seqs: Vec<(i64, i64)> = got
            .iter()
            .map(|g| {
                let mut f = g.0.split('_').skip(2).map(|s| s.parse::<i64>().unwrap());
                (f.next().unwrap(), f.next().unwrap())
            })
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
        let (_, deliveries) = reqwest::Client::new()
            .get(format!("{}/api/v1/hooks/deliveries", svc.http))
            .bearer_auth(ADMIN)
            .send()
            .await
            .map(|r| (r.status().as_u16(), r))
            .unwrap();
        let deliveries: Value = deliveries.json().await.unwrap();
        let first = &deliveries[0];
        assert_eq!(first["delivery"]["status"], "delivered", "{first}");
        assert!(
            first["attempts"].as_array().unwrap().len() >= 3,
            "retried while the receiver was down: {first}"
        );
        // The centre has the results: they count as reported.
        for b in barcodes {
            let mut reported = false;
            for _ in 0..50 {
                let (_, tube) = get(&svc.http, &format!("/api/v1/tubes/{b}")).await;
                reported = tube["custody"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["step"] == "reported");
                if reported {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(
                reported,
                "tube {b} counts as reported once its result is delivered"
            );
        }
    });
}

#[test]
fn the_reference_receiver_refuses_tampered_and_missigned_posts() {
    let port = free_port();
    let mut sink = Proc::spawn(
        &[
            "station-sink",
            "--port",
            &port.to_string(),
            "--secret",
            SECRET,
        ],
        &[],
    );
    sink.wait_line("station sink:", Duration::from_secs(30));
    let secret = labflight_hooks::signature::Secret::parse(SECRET).unwrap();
    let other =
        labflight_hooks::signature::Secret::parse("whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCEhIQ==")
            .unwrap();
    let now = chrono::Utc::now().timestamp();
    let body = br#"{"resourceType":"Bundle","type":"collection"}"#;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let send = |secret: &labflight_hooks::signature::Secret,
                    id: &str,
                    ts: i64,
                    body: &[u8],
                    signed: &[u8]| {
            let headers = labflight_hooks::signature::headers(secret, id, ts, signed);
            let mut req = reqwest::Client::new()
                .post(format!("http://127.0.0.1:{port}/fhir"))
                .body(body.to_vec());
            for (k, v) in headers {
                req = req.header(k, v);
            }
            async move { req.send().await.unwrap().status().as_u16() }
        };
        assert_eq!(send(&secret, "msg_1", now, body, body).await, 204);
        assert_eq!(
            send(&secret, "msg_1", now, body, body).await,
            200,
            "a repeat is kept once"
        );
        let tampered = br#"{"resourceType":"Bundle","type":"collection","x":1}"#;
        assert_eq!(
            send(&secret, "msg_2", now, tampered, body).await,
            401,
            "tampered body"
        );
        assert_eq!(
            send(&other, "msg_3", now, body, body).await,
            401,
            "wrong secret"
        );
        assert_eq!(
            send(&secret, "msg_4", now - 3600, body, body).await,
            401,
            "stale"
        );
        let received = sink_received(port).await;
        assert_eq!(received.len(), 1, "{received:?}");
    });
}

#[test]
fn an_hl7_v2_subscriber_gets_an_oru_r01_over_mllp() {
    use std::io::{Read, Write};
    let dir = Scratch::new("hl7");
    let (mqtt_port, http_port, sink_port) = (free_port(), free_port(), free_port());
    // The centre's HL7 v2 interface engine: takes framed messages, answers AA.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mllp_port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(20) {
            let Ok(mut conn) = conn else { return };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = conn.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(m) = labflight_hooks::hl7::unframe(&buf).map(str::to_owned) {
                    let ack = labflight_hooks::hl7::ack(&m, "AA");
                    let _ = conn.write_all(&labflight_hooks::hl7::frame(&ack));
                    let _ = tx.send(m);
                    buf.clear();
                }
            }
        }
    });
    let extra = format!(
        "\n[[hooks]]\nid = \"hl7\"\nscope = \"station:LH-C001\"\nurl = \"mllp://127.0.0.1:{mllp_port}\"\n"
    );
    let cfg = config_with(&dir, 60.0, mqtt_port, http_port, sink_port, &extra);
    let svc = start(&cfg, http_port, mqtt_port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        seal(&svc, "BX-LH-C001-T3", &["T-0301"]).await;
        let (ours, _) = carry_box(&svc, "BX-LH-C001-T3").await;
        let (code, _) = post(
            &svc.http,
            "/api/v1/lab/tubes/T-0301/received",
            Some(ours),
            String::new(),
        )
        .await;
        assert_eq!(code, 204);
        let (code, v) = post(
            &svc.http,
            "/api/v1/lab/results",
            Some(ours),
            report("R-301", "T-0301", json!(7.5)),
        )
        .await;
        assert_eq!(code, 201, "{v}");
        let message = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("an HL7 message within 20 s");
        let segs: Vec<&str> = message.split('\r').collect();
        assert!(
            segs[0].starts_with("MSH|") && segs[0].contains("|ORU^R01"),
            "{message}"
        );
        let obx = segs
            .iter()
            .find(|s| s.starts_with("OBX|"))
            .expect("an OBX segment");
        assert!(
            obx.contains("|2345-7^") && obx.contains("|7.5|") && obx.contains("|H|"),
            "{obx}"
        );
        assert!(message.contains("T-0301"), "{message}");
        assert!(
            !message.contains("Bundle"),
            "status notices go as FHIR only"
        );
    });
}

/// A tiny HTTP endpoint answering from a script: each request gets the next
/// `(status line, extra header)`; the last entry repeats. Returns its port.
fn scripted_endpoint(script: Vec<(&'static str, &'static str)>) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (i, conn) in listener.incoming().take(50).enumerate() {
            let Ok(mut conn) = conn else { return };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            // Read the head, then the body by its content-length.
            while let Ok(n) = conn.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break;
                    }
                }
            }
            let (status, header) = script[i.min(script.len() - 1)];
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\n{header}content-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    port
}

#[test]
fn retry_after_is_honoured_410_disables_and_a_delivery_can_be_resent() {
    let dir = Scratch::new("retry");
    let (mqtt_port, http_port, sink_port) = (free_port(), free_port(), free_port());
    let busy = scripted_endpoint(vec![
        ("503 Service Unavailable", "retry-after: 2\r\n"),
        ("200 OK", ""),
    ]);
    let gone = scripted_endpoint(vec![("410 Gone", "")]);
    let extra = format!(
        "\n[[hooks]]\nid = \"busy\"\nscope = \"all\"\nurl = \"http://127.0.0.1:{busy}/fhir\"\nsecret = \"{SECRET}\"\n\n[[hooks]]\nid = \"gone\"\nscope = \"station:LH-C001\"\nurl = \"http://127.0.0.1:{gone}/fhir\"\nsecret = \"{SECRET}\"\n"
    );
    // 600×: Retry-After 2 s asks for 20 simulated minutes.
    let cfg = config_with(&dir, 600.0, mqtt_port, http_port, sink_port, &extra);
    let svc = start(&cfg, http_port, mqtt_port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        seal(&svc, "BX-LH-C001-T4", &["T-0401"]).await;
        let (ours, _) = carry_box(&svc, "BX-LH-C001-T4").await;
        let (code, _) = post(
            &svc.http,
            "/api/v1/lab/tubes/T-0401/received",
            Some(ours),
            String::new(),
        )
        .await;
        assert_eq!(code, 204);
        let admin = |path: String| {
            let url = format!("{}{path}", svc.http);
            async move {
                let r = reqwest::Client::new()
                    .get(url)
                    .bearer_auth(ADMIN)
                    .send()
                    .await
                    .unwrap();
                r.json::<Value>().await.unwrap()
            }
        };
        // Bounded wait for both endpoints to have answered.
        let mut deliveries = Value::Null;
        for _ in 0..300 {
            deliveries = admin("/api/v1/hooks/deliveries".into()).await;
            let busy_done = deliveries.as_array().unwrap().iter().any(|d| {
                d["delivery"]["subscription"] == "busy" && d["delivery"]["status"] == "delivered"
            });
            let subs = admin("/api/v1/hooks/subscriptions".into()).await;
            let gone_off = subs
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["id"] == "gone" && s["active"] == false);
            if busy_done && gone_off {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let busy_item = deliveries
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["delivery"]["subscription"] == "busy")
            .unwrap_or_else(|| panic!("{deliveries}"))
            .clone();
        assert_eq!(busy_item["delivery"]["status"], "delivered", "{busy_item}");
        let attempts = busy_item["attempts"].as_array().unwrap();
        assert_eq!(attempts[0]["status"], 503, "{busy_item}");
        let t =
            |a: &Value| chrono::DateTime::parse_from_rfc3339(a["at"].as_str().unwrap()).unwrap();
        let waited = t(&attempts[1]) - t(&attempts[0]);
        assert!(
            waited >= chrono::Duration::minutes(19),
            "Retry-After honoured: waited {waited}"
        );
        let subs = admin("/api/v1/hooks/subscriptions".into()).await;
        let gone_sub = subs
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "gone")
            .unwrap()
            .clone();
        assert_eq!(gone_sub["active"], false, "{subs}");
        assert!(
            gone_sub["disabled_reason"]
                .as_str()
                .unwrap_or_default()
                .contains("410"),
            "{gone_sub}"
        );
        // Re-send: the same webhook id goes out again.
        let id = busy_item["delivery"]["webhook_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/hooks/deliveries/{id}/resend", svc.http))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        let mut again = 0;
        for _ in 0..100 {
            let d = admin("/api/v1/hooks/deliveries?barcode=T-0401".to_string()).await;
            again = d
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["delivery"]["webhook_id"] == id.as_str())
                .map_or(0, |d| d["attempts"].as_array().unwrap().len());
            if again > attempts.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(again > attempts.len(), "re-sent: {again} attempts");
    });
}
