//! Result delivery that no receiver can break, through the real binary: hostile
//! receivers (absurd, negative and garbage `Retry-After`, a 50 MB body, a slow-loris,
//! a redirect, a reset, TLS to a plain port) misbehave while a well-behaved one gets
//! every delivery once, in order and promptly, and `/metrics` shows the failures; a
//! `kill -9` between a receiver's 200 and its commit re-sends the same webhook-id and
//! reports the tube once; a result recorded as delivered whose `result_reported` was
//! lost in a crash is reported at start-up, once; subscriptions answer 409 on a
//! taken id, are changed with PUT (audited), and deleting one dead-letters its
//! queue visibly; the allow-list holds ports too.

mod support;

use rumqttc::{AsyncClient, QoS};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use support::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PH: &str = "tok-lab-ph-0000001";

/// The service's config: lab LAB-PH, the admin token, SQLite in `dir`, and `hooks`
/// as `(id, url)` subscribed to everything, then `extra` TOML.
fn config(
    dir: &Scratch,
    mqtt_port: u16,
    http_port: u16,
    hooks: &[(&str, String)],
    extra: &str,
) -> std::path::PathBuf {
    let path = dir.path("labflight.toml");
    let mut text = format!(
        "scenario = \"{}\"\nspeed = 600.0\nmqtt_port = {mqtt_port}\nhttp = \"127.0.0.1:{http_port}\"\n\
         database_url = \"sqlite://{}\"\nadmin_token = \"{ADMIN_TOKEN}\"\n{extra}\n[labs]\nLAB-PH = \"{PH}\"\n",
        short_scenario().display(),
        dir.path("svc.db").display()
    );
    for (id, url) in hooks {
        text.push_str(&format!(
            "\n[[hooks]]\nid = \"{id}\"\nscope = \"all\"\nurl = \"{url}\"\nsecret = \"{SECRET}\"\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn start(config: &std::path::Path) -> Proc {
    let mut proc = Proc::spawn(&["serve", "--config", config.to_str().unwrap()], &[]);
    proc.wait_line("dashboard:", Duration::from_secs(60));
    proc
}

fn http_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/fhir")
}

/// One request as a receiver reads it.
#[derive(Clone, Debug)]
struct Request {
    webhook_id: String,
    body: String,
}

/// Reads a request's head and its body by content-length (bounded: 1 MB, 10 s).
fn read_request(conn: &mut TcpStream) -> Option<Request> {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while buf.len() < 1 << 20 {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let header = |name: &str| {
                head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_owned())
                })
            };
            let len: usize = header("content-length").and_then(|v| v.parse().ok())?;
            if body.len() >= len {
                return Some(Request {
                    webhook_id: header("webhook-id").unwrap_or_default(),
                    body: body.to_owned(),
                });
            }
        }
    }
    None
}

/// A receiver on a free port: each connection gets its own thread running
/// `handle` (at most 400 connections). Returns the port.
fn receiver(handle: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        for conn in listener.incoming().take(400) {
            let Ok(conn) = conn else { return };
            let handle = Arc::clone(&handle);
            std::thread::spawn(move || handle(conn));
        }
    });
    port
}

/// Answers every request with `status` and `headers`, no body.
fn answering(status: &'static str, headers: &'static str) -> u16 {
    receiver(move |mut conn| {
        if read_request(&mut conn).is_some() {
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\n{headers}content-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    })
}

/// A well-behaved receiver: 204 to everything, remembering what came in order.
fn good_receiver() -> (u16, Arc<Mutex<Vec<Request>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&got);
    let port = receiver(move |mut conn| {
        if let Some(r) = read_request(&mut conn) {
            seen.lock().unwrap().push(r);
            let _ = conn.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    (port, got)
}

async fn post(base: &str, path: &str, token: &str, body: String) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/fhir+json")
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

async fn send_json(method: reqwest::Method, base: &str, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

fn get_json(http: &str, path: &str) -> Value {
    let (code, body) = http_get(http, path);
    assert_eq!(code, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// Seals a box of `barcodes` at LH-C001 over MQTT, as its smart box would, and
/// waits (bounded) until the service knows every tube.
async fn seal(http: &str, mqtt_port: u16, device_key: &str, box_id: &str, barcodes: &[String]) {
    let status = get_json(http, "/api/v1/status");
    let now = status["now"].as_str().unwrap().to_owned();
    let barcodes: Vec<&str> = barcodes.iter().map(String::as_str).collect();
    let body = carry::sealed_box(&now, "LH-C001", &barcodes);
    // The box logs in as itself.
    let (c, mut ev) = AsyncClient::new(device_login(mqtt_port, box_id, device_key), 10);
    tokio::spawn(async move { while ev.poll().await.is_ok() {} });
    let base = format!("http://{http}");
    // Every box goes to LAB-PH, the lab this file's token is for.
    carry::only_lab_open(&base, ADMIN_TOKEN, "LAB-PH").await;
    c.publish(
        format!("labflight/v1/boxes/{box_id}/events"),
        QoS::AtLeastOnce,
        false,
        body.to_string(),
    )
    .await
    .unwrap();
    // Bounded at 60 s: a loaded CI machine was seen to need more than 20.
    for _ in 0..600 {
        if barcodes
            .iter()
            .all(|b| http_get(http, &format!("/api/v1/tubes/{b}")).0 == 200)
        {
            // On its way to the lab, as its drone or van reports loading it.
            let lab = carry::put_on_its_way(&base, ADMIN_TOKEN, &c, "LH-C001", box_id).await;
            assert_eq!(lab, "LAB-PH");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service never saw box {box_id}");
}

fn report(report_id: &str, barcode: &str) -> String {
    json!({
        "resourceType": "DiagnosticReport",
        "identifier": [{"system": "urn:lab:LAB-PH", "value": report_id}],
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
        "contained": [
            {"resourceType": "Specimen", "id": "s", "identifier": [{"system": "urn:labflight:tube", "value": barcode}]},
            {"resourceType": "Observation", "id": "o", "status": "final",
             "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
             "valueQuantity": {"value": 5.0, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}}
        ],
        "specimen": [{"reference": "#s"}],
        "result": [{"reference": "#o"}]
    })
    .to_string()
}

/// The lab receives `barcode` and posts its result.
async fn result_for(http: &str, barcode: &str) {
    let base = format!("http://{http}");
    let (code, v) = post(
        &base,
        &format!("/api/v1/lab/tubes/{barcode}/received"),
        PH,
        String::new(),
    )
    .await;
    assert_eq!(code, 204, "{v}");
    let (code, v) = post(
        &base,
        "/api/v1/lab/results",
        PH,
        report(&format!("R-{barcode}"), barcode),
    )
    .await;
    assert_eq!(code, 201, "{v}");
}

/// How many times the tube passed `step`, as the service tells.
fn steps(http: &str, barcode: &str, step: &str) -> usize {
    let tube = get_json(http, &format!("/api/v1/tubes/{barcode}"));
    tube["custody"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == step)
        .count()
}

/// Waits (bounded) until `check` holds.
fn eventually(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("not within {within:?}: {what}");
}

/// The deliveries listed for a subscription.
fn deliveries_of(http: &str, sub: &str) -> Vec<Value> {
    get_json(http, "/api/v1/hooks/deliveries")
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["delivery"]["subscription"] == sub)
        .cloned()
        .collect()
}

#[test]
fn hostile_receivers_cannot_stop_or_delay_a_well_behaved_one() {
    let dir = Scratch::new("fault-hostile");
    let (mqtt_port, http_port) = (free_port(), free_port());
    let (good, got) = good_receiver();
    // The reproduction: a 503 with an absurd Retry-After.
    let huge_retry = answering("503 Service Unavailable", "retry-after: 99999999999999\r\n");
    let negative_retry = answering("503 Service Unavailable", "retry-after: -5\r\n");
    let garbage_retry = answering("429 Too Many Requests", "retry-after: soon, maybe\r\n");
    let date_retry = answering(
        "503 Service Unavailable",
        "retry-after: Fri, 31 Dec 9999 23:59:59 GMT\r\n",
    );
    // 50 MB of body after a 500 (written until the service hangs up).
    let huge_body = receiver(|mut conn| {
        if read_request(&mut conn).is_none() {
            return;
        }
        let _ = write!(
            conn,
            "HTTP/1.1 500 Internal Server Error\r\ncontent-length: {}\r\n\r\n",
            50 << 20
        );
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..(50 << 20) / chunk.len() {
            if conn.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    // Slow-loris: a status line, then a byte of header a second, never finishing.
    let slow_loris = receiver(|mut conn| {
        if read_request(&mut conn).is_none() {
            return;
        }
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nx-slow: ");
        for _ in 0..60 {
            std::thread::sleep(Duration::from_secs(1));
            if conn.write_all(b"z").is_err() {
                return;
            }
        }
    });
    // A redirect to another allowed receiver: must not be followed.
    let to_good: &'static str =
        Box::leak(format!("location: {}\r\n", http_url(good)).into_boxed_str());
    let redirect = answering("307 Temporary Redirect", to_good);
    // Reset: closed with the request unread, so the kernel answers RST.
    let reset = receiver(|conn| {
        std::thread::sleep(Duration::from_millis(50));
        drop(conn);
    });
    // TLS to a port that speaks plain HTTP: it answers the ClientHello with a 400.
    let plain = receiver(|mut conn| {
        let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
        let mut hello = [0u8; 1024];
        if conn.read(&mut hello).is_ok_and(|n| n > 0) {
            let _ = conn.write_all(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    let hooks = [
        ("a-huge-retry", http_url(huge_retry)),
        ("a-negative-retry", http_url(negative_retry)),
        ("a-garbage-retry", http_url(garbage_retry)),
        ("a-date-retry", http_url(date_retry)),
        ("a-huge-body", http_url(huge_body)),
        ("a-slow-loris", http_url(slow_loris)),
        ("a-redirect", http_url(redirect)),
        ("a-reset", http_url(reset)),
        ("a-tls", format!("https://127.0.0.1:{plain}/fhir")),
        // Last in every listing, as the old sequential loop would reach it.
        ("z-good", http_url(good)),
    ];
    let cfg = config(&dir, mqtt_port, http_port, &hooks, "");
    let mut svc = start(&cfg);
    let http = format!("127.0.0.1:{http_port}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let barcodes: Vec<String> = (1..=4).map(|i| format!("T-F{i:03}")).collect();
    let mut latencies = Vec::new();
    rt.block_on(async {
        seal(
            &http,
            mqtt_port,
            &printed_device_key(&svc).unwrap(),
            "BX-LH-C001-F1",
            &barcodes,
        )
        .await;
        for b in &barcodes {
            result_for(&http, b).await;
            // The good receiver has this result promptly, whatever the others do
            // (a slow-loris holds each of its requests for the 10 s timeout).
            let posted = Instant::now();
            let deadline = posted + Duration::from_secs(30);
            loop {
                let has =
                    got.lock().unwrap().iter().any(|r| {
                        r.body.contains("DiagnosticReport") && r.body.contains(b.as_str())
                    });
                if has {
                    latencies.push(posted.elapsed());
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{b} never reached the good receiver"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    for l in &latencies {
        assert!(
            *l < Duration::from_secs(8),
            "one bad endpoint delayed the good one: {latencies:?}"
        );
    }
    // Every delivery the good receiver is owed: a `received` notice per tube (one
    // event for the box) and a result per tube — each webhook-id once, in order.
    let owed = deliveries_of(&http, "z-good");
    assert_eq!(owed.len(), 2 * barcodes.len(), "{owed:?}");
    eventually(Duration::from_secs(30), "all delivered to z-good", || {
        deliveries_of(&http, "z-good")
            .iter()
            .all(|d| d["delivery"]["status"] == "delivered")
    });
    let received = got.lock().unwrap().clone();
    let ids: Vec<&str> = received.iter().map(|r| r.webhook_id.as_str()).collect();
    assert_eq!(ids.len(), owed.len(), "each delivered once: {ids:?}");
    assert!(
        ids.iter().all(|id| id.ends_with("_z-good")),
        "the redirect was followed: {ids:?}"
    );
    let places: Vec<(i64, i64)> = owed
        .iter()
        .map(|d| {
            (
                d["delivery"]["seq"].as_i64().unwrap(),
                d["delivery"]["idx"].as_i64().unwrap(),
            )
        })
        .collect();
    let owed_ids: Vec<&str> = owed
        .iter()
        .map(|d| d["delivery"]["webhook_id"].as_str().unwrap())
        .collect();
    assert!(places.windows(2).all(|w| w[0] < w[1]), "{places:?}");
    assert_eq!(ids, owed_ids, "in the outbox's order");

    // The slow-loris's first attempt ends by the request timeout.
    eventually(Duration::from_secs(40), "the slow-loris timed out", || {
        deliveries_of(&http, "a-slow-loris")
            .iter()
            .any(|d| !d["attempts"].as_array().unwrap().is_empty())
    });
    // What each hostile endpoint's first item recorded.
    let first_error = |sub: &str| -> (Value, String) {
        let d = deliveries_of(&http, sub);
        let first = d
            .iter()
            .min_by_key(|d| {
                (
                    d["delivery"]["seq"].as_i64().unwrap(),
                    d["delivery"]["idx"].as_i64().unwrap(),
                )
            })
            .unwrap_or_else(|| panic!("no delivery for {sub}"))
            .clone();
        let error = first["attempts"][0]["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (first, error)
    };
    let (item, error) = first_error("a-huge-retry");
    assert_eq!(item["delivery"]["status"], "pending", "{item}");
    assert!(error.contains("clamped"), "{error}");
    let t = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let wait = t(&item["delivery"]["next_attempt_at"]) - t(&item["attempts"][0]["at"]);
    assert!(
        wait >= chrono::Duration::hours(8) && wait <= chrono::Duration::minutes(480 * 12 / 10 + 1),
        "Retry-After clamped to the longest backoff step: waits {wait}"
    );
    for sub in ["a-negative-retry", "a-garbage-retry"] {
        let (_, error) = first_error(sub);
        assert!(error.contains("ignored"), "{sub}: {error}");
    }
    let (_, error) = first_error("a-date-retry");
    assert!(error.contains("clamped"), "{error}");
    let (_, error) = first_error("a-huge-body");
    assert!(error.starts_with("HTTP 500: xxx"), "{error}");
    assert!(error.len() < 1000, "bounded: {} bytes", error.len());
    let (_, error) = first_error("a-redirect");
    assert!(
        error.contains("redirect to") && error.contains("not followed"),
        "{error}"
    );

    // The service lives, and /metrics tells the failures by endpoint and kind.
    assert!(svc.child.try_wait().unwrap().is_none(), "the service died");
    let (code, metrics) = http_get(&http, "/metrics");
    assert_eq!(code, 200);
    for (endpoint, kind) in [
        ("a-huge-retry", "status_5xx"),
        ("a-negative-retry", "status_5xx"),
        ("a-garbage-retry", "status_4xx"),
        ("a-huge-body", "status_5xx"),
        ("a-slow-loris", "timeout"),
        ("a-redirect", "redirect"),
        ("a-tls", "tls"),
    ] {
        let line =
            format!("labflight_delivery_failures_total{{endpoint=\"{endpoint}\",kind=\"{kind}\"}}");
        assert!(metrics.contains(&line), "no {line} in:\n{metrics}");
    }
    assert!(
        metrics.contains("labflight_delivery_failures_total{endpoint=\"a-reset\""),
        "{metrics}"
    );
    assert!(!metrics.contains("endpoint=\"z-good\""), "{metrics}");
    assert!(
        metrics.contains("labflight_delivery_task_panics_total 0"),
        "{metrics}"
    );
    let heartbeat: i64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("labflight_delivery_worker_heartbeat "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no heartbeat in:\n{metrics}"));
    assert!(
        (chrono::Utc::now().timestamp() - heartbeat).abs() < 30,
        "heartbeat {heartbeat}"
    );
    let oldest: i64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("labflight_delivery_oldest_pending_seconds "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no oldest-pending gauge in:\n{metrics}"));
    assert!(oldest > 0, "hostile endpoints hold pending items: {oldest}");
    svc.kill9();
}

#[test]
fn kill_9_between_a_receivers_200_and_its_commit_resends_the_same_id_and_reports_once() {
    let dir = Scratch::new("fault-k9");
    let (mqtt_port, http_port) = (free_port(), free_port());
    let service_pid = Arc::new(AtomicU32::new(0));
    let (killed_tx, killed_rx) = mpsc::channel::<String>();
    let killed_tx = Mutex::new(Some(killed_tx));
    let got = Arc::new(Mutex::new(Vec::<Request>::new()));
    let (pid, seen) = (Arc::clone(&service_pid), Arc::clone(&got));
    let port = receiver(move |mut conn| {
        let Some(r) = read_request(&mut conn) else {
            return;
        };
        seen.lock().unwrap().push(r.clone());
        let first_result =
            r.body.contains("DiagnosticReport") && killed_tx.lock().unwrap().as_ref().is_some();
        if !first_result {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            return;
        }
        // Freeze the service, answer 200, kill it: the reply is in its socket and
        // it can never record it.
        let pid = pid.load(Ordering::SeqCst).to_string();
        let signal = |s: &str| {
            let _ = std::process::Command::new("kill")
                .args([s, pid.as_str()])
                .status();
        };
        signal("-STOP");
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        let _ = conn.flush();
        std::thread::sleep(Duration::from_millis(100));
        signal("-KILL");
        if let Some(tx) = killed_tx.lock().unwrap().take() {
            let _ = tx.send(r.webhook_id);
        }
    });
    let cfg = config(&dir, mqtt_port, http_port, &[("k9", http_url(port))], "");
    let mut svc = start(&cfg);
    service_pid.store(svc.child.id(), Ordering::SeqCst);
    let http = format!("127.0.0.1:{http_port}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let barcode = "T-K901".to_owned();
    rt.block_on(async {
        seal(
            &http,
            mqtt_port,
            &printed_device_key(&svc).unwrap(),
            "BX-LH-C001-K9",
            std::slice::from_ref(&barcode),
        )
        .await;
        result_for(&http, &barcode).await;
    });
    let id = killed_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the result reached the receiver");
    assert!(
        !svc.wait_exit(Duration::from_secs(10)),
        "killed, not exited"
    );
    drop(svc);
    let svc = start(&cfg);
    let times = |id: &str| {
        got.lock()
            .unwrap()
            .iter()
            .filter(|r| r.webhook_id == id)
            .count()
    };
    // Generous: on a loaded machine the restart and its first delivery round wait
    // for the CPU (one 30 s miss was seen with two test binaries and a build running).
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while times(&id) < 2 {
        if std::time::Instant::now() > deadline {
            // Say what the service holds, so a failure explains itself.
            let (code, deliveries) = http_get(&http, "/api/v1/hooks/deliveries");
            let seen: Vec<String> = got
                .lock()
                .unwrap()
                .iter()
                .map(|r| r.webhook_id.clone())
                .collect();
            panic!(
                "not within 90 s: the result {id} was not sent again; requests seen: {seen:?}; \
                 deliveries ({code}): {deliveries}"
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eventually(
        Duration::from_secs(30),
        "the tube counts as reported",
        || steps(&http, &barcode, "reported") >= 1,
    );
    // Give a duplicate report every chance to show, then count.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(times(&id), 2, "the same webhook-id twice, no more");
    assert_eq!(steps(&http, &barcode, "reported"), 1);
    let reported = get_json(&http, "/api/v1/hooks/deliveries")
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["delivery"]["webhook_id"] == id.as_str())
        .map(|d| d["delivery"]["status"].clone())
        .collect::<Vec<_>>();
    assert_eq!(reported, [json!("delivered")]);
    drop(svc);
    // The journal holds exactly one result_reported for the tube.
    let events = rt.block_on(async {
        let store =
            labflight_store::Store::open(&format!("sqlite://{}", dir.path("svc.db").display()))
                .await
                .unwrap();
        store.journal().await.unwrap()
    });
    let n = events
        .iter()
        .filter(|e| {
            matches!(&e.stamped.event, labflight_core::Event::ResultReported { barcode: b } if b.as_str() == barcode)
        })
        .count();
    assert_eq!(n, 1, "result_reported once in the journal");
}

#[test]
fn a_delivery_recorded_but_not_reported_before_a_crash_is_reported_at_start_up_once() {
    let dir = Scratch::new("fault-reconcile");
    let (mqtt_port, http_port) = (free_port(), free_port());
    // Nothing listens there: the result stays pending.
    let down = free_port();
    let cfg = config(&dir, mqtt_port, http_port, &[("down", http_url(down))], "");
    let mut svc = start(&cfg);
    let http = format!("127.0.0.1:{http_port}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let barcode = "T-R001".to_owned();
    rt.block_on(async {
        seal(
            &http,
            mqtt_port,
            &printed_device_key(&svc).unwrap(),
            "BX-LH-C001-R1",
            std::slice::from_ref(&barcode),
        )
        .await;
        let base = format!("http://{http}");
        let (code, _) = post(
            &base,
            &format!("/api/v1/lab/tubes/{barcode}/received"),
            PH,
            String::new(),
        )
        .await;
        assert_eq!(code, 204);
        // The lab's LIS sends the patient along: dropped, and said so.
        let mut body: Value = serde_json::from_str(&report("R-R001", &barcode)).unwrap();
        body["contained"].as_array_mut().unwrap().push(json!({
            "resourceType": "Patient", "id": "p",
            "name": [{"family": "Synthetic", "given": ["Testpatient"]}],
            "identifier": [{"value": "SYNTHETIC-PATIENT-0001"}]
        }));
        body["subject"] = json!({"reference": "#p", "display": "Testpatient Synthetic"});
        let (code, v) = post(&base, "/api/v1/lab/results", PH, body.to_string()).await;
        assert_eq!(code, 201, "{v}");
        let said = v["issue"][0]["diagnostics"].as_str().unwrap();
        assert!(
            said.contains("patient data dropped")
                && said.contains("DiagnosticReport.contained[2] (Patient)"),
            "{said}"
        );
    });
    svc.kill9();
    drop(svc);
    // The crash the worker's order allows: the store has the delivery recorded, the
    // core never journaled its result_reported.
    let url = format!("sqlite://{}", dir.path("svc.db").display());
    rt.block_on(async {
        let store = labflight_store::Store::open(&url).await.unwrap();
        let item = store
            .outbox(Some(&barcode))
            .await
            .unwrap()
            .into_iter()
            .find(|i| i.kind == "result")
            .expect("a result owed");
        assert_eq!(item.status, "pending");
        store
            .record_attempt(
                &item.webhook_id,
                item.created_at,
                Some(200),
                None,
                labflight_store::AttemptOutcome::Delivered,
            )
            .await
            .unwrap();
    });
    // Nothing identifying was stored with the report.
    rt.block_on(async {
        let store = labflight_store::Store::open(&url).await.unwrap();
        let stored = store
            .lab_report("LAB-PH", "R-R001")
            .await
            .unwrap()
            .unwrap()
            .body;
        for gone in [
            "Synthetic",
            "SYNTHETIC-PATIENT-0001",
            "Testpatient",
            "Patient",
            "subject",
        ] {
            assert!(!stored.contains(gone), "{gone} stored: {stored}");
        }
    });
    let mut svc = start(&cfg);
    assert!(
        svc.seen
            .iter()
            .any(|l| l.starts_with("reconciled 1 delivered results")),
        "{:?}",
        svc.seen
    );
    assert_eq!(steps(&http, &barcode, "reported"), 1);
    svc.kill9();
    drop(svc);
    // Once: the next start finds nothing to reconcile.
    let svc = start(&cfg);
    assert!(
        !svc.seen.iter().any(|l| l.starts_with("reconciled")),
        "{:?}",
        svc.seen
    );
    assert_eq!(steps(&http, &barcode, "reported"), 1);
}

#[test]
fn subscriptions_conflict_change_with_audit_and_dead_letter_on_delete() {
    let dir = Scratch::new("fault-subs");
    let (mqtt_port, http_port) = (free_port(), free_port());
    let (good, got) = good_receiver();
    let down = free_port();
    // Only the good receiver's port (and a port nothing uses) are allowed.
    let extra = format!("hook_hosts = [\"127.0.0.1:{good}\", \"127.0.0.1:{down}\"]\n");
    let cfg = config(
        &dir,
        mqtt_port,
        http_port,
        &[("centre", http_url(down))],
        &extra,
    );
    let svc = start(&cfg);
    let http = format!("127.0.0.1:{http_port}");
    let base = format!("http://{http}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let path = "/api/v1/hooks/subscriptions";
        let new =
            |id: &str, url: String| json!({"id": id, "scope": "all", "url": url, "secret": SECRET});
        // Re-POSTing a taken id is a conflict naming it.
        let (code, v) = send_json(
            reqwest::Method::POST,
            &base,
            path,
            new("centre", http_url(good)),
        )
        .await;
        assert_eq!(code, 409, "{v}");
        assert_eq!(v["issue"][0]["code"], "conflict", "{v}");
        assert!(
            v["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains("`centre`"),
            "{v}"
        );
        // The allow-list holds ports: the same host on another port is refused.
        let other = free_port();
        let (code, v) = send_json(
            reqwest::Method::POST,
            &base,
            path,
            new("other", http_url(other)),
        )
        .await;
        assert_eq!(code, 400, "{v}");
        assert!(
            v["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains(&format!("port {other}")),
            "{v}"
        );
        // A result is owed to the unreachable endpoint.
        let barcodes = ["T-S001".to_owned(), "T-S002".to_owned()];
        seal(
            &http,
            mqtt_port,
            &printed_device_key(&svc).unwrap(),
            "BX-LH-C001-S1",
            &barcodes,
        )
        .await;
        result_for(&http, &barcodes[0]).await;
        // PUT moves it to the good receiver; the audit log keeps both URLs.
        let (code, v) = send_json(
            reqwest::Method::PUT,
            &base,
            &format!("{path}/centre"),
            json!({"scope": "all", "url": http_url(good)}),
        )
        .await;
        assert_eq!(code, 200, "{v}");
        let audit = get_json(&http, "/api/v1/audit");
        let entry = audit
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "change hook subscription")
            .unwrap_or_else(|| panic!("{audit}"));
        let detail = entry["detail"].as_str().unwrap();
        assert!(
            detail.contains(&http_url(down)) && detail.contains(&http_url(good)),
            "{detail}"
        );
        assert_eq!(entry["target"], "centre");
        let (code, _) = send_json(
            reqwest::Method::PUT,
            &base,
            &format!("{path}/nobody"),
            json!({"scope": "all", "url": http_url(good)}),
        )
        .await;
        assert_eq!(code, 404);
        eventually(
            Duration::from_secs(30),
            "owed items reach the new URL",
            || {
                got.lock()
                    .unwrap()
                    .iter()
                    .any(|r| r.body.contains("DiagnosticReport"))
            },
        );
        // Back to the unreachable URL, a second result queued, then deleted: the
        // queued item is dead, with the deletion as its error.
        let (code, v) = send_json(
            reqwest::Method::PUT,
            &base,
            &format!("{path}/centre"),
            json!({"scope": "all", "url": http_url(down)}),
        )
        .await;
        assert_eq!(code, 200, "{v}");
        result_for(&http, &barcodes[1]).await;
        let r = reqwest::Client::new()
            .delete(format!("{base}{path}/centre"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        let items = get_json(
            &http,
            &format!("/api/v1/hooks/deliveries?barcode={}", barcodes[1]),
        );
        let result = items
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["delivery"]["kind"] == "result")
            .unwrap_or_else(|| panic!("{items}"));
        assert_eq!(result["delivery"]["status"], "dead", "{result}");
        assert!(
            result["delivery"]["last_error"]
                .as_str()
                .unwrap()
                .contains("deleted"),
            "{result}"
        );
        let pending = get_json(&http, "/api/v1/hooks/deliveries")
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["delivery"]["status"] == "pending")
            .count();
        assert_eq!(pending, 0);
    });
    drop(svc);
    // A malformed allow-list entry stops the service with the entry named.
    let bad = config(
        &dir,
        mqtt_port,
        http_port,
        &[],
        "hook_hosts = [\"127.0.0.1:http\"]\n",
    );
    let mut child = std::process::Command::new(BIN)
        .args(["serve", "--config", bad.to_str().unwrap()])
        .current_dir(repo())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("a malformed hook_hosts entry did not stop the service");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success());
    assert!(stderr.contains("`127.0.0.1:http`"), "{stderr}");
}
